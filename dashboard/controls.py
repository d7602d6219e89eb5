"""The controls and notes pages share: labelled pickers, the protection note.

Every control is a native form control or a labelled dropdown, so it is reachable
and usable by keyboard, and its label is tied to it (`html_for`).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import figures, numbers, views
from data_loaders.programme import Programme


def dropdown(component_id: str, label: str, options: list, value) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=component_id),
            dcc.Dropdown(
                id=component_id,
                options=options,
                value=value,
                clearable=False,
                searchable=True,
            ),
        ]
    )


def indicator_picker(component_id: str, programme: Programme, value) -> html.Div:
    return dropdown(
        component_id, "Indicator", views.indicator_options(programme), value
    )


def period_picker(component_id: str, programme: Programme, value, years_only=False):
    options = views.period_options(programme)
    if years_only:
        options = [o for o in options if "Q" not in o["value"]]
    return dropdown(component_id, "Period", options, value)


def country_checklist(component_id: str, programme: Programme, countries, value):
    """Which of the visible countries to show (native checkboxes)."""
    return html.Fieldset(
        [
            html.Legend("Countries", className="form-label fs-6 mb-1"),
            dbc.Checklist(
                id=component_id,
                options=views.country_options(programme, countries),
                value=list(value),
                inline=True,
            ),
        ],
        className="mb-0",
    )


def radio(component_id: str, label: str, options: dict, value) -> html.Fieldset:
    """A small set of choices as native radio buttons in a fieldset."""
    return html.Fieldset(
        [
            html.Legend(label, className="form-label fs-6 mb-1"),
            dbc.RadioItems(
                id=component_id,
                options=[
                    {"label": text, "value": key} for key, text in options.items()
                ],
                value=value,
                inline=True,
            ),
        ],
        className="mb-0",
    )


def protection_note(programme: Programme) -> html.P:
    """Issue 4 on the page: why "<10", why "≥ N", why totals may not add up."""
    k = programme.threshold
    return html.P(
        [
            html.Abbr(
                f"<{k}", title=numbers.suppressed_title(k), className="fw-semibold"
            ),
            f" means fewer than {k} (at least 1): hidden to protect the children "
            "counted. ",
            html.Span("≥ N", className="fw-semibold"),
            " is a total that includes a hidden figure, so the true total is at "
            "least N. ",
            numbers.rounded_note(programme.rounding_base),
            " Rates are not shown when the figure they divide by is hidden.",
        ],
        className="small text-body-secondary protection-note",
    )


def status_legend() -> html.Ul:
    """The red/amber/green key under a progress grid, in words and colours."""
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(
                        className="legend-swatch", style={"backgroundColor": colour}
                    ),
                    label,
                ],
                className="list-inline-item small",
            )
            for label, colour in figures.status_legend()
        ],
        className="list-inline mb-0",
        **{"aria-label": "Status colours"},
    )


def card(title: str, value: str, note: str, size: str = "fs-3") -> dbc.Col:
    """A headline figure: what it is, the figure, and a note under it."""
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(title, className="small text-body-secondary"),
                    html.Div(value, className=f"{size} fw-semibold"),
                    html.Div(note, className="small text-body-secondary"),
                ]
            )
        ),
        md=4,
    )
