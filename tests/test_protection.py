"""Primary suppression and rounding (CONTRACT §5), and what reaches the warehouse."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
import sqlalchemy as sa

from data_loaders.__main__ import main
from data_loaders.protection import primary, published


def frame(indicator, values):
    return pd.DataFrame(
        {
            "country": "RS",
            "site": "ALL",
            "period": [f"20{10 + i % 2}" for i in range(len(values))],
            "indicator": indicator,
            "sex": "ALL",
            "age_band": "ALL",
            "service": "ALL",
            "value": values,
        }
    )


@pytest.mark.parametrize(
    ("true", "shown", "status"),
    [
        (0, 0, "published"),  # a true zero is never hidden
        (1, None, "suppressed"),
        (9, None, "suppressed"),
        (10, 10, "published"),
        (12, 10, "published"),
        (13, 15, "published"),
        (1234, 1235, "published"),
    ],
)
def test_sensitive_values_are_suppressed_below_ten_and_rounded_to_five(
    programme, true, shown, status
):
    out = primary(frame("children_reached", [true]), programme)
    assert out["status"].iloc[0] == status
    assert (
        pd.isna(out["value"].iloc[0])
        if shown is None
        else out["value"].iloc[0] == shown
    )


def test_non_sensitive_indicators_are_published_exactly(programme):
    out = primary(frame("media_pieces", [3, 12]), programme)
    assert list(out["value"]) == [3, 12]
    assert set(out["status"]) == {"published"}


def test_published_form_drops_the_true_values(programme):
    out = published(primary(frame("children_reached", [4, 12]), programme))
    assert "true_value" not in out
    assert 4 not in set(out["value"].dropna())


def test_cube_publishes_only_zero_or_rounded_values_of_ten_and_more(
    synced_warehouse, programme, tmp_path
):
    out = tmp_path / "cube.csv"
    assert main(["cube", "--warehouse", synced_warehouse, "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    sensitive = {i.code for i in programme.sensitive()}
    checked = 0
    for row in rows:
        if row["indicator"] not in sensitive:
            continue
        if row["status"] == "suppressed":
            assert row["value"] == ""
        else:
            value = int(row["value"])
            assert value == 0 or (value >= 10 and value % 5 == 0), row
        checked += 1
    assert checked > 10_000
    assert {r["country"] for r in rows} == set(programme.countries)
    assert any(r["status"] == "suppressed" for r in rows)


def test_warehouse_holds_no_child_contact_or_referral_id(
    synced_warehouse, demo_sources
):
    engine = sa.create_engine(synced_warehouse)
    inspector = sa.inspect(engine)
    forbidden = {"child_id", "contact_id", "referral_id"}
    texts = set()
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            columns = {c["name"] for c in inspector.get_columns(table)}
            assert not columns & forbidden, (table, columns & forbidden)
            for row in connection.execute(sa.text(f'SELECT * FROM "{table}"')):
                texts.update(str(v) for v in row if isinstance(v, str))
    # Demo child ids look like RS-C000123: none may appear anywhere in the warehouse.
    assert not [t for t in texts if "-C0" in t]
