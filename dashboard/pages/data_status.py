"""Data status: per country the last sync, its status and reason, how stale it is,
the data-quality counts, which quarters have data, and the share of cells
suppressed; and, for the roles that may, run a sync or import a bundle
(`_status_actions`).

The countries shown live in the URL.
"""

from __future__ import annotations

import datetime as dt

import dash
import dash_bootstrap_components as dbc
from dash import Input, callback, html

from dashboard import controls, figures, urlstate, views
from dashboard.data import warehouse
from dashboard.pages import _status_actions as actions
from dashboard.panels import Panel, TablePanel, remembered
from dashboard.scope import visible_countries

dash.register_page(__name__, path="/data-status", name="Data status", order=4)

URL = "status-url"
NOTE = "status-note"
COUNTRIES = "status-countries-checklist"
CONTROLS = {"countries": COUNTRIES}


def fields() -> list[urlstate.Field]:
    countries = tuple(visible_countries())
    return [urlstate.Field("countries", countries, countries, multiple=True)]


def view(state: dict) -> tuple[dict, views.StatusView]:
    state = urlstate.clean(state, fields())
    return state, views.status_view(warehouse(), visible_countries(), state)


SYNCS = TablePanel(
    "status-syncs",
    "Last sync per country",
    lambda s: views.syncs_table(view(s)[1]),
)
AGE = Panel(
    "status-age",
    "How stale: days since the last successful sync",
    lambda s: views.syncs_table(view(s)[1]),
    300,
)
COVERAGE = Panel(
    "status-coverage",
    "Which quarters have data (indicators with a figure above 0)",
    lambda s: views.coverage_table(view(s)[1]),
    340,
)
SUPPRESSION = Panel(
    "status-suppression",
    "Share of cells suppressed (sensitive indicators)",
    lambda s: views.suppression_table(view(s)[1]),
    300,
)
QUALITY = Panel(
    "status-quality",
    "Data-quality counts of the last sync (rows kept as unknown or left out)",
    lambda s: views.quality_table(view(s)[1]),
    620,
)


def layout(**query):
    programme = warehouse().programme
    countries = visible_countries()
    state, ignored = urlstate.parse(query, fields())
    return html.Div(
        [
            *urlstate.header("Data status", URL, NOTE, ignored),
            html.Div(
                controls.country_checklist(
                    COUNTRIES, programme, countries, state["countries"]
                ),
                className="mb-3",
            ),
            actions.section(),
            SYNCS.layout(state),
            dbc.Row(
                [
                    dbc.Col(AGE.layout(state), xl=6),
                    dbc.Col(SUPPRESSION.layout(state), xl=6),
                ]
            ),
            COVERAGE.layout(state),
            QUALITY.layout(state),
            html.P(
                "Rows with a code that is not in the contract are kept in an "
                "“unknown” category; duplicated ids, dangling references and dates "
                "outside the programme are left out (CONTRACT §2). Counts are of "
                "source rows at the last successful sync.",
                className="small text-body-secondary",
            ),
        ]
    )


urlstate.keep_in_step(URL, NOTE, CONTROLS, fields)


@callback(
    *SYNCS.outputs(),
    *AGE.outputs(),
    *SUPPRESSION.outputs(),
    *COVERAGE.outputs(),
    *QUALITY.outputs(),
    *[Input(c, "value") for c in CONTROLS.values()],
    # a sync or an import that ends here redraws the panels from the new snapshot
    *[Input(store, "data") for store in actions.REFRESH],
)
def update(*values):
    values = values[: len(CONTROLS)]
    state = urlstate.clean(dict(zip(CONTROLS, values, strict=True)), fields())
    # Ages ("3 hours ago") change with the clock, not only with the snapshot:
    # an answer is kept for the hour at most.
    hour = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H")
    return remembered("data-status", {**state, "hour": hour}, lambda: _answer(state))


def _answer(state: dict) -> tuple:
    state, status = view(state)
    labels = {q: views.period_label(q) for q in warehouse().programme.quarters}
    coverage = status.coverage.assign(quarter=status.coverage["period"].map(labels))
    return (
        *SYNCS.values(views.syncs_table(status), views.syncs_summary(status), state),
        *AGE.values(
            figures.sync_age_bars(status.syncs, views.STALE_AFTER_DAYS),
            views.syncs_summary(status),
            state,
        ),
        *SUPPRESSION.values(
            figures.share_bars(status.suppression, "Share of cells suppressed"),
            views.suppression_summary(status),
            state,
        ),
        *COVERAGE.values(
            figures.value_grid(
                coverage,
                "name",
                "quarter",
                "share",
                "text",
                "Share with data",
                zmax=1.0,
            ),
            views.coverage_summary(status),
            state,
        ),
        *QUALITY.values(
            figures.value_grid(status.quality, "check", "name", "rows", "rows", "Rows"),
            views.quality_summary(status),
            state,
        ),
    )
