"""Objectives (the logframe): objective → indicator → country, with the baseline,
and the target, actual and red/amber/green status of each year and of the whole
programme. Status thresholds come from the programme file.

Objective, period and countries live in the URL.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, callback, html

from dashboard import controls, figures, urlstate, views
from dashboard.data import warehouse
from dashboard.panels import Panel, TablePanel, remembered
from dashboard.scope import visible_countries
from data_loaders.contract import ALL

dash.register_page(__name__, path="/objectives", name="Objectives", order=3)

URL = "objectives-url"
NOTE = "objectives-note"
OBJECTIVE = "objectives-objective-radio"
PERIOD = "objectives-period-picker"
COUNTRIES = "objectives-countries-checklist"
THRESHOLDS = "objectives-thresholds-text"
CONTROLS = {"objective": OBJECTIVE, "period": PERIOD, "countries": COUNTRIES}


def fields() -> list[urlstate.Field]:
    programme = warehouse().programme
    countries = tuple(visible_countries())
    objectives = ("all", *(str(o) for o in programme.objectives))
    return [
        urlstate.Field("objective", objectives, "all"),
        urlstate.Field("period", (*programme.years, ALL), ALL),
        urlstate.Field("countries", countries, countries, multiple=True),
    ]


def view(state: dict) -> tuple[dict, views.ObjectivesView]:
    state = urlstate.clean(state, fields())
    return state, views.objectives_view(warehouse(), visible_countries(), state)


STATUS = Panel(
    "objectives-status",
    "Status per indicator and country in the chosen period",
    lambda s: views.grid_table(view(s)[1].grid),
    520,
)
LOGFRAME = TablePanel(
    "objectives-logframe",
    "Logframe: baseline, and target, actual and status per year",
    lambda s: view(s)[1].logframe,
)


def layout(**query):
    programme = warehouse().programme
    countries = visible_countries()
    state, ignored = urlstate.parse(query, fields())
    objectives = {"all": "All"} | {
        str(o): f"Objective {o}" for o in programme.objectives
    }
    return html.Div(
        [
            *urlstate.header("Objectives and progress (logframe)", URL, NOTE, ignored),
            dbc.Row(
                [
                    dbc.Col(
                        controls.radio(
                            OBJECTIVE, "Objective", objectives, state["objective"]
                        ),
                        lg=5,
                    ),
                    dbc.Col(
                        controls.period_picker(
                            PERIOD, programme, state["period"], years_only=True
                        ),
                        lg=3,
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
            html.Ol(
                [html.Li(title) for title in programme.objectives.values()],
                className="small mb-3",
                **{"aria-label": "The programme's objectives"},
            ),
            STATUS.layout(state),
            html.Div(
                [
                    controls.status_legend(),
                    html.P(
                        f"On track: actual at least {programme.green:.0%} of target; "
                        f"needs attention: at least {programme.amber:.0%}; off track: "
                        "below. A hidden figure (<10) or a lower bound (≥ N) gets a "
                        "status only when every value it may stand for gets the "
                        "same one.",
                        id=THRESHOLDS,
                        className="small text-body-secondary",
                    ),
                ],
                className="mb-3",
            ),
            LOGFRAME.layout(state),
            controls.protection_note(programme),
        ]
    )


urlstate.keep_in_step(URL, NOTE, CONTROLS, fields)


@callback(
    *STATUS.outputs(),
    *LOGFRAME.outputs(),
    *[Input(c, "value") for c in CONTROLS.values()],
)
def update(*values):
    state = urlstate.clean(dict(zip(CONTROLS, values, strict=True)), fields())
    return remembered("objectives", state, lambda: _answer(state))


def _answer(state: dict) -> tuple:
    state, objectives = view(state)
    programme = warehouse().programme
    return (
        *STATUS.values(
            figures.progress_grid(objectives.grid),
            views.grid_summary(
                objectives.grid, objectives.period, "indicator-country pairs"
            ),
            state,
        ),
        *LOGFRAME.values(
            objectives.logframe,
            views.logframe_summary(objectives, programme),
            state,
        ),
    )
