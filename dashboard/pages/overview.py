"""Overview: the region at a glance for one indicator and period.

Map and bar chart of the countries, regional total and progress against target, and
when each country's figures were last synced.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard import figures, numbers, views
from dashboard.data import warehouse
from dashboard.scope import visible_countries
from data_loaders.contract import ALL

dash.register_page(__name__, path="/", name="Overview", order=0)

INDICATOR = "overview-indicator-picker"
PERIOD = "overview-period-picker"
MAP = "overview-map-graph"
BARS = "overview-bars-graph"
CARDS = "overview-cards-row"
AS_OF = "overview-asof-list"
DEFAULT_INDICATOR = "children_reached"
GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def layout(**_query):
    programme = warehouse().programme
    return html.Div(
        [
            html.H1("Regional overview", className="h3"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("Indicator", html_for=INDICATOR),
                            dcc.Dropdown(
                                id=INDICATOR,
                                options=views.indicator_options(programme),
                                value=DEFAULT_INDICATOR,
                                clearable=False,
                            ),
                        ],
                        md=7,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Period", html_for=PERIOD),
                            dcc.Dropdown(
                                id=PERIOD,
                                options=views.period_options(programme),
                                value=ALL,
                                clearable=False,
                            ),
                        ],
                        md=5,
                    ),
                ],
                className="mb-3",
            ),
            dbc.Row(id=CARDS, className="mb-3"),
            dbc.Row(
                [
                    dbc.Col(dcc.Graph(id=MAP, config=GRAPH_CONFIG), lg=6),
                    dbc.Col(dcc.Graph(id=BARS, config=GRAPH_CONFIG), lg=6),
                ]
            ),
            html.P(numbers.SUPPRESSED_HELP, className="small text-muted"),
            html.H2("Data as of", className="h5 mt-3"),
            html.Ul(id=AS_OF, className="small"),
        ]
    )


@callback(
    Output(MAP, "figure"),
    Output(BARS, "figure"),
    Output(CARDS, "children"),
    Output(AS_OF, "children"),
    Input(INDICATOR, "value"),
    Input(PERIOD, "value"),
)
def update(indicator_code, period):
    store = warehouse()
    programme = store.programme
    if indicator_code not in programme.indicators or period not in programme.periods:
        raise dash.exceptions.PreventUpdate
    countries = visible_countries()
    indicator = programme.indicators[indicator_code]
    cells = store.cells([indicator_code], countries, periods=[period])
    targets = store.targets([indicator_code], countries)
    frame = views.country_figures(cells, targets, programme, countries, period)
    return (
        figures.country_map(frame, indicator.label),
        figures.country_bars(frame, indicator.label),
        _cards(frame, indicator.label, period),
        _as_of(store.last_syncs(countries), programme),
    )


def _cards(frame, label, period):
    total = numbers.total(frame.loc[frame["status"] != "missing", "value"])
    target = frame["target"].sum()
    progress = (
        f"{total.value / target:.0%} of target {target:,.0f}"
        if target
        else ("no target set")
    )
    return [
        _card(f"Region: {label}", total.text, views.period_label(period)),
        _card(
            "Progress against target",
            progress,
            "at least" if total.lower_bound else "rounded figures",
        ),
        _card(
            "Countries reporting",
            f"{int((frame['status'] != 'missing').sum())} of {len(frame)}",
            "with a snapshot in the warehouse",
        ),
    ]


def _card(title, value, note):
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(title, className="small text-muted"),
                    html.Div(value, className="fs-3 fw-semibold"),
                    html.Div(note, className="small text-muted"),
                ]
            )
        ),
        md=4,
    )


def _as_of(syncs, programme):
    items = []
    for row in syncs.itertuples():
        name = programme.countries[row.country].name
        when = row.last_ok.strftime("%Y-%m-%d %H:%M UTC") if row.last_ok else "never"
        label = " (synthetic demo data)" if row.synthetic else ""
        items.append(html.Li(f"{name}: {when}{label}"))
    return items
