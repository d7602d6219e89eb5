"""A chart panel: title, one-sentence summary, the chart or its table, CSV download.

Every chart of the dashboard sits in a `Panel`. The reader can switch it to a table
of the figures it shows (AG Grid) and download them as CSV. Both come from the
panel's `table` function, called with the view's state: it re-validates the state
and asks dashboard.scope, so a table or a CSV holds exactly what the chart shows to
this user (suppressed figures as "<10", never a true value). The table is built only
when the reader asks for it, so a first visit carries no table data.

The page's main callback fills, per panel, the figure, the summary and the state
(`Panel.outputs()` / `Panel.values()`); each panel registers the rest (switch view,
build the table, download) with the same plain functions below, on plain string
ids named after the panel (`<name>-view`, `<name>-csv`, …).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import (
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
    no_update,
)

from dashboard import audit, scope

GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
}
CHART, TABLE = "chart", "table"
TABLES: dict[str, Callable[[dict], pd.DataFrame]] = {}


def _id(kind: str, name: str) -> str:
    return f"{name}-{kind}"


class _Card:
    """What a Panel and a TablePanel share: a card with a title, a CSV download
    of the panel's table, a one-sentence summary, and the state of its view."""

    body: str  # the id of what the main callback fills: a graph or a table

    def __init__(self, name: str, title: str, table: Callable[[dict], pd.DataFrame]):
        if name in TABLES:
            raise ValueError(f"two panels are named {name}")
        self.name, self.title = name, title
        TABLES[name] = table
        self.summary = f"{name}-summary"
        self.heading = f"{name}-heading"
        _register_download(name)

    def _card(self, controls: list, content: list, state: dict | None) -> dbc.Card:
        return dbc.Card(
            [
                dbc.CardHeader(
                    [
                        html.H2(self.title, id=self.heading, className="h6 mb-0"),
                        *controls,
                        _csv_button(self.name, self.title),
                        dcc.Download(id=_id("download", self.name)),
                    ],
                    className="d-flex flex-wrap align-items-center gap-1",
                ),
                dbc.CardBody(
                    [
                        html.P(
                            id=self.summary,
                            className="panel-summary small mb-2",
                            **{"aria-live": "polite"},
                        ),
                        *content,
                        # the view as the layout knows it: CSV works at once
                        dcc.Store(id=_id("state", self.name), data=state),
                    ]
                ),
            ],
            className="mb-3 panel",
        )

    def outputs(self) -> list[Output]:
        """What the page's main callback fills: the body, summary and state."""
        return [
            Output(self.body, self.prop),
            Output(self.summary, "children"),
            Output(_id("state", self.name), "data"),
        ]


class Panel(_Card):
    """One chart and its table. `table(state)` returns the rows to show and export."""

    prop = "figure"

    def __init__(self, name, title, table, height: int = 360):
        super().__init__(name, title, table)
        self.height = height
        self.graph = self.body = f"{name}-graph"  # tests and pages address it
        _register_view(name)

    def layout(self, state: dict | None = None, **graph_props) -> dbc.Card:
        toggle = dbc.RadioItems(
            id=_id("view", self.name),
            options=[
                {"label": "Chart", "value": CHART},
                {"label": "Table", "value": TABLE},
            ],
            value=CHART,
            className="btn-group btn-group-sm panel-view",
            inputClassName="btn-check",
            labelClassName="btn btn-outline-primary",
            labelCheckedClassName="active",
        )
        chart = html.Div(
            dcc.Graph(
                id=self.graph,
                config=GRAPH_CONFIG,
                # the figure sets its height; this only keeps the space until then
                style={"minHeight": f"{self.height}px"},
                **graph_props,
            ),
            id=_id("chart", self.name),
            role="figure",
            **{"aria-labelledby": self.heading},
        )
        table = html.Div(id=_id("table", self.name), hidden=True)
        return self._card(
            [toggle], [chart, table, dcc.Store(id=_id("ask", self.name))], state
        )

    def values(self, figure, summary: str, state: dict) -> list:
        return [figure, summary, state]


