"""Property tests of the whole protection path (issue 4): random small country
databases → sync → what a reader can see never pins a hidden count."""

from __future__ import annotations

import csv
import io
import json
import logging
import sqlite3

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_loaders import warehouse
from data_loaders.__main__ import main
from data_loaders.bundle import make_bundle
from data_loaders.demo import SCHEMA
from data_loaders.protection import audit_cells
from data_loaders.snapshot import take_snapshot
from data_loaders.sources import Source
from data_loaders.sync import sync_country

QUARTER_DAYS = [f"{y}-{m:02d}-15" for y in (2009, 2010, 2011) for m in (2, 5, 8, 11)]
AGENCIES = ("police", "school", "health", "family", "helpline")
KEY = b"property-test-key-of-32-bytes!!!"


@st.composite
def country_rows(draw):
    """A small random case database: a few sites, up to 40 children, a few visits."""
    sites = [f"S{i}" for i in range(draw(st.integers(1, 3)))]
    children, contacts, referrals = [], [], []
    for n in range(draw(st.integers(0, 40))):
        child = f"c{n}"
        children.append(
            (
                child,
                draw(st.sampled_from(["F", "M", None])),
                draw(st.integers(1994, 2008)),
            )
        )
        for _ in range(draw(st.integers(1, 6))):
            contacts.append(
                (
                    len(contacts) + 1,
                    child,
                    draw(st.sampled_from(sites)),
                    draw(st.sampled_from(QUARTER_DAYS)),
                    "drop_in",
                )
            )
        if draw(st.booleans()):
            referrals.append(
                (
                    len(referrals) + 1,
                    child,
                    draw(st.sampled_from(sites)),
                    draw(st.sampled_from(QUARTER_DAYS)),
                    draw(st.sampled_from(["in", "out"])),
                    draw(st.sampled_from(AGENCIES)),
                    draw(st.sampled_from(["completed", "pending", None])),
                )
            )
    site_rows = [
        (s, s, "drop_in_centre", "Town", 44.0, 20.0, True, "2008-01-01", None)
        for s in sites
    ]
    return {
        "sites": site_rows,
        "children": children,
        "contacts": contacts,
        "referrals": referrals,
    }


def write_source(path, rows) -> Source:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        for table, table_rows in rows.items():
            if table_rows:
                marks = ", ".join("?" * len(table_rows[0]))
                db.executemany(f"INSERT INTO {table} VALUES ({marks})", table_rows)
    db.close()
    return Source("ME", f"sqlite:///file:{path}?mode=ro&uri=true")


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=country_rows())
def test_random_countries_publish_nothing_that_pins_a_hidden_count(
    rows, tmp_path, programme, caplog
):
    source = write_source(tmp_path / "country.sqlite", rows)
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    (tmp_path / "warehouse.sqlite").unlink(missing_ok=True)
    engine = warehouse.warehouse_engine(url)
    with caplog.at_level(logging.DEBUG):
        outcome = sync_country(engine, source, programme)
    assert outcome.ok, outcome.message

    cells = warehouse.read_cells(engine)
    sensitive = cells[cells["indicator"].isin([i.code for i in programme.sensitive()])]
    shown = sensitive.loc[sensitive["status"] == "published", "value"].astype(int)
    assert not shown.between(1, 9).any()
    assert (shown % programme.rounding_base == 0).all()
    hidden = sensitive[sensitive["status"] == "suppressed"]
    assert hidden["value"].isna().all()
    assert audit_cells(cells, programme) == []

    # The warehouse has no column that could carry a true value.
    assert {c.name for c in warehouse.cells.columns} == {
        "country",
        "site",
        "period",
        "indicator",
        "sex",
        "age_band",
        "service",
        "value",
        "status",
    }
    # Nor the cube CSV, nor the logs of the sync.
    out = tmp_path / "cube.csv"
    assert main(["cube", "--warehouse", url, "--out", str(out)]) == 0
    for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))):
        if row["status"] == "suppressed":
            assert row["value"] == ""
    logged = caplog.text
    assert not any(i.code in logged for i in programme.sensitive())
    # Nor a push bundle of the same database.
    bundle = json.loads(make_bundle(take_snapshot(source, programme), programme, KEY))
    block = bundle["payload"]["cells"]
    value, status = block["columns"].index("value"), block["columns"].index("status")
    for row in block["rows"]:
        assert row[status] in ("published", "suppressed")
        assert (row[value] is None) == (row[status] == "suppressed")
    engine.dispose()


def test_audit_command_flags_a_hidden_cell_that_its_total_pins(tmp_path, programme):
    """One child, ten visits, all in 2010Q1: hiding that quarter alone is not enough,
    because the year (10) minus the other, zero, quarters gives it back."""
    rows = {
        "sites": [
            ("S1", "S1", "drop_in_centre", "Town", 44.0, 20.0, True, "2008-01-01", None)
        ],
        "children": [("c1", "F", 2000)],
        "contacts": [
            (i, "c1", "S1", f"2010-02-{i:02d}", "drop_in") for i in range(1, 11)
        ],
        "referrals": [],
    }
    source = write_source(tmp_path / "country.sqlite", rows)
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    engine = warehouse.warehouse_engine(url)
    assert sync_country(engine, source, programme).ok
    assert main(["audit", "--warehouse", url]) == 0
    with engine.begin() as connection:
        hidden = connection.execute(
            sa.text(
                "UPDATE cells SET status = 'suppressed', value = NULL "
                "WHERE indicator = 'attendance_visits' AND period = '2010Q1' "
                "AND site = 'ALL' AND sex = 'ALL' AND age_band = 'ALL'"
            )
        )
        assert hidden.rowcount == 1
    engine.dispose()
    assert main(["audit", "--warehouse", url]) == 1
