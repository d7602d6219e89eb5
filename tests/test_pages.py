"""Every page through the app's HTTP interface: layouts from links, main callbacks,
tables and CSV downloads (only what the account sees, "<10" never a true value),
forged inputs, compression."""

from __future__ import annotations

import csv
import io
import json

import pytest

from data_loaders.warehouse import read_cells, warehouse_engine
from tests.dash_calls import body, response_props

ALL_COUNTRIES = ["BA", "RS", "ME", "XK", "AL", "RO", "BG"]
DONOR = {"BA", "ME"}  # the test donor's countries (tests/conftest.py)
NAMES = {
    "BA": "Bosnia and Herzegovina",
    "RS": "Serbia",
    "ME": "Montenegro",
    "XK": "Kosovo*",
    "AL": "Albania",
    "RO": "Romania",
    "BG": "Bulgaria",
}
# Each page's main callback: an output it fills and the inputs of a typical view.
PAGES = {
    "/": (
        "overview-map-graph.figure",
        {
            "overview-indicator-picker": "children_reached",
            "overview-period-picker": "ALL",
        },
    ),
    "/compare": (
        "compare-trend-graph.figure",
        {
            "compare-indicator-picker": "regular_attenders",
            "compare-period-picker": "2010Q3",
            "compare-countries-checklist": ALL_COUNTRIES,
            "compare-breakdown-radio": "quarters",
        },
    ),
    "/country/RS": (
        "country-sites-graph.figure",
        {
            "country-country-picker": "RS",
            "country-period-picker": "2010",
            "country-indicator-picker": "referrals_out",
            "country-breakdown-radio": "sex_age",
        },
    ),
    "/objectives": (
        "objectives-status-graph.figure",
        {
            "objectives-objective-radio": "all",
            "objectives-period-picker": "2011",
            "objectives-countries-checklist": ALL_COUNTRIES,
        },
    ),
    "/data-status": (
        "status-age-graph.figure",
        {"status-countries-checklist": ALL_COUNTRIES},
    ),
}


def run(client, output, values, state=None):
    deps = client.get("/_dash-dependencies").json
    answer = client.post(
        "/_dash-update-component", json=body(deps, output, values, state)
    )
    assert answer.status_code == 200, answer.text[:500]
    return response_props(answer.json)


def route(client, pathname, search=""):
    deps = client.get("/_dash-dependencies").json
    spec = next(d for d in deps if d["output"].startswith(".._pages_content.children"))
    request = {
        "output": spec["output"],
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "state": [],
        "changedPropIds": ["_pages_location.pathname"],
    }
    answer = client.post("/_dash-update-component", json=request)
    assert answer.status_code == 200, answer.text[:500]
    return json.dumps(answer.json, ensure_ascii=False)


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_answers_and_its_main_callback_draws(client, path):
    assert client.get(path).status_code == 200
    output, values = PAGES[path]
    props = run(client, output, values)
    figure = props[output]
    assert figure["data"], output
    summaries = [v for k, v in props.items() if k.endswith("summary.children")]
    assert summaries and all(s and s.endswith(".") for s in summaries), summaries


@pytest.mark.parametrize(
    ("path", "search", "expected"),
    [
        ("/compare", "?period=2099&countries=RS,XX&colour=red", "period “2099”"),
        ("/country/QQ", "?indicator=nope", "country “QQ”"),
        ("/objectives", "?objective=9", "objective “9”"),
        ("/data-status", "?countries=ZZ", "countries “ZZ”"),
        ("/", "?period=2010Q9", "period “2010Q9”"),
    ],
)
def test_a_link_with_unknown_values_opens_with_a_note(client, path, search, expected):
    layout = route(client, path, search)
    assert "Part of this link was ignored" in layout
    assert expected in layout


def test_a_link_opens_the_view_it_names(client):
    layout = route(
        client, "/compare", "?indicator=attendance_visits&period=2010&countries=ME,BA"
    )
    assert "Part of this link was ignored" not in layout
    assert '"value": "attendance_visits"' in layout
    assert '"value": ["BA", "ME"]' in layout
    country = route(client, "/country/ME", "?breakdown=age_band")
    assert '"value": "ME"' in country and '"value": "age_band"' in country


def test_a_donor_link_to_a_country_it_may_not_see_is_ignored(login_as):
    donor = login_as("donor")
    layout = route(donor, "/country/RS")
    assert "country “RS”" in layout
    assert '"value": "BA"' in layout and "Serbia" not in layout
    compare = route(donor, "/compare", "?countries=RS,ME")
    assert "countries “RS”" in compare
    assert "Serbia" not in compare


def test_forged_control_values_get_defaults_not_an_error(client):
    output, _values = PAGES["/compare"]
    props = run(
        client,
        output,
        {
            "compare-indicator-picker": {"$gt": ""},
            "compare-period-picker": "1999",
            "compare-countries-checklist": "RS",
            "compare-breakdown-radio": None,
        },
    )
    figure = props[output]
    assert figure["layout"]["annotations"]  # no country: the chart says so


