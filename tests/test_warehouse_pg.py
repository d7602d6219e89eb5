"""The warehouse on PostgreSQL (DASHBOARD_WAREHOUSE_URL) holds exactly what the
SQLite one holds, replaces a country atomically and keeps the last good snapshot."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from data_loaders import warehouse
from data_loaders.__main__ import main
from tests.servers import server_database

pytestmark = pytest.mark.servers
COUNTRIES = ("RS", "ME", "RO")


@pytest.fixture(scope="module")
def pg_warehouse(demo_sources):
    """A PostgreSQL warehouse synced from the demo sources, through the environment."""
    with server_database("postgresql") as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DASHBOARD_WAREHOUSE_URL", url)
        argv = ["sync", "--sources", str(demo_sources)]
        for country in COUNTRIES:
            argv += ["--country", country]
        assert main(argv) == 0
        yield url


def test_postgresql_warehouse_holds_the_same_cells_as_sqlite(
    pg_warehouse, synced_warehouse
):
    engine = sa.create_engine(pg_warehouse)
    assert engine.dialect.name == "postgresql"
    pg_cells = warehouse.read_cells(engine)
    sqlite_cells = warehouse.read_cells(sa.create_engine(synced_warehouse))
    sqlite_cells = sqlite_cells[sqlite_cells["country"].isin(COUNTRIES)]
    pd.testing.assert_frame_equal(
        pg_cells.reset_index(drop=True), sqlite_cells.reset_index(drop=True)
    )
    engine.dispose()


def test_cube_command_reads_the_postgresql_warehouse(pg_warehouse, tmp_path):
    out = tmp_path / "cube.csv"
    assert main(["cube", "--warehouse", pg_warehouse, "--out", str(out)]) == 0
    cube = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert set(cube["country"]) == set(COUNTRIES)
    assert (cube.loc[cube["status"] == "suppressed", "value"] == "").all()


def test_a_failed_sync_keeps_the_last_good_snapshot_on_postgresql(
    pg_warehouse, tmp_path, capsys
):
    engine = sa.create_engine(pg_warehouse)
    before = warehouse.read_cells(engine, "ME")
    sources = tmp_path / "down.toml"
    sources.write_text(
        '[countries.ME]\nurl = "postgresql+psycopg://x@127.0.0.1:1/none"\n'
    )
    assert main(["sync", "--sources", str(sources), "--warehouse", pg_warehouse]) == 1
    assert "cannot reach the database server 127.0.0.1:1" in capsys.readouterr().out
    pd.testing.assert_frame_equal(warehouse.read_cells(engine, "ME"), before)
    assert warehouse.stale_countries(engine) == {"ME"}
    engine.dispose()


def test_a_snapshot_replaces_its_country_in_one_transaction(pg_warehouse):
    """A failing store (here: a duplicate cell) rolls back: the old cells stay."""
    engine = sa.create_engine(pg_warehouse)
    before = warehouse.read_cells(engine, "RS")
    broken = pd.concat([before.head(1), before.head(1)], ignore_index=True)
    run_id = warehouse.start_run(engine, "RS", "pull", True)
    with pytest.raises(sa.exc.IntegrityError):
        warehouse.store_snapshot(engine, run_id, "RS", broken, [], [])
    pd.testing.assert_frame_equal(warehouse.read_cells(engine, "RS"), before)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def either_warehouse(request, pg_warehouse, tmp_path):
    """An engine on a new SQLite warehouse, then on the PostgreSQL one."""
    if request.param == "postgresql":
        url = pg_warehouse
    else:
        url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    engine = warehouse.warehouse_engine(url)
    yield engine
    engine.dispose()


def test_a_target_save_is_compare_and_set_on_both_warehouses(either_warehouse):
    engine = either_warehouse
    cell = ("children_reached", "2010")
    with engine.begin() as connection:  # a cell of its own: no target yet
        connection.execute(
            sa.delete(warehouse.targets).where(warehouse.targets.c.country == "ME")
        )
    warehouse.save_targets(engine, "ME", {cell: 100}, "first", {cell: None})
    # a second editor who also saw no target: refused, nothing written
    with pytest.raises(warehouse.EditConflict) as refused:
        warehouse.save_targets(
            engine,
            "ME",
            {cell: 200, ("referrals_out", "2010"): 7},
            "second",
            {cell: None, ("referrals_out", "2010"): None},
        )
    assert refused.value.cells == [("children_reached", "2010", "first")]
    # an editor who saw 100 may change it; one who saw 150 may not
    warehouse.save_targets(engine, "ME", {cell: 120}, "third", {cell: 100})
    with pytest.raises(warehouse.EditConflict):
        warehouse.save_targets(engine, "ME", {cell: 130}, "fourth", {cell: 150})
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(warehouse.targets).where(warehouse.targets.c.country == "ME")
        ).all()
    assert [(r.indicator, r.year, r.value, r.updated_by) for r in rows] == [
        ("children_reached", "2010", 120, "third")
    ]


def test_a_note_save_is_compare_and_set_on_both_warehouses(either_warehouse):
    engine = either_warehouse
    warehouse.save_note(engine, "ME", "2010Q3", "first", "ana", expected="")
    for seen in ("", "not what is stored"):  # both editors saw something else
        with pytest.raises(warehouse.EditConflict) as refused:
            warehouse.save_note(engine, "ME", "2010Q3", "second", "ben", expected=seen)
        assert refused.value.cells == [("note", "2010Q3", "ana")]
    warehouse.save_note(engine, "ME", "2010Q3", "third", "cem", expected="first")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(warehouse.notes.c.text, warehouse.notes.c.updated_by).where(
                warehouse.notes.c.country == "ME"
            )
        ).all()
    assert [tuple(r) for r in rows] == [("third", "cem")]
