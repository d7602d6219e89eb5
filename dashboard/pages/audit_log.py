"""Audit log: who signed in, was refused, exported, edited, synced or imported.

Open to admins and regional managers only: the navbar hides it from the others, the
gate answers 403 to a browser asking for it, and both the layout and the callback
refuse (with an audit record) a request made by hand.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard import audit, scope

ROLES = ("admin", "regional_manager")
dash.register_page(__name__, path="/audit", name="Audit log", order=90, roles=ROLES)

ACTION = "audit-action-picker"
ACTOR = "audit-actor-input"
TABLE = "audit-records-table"
ACTIONS = (
    "login",
    "logout",
    "denial",
    "csrf",
    "export",
    "edit",
    "sync",
    "import",
    "account",
)
COLUMNS = ("at", "actor", "role", "address", "action", "target", "scope", "outcome")
LIMIT = 500


def layout(**_query):
    account = scope.current_account()
    if account is not None and not scope.can("read_audit"):
        scope.deny("page /audit")
    # Without an account only Dash's start-up validation gets here: the structure
    # alone, no record (records come from the callback, which checks the role).
    return html.Div(
        [
            html.H1("Audit log", className="h3"),
            html.P(
                f"The newest {LIMIT} records. Append-only: nothing here can be "
                "changed or deleted.",
                className="text-muted small",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("Action", html_for=ACTION),
                            dcc.Dropdown(
                                id=ACTION,
                                options=[{"label": a, "value": a} for a in ACTIONS],
                                placeholder="every action",
                            ),
                        ],
                        md=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Account", html_for=ACTOR),
                            dbc.Input(
                                id=ACTOR,
                                placeholder="every account",
                                debounce=True,
                                maxLength=64,
                            ),
                        ],
                        md=4,
                    ),
                ],
                className="mb-3",
            ),
            html.Div(id=TABLE),
        ]
    )


@callback(Output(TABLE, "children"), Input(ACTION, "value"), Input(ACTOR, "value"))
def show(action, actor):
    scope.require("read_audit", target="audit log records")
    action = action if action in ACTIONS else None
    actor = actor.strip()[:64] if isinstance(actor, str) and actor.strip() else None
    rows = audit.recent(LIMIT, action=action, actor=actor)
    if not rows:
        return dbc.Alert("No record matches.", color="light")
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(c) for c in COLUMNS])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(
                                row["at"].strftime("%Y-%m-%d %H:%M:%S")
                                if c == "at"
                                else row[c]
                            )
                            for c in COLUMNS
                        ]
                    )
                    for row in rows
                ]
            ),
        ],
        striped=True,
        size="sm",
        responsive=True,
        className="small",
    )
