"""Pieces every page shares: the navbar (built from the page registry), the footer."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from data_loaders.programme import Programme


def navbar() -> dbc.Navbar:
    """One link per registered page, in registry order; never hand-written."""
    links = [
        dbc.NavItem(
            dbc.NavLink(page["name"], href=page["relative_path"], active="exact")
        )
        for page in dash.page_registry.values()
        if page.get("nav", True)
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("CTRP III regional dashboard", href="/"),
                dbc.Nav(links, navbar=True),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        className="mb-3",
    )


def footnotes(programme: Programme) -> html.Footer:
    """Country footnotes (Kosovo*) wherever countries are named."""
    return html.Footer(
        [
            html.P(f"{c.name} {c.footnote}", className="small text-muted mb-1")
            for c in programme.countries.values()
            if c.footnote
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
