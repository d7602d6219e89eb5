"""Failures are isolated (issue 3): each broken country is recorded with one line its
IT understands, the others finish, the last good snapshot stays and is flagged stale,
and `sync` exits 1. Countries run concurrently."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from data_loaders import sync as sync_module
from data_loaders import warehouse
from data_loaders.__main__ import main
from data_loaders.sources import load_sources
from tests.conftest import require_server
from tests.servers import copy_warehouse

# country: (what is wrong, what its line must say)
EXPECTED = {
    "BA": "cannot reach the database server 127.0.0.1:1/cases",
    "RS": "refused the password of user 'root'",
    "ME": "table 'contacts' does not exist",
    "XK": "column contacts.contact_date does not exist (renamed?)",
    "AL": "a query ran past the 0.001 s limit",
}
HEALTHY = ("RO", "BG")


def demo_db(demo_sources: Path, country: str) -> Path:
    return demo_sources.parent / f"demo-{country}.sqlite"


def broken_copy(demo_sources, country, folder: Path, *statements) -> Path:
    path = folder / f"broken-{country}.sqlite"
    shutil.copy(demo_db(demo_sources, country), path)
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)
    db.close()
    return path


@pytest.fixture(scope="module")
def broken_sources(demo_sources, tmp_path_factory) -> Path:
    """A sources file where five countries are broken in five different ways."""
    require_server("mariadb")
    folder = tmp_path_factory.mktemp("broken")
    no_contacts = broken_copy(demo_sources, "ME", folder, "DROP TABLE contacts")
    renamed = broken_copy(
        demo_sources,
        "XK",
        folder,
        "ALTER TABLE contacts RENAME COLUMN contact_date TO visit_date",
    )
    body = f"""