def csv_of(client, panel, state):
    props = run(
        client,
        f"{panel}-download.data",
        {f"{panel}-csv": 1},
        {f"{panel}-state": state},
    )
    download = props[f"{panel}-download.data"]
    return download["filename"], list(csv.DictReader(io.StringIO(download["content"])))


def suppressed_cells(warehouse_url) -> set[tuple]:
    engine = warehouse_engine(warehouse_url)
    cells = read_cells(engine)
    engine.dispose()
    headline = (cells[["site", "sex", "age_band", "service"]] == "ALL").all(axis=1)
    hidden = cells[headline & (cells["status"] == "suppressed")]
    return set(
        zip(hidden["country"], hidden["indicator"], hidden["period"], strict=True)
    )


def test_a_donors_csv_holds_only_its_countries_even_when_it_asks_for_more(
    login_as, synced_warehouse
):
    donor = login_as("donor")
    state = {
        "indicator": "regular_attenders",
        "period": "2010Q3",
        "countries": ALL_COUNTRIES,  # a hand-made state asking for every country
        "breakdown": "quarters",
    }
    name, rows = csv_of(donor, "compare-trend", state)
    assert name.startswith("ctrp3-compare-trend-") and name.endswith(".csv")
    assert {row["Country"] for row in rows} == {NAMES[c] for c in DONOR}
    hidden = suppressed_cells(synced_warehouse)
    by_name = {v: k for k, v in NAMES.items()}
    labels = {"2010 Q3": "2010Q3"}
    for row in rows:
        period = labels.get(row["Period"], row["Period"].replace(" ", ""))
        key = (by_name[row["Country"]], "regular_attenders", period)
        if key in hidden:
            assert row["Value"] == "<10" and row["Status"] == "suppressed (<10)"
        else:
            assert row["Value"].isdigit() and row["Status"] == "published"
    assert {row["Value"] == "<10" for row in rows} == {True, False}  # both kinds


@pytest.mark.parametrize(
    ("panel", "state"),
    [
        ("overview-bars", {"indicator": "children_reached", "period": "ALL"}),
        (
            "country-split",
            {
                "country": "ME",
                "period": "2009Q1",
                "indicator": "children_reached",
                "breakdown": "sex_age",
            },
        ),
        (
            "objectives-logframe",
            {"objective": "2", "period": "ALL", "countries": ALL_COUNTRIES},
        ),
        ("status-syncs", {"countries": ALL_COUNTRIES}),
    ],
)
def test_every_kind_of_panel_downloads_a_csv_within_scope(login_as, panel, state):
    donor = login_as("donor")
    _name, rows = csv_of(donor, panel, state)
    assert rows
    text = json.dumps(rows)
    for code in set(ALL_COUNTRIES) - DONOR:
        assert NAMES[code] not in text, (panel, code)


def test_a_donor_cannot_open_another_countrys_page_through_a_forged_state(login_as):
    donor = login_as("donor")
    state = {
        "country": "RS",
        "period": "ALL",
        "indicator": "children_reached",
        "breakdown": "sex",
    }
    _name, rows = csv_of(donor, "country-sites", state)
    assert "Belgrade" not in json.dumps(rows)


def test_the_table_view_is_an_ag_grid_of_the_same_rows(client):
    state = {"indicator": "children_reached", "period": "2010"}
    props = run(client, "overview-bars-table.children", {"overview-bars-ask": state})
    grid = props["overview-bars-table.children"]
    assert grid["type"] == "AgGrid" and grid["namespace"] == "dash_ag_grid"
    rows = grid["props"]["rowData"]
    assert len(rows) == len(ALL_COUNTRIES)
    headers = [c["headerName"] for c in grid["props"]["columnDefs"]]
    assert headers[:4] == ["Country", "Indicator", "Period", "Value"]


def test_answers_are_compressed(client):
    output, values = PAGES["/objectives"]
    deps = client.get("/_dash-dependencies").json
    answer = client.post(
        "/_dash-update-component",
        json=body(deps, output, values),
        headers={"Accept-Encoding": "br, gzip"},
    )
    assert answer.headers["Content-Encoding"] == "br"
    page = client.get("/compare", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    html = client.get("/").text
    script = next(
        part.split('"')[0]
        for part in html.split('src="')[1:]
        if "dash_renderer" in part.split('"')[0]
    )
    static = client.get(script, headers={"Accept-Encoding": "br"})
    assert static.status_code == 200 and static.headers["Content-Encoding"] == "br"
    again = client.get(script, headers={"Accept-Encoding": "br"})
    assert again.data == static.data  # compressed once, served from memory


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip;q=0.5", "gzip"),
        ("identity", None),
        ("*", "br"),
        ("", None),
    ],
)
def test_compression_takes_brotli_then_gzip_as_the_client_allows(header, chosen):
    from dashboard.compression import choose

    assert choose(header) == chosen
