"""Shaping on a tiny warehouse: figures, tables, summaries and the rules of issue 4
("<10", "≥ N", rates not shown over a hidden denominator)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import numbers, panels, views
from dashboard.data import Warehouse
from data_loaders import warehouse as tables
from data_loaders.contract import ALL

NOW = dt.datetime(2012, 1, 10, 12, 0)


def cell(country, indicator, period, value, **dims):
    return {
        "country": country,
        "site": dims.get("site", ALL),
        "period": period,
        "indicator": indicator,
        "sex": dims.get("sex", ALL),
        "age_band": dims.get("age_band", ALL),
        "service": dims.get("service", ALL),
        "value": value,
        "status": "suppressed" if value is None else "published",
    }


@pytest.fixture
def store(programme):
    """A warehouse with three countries: Serbia published, Montenegro with hidden
    figures, Bosnia never synced."""
    engine = tables.warehouse_engine("sqlite://")
    rows = []
    for period in (*programme.periods,):
        rows.append(cell("RS", "children_reached", period, 400))
        rows.append(cell("ME", "children_reached", period, None))
    rows += [
        cell("RS", "children_reached", "ALL", 300, site="RS-BG"),
        cell("RS", "children_reached", "ALL", None, site="RS-SH"),
        cell("RS", "children_reached", "ALL", 200, sex="F"),
        cell("RS", "children_reached", "ALL", 195, sex="M"),
        cell("RS", "children_reached", "ALL", None, sex="U"),
        cell("RS", "children_reached", "ALL", 100, sex="F", age_band="0-9"),
        cell("RS", "children_reached", "ALL", None, sex="F", age_band="10-13"),
        cell("RS", "referrals_out", "ALL", 60),
        cell("RS", "referrals_completed", "ALL", 30),
        cell("RS", "referrals_out", "ALL", 40, service="police"),
        cell("RS", "referrals_completed", "ALL", 20, service="police"),
        cell("RS", "referrals_out", "ALL", None, service="health"),
        cell("RS", "referrals_completed", "ALL", 0, service="health"),
        cell("RS", "referrals_out", "ALL", 0, service="family"),
        cell("RS", "referrals_completed", "ALL", 0, service="family"),
        cell("ME", "referrals_out", "ALL", None),
        cell("ME", "referrals_completed", "ALL", None),
    ]
    sites = [
        {
            "country": "RS",
            "site_id": "RS-BG",
            "kind": "drop_in_centre",
            "name": "Belgrade drop-in centre",
            "municipality": "Belgrade",
            "latitude": 44.8,
            "longitude": 20.5,
            "public_location": True,
            "opened_on": "2006-09-01",
            "closed_on": None,
        },
        {
            "country": "RS",
            "site_id": "RS-SH",
            "kind": "shelter",
            "name": None,
            "municipality": None,
            "latitude": None,
            "longitude": None,
            "public_location": False,
            "opened_on": "2008-01-01",
            "closed_on": None,
        },
    ]
    runs = [
        dict(country="RS", method="pull", status="ok", rows=10, synthetic=True),
        dict(country="ME", method="pull", status="ok", rows=10, synthetic=True),
        dict(country="ME", method="pull", status="failed", error="timed out"),
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(tables.cells), rows)
        connection.execute(sa.insert(tables.sites), sites)
        for i, run in enumerate(runs):
            connection.execute(
                sa.insert(tables.sync_runs).values(
                    started_at=NOW - dt.timedelta(days=40 - i),
                    finished_at=NOW - dt.timedelta(days=40 - i),
                    synthetic=run.pop("synthetic", False),
                    **run,
                )
            )
        connection.execute(
            sa.insert(tables.targets),
            [
                {"country": c, "indicator": i, "year": y, "value": v}
                for c in ("RS", "ME", "BA")
                for i, v in (("children_reached", 400), ("referrals_out", 100))
                for y in programme.years
            ],
        )
        connection.execute(
            sa.insert(tables.quality),
            [
                {"country": "RS", "table_name": "children", "rule": "dup", "rows": 2},
                {"country": "ME", "table_name": "children", "rule": "dup", "rows": 0},
            ],
        )
    return Warehouse(engine, programme)


COUNTRIES = ["BA", "RS", "ME"]


def test_country_figures_say_published_suppressed_or_missing(store, programme):
    cells = store.cells(["children_reached"], COUNTRIES, periods=["2010"])
    targets = store.targets(["children_reached"], COUNTRIES)
    frame = views.country_figures(cells, targets, programme, COUNTRIES, "2010")
    by = frame.set_index("country")
    assert by.loc["RS", "text"] == "400" and by.loc["RS", "progress"] == "on_track"
    assert by.loc["ME", "text"] == "<10" and pd.isna(by.loc["ME", "value"])
    assert by.loc["ME", "progress"] == numbers.OFF_TRACK  # at most 9 of 400
    assert by.loc["BA", "status"] == "missing" and by.loc["BA", "text"] == "no data"
    assert by.loc["RS", "target"] == 400
    quarter = views.country_figures(
        store.cells(["children_reached"], COUNTRIES, periods=["2010Q2"]),
        targets,
        programme,
        COUNTRIES,
        "2010Q2",
    )
    assert quarter.set_index("country").loc["RS", "target"] == 100  # a quarter's share


def test_a_region_total_with_a_hidden_country_is_a_lower_bound(store, programme):
    cells = store.cells(["children_reached"], COUNTRIES, periods=["ALL"])
    targets = store.targets(["children_reached"], COUNTRIES)
    frame = views.country_figures(cells, targets, programme, COUNTRIES, "ALL")
    total = views.region_total(frame)
    assert (total.value, total.lower_bound, total.text) == (400, True, "≥ 400")
    summary = views.figures_summary(frame, "Children reached", "ALL")
    assert "≥ 400 across 2 countries" in summary and "1 shown as <10" in summary
    progress = views.region_progress(programme, frame)
    assert progress.text.startswith("≥ ")


def test_figures_table_writes_lt10_never_a_number(store, programme):
    cells = store.cells(["children_reached"], COUNTRIES, periods=["ALL"])
    frame = views.country_figures(cells, pd.DataFrame(), programme, COUNTRIES, "ALL")
    table = views.figures_table(frame, "Children reached", "ALL", 10)
    values = dict(zip(table["Country"], table["Value"], strict=True))
    assert values == {"Bosnia and Herzegovina": "", "Serbia": 400, "Montenegro": "<10"}
    csv = panels.csv_text(table)
    assert "Montenegro,Children reached,whole programme,<10,suppressed (<10)" in csv
    assert csv.splitlines()[0].startswith("Country,Indicator,Period,Value,Status")


def test_compare_view_over_quarters_ranks_and_grids(store, programme):
    state = {
        "indicator": "children_reached",
        "period": "2010",
        "countries": ("RS", "ME"),
        "breakdown": "quarters",
    }
    view = views.compare_view(store, COUNTRIES, state)
    assert len(view.trend) == 2 * len(programme.quarters)
    assert list(view.ranking["country"]) == ["RS", "ME"]
    assert set(view.trend.loc[view.trend["country"] == "ME", "text"]) == {"<10"}
    grid = view.grid
    assert grid["row"].iloc[0] == views.REGION  # the total of the shown countries
    reach = grid[
        (grid["column"] == "Objective 2<br>Reach") & (grid["row"] == "Montenegro")
    ]
    assert reach["text"].iloc[0].startswith("<10")
    assert "Children reached by quarter" in views.trend_summary(view)
    assert "Serbia ranks first" in views.ranking_summary(view)
    assert "on track" in views.grid_summary(grid, "2010", "pairs")
    table = views.trend_table(view)
    assert set(table.loc[table["Country"] == "Montenegro", "Value"]) == {"<10"}


def test_compare_view_only_shows_countries_in_scope(store):
    state = {
        "indicator": "children_reached",
        "period": "ALL",
        "countries": ("RS", "ME"),
        "breakdown": "years",
    }
    view = views.compare_view(store, ["ME"], state)  # a donor who sees ME only
    assert set(view.trend["country"]) == {"ME"}
    assert set(view.ranking["country"]) == {"ME"}
    assert "Serbia" not in set(view.grid["row"])


def country_state(**changes):
    state = {
        "country": "RS",
        "period": "ALL",
        "indicator": "children_reached",
        "breakdown": "sex_age",
    }
    return state | changes


def test_country_view_names_a_secret_site_by_its_kind_only(store):
    view = views.country_view(store, "RS", country_state())
    sites = view.sites.set_index("site")
    assert sites.loc["RS-SH", "name"] == "Shelter, location withheld"
    assert pd.isna(sites.loc["RS-SH", "latitude"])
    assert sites.loc["RS-SH", "text"] == "<10"
    assert sites.loc["RS-BG", "text"] == "300"
    summary = views.sites_summary(view)
    assert "2 sites (1 on the map, 1 with a location withheld)" in summary
    table = views.sites_table(view)
    assert "Shelter, location withheld" in set(table["Site"])


def test_country_view_breaks_down_by_sex_and_age(store):
    view = views.country_view(store, "RS", country_state())
    assert list(zip(view.split["sex"], view.split["age_band"], strict=True)) == [
        ("F", "0-9"),
        ("F", "10-13"),
    ]
    by_sex = views.country_view(store, "RS", country_state(breakdown="sex"))
    assert list(by_sex.split["sex"]) == ["F", "M", "U"]
    assert list(by_sex.split["text"]) == ["200", "195", "<10"]
    assert "largest group is female" in views.split_summary(by_sex)


def test_activities_are_not_broken_down_by_sex(store):
    view = views.country_view(
        store, "RS", country_state(indicator="professionals_trained")
    )
    assert view.split.empty and "no sex or age breakdown" in view.split_note


def test_a_completion_rate_is_not_shown_over_a_hidden_denominator(store):
    view = views.country_view(store, "RS", country_state())
    services = view.services.set_index("service")
    assert services.loc["police", "rate"] == "50%"
    assert services.loc["health", "rate"] == "not shown (fewer than 10 referred)"
    assert "family" not in services.index  # never referred to: not listed
    assert view.completion == "50%"
    table = views.services_table(view).set_index("Service")
    assert table.loc["Health", "Children referred"] == "<10"
    hidden = views.country_view(store, "ME", country_state(country="ME"))
    assert hidden.completion == "not shown (fewer than 10 referred)"


def test_quarter_trend_carries_a_quarters_share_of_the_target(store):
    view = views.country_view(store, "RS", country_state())
    assert list(view.trend["target"].unique()) == [100.0]
    assert "met its quarterly share" in views.quarter_summary(view)


def test_logframe_has_baseline_target_actual_and_status_per_year(store, programme):
    state = {"objective": "2", "period": "2010", "countries": ("RS", "ME")}
    view = views.objectives_view(store, COUNTRIES, state)
    frame = view.logframe
    assert set(frame["Objective"]) == {2}
    reached = frame[frame["Indicator"] == "Children reached"].set_index("Country")
    assert list(reached.index) == [views.REGION, "Serbia", "Montenegro"]
    assert reached.loc["Serbia", "Baseline 2008"] == programme.baseline(
        "children_reached", "RS"
    )
    assert reached.loc["Serbia", "Actual 2010"] == "400"
    assert reached.loc["Serbia", "Status 2010"] == "On track"
    assert reached.loc[views.REGION, "Actual 2010"] == "≥ 400"
    assert reached.loc["Montenegro", "Actual 2009–2011"] == "<10"
    for year in programme.years:
        assert f"Target {year}" in frame and f"Status {year}" in frame
    assert "on track for 2010" in views.logframe_summary(view, programme)
    assert set(view.grid["column"]) == {views.REGION, "Serbia", "Montenegro"}


def test_data_status_flags_stale_and_failed_syncs(store, programme):
    view = views.status_view(store, COUNTRIES, {"countries": tuple(COUNTRIES)}, NOW)
    syncs = view.syncs.set_index("country")
    assert syncs.loc["BA", "last_status"] == "never synced" and syncs.loc["BA", "stale"]
    assert syncs.loc["ME", "last_status"] == "failed"
    assert syncs.loc["ME", "reason"] == "timed out"
    assert syncs.loc["RS", "stale"]  # 40 days ago
    summary = views.syncs_summary(view)
    assert "failed for Montenegro" in summary
    table = views.syncs_table(view).set_index("Country")
    assert table.loc["Serbia", "Age"] == "40 days ago"


def test_data_status_counts_quarters_with_data_and_suppressed_cells(store):
    view = views.status_view(store, COUNTRIES, {"countries": ("RS", "ME")}, NOW)
    coverage = view.coverage.set_index(["country", "period"])
    assert coverage.loc[("RS", "2010Q1"), "holding"] == 1
    assert coverage.loc[("ME", "2010Q1"), "text"] == "1/1"  # suppressed counts
    shares = view.suppression.set_index("country")
    assert shares.loc["ME", "share"] == 1.0
    assert 0 < shares.loc["RS", "share"] < 1
    assert views.quality_summary(view).startswith("2 rows")


def test_age_words_are_plain_english():
    assert views.age_words(None) == "never"
    assert views.age_words(1 / 24) == "1 hour ago"
    assert views.age_words(0.5) == "12 hours ago"
    assert views.age_words(1.0) == "1 day ago"