class TablePanel(_Card):
    """A table that is the main content (not the view of a chart): always shown,
    with the same CSV download as a Panel. An AG Grid, not an HTML table: Dash's
    renderer takes seconds per thousand components, and a logframe has two."""

    prop = "children"

    def __init__(self, name, title, table):
        super().__init__(name, title, table)
        self.body = _id("table", name)

    def layout(self, state: dict | None = None) -> dbc.Card:
        return self._card([], [html.Div(id=self.body)], state)

    def values(self, frame: pd.DataFrame, summary: str, state: dict) -> list:
        body = (
            grid(frame, self.name)
            if len(frame)
            else html.P("Nothing to show for this choice.", className="text-muted")
        )
        return [body, summary, state]


def _csv_button(name: str, title: str) -> html.Button:
    return html.Button(
        "Download CSV",
        id=_id("csv", name),
        className="btn btn-sm btn-outline-secondary ms-2",
        title=f"{title}: the figures shown, as CSV",
    )


def remembered(page: str, state: dict, compute):
    """The main callback's answer for this view and this scope, computed once per
    warehouse snapshot: many readers open the same views. The key holds the
    visible countries, taken from dashboard.scope for this request, so an answer
    never reaches a request whose scope differs. (Should scope ever depend on
    more than the countries, that belongs in this key too.)"""
    from dashboard.data import warehouse

    key = (json.dumps(state, sort_keys=True), tuple(scope.visible_countries()))
    return warehouse().answer(page, key, compute)


def grid(frame: pd.DataFrame, name: str) -> dag.AgGrid:
    """An AG Grid of a display table (column names as headers, values as shown)."""
    fields = [f"c{i}" for i in range(len(frame.columns))]
    records = [
        dict(zip(fields, row, strict=True))
        for row in frame.astype(object).where(frame.notna(), "").itertuples(index=False)
    ]
    return dag.AgGrid(
        id=f"{name}-grid",
        rowData=records,
        columnDefs=[
            {"field": f, "headerName": str(c)}
            for f, c in zip(fields, frame.columns, strict=True)
        ],
        defaultColDef={
            "sortable": True,
            "filter": True,
            "resizable": True,
            "cellDataType": False,  # "<10" sits beside numbers: no type guessing
        },
        columnSize="autoSize",
        dashGridOptions={
            "domLayout": "autoHeight" if len(frame) <= 25 else "normal",
            "pagination": len(frame) > 25,
            "paginationPageSize": 20,  # one of AG Grid's page-size choices
            "ensureDomOrder": True,  # screen readers read the grid in order
        },
        style={} if len(frame) <= 25 else {"height": "560px"},
    )


def csv_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\r\n")


def filename(name: str) -> str:
    return f"ctrp3-{re.sub(r'[^a-z0-9-]', '', name)}-{dt.date.today():%Y%m%d}.csv"


# -- the callbacks of each panel -----------------------------------------------------

# Chart or table: show one, hide the other, and ask for the table only when shown.
SWITCH_VIEW = """
function (view, state) {
    const table = view === "table";
    return [table, !table, table ? state : window.dash_clientside.no_update];
}
"""


def _register_view(name: str) -> None:
    clientside_callback(
        SWITCH_VIEW,
        Output(_id("chart", name), "hidden"),
        Output(_id("table", name), "hidden"),
        Output(_id("ask", name), "data"),
        Input(_id("view", name), "value"),
        Input(_id("state", name), "data"),
    )

    @callback(
        Output(_id("table", name), "children"),
        Input(_id("ask", name), "data"),
        prevent_initial_call=True,
    )
    def show_table(state):
        """The panel's table, built when the reader switches to it."""
        if not isinstance(state, dict):
            return no_update
        frame = TABLES[name](state)
        if frame.empty:
            return html.P("Nothing to show for this choice.", className="text-muted")
        return grid(frame, name)


def _register_download(name: str) -> None:
    @callback(
        Output(_id("download", name), "data"),
        Input(_id("csv", name), "n_clicks"),
        State(_id("state", name), "data"),
        prevent_initial_call=True,
    )
    def download_csv(clicks, state):
        """The panel's table as CSV: only what this user sees, as shown."""
        if not clicks or not isinstance(state, dict):
            return no_update
        scope.require("export", target=f"csv {name}")
        text = csv_text(TABLES[name](state))
        audit.record("export", f"csv {name}", "ok")  # every export is recorded
        return dcc.send_string(text, filename(name))
