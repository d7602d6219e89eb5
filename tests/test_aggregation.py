"""Counting inside the source database matches counts made by hand (CONTRACT §3–4)."""

from __future__ import annotations

import pytest

from data_loaders import queries
from data_loaders.connections import source_engine
from data_loaders.cube import true_cells
from data_loaders.snapshot import take_snapshot
from tests.tiny_source import write_tiny_source


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_source(tmp_path_factory.mktemp("tiny") / "tiny.sqlite")


@pytest.fixture(scope="module")
def tiny_cells(tiny, programme):
    return cells_of(tiny, programme)


def cells_of(source, programme):
    clean = queries.CleanSource(source, programme)
    engine = source_engine(source)
    with engine.connect() as connection:
        cells = true_cells(connection, clean, ["S1", "S2"])
    engine.dispose()
    return cells.set_index(
        ["indicator", "period", "site", "sex", "age_band", "service"]
    )["value"]


def value(
    cells, indicator, period="ALL", site="ALL", sex="ALL", age="ALL", service="ALL"
):
    return int(cells[(indicator, period, site, sex, age, service)])


@pytest.mark.parametrize(
    ("period", "site", "expected"),
    [
        ("2010Q1", "ALL", 1),
        ("2010Q2", "ALL", 2),  # c1 (at S2) and c2
        ("2010", "ALL", 2),  # c1 seen in two quarters counts once in the year
        ("ALL", "ALL", 3),
        ("ALL", "S1", 2),
        ("ALL", "S2", 2),  # c1 at two sites: once per site, once in the country
        ("2011Q1", "ALL", 1),
        ("2009Q4", "S2", 1),
        ("2009Q1", "ALL", 0),  # the cube is dense: zeros are cells too
    ],
)
def test_children_reached_counts_each_child_once_per_cell(
    tiny_cells, period, site, expected
):
    assert value(tiny_cells, "children_reached", period, site) == expected


def test_children_reached_splits_by_sex_and_age_at_first_contact(tiny_cells):
    cells = tiny_cells
    assert value(cells, "children_reached", sex="F") == 1
    assert value(cells, "children_reached", sex="U") == 1  # c3 has no recorded sex
    # c1 born 2000, first contact 2010: 10; c2 born 1996: 14; c3 born 2005 in 2009: 4
    assert value(cells, "children_reached", age="10-13") == 1
    assert value(cells, "children_reached", age="14-17") == 1
    assert value(cells, "children_reached", age="0-9") == 1
    assert value(cells, "children_reached", "2011", age="10-13") == 1  # c1 is 11
    assert value(cells, "children_reached", sex="F", age="10-13") == 1


def test_row_counts_add_up_over_sites_and_time(tiny_cells):
    cells = tiny_cells
    assert value(cells, "attendance_visits") == 6
    assert value(cells, "attendance_visits", "2010") == 4
    assert value(cells, "attendance_visits", "2010Q1") == 2
    assert value(cells, "attendance_visits", site="S1") == 4
    assert value(cells, "attendance_visits", site="S2") == 2


def test_regular_attenders_need_four_contacts_in_the_cell(tiny_cells):
    cells = tiny_cells
    assert value(cells, "regular_attenders") == 1  # c1: four contacts in the programme
    assert value(cells, "regular_attenders", site="S1") == 0  # only three at S1
    assert value(cells, "regular_attenders", "2010") == 0  # three in 2010


def test_referrals_by_direction_agency_and_outcome(tiny_cells):
    cells = tiny_cells
    assert value(cells, "institutional_referrals") == 1
    assert value(cells, "institutional_referrals", service="police") == 1
    assert value(cells, "community_referrals", service="family") == 1
    assert value(cells, "referrals_out") == 2
    assert value(cells, "referrals_out", service="health") == 1
    assert value(cells, "referrals_completed") == 1
    assert ("community_referrals", "ALL", "ALL", "ALL", "ALL", "police") not in cells


def test_activities_sum_quantities_with_country_level_rows_in_all_only(tiny_cells):
    cells = tiny_cells
    assert value(cells, "professionals_trained", "2010") == 12
    assert value(cells, "professionals_trained", "2010", site="S1") == 7
    assert value(cells, "professionals_trained", "2010", site="S2") == 0


def test_bad_rows_are_kept_as_unknown_or_left_out_and_counted(tmp_path, programme):
    source = write_tiny_source(
        tmp_path / "bad.sqlite",
        extra={
            "children": [("c4", "f", 2001), ("c5", "F", 2001.5), ("c1", "F", 2000)],
            "contacts": [
                (
                    7,
                    "c4",
                    "S1",
                    "2010-02-01",
                    "Drop_in",
                ),  # sex 'f' → U, activity → other
                (8, "c5", "S1", "2010-02-01", "drop_in"),  # birth year 2001.5 → age U
                (9, "c9", "S1", "2010-02-01", "drop_in"),  # dangling child
                (10, "c2", "S9", "2010-02-01", "drop_in"),  # dangling site
                (11, "c2", "S1", "2012-01-01", "drop_in"),  # after the programme
                (12, "c2", "S1", "2010-02-01", "drop_in"),
                (12, "c2", "S1", "2010-02-02", "drop_in"),  # id twice: both left out
            ],
            "referrals": [(5, "c2", "S1", "2010-06-02", "IN", "police", None)],
            "activities": [(3, "S1", "2010-01-05", 3, "professionals_trained", 9)],
        },
    )
    cells = cells_of(source, programme)
    # c1 now appears twice in children: it is left out, and so are its contacts
    assert value(cells, "children_reached") == 4  # c2, c3, c4, c5
    assert value(cells, "children_reached", sex="U") == 2  # c3 and c4 ('f')
    assert value(cells, "children_reached", age="U") == 1  # c5
    assert value(cells, "institutional_referrals") == 0  # 'IN' is no direction
    assert value(cells, "professionals_trained", "2010") == 12  # objective 3: out

    snapshot = take_snapshot(source, programme)
    counts = {(q["table_name"], q["rule"]): q["rows"] for q in snapshot.quality}
    assert counts[("children", "duplicate_id")] == 2
    assert counts[("children", "sex_unknown_code")] == 1
    assert counts[("children", "birth_year_unusable")] == 1
    assert counts[("contacts", "duplicate_id")] == 2
    assert counts[("contacts", "dangling_child_id")] == 5  # c9 and c1's four
    assert counts[("contacts", "dangling_site_id")] == 1
    assert counts[("contacts", "date_outside_period")] == 1
    assert counts[("contacts", "activity_unknown_code")] == 1
    assert counts[("referrals", "invalid_direction")] == 1
    assert counts[("activities", "objective_mismatch")] == 1


def test_hidden_site_keeps_its_cells_but_not_its_location(tiny, programme):
    snapshot = take_snapshot(tiny, programme)
    shelter = next(s for s in snapshot.sites if s["site_id"] == "S2")
    assert shelter["kind"] == "shelter"
    assert shelter["name"] is shelter["municipality"] is shelter["latitude"] is None
    assert (snapshot.cells["site"] == "S2").any()