[countries.BA]
url = "postgresql+psycopg://reader@127.0.0.1:1/cases"
timeout_seconds = 5
[countries.RS]
url = "mariadb+pymysql://root:wrong-password@127.0.0.1:3306/mysql"
[countries.ME]
url = "sqlite:///{no_contacts}"
[countries.XK]
url = "sqlite:///{renamed}"
[countries.AL]
url = "sqlite:///{demo_db(demo_sources, "AL")}"
timeout_seconds = 0.001
"""
    for country in HEALTHY:
        path = demo_db(demo_sources, country)
        body += f'[countries.{country}]\nurl = "sqlite:///{path}"\n'
    path = folder / "sources.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def broken_run(broken_sources, synced_warehouse, tmp_path_factory):
    """A warehouse with a good sync of every country, then the broken sync."""
    copy = tmp_path_factory.mktemp("stale") / "warehouse.sqlite"
    url = copy_warehouse(synced_warehouse, copy)
    before = warehouse.read_cells(warehouse.warehouse_engine(url))
    return url, before


def test_sync_exits_1_and_prints_one_reason_line_per_broken_country(
    broken_sources, tmp_path, capsys
):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    assert main(["sync", "--sources", str(broken_sources), "--warehouse", url]) == 1
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line[:2].isupper()}
    for country, reason in EXPECTED.items():
        assert "FAILED" in lines[country] and reason in lines[country], lines[country]
    for country in HEALTHY:
        assert " ok " in lines[country]
    assert "5 of 7" not in out and "2 of 7 countries synced" in out


def test_each_failure_is_recorded_with_its_reason_and_the_others_stored(
    broken_sources, broken_run, capsys
):
    url, before = broken_run
    assert main(["sync", "--sources", str(broken_sources), "--warehouse", url]) == 1
    capsys.readouterr()
    engine = warehouse.warehouse_engine(url)
    with engine.connect() as connection:
        runs = pd.read_sql(sa.select(warehouse.sync_runs), connection)
    last = runs.sort_values("id").groupby("country").last()
    for country, reason in EXPECTED.items():
        assert last.loc[country, "status"] == "failed"
        assert reason in last.loc[country, "error"]
        assert "\n" not in last.loc[country, "error"]  # one line
    assert set(last.loc[list(HEALTHY), "status"]) == {"ok"}


def test_failed_countries_keep_their_last_good_snapshot_flagged_stale(
    broken_sources, broken_run, capsys
):
    url, before = broken_run
    main(["sync", "--sources", str(broken_sources), "--warehouse", url])
    capsys.readouterr()
    engine = warehouse.warehouse_engine(url)
    after = warehouse.read_cells(engine)
    for country in EXPECTED:
        old = before[before["country"] == country].reset_index(drop=True)
        new = after[after["country"] == country].reset_index(drop=True)
        assert len(old) > 3000 and old.equals(new), country
    status = warehouse.country_status(engine)
    assert warehouse.stale_countries(engine) == set(EXPECTED)
    assert status["BA"]["last_status"] == "failed" and status["BA"]["ok_at"]
    assert not status["RO"]["stale"] and status["RO"]["last_status"] == "ok"


def test_a_good_sync_clears_the_stale_flag(demo_sources, broken_run, capsys):
    url, _ = broken_run
    argv = ["sync", "--sources", str(demo_sources), "--warehouse", url]
    assert main([*argv, "--country", "ME"]) == 0
    capsys.readouterr()
    assert "ME" not in warehouse.stale_countries(warehouse.warehouse_engine(url))


def test_countries_are_synced_concurrently(
    demo_sources, programme, monkeypatch, tmp_path
):
    """Countries must be inside take_snapshot at once to pass the barrier (as many
    as there are cores, for SQLite sources): a sequential sync would break it."""
    chosen = ("ME", "XK", "BG")[: min(3, sync_module.LOCAL_SLOTS)]
    barrier = threading.Barrier(len(chosen), timeout=30)
    real = sync_module.take_snapshot

    def meet_then_snapshot(source, programme):
        barrier.wait()
        return real(source, programme)

    monkeypatch.setattr(sync_module, "take_snapshot", meet_then_snapshot)
    sources = load_sources(demo_sources, programme.countries)
    engine = warehouse.warehouse_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    selected = {code: sources[code] for code in chosen}
    outcomes = sync_module.sync_all(engine, selected, programme, echo=lambda _: None)
    assert [o.country for o in outcomes] == list(chosen)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]


def test_the_sync_prints_a_data_quality_summary(synced_warehouse, demo_sources):
    line = sync_module.quality_line(
        [
            {"table_name": "contacts", "rule": "duplicate_id", "rows": 2},
            {"table_name": "children", "rule": "sex_unknown_code", "rows": 3},
            {"table_name": "contacts", "rule": "dangling_site_id", "rows": 0},
        ]
    )
    assert "left out 2 rows (contacts.duplicate_id 2)" in line
    assert "kept as unknown 3 (children.sex_unknown_code 3)" in line
    assert "dangling" not in line


def test_every_quality_rule_is_stored_per_country(synced_warehouse, programme):
    engine = warehouse.warehouse_engine(synced_warehouse)
    with engine.connect() as connection:
        quality = pd.read_sql(sa.select(warehouse.quality), connection)
    per_country = quality.groupby("country").size()
    assert set(per_country.index) == set(programme.countries)
    assert per_country.nunique() == 1 and per_country.iloc[0] >= 20
    demo_defects = quality[quality["rows"] > 0].groupby("country").size()
    assert (demo_defects >= 15).all()  # the demo plants every §2 defect


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "(2003, \"Can't connect to MySQL server on '10.2.3.4' (timed out)\")",
            "cannot reach the database server 10.2.3.4:3306/cases",
        ),
        (
            'connection failed: password authentication failed for user "reader"',
            "refused the password of user 'reader'",
        ),
        ("canceling statement due to statement timeout", "ran past the 30 s limit"),
        (
            "(1969, 'Query execution was interrupted (max_statement_time exceeded)')",
            "ran past the 30 s limit",
        ),
        ("(1054, \"Unknown column 'visit_date' in 'field list'\")", "(renamed?)"),
        ("(1146, \"Table 'cases.contacts' doesn't exist\")", "a table is missing"),
        ('database "cases" does not exist', 'database "cases" does not exist'),
        ("something nobody foresaw\nsecond line", "RuntimeError: something nobody"),
    ],
)
def test_driver_errors_become_one_line_an_it_person_understands(message, expected):
    from data_loaders.sources import Source

    source = Source("RS", "mariadb+pymysql://reader:pw@10.2.3.4:3306/cases")
    reason = sync_module.describe_failure(RuntimeError(message), source)
    assert expected in reason and "\n" not in reason
