"""Pieces every page shares: the navbar (built from the page registry), the footer."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import scope
from data_loaders.programme import Programme


def navbar() -> dbc.Navbar:
    """One link per registered page the account may open, in registry order."""
    links = [
        dbc.NavItem(
            dbc.NavLink(page["name"], href=page["relative_path"], active="exact")
        )
        for page in dash.page_registry.values()
        if page.get("nav", True) and scope.can_open(page)
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("CTRP III regional dashboard", href="/"),
                dbc.Nav(links, navbar=True, className="me-auto"),
                account_menu(),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        className="mb-3",
    )


def account_menu() -> html.Div:
    """Who is signed in, and a sign-out button (a POST form with the CSRF token)."""
    from dashboard.auth import LOGOUT_PATH, csrf_token

    account = scope.current_account()
    if account is None:  # only while Dash validates the layout at start-up
        return html.Div(id="navbar-account")
    return html.Div(
        [
            html.Span(
                f"{account.username} · {scope.describe_role(account)}",
                className="navbar-text small me-2",
            ),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf_token", value=csrf_token()),
                    html.Button(
                        "Sign out",
                        id="navbar-logout-button",
                        type="submit",
                        className="btn btn-sm btn-outline-light",
                    ),
                ],
                method="POST",
                action=LOGOUT_PATH,
                className="d-inline",
            ),
        ],
        id="navbar-account",
        className="d-flex align-items-center",
    )


def footnotes(programme: Programme) -> html.Footer:
    """Country footnotes (Kosovo*) of the countries this account sees."""
    visible = set(scope.visible_countries()) if scope.current_account() else set()
    return html.Footer(
        [
            html.P(f"{c.name} {c.footnote}", className="small text-muted mb-1")
            for c in programme.countries.values()
            if c.footnote and c.code in visible
        ],
        className="container-fluid mt-4",
    )


def shell(programme: Programme) -> html.Div:
    return html.Div(
        [
            navbar(),
            dbc.Container(dash.page_container, fluid=True),
            footnotes(programme),
        ]
    )
