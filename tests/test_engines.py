"""The same country on SQLite, PostgreSQL and MariaDB gives the same cells, and every
source connection is read-only and time-bounded on each engine (issue 3)."""

from __future__ import annotations

import time

import pandas as pd
import pytest
import sqlalchemy as sa

from data_loaders import queries
from data_loaders.__main__ import main
from data_loaders.connections import source_engine
from data_loaders.cube import true_cells
from data_loaders.snapshot import _quality_rows, _site_rows, take_snapshot
from data_loaders.sources import Source
from data_loaders.sync import describe_failure
from tests.conftest import TEST_SCALE
from tests.servers import server_database

pytestmark = pytest.mark.servers
COUNTRY = "ME"  # small, yet with a closed site, defects and suppressed cells
ENGINES = ("sqlite", "postgresql", "mariadb")
# ~4e8 rows to count: minutes on any engine (MariaDB caps recursive CTEs at 1000
# iterations, so a cross join is the slow query all three run alike).
SLOW_QUERY = "SELECT count(*) FROM contacts a, contacts b, contacts c"


@pytest.fixture(scope="module")
def demo_urls(tmp_path_factory):
    """One demo country written by `demo --url` into each engine."""
    with server_database("postgresql") as pg, server_database("mariadb") as maria:
        urls = {
            "sqlite": f"sqlite:///{tmp_path_factory.mktemp('engines') / 'me.sqlite'}",
            "postgresql": pg,
            "mariadb": maria,
        }
        for url in urls.values():
            argv = ["demo", "--url", url, "--country", COUNTRY]
            assert main([*argv, "--scale", str(TEST_SCALE)]) == 0
        yield urls


def computed(url: str, programme):
    """True cells, sites and quality counts of one source."""
    source = Source(COUNTRY, url)
    clean = queries.CleanSource(source, programme)
    engine = source_engine(source)
    with engine.connect() as connection:
        sites = _site_rows(connection, clean, COUNTRY)
        cells = true_cells(connection, clean, [s["site_id"] for s in sites])
        quality = _quality_rows(connection, clean, COUNTRY)
    engine.dispose()
    keys = ["site", "period", "indicator", "sex", "age_band", "service"]
    return cells.set_index(keys)["value"].sort_index(), sites, quality


def test_demo_country_gives_identical_cells_on_all_three_engines(demo_urls, programme):
    results = {kind: computed(url, programme) for kind, url in demo_urls.items()}
    cells, sites, quality = results["sqlite"]
    assert cells.sum() > 1000 and (cells > 0).sum() > 500  # a real cube, not zeros
    for kind in ("postgresql", "mariadb"):
        other_cells, other_sites, other_quality = results[kind]
        pd.testing.assert_series_equal(cells, other_cells, check_names=False)
        assert other_sites == sites, kind
        assert sorted(map(str, other_quality)) == sorted(map(str, quality)), kind


def test_codes_are_compared_exactly_on_mariadb(demo_urls, programme):
    """'Drop_in', 'drop_in ' and 'Police' are not codes: counted as unknown there
    too, although MariaDB's default collation calls them equal."""
    _, _, quality = computed(demo_urls["mariadb"], programme)
    counts = {(q["table_name"], q["rule"]): q["rows"] for q in quality}
    assert counts[("contacts", "activity_unknown_code")] == 2
    assert counts[("referrals", "agency_unknown_code")] == 2
    assert counts[("referrals", "invalid_direction")] == 1  # 'IN'


def test_published_snapshot_is_identical_on_all_three_engines(demo_urls, programme):
    snapshots = {
        kind: take_snapshot(Source(COUNTRY, url), programme)
        for kind, url in demo_urls.items()
    }
    reference = snapshots["sqlite"].cells.sort_values(["indicator", "period", "site"])
    for kind in ("postgresql", "mariadb"):
        other = snapshots[kind].cells.sort_values(["indicator", "period", "site"])
        pd.testing.assert_frame_equal(
            reference.reset_index(drop=True), other.reset_index(drop=True)
        )


@pytest.mark.parametrize("kind", ENGINES)
def test_a_write_through_a_source_connection_fails(demo_urls, kind):
    engine = source_engine(Source(COUNTRY, demo_urls[kind]))
    with engine.connect() as connection:
        with pytest.raises(sa.exc.DBAPIError) as caught:
            connection.exec_driver_sql("DELETE FROM contacts")
        connection.rollback()
        with pytest.raises(sa.exc.DBAPIError):
            connection.exec_driver_sql("CREATE TABLE intruder (x INTEGER)")
        connection.rollback()
        count = connection.exec_driver_sql("SELECT count(*) FROM contacts").scalar()
    engine.dispose()
    assert count > 0, "the DELETE must not have happened"
    assert "read" in str(caught.value).lower()  # readonly / read-only / READ ONLY


@pytest.mark.parametrize("kind", ENGINES)
def test_a_slow_query_is_stopped_within_one_and_a_half_times_its_limit(demo_urls, kind):
    limit = 1.0
    source = Source(COUNTRY, demo_urls[kind], timeout_seconds=limit)
    engine = source_engine(source)
    with engine.connect() as connection:
        started = time.monotonic()
        with pytest.raises(sa.exc.DBAPIError) as caught:
            connection.exec_driver_sql(SLOW_QUERY).fetchall()
        elapsed = time.monotonic() - started
    engine.dispose()
    assert elapsed < 1.5 * limit, f"{kind}: stopped after {elapsed:.2f} s"
    assert "ran past the 1 s limit" in describe_failure(caught.value, source)


@pytest.mark.parametrize("kind", ENGINES)
def test_a_fast_query_is_not_stopped_by_an_earlier_deadline(demo_urls, kind):
    """The limit is per statement: a connection that lived longer is still fine."""
    engine = source_engine(Source(COUNTRY, demo_urls[kind], timeout_seconds=0.5))
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT count(*) FROM contacts").scalar()
        time.sleep(0.6)
        assert connection.exec_driver_sql("SELECT count(*) FROM contacts").scalar()
    engine.dispose()


def test_demo_url_names_an_unknown_country_with_exit_2(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    assert main(["demo", "--url", url, "--country", "FR"]) == 2
    assert "use one of" in capsys.readouterr().err
