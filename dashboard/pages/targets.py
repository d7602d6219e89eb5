"""Targets and notes: where the people CONTRACT §10 allows change a country's yearly
targets and its notes. Admins and regional managers change any country, a country
lead only its own; donors cannot open the page.

The picker offers only the countries the account may change, but hiding protects
nothing: both callbacks ask `scope.require("edit", country)` themselves, so a
hand-made request for another country gets 403 and one audit record. A save is all
or nothing, and its audit record says what was changed, never the value.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import audit, controls, editing, scope, views
from dashboard.data import warehouse
from data_loaders import warehouse as tables
from data_loaders.contract import ALL

ROLES = ("admin", "regional_manager", "country_lead")
dash.register_page(
    __name__, path="/targets", name="Targets and notes", order=80, roles=ROLES
)

COUNTRY = "targets-country-picker"
GRID = "targets-edit-grid"
LOADED = "targets-loaded-store"
SAVE = "targets-save-button"
MESSAGE = "targets-save-message"
NOTE_PERIOD = "targets-note-period-picker"
NOTE_TEXT = "targets-note-textarea"
NOTE_SAVE = "targets-note-save-button"
NOTE_WHO = "targets-note-who"
NOTE_MESSAGE = "targets-note-message"
NOTE_LOADED = "targets-note-loaded-store"  # the note as loaded, to detect a clash
# what a save came to: written; refused (bad input, kept to be corrected); clashed
# with someone else's save since the page loaded (kept; saving again replaces it)
SAVED, REFUSED, CLASHED = "saved", "refused", "clashed"


def editable() -> list[str]:
    """The countries the account may change, in programme order."""
    return [c for c in warehouse().programme.countries if scope.can("edit", c)]


def layout(country=None, **_query):
    account = scope.current_account()
    if account is not None and account.role not in ROLES:
        scope.deny("page /targets")
    # Without an account only Dash's start-up validation gets here: the structure
    # alone, with no country (the callbacks check the account).
    programme = warehouse().programme
    countries = editable()
    chosen = country if country in countries else next(iter(countries), None)
    return html.Div(
        [
            html.H1("Targets and notes", className="h3"),
            html.P(_who_may(account, programme), className="text-body-secondary"),
            dbc.Row(
                dbc.Col(
                    controls.dropdown(
                        COUNTRY,
                        "Country",
                        views.country_options(programme, countries),
                        chosen,
                    ),
                    lg=4,
                ),
                className="mb-3",
            ),
            _targets_card(programme),
            _notes_card(programme),
        ]
    )


def _who_may(account, programme) -> str:
    if account is None:
        return ""
    if account.role == "country_lead":
        names = ", ".join(programme.countries[c].name for c in account.countries)
        return f"You may change the targets and notes of {names}."
    return "You may change the targets and notes of every country."


def _targets_card(programme) -> dbc.Card:
    years = [
        {
            "field": editing.column(year),
            "headerName": f"Target {year}",
            "editable": True,
            "cellDataType": "number",
            "type": "rightAligned",
        }
        for year in programme.years
    ]
    grid = dag.AgGrid(
        id=GRID,
        rowData=[],
        columnDefs=[
            {"field": "objective", "headerName": "Objective"},
            {"field": "label", "headerName": "Indicator"},
            *years,
        ],
        defaultColDef={"resizable": True, "sortable": False},
        columnSize="autoSize",
        dashGridOptions={
            "domLayout": "autoHeight",
            "singleClickEdit": True,
            # a click on Save ends the edit in progress, so the value being
            # typed is saved too
            "stopEditingWhenCellsLoseFocus": True,
            "ensureDomOrder": True,
        },
    )
    return _editing_card(
        "Targets per year",
        "Click a target to change it, then save. A target is a whole number from 0 "
        f"to {editing.TARGET_LIMIT - 1:,}; only the targets you changed are saved, "
        "and only if every one of them is valid.",
        # the targets as loaded: a save writes only the cells that differ
        [grid, dcc.Store(id=LOADED)],
        ("Save targets", SAVE, MESSAGE),
    )


def _notes_card(programme) -> dbc.Card:
    period = controls.dropdown(
        NOTE_PERIOD, "The note is about", editing.note_periods(programme), ALL
    )
    return _editing_card(
        "Notes",
        "A note is shown on the country's page to everyone who can see the "
        f"country. At most {tables.NOTE_LENGTH:,} characters; write about the "
        "work, never about a child. Saving an empty note removes it.",
        [
            dbc.Row(dbc.Col(period, lg=4), className="mb-2"),
            dbc.Label("Note", html_for=NOTE_TEXT),
            dbc.Textarea(id=NOTE_TEXT, maxLength=tables.NOTE_LENGTH, rows=5, value=""),
            html.Div(id=NOTE_WHO, className="small text-body-secondary"),
            dcc.Store(id=NOTE_LOADED),
        ],
        ("Save note", NOTE_SAVE, NOTE_MESSAGE),
    )


def _editing_card(title: str, how: str, content: list, save: tuple) -> dbc.Card:
    """A card: title, how to use it, what is edited, a save button and its message."""
    label, button, message = save
    return dbc.Card(
        [
            dbc.CardHeader(html.H2(title, className="h6 mb-0")),
            dbc.CardBody(
                [
                    html.P(how, className="small"),
                    *content,
                    dbc.Button(label, id=button, className="mt-3"),
                    html.Div(id=message, className="mt-3", role="status"),
                ]
            ),
        ],
        className="mb-3",
    )


@callback(
    Output(GRID, "rowData"),
    Output(LOADED, "data"),
    Output(MESSAGE, "children"),
    Input(COUNTRY, "value"),
    Input(SAVE, "n_clicks"),
    State(GRID, "rowData"),
    State(LOADED, "data"),
)
def targets(country, _clicks, sent, loaded):
    """The country's targets; on Save, first write the cells that changed."""
    _require_edit("targets", country)
    message = None
    if ctx.triggered_id == SAVE:
        message, outcome = _save_targets(country, sent, loaded)
        if outcome == REFUSED:  # keep what the person typed, to be corrected
            return no_update, no_update, message
        if outcome == CLASHED:  # keep it too; saving again replaces theirs
            return no_update, _stored_rows(country), message
    rows = _stored_rows(country)
    return rows, rows, message


