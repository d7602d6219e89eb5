"""Overview: the region at a glance for one indicator and period.

Map and bar chart of the countries (click a country on the map to open its page),
regional total and progress against target, and when each country's figures were
last synced. The indicator and period live in the URL.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import controls, figures, numbers, urlstate, views
from dashboard.data import warehouse
from dashboard.panels import Panel, remembered
from dashboard.scope import visible_countries
from data_loaders.contract import ALL

dash.register_page(__name__, path="/", name="Overview", order=0)

URL = "overview-url"
NAV = "overview-nav"
NOTE = "overview-note"
INDICATOR = "overview-indicator-picker"
PERIOD = "overview-period-picker"
CARDS = "overview-cards-row"
AS_OF = "overview-asof-list"
DEFAULT_INDICATOR = "children_reached"
CONTROLS = {"indicator": INDICATOR, "period": PERIOD}


def fields() -> list[urlstate.Field]:
    programme = warehouse().programme
    return [
        urlstate.Field("indicator", tuple(programme.indicators), DEFAULT_INDICATOR),
        urlstate.Field("period", programme.periods, ALL),
    ]


def _figures(state: dict):
    """The per-country figures of a (re-validated) state, for the visible countries."""
    state = urlstate.clean(state, fields())
    store = warehouse()
    countries = visible_countries()
    code, period = state["indicator"], state["period"]
    cells = store.cells([code], countries, periods=[period])
    targets = store.targets([code], countries)
    frame = views.country_figures(cells, targets, store.programme, countries, period)
    return state, frame


def _table(state: dict):
    state, frame = _figures(state)
    programme = warehouse().programme
    label = programme.indicators[state["indicator"]].label
    return views.figures_table(frame, label, state["period"], programme.threshold)


MAP = Panel("overview-map", "Map (click a country to open its page)", _table, 420)
BARS = Panel("overview-bars", "Countries against target", _table, 360)


def layout(**query):
    programme = warehouse().programme
    state, ignored = urlstate.parse(query, fields())
    return html.Div(
        [
            dcc.Location(id=NAV, refresh="callback-nav"),
            *urlstate.header("Regional overview", URL, NOTE, ignored),
            dbc.Row(
                [
                    dbc.Col(
                        controls.indicator_picker(
                            INDICATOR, programme, state["indicator"]
                        ),
                        md=7,
                    ),
                    dbc.Col(
                        controls.period_picker(PERIOD, programme, state["period"]),
                        md=5,
                    ),
                ],
                className="mb-3",
            ),
            dbc.Row(id=CARDS, className="mb-3"),
            dbc.Row(
                [
                    dbc.Col(MAP.layout(state), lg=6),
                    dbc.Col(BARS.layout(state), lg=6),
                ]
            ),
            controls.protection_note(programme),
            html.H2("Data as of", className="h5 mt-3"),
            html.Ul(id=AS_OF, className="small"),
        ]
    )


urlstate.keep_in_step(URL, NOTE, CONTROLS, fields)


@callback(
    *MAP.outputs(),
    *BARS.outputs(),
    Output(CARDS, "children"),
    Output(AS_OF, "children"),
    *[Input(c, "value") for c in CONTROLS.values()],
)
def update(indicator_code, period):
    state = urlstate.clean({"indicator": indicator_code, "period": period}, fields())
    return remembered("overview", state, lambda: _answer(state))


def _answer(state: dict) -> tuple:
    state, frame = _figures(state)
    store = warehouse()
    programme = store.programme
    label = programme.indicators[state["indicator"]].label
    period = state["period"]
    return (
        *MAP.values(
            figures.country_map(frame, label),
            views.figures_summary(frame, label, period),
            state,
        ),
        *BARS.values(
            figures.country_bars(frame, label),
            views.target_summary(frame, label, period),
            state,
        ),
        _cards(programme, frame, label, state["period"]),
        _as_of(store.last_syncs(visible_countries()), programme),
    )


@callback(
    Output(NAV, "href"),
    Input(MAP.graph, "clickData"),
    State(URL, "search"),
    prevent_initial_call=True,
)
def open_country(click, search):
    """A click on a country opens its page, with the same indicator and period."""
    points = (click or {}).get("points") or []
    location = points[0].get("location") if points else None
    programme = warehouse().programme
    by_map_id = {c.map_id: code for code, c in programme.countries.items()}
    code = by_map_id.get(location)
    if code is None or code not in visible_countries():
        return no_update
    return f"/country/{code}{search or ''}"


def _cards(programme, frame, label, period):
    total = views.region_total(frame)
    progress = views.region_progress(programme, frame)
    target = frame["target"].sum()
    progress_text = (
        f"{progress.text} of target {target:,.0f}"
        if progress.status not in (numbers.NO_TARGET, numbers.NO_DATA)
        else numbers.STATUS_LABELS[progress.status]
    )
    return [
        controls.card(
            f"{views.REGION}: {label}", total.text, views.period_label(period)
        ),
        controls.card(
            "Progress against target",
            progress_text,
            numbers.STATUS_LABELS[progress.status]
            + (" (a lower bound)" if total.lower_bound else ""),
        ),
        controls.card(
            "Countries reporting",
            f"{int((frame['status'] != 'missing').sum())} of {len(frame)}",
            "with a snapshot in the warehouse",
        ),
    ]


def _as_of(syncs, programme):
    items = []
    for row in syncs.itertuples():
        name = programme.countries[row.country].name
        when = (
            "never"
            if pd.isna(row.last_ok)
            else row.last_ok.strftime("%Y-%m-%d %H:%M UTC")
        )
        label = " (synthetic demo data)" if row.synthetic else ""
        items.append(html.Li(f"{name}: {when}{label}"))
    return items
