"""Compare countries: one indicator across the countries over time, a ranking, and
a grid of measure × objective per country coloured by progress against target.

Indicator, period, countries and time step (breakdown) live in the URL.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, callback, html

from dashboard import controls, figures, urlstate, views
from dashboard.data import warehouse
from dashboard.panels import Panel, remembered
from dashboard.scope import visible_countries
from data_loaders.contract import ALL

dash.register_page(__name__, path="/compare", name="Compare countries", order=1)

URL = "compare-url"
NOTE = "compare-note"
INDICATOR = "compare-indicator-picker"
PERIOD = "compare-period-picker"
COUNTRIES = "compare-countries-checklist"
STEP = "compare-breakdown-radio"
CONTROLS = {
    "indicator": INDICATOR,
    "period": PERIOD,
    "countries": COUNTRIES,
    "breakdown": STEP,
}
DEFAULT_INDICATOR = "children_reached"
STEPS = {"quarters": "Quarters", "years": "Years"}


def fields() -> list[urlstate.Field]:
    programme = warehouse().programme
    countries = tuple(visible_countries())
    return [
        urlstate.Field("indicator", tuple(programme.indicators), DEFAULT_INDICATOR),
        urlstate.Field("period", programme.periods, ALL),
        urlstate.Field("countries", countries, countries, multiple=True),
        urlstate.Field("breakdown", tuple(STEPS), "quarters"),
    ]


def view(state: dict) -> tuple[dict, views.CompareView]:
    """The comparison for a (re-validated) state, over the visible countries."""
    state = urlstate.clean(state, fields())
    return state, views.compare_view(warehouse(), visible_countries(), state)


TREND = Panel(
    "compare-trend",
    "Over time",
    lambda s: views.trend_table(view(s)[1]),
    380,
)
RANKING = Panel(
    "compare-ranking",
    "Ranking in the chosen period",
    lambda s: _ranking_table(view(s)[1]),
    340,
)
GRID = Panel(
    "compare-grid",
    "Progress against target: each objective's reach, attendance and referrals",
    lambda s: views.grid_table(view(s)[1].grid),
    420,
)


def _ranking_table(comparison: views.CompareView):
    return views.figures_table(
        comparison.ranking, comparison.label, comparison.period, comparison.threshold
    )


def layout(**query):
    programme = warehouse().programme
    countries = visible_countries()
    state, ignored = urlstate.parse(query, fields())
    return html.Div(
        [
            *urlstate.header("Compare countries", URL, NOTE, ignored),
            dbc.Row(
                [
                    dbc.Col(
                        controls.indicator_picker(
                            INDICATOR, programme, state["indicator"]
                        ),
                        lg=5,
                    ),
                    dbc.Col(
                        controls.period_picker(PERIOD, programme, state["period"]),
                        lg=3,
                    ),
                    dbc.Col(
                        controls.radio(STEP, "Over time by", STEPS, state["breakdown"]),
                        lg=4,
                    ),
                ],
                className="mb-2 g-3",
            ),
            html.Div(
                controls.country_checklist(
                    COUNTRIES, programme, countries, state["countries"]
                ),
                className="mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(TREND.layout(state), xl=7),
                    dbc.Col(RANKING.layout(state), xl=5),
                ]
            ),
            GRID.layout(state),
            controls.status_legend(),
            controls.protection_note(programme),
        ]
    )


urlstate.keep_in_step(URL, NOTE, CONTROLS, fields)


@callback(
    *TREND.outputs(),
    *RANKING.outputs(),
    *GRID.outputs(),
    *[Input(c, "value") for c in CONTROLS.values()],
)
def update(*values):
    state = urlstate.clean(dict(zip(CONTROLS, values, strict=True)), fields())
    return remembered("compare", state, lambda: _answer(state))


def _answer(state: dict) -> tuple:
    state, comparison = view(state)
    programme = warehouse().programme
    labels = {p: views.period_label(p) for p in programme.periods}
    return (
        *TREND.values(
            figures.trend_lines(
                comparison.trend, comparison.label, labels, programme.threshold
            ),
            views.trend_summary(comparison),
            state,
        ),
        *RANKING.values(
            figures.country_bars(comparison.ranking, comparison.label),
            views.ranking_summary(comparison),
            state,
        ),
        *GRID.values(
            figures.progress_grid(comparison.grid),
            views.grid_summary(
                comparison.grid, comparison.period, "country-measure pairs"
            ),
            state,
        ),
    )