def _stored_rows(country: str) -> list[dict]:
    programme = warehouse().programme
    frame = warehouse().targets(list(programme.indicators), [country])
    return editing.target_rows(programme, frame)


@callback(
    Output(NOTE_TEXT, "value"),
    Output(NOTE_WHO, "children"),
    Output(NOTE_MESSAGE, "children"),
    Output(NOTE_LOADED, "data"),
    Input(COUNTRY, "value"),
    Input(NOTE_PERIOD, "value"),
    Input(NOTE_SAVE, "n_clicks"),
    State(NOTE_TEXT, "value"),
    State(NOTE_LOADED, "data"),
)
def note(country, period, _clicks, text, loaded):
    """The note of the country and period; on Save, first write it."""
    _require_edit("notes", country)
    if period not in (ALL, *warehouse().programme.quarters):
        return "", "", _alert("Choose what the note is about.", "warning"), None
    message = None
    if ctx.triggered_id == NOTE_SAVE:
        message, outcome = _save_note(country, period, text, loaded)
        if outcome == REFUSED:
            return no_update, no_update, message, no_update
        if outcome == CLASHED:  # their note in the message, the person's kept
            stored, who = _stored_note(country, period)
            return no_update, who, message, stored
    stored, who = _stored_note(country, period)
    return stored, who, message, stored


# -- saving ---------------------------------------------------------------------------


def _require_edit(kind: str, country) -> None:
    """Go on only for a country the account may change: anything else is 403 and
    one audit record, except no country at all from an account that may change
    some (the renderer asking before a country is chosen), which changes nothing."""
    if country is None and editable():
        raise PreventUpdate
    scope.require("edit", country, target=_target(kind, country))


def _target(kind: str, country) -> str:
    """What an audit record names: never a value a forger sent, beyond a known
    country code."""
    known = warehouse().programme.countries
    return f"{kind} {country}" if country in known else f"{kind} (unknown country)"


def _save_targets(country: str, sent, loaded):
    """(message, outcome): write the changed cells of the grid, all or none."""
    programme = warehouse().programme
    changes, problems = editing.changed_targets(programme, sent, loaded)
    if problems:
        audit.record("edit", f"targets {country}", "failed")
        return _alert(
            [*map(html.Div, problems), "Nothing was saved."], "danger"
        ), REFUSED
    if not changes:
        return _alert("Nothing was changed, so nothing was saved.", "info"), SAVED
    account = scope.current_account()
    expected = editing.loaded_targets(programme, loaded, changes)
    try:
        tables.save_targets(
            warehouse().engine, country, changes, account.username, expected
        )
    except tables.EditConflict as conflict:
        audit.record("edit", f"targets {country}", "failed")
        stored = editing.cells_of(programme, _stored_rows(country))
        said = editing.conflict_message(programme, conflict.cells, stored)
        return _alert(said, "warning"), CLASHED
    warehouse().changed()
    for code, year in sorted(changes):
        audit.record("edit", f"targets {country} {code} {year}", "ok")
    name = programme.countries[country].name
    count = f"{len(changes)} target{'s' if len(changes) > 1 else ''}"
    return _alert(f"Saved {count} of {name}.", "success"), SAVED


def _save_note(country: str, period: str, text, loaded):
    """(message, outcome): write the note, or say why not. `loaded`: the note as
    the page loaded it, so a note someone saved meanwhile is not overwritten."""
    cleaned = editing.clean_note(text if text is not None else "")
    if cleaned is None:
        audit.record("edit", _note_target(country, period), "failed")
        return _alert(
            f"A note is text of at most {tables.NOTE_LENGTH:,} characters. "
            "Nothing was saved.",
            "danger",
        ), REFUSED
    account = scope.current_account()
    expected = loaded if isinstance(loaded, str) else None
    try:
        tables.save_note(
            warehouse().engine, country, period, cleaned, account.username, expected
        )
    except tables.EditConflict as conflict:
        audit.record("edit", _note_target(country, period), "failed")
        who = conflict.cells[0][2]
        theirs = _stored_note(country, period)[0]
        return _alert(
            [
                f"{who or 'Someone'} changed this note after you opened it, so "
                "yours was not saved. It now reads:",
                html.Blockquote(theirs or "(no note)", className="my-2"),
                "Your text is still in the box: save again to replace theirs.",
            ],
            "warning",
        ), CLASHED
    warehouse().changed()
    audit.record("edit", _note_target(country, period), "ok")
    return _alert("Note saved." if cleaned else "Note removed.", "success"), SAVED


def _note_target(country: str, period: str) -> str:
    return f"notes {country}" + ("" if period == ALL else f" {period}")


def _stored_note(country: str, period: str) -> tuple[str, str]:
    """The note's text and who changed it when ("" and "" when there is none)."""
    notes = warehouse().notes([country])
    notes = notes[notes["period"] == period]
    if notes.empty:
        return "", ""
    row = notes.iloc[0]
    when = f"{row['updated_at']:%Y-%m-%d %H:%M} UTC"
    return row["text"], f"Last changed by {row['updated_by']}, {when}."


def _alert(children, colour: str) -> dbc.Alert:
    return dbc.Alert(children, color=colour, className="mb-0")
