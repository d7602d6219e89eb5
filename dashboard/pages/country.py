"""One country (`/country/<code>`): its sites on a map and in a table, the indicator
by sex and age, referrals by service with the completion rate, and the trend
against target.

The country lives in the path; period, indicator and breakdown in the query.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, callback, dcc, html

from dashboard import controls, editing, figures, urlstate, views
from dashboard.data import warehouse
from dashboard.panels import Panel, remembered
from dashboard.scope import can_see, visible_countries
from data_loaders.contract import ALL

dash.register_page(
    __name__,
    path="/country",
    path_template="/country/<code>",
    name="Country",
    order=2,
)

PREFIX = "/country/"
URL = "country-url"
NOTE = "country-note"
TITLE = "country-title"
COUNTRY = "country-country-picker"
PERIOD = "country-period-picker"
INDICATOR = "country-indicator-picker"
BREAKDOWN = "country-breakdown-radio"
CARDS = "country-cards-row"
NOTES = "country-notes"
CONTROLS = {
    "country": COUNTRY,
    "period": PERIOD,
    "indicator": INDICATOR,
    "breakdown": BREAKDOWN,
}
DEFAULT_INDICATOR = "children_reached"


def fields() -> list[urlstate.Field]:
    programme = warehouse().programme
    countries = tuple(visible_countries())
    return [
        urlstate.Field("country", countries, countries[0] if countries else ""),
        urlstate.Field("period", programme.periods, ALL),
        urlstate.Field("indicator", tuple(programme.indicators), DEFAULT_INDICATOR),
        urlstate.Field("breakdown", tuple(views.BREAKDOWNS), "sex_age"),
    ]


def view(state: dict) -> tuple[dict, views.CountryView | None]:
    """The country's view for a (re-validated) state; None when no country is
    visible to this user."""
    state = urlstate.clean(state, fields())
    if not state["country"]:
        return state, None
    return state, views.country_view(warehouse(), state["country"], state)


def _table(builder):
    def table(state):
        _state, country = view(state)
        return builder(country) if country else pd.DataFrame()

    return table


SITES = Panel("country-sites", "Sites", _table(views.sites_table), 360)
SPLIT = Panel("country-split", "By sex and age", _table(views.split_table), 340)
SERVICES = Panel(
    "country-services",
    "Referrals by service, with the completion rate",
    _table(views.services_table),
    360,
)
TREND = Panel(
    "country-trend", "Quarter by quarter, against target", _table(views.quarter_table)
)


def layout(code=None, **query):
    programme = warehouse().programme
    countries = visible_countries()
    if code not in (None, "", "none"):
        query = {**query, "country": code}
    else:
        query.pop("country", None)
    state, ignored = urlstate.parse(query, fields())
    if not countries:
        return html.Div(
            [
                dcc.Location(id=URL, refresh=False),
                html.H1("Country", id=TITLE, className="h3"),
                html.Div(id=NOTE),
                html.P("No country is visible to this account."),
                _hidden_controls(programme, state),
            ]
        )
    name = programme.countries[state["country"]].name
    return html.Div(
        [
            *urlstate.header(name, URL, NOTE, ignored, id=TITLE),
            dbc.Row(
                [
                    dbc.Col(
                        controls.dropdown(
                            COUNTRY,
                            "Country",
                            views.country_options(programme, countries),
                            state["country"],
                        ),
                        lg=3,
                    ),
                    dbc.Col(
                        controls.indicator_picker(
                            INDICATOR, programme, state["indicator"]
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        controls.period_picker(PERIOD, programme, state["period"]),
                        lg=2,
                    ),
                    dbc.Col(
                        controls.radio(
                            BREAKDOWN,
                            "Breakdown",
                            views.BREAKDOWNS,
                            state["breakdown"],
                        ),
                        lg=3,
                    ),
                ],
                className="mb-3 g-3",
            ),
            dbc.Row(id=CARDS, className="mb-3"),
            html.Div(id=NOTES),
            dbc.Row(
                [
                    dbc.Col(SITES.layout(state), xl=6),
                    dbc.Col(SPLIT.layout(state), xl=6),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(SERVICES.layout(state), xl=6),
                    dbc.Col(TREND.layout(state), xl=6),
                ]
            ),
            controls.protection_note(programme),
        ]
    )


def _hidden_controls(programme, state):
    """The controls every callback names, for a page with no country to show."""
    return html.Div(
        [
            dcc.Dropdown(id=COUNTRY, options=[], value=None),
            dcc.Dropdown(id=PERIOD, options=[], value=state["period"]),
            dcc.Dropdown(id=INDICATOR, options=[], value=state["indicator"]),
            dcc.RadioItems(id=BREAKDOWN, options=[], value=state["breakdown"]),
            html.Div(id=CARDS),
            html.Div(id=NOTES),
            SITES.layout(state),
            SPLIT.layout(state),
            SERVICES.layout(state),
            TREND.layout(state),
        ],
        hidden=True,
    )


urlstate.keep_in_step(URL, NOTE, CONTROLS, fields, path_prefix=PREFIX)


@callback(
    Output(TITLE, "children"),
    Output(CARDS, "children"),
    *SITES.outputs(),
    *SPLIT.outputs(),
    *SERVICES.outputs(),
    *TREND.outputs(),
    *[Input(c, "value") for c in CONTROLS.values()],
)
def update(*values):
    state = urlstate.clean(dict(zip(CONTROLS, values, strict=True)), fields())
    return remembered("country", state, lambda: _answer(state))


def _answer(state: dict) -> tuple:
    state, country = view(state)
    programme = warehouse().programme
    if country is None:
        nothing = figures.empty("No country is visible to this account.")
        return (
            "Country",
            [],
            *[
                value
                for panel in (SITES, SPLIT, SERVICES, TREND)
                for value in panel.values(nothing, "", state)
            ],
        )
    labels = {p: views.period_label(p) for p in programme.periods}
    map_id = programme.countries[country.country].map_id
    return (
        country.name,
        _cards(country),
        *SITES.values(
            figures.site_map(country.sites, map_id, country.bounds, country.label),
            views.sites_summary(country),
            state,
        ),
        *SPLIT.values(
            figures.split_bars(
                country.split,
                country.label,
                country.breakdown,
                views.SEX_NAMES,
                views.AGE_NAMES,
            ),
            views.split_summary(country),
            state,
        ),
        *SERVICES.values(
            figures.service_bars(
                country.services, {s: views.words(s) for s in country.services.service}
            ),
            views.services_summary(country),
            state,
        ),
        *TREND.values(
            figures.quarter_bars(country.trend, country.label, labels),
            views.quarter_summary(country),
            state,
        ),
    )


def _cards(country: views.CountryView):
    headline = country.headline.iloc[0]
    target = headline["target"]
    return [
        controls.card(
            country.label,
            headline["text"],
            views.period_label(country.period),
        ),
        controls.card(
            "Progress against target",
            headline["progress_text"],
            "no target" if pd.isna(target) else f"target {target:,.0f}",
        ),
        controls.card(
            "Referral completion rate",
            *(
                (country.completion, "completed ÷ children referred to services")
                if country.completion.endswith("%")
                else ("not shown", country.completion.removeprefix("not shown "))
            ),
        ),
    ]


@callback(Output(NOTES, "children"), Input(COUNTRY, "value"))
def notes(country):
    """The programme team's notes on the country (written on the targets page),
    for everyone who can see it; nothing for a country outside the scope."""
    if not can_see(country):
        return []
    rows = editing.note_rows(warehouse().programme, warehouse().notes([country]))
    if not rows:
        return []
    return dbc.Card(
        [
            dbc.CardHeader(
                html.H2("Notes from the programme team", className="h6 mb-0")
            ),
            dbc.CardBody(
                [
                    html.Div(
                        [
                            html.H3(row["period"], className="h6 mb-1"),
                            html.P(
                                row["text"],
                                className="mb-1",
                                style={"whiteSpace": "pre-wrap"},  # its line breaks
                            ),
                            html.P(row["by"], className="small text-body-secondary"),
                        ]
                    )
                    for row in rows
                ]
            ),
        ],
        className="mb-3",
    )
