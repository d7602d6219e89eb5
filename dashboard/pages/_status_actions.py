"""The Data status page's actions (CONTRACT §10): run a sync (admins and regional
managers) and import a bundle (admins and regional managers of any country, a country
lead of its own).

`section()` holds what the current account may use, and nothing else. Every
callback asks scope again, so a hand-made request of another role gets 403 and one
audit record, and starts or stores nothing. The sync runs in a background thread
(data_loaders.sync_job); the page follows it by polling `sync_runs`, so any worker
can answer, and when it ends the page's panels redraw from the new snapshot.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import audit, scope, settings
from dashboard.data import warehouse
from data_loaders import bundle, sync_job
from data_loaders.sources import SourcesError, load_sources, sources_path

log = logging.getLogger(__name__)

SYNC_BUTTON = "status-sync-button"
SYNC_MESSAGE = "status-sync-message"
SYNC_RUNS = "status-sync-runs"  # the runs of the sync the page follows
SYNC_POLL = "status-sync-interval"
SYNC_PROGRESS = "status-sync-progress"
SYNCED = "status-sync-finished"  # set when a followed sync ends
UPLOAD = "status-import-upload"
IMPORT_MESSAGE = "status-import-message"
IMPORTED = "status-import-finished"  # set when a bundle is stored
REFRESH = (SYNCED, IMPORTED)  # the panels redraw when either changes
POLL_MS = 2000
# A request carries the file in base64 (4/3 of its size) within the server's limit
# of 32 MiB (dashboard.security.MAX_REQUEST_BYTES).
MAX_UPLOAD_BYTES = 20 * 2**20
SHOWN = {
    "running": ("running…", "text-body-secondary"),
    "ok": ("ok", "text-success-emphasis"),
    "failed": ("FAILED", "text-danger-emphasis"),
    "stopped": ("stopped", "text-danger-emphasis"),
}


# -- layout -------------------------------------------------------------------------


def section() -> html.Div:
    """The actions the current account may use (none: only the stores the panels
    listen to). Without an account this is Dash's validation layout, built once
    for nobody (dashboard.security): it names every id the callbacks use."""
    live = scope.current_account() is not None
    blocks = []
    if not live or scope.can("run_sync"):
        blocks.append(_sync_block(live))
    if not live or importable():
        blocks.append(_import_block())
    return html.Div(
        [
            *(dcc.Store(id=store) for store in REFRESH),
            dbc.Row([dbc.Col(block, lg=6) for block in blocks], className="mb-3"),
        ]
    )


def importable() -> list[str]:
    """Countries whose bundles the current account may import."""
    return [c for c in warehouse().programme.countries if scope.can("import_bundle", c)]


def _sync_block(live: bool) -> html.Section:
    problem, run_ids = None, []
    if live:  # a sync already running (started here or elsewhere) is followed
        _sources, problem = sources()
        run_ids = [run["id"] for run in sync_job.running(warehouse().engine)]
    return html.Section(
        [
            html.H2("Run a sync", className="h5"),
            html.P(
                "Reads every country of the sources file now, protects the figures "
                "and stores them; a country that fails keeps its last good snapshot.",
                className="small",
            ),
            dbc.Button("Run a sync", id=SYNC_BUTTON, color="primary", size="sm"),
            html.Div(
                _note(problem, "danger") if problem else None,
                id=SYNC_MESSAGE,
                role="status",
                className="mt-2",
            ),
            html.Div(_progress_list(run_ids), id=SYNC_PROGRESS),
            dcc.Store(id=SYNC_RUNS, data=run_ids or None),
            dcc.Interval(id=SYNC_POLL, interval=POLL_MS, disabled=not run_ids),
        ],
        className="border rounded p-3 h-100",
    )


def _import_block() -> html.Section:
    programme = warehouse().programme
    names = ", ".join(programme.countries[c].name for c in importable())
    return html.Section(
        [
            html.H2("Import a bundle", className="h5"),
            html.P(
                "A bundle file a country office exported (python -m data_loaders "
                f"export), up to {MAX_UPLOAD_BYTES // 2**20} MB. You may import "
                f"bundles of: {names}.",
                className="small",
            ),
            dcc.Upload(
                html.Div(["Drop a bundle file here, or ", html.U("choose one")]),
                id=UPLOAD,
                accept=".json,application/json",
                max_size=MAX_UPLOAD_BYTES,
                className="border border-secondary rounded p-3 text-center",
            ),
            html.Div(id=IMPORT_MESSAGE, role="status", className="mt-2"),
        ],
        className="border rounded p-3 h-100",
    )


def _note(text: str, kind: str) -> html.P:
    return html.P(text, className=f"alert alert-{kind} py-2 mb-2 small")


def _progress_list(run_ids: list[int]):
    if not run_ids:
        return None
    programme = warehouse().programme
    items = []
    for run in sync_job.progress(warehouse().engine, run_ids):
        word, colour = SHOWN.get(run["status"], (run["status"], ""))
        detail = run["error"] or (
            f"{run['rows']} cells stored" if run["status"] == "ok" else ""
        )
        country = programme.countries.get(run["country"])
        items.append(
            html.Li(
                [
                    f"{country.name if country else run['country']}: ",
                    html.Strong(word, className=colour),
                    f" — {detail}" if detail else "",
                ]
            )
        )
    return html.Ul(items, className="small mb-0 mt-2", **{"aria-live": "polite"})


def sources():
    """The sources file of DASHBOARD_SOURCES, or None and why it is unusable."""
    path = sources_path(settings.setting("DASHBOARD_SOURCES"))
    try:
        return load_sources(path, warehouse().programme.countries), None
    except SourcesError as error:
        return None, f"No sync can start: {error}"


# -- callbacks ---------------------------------------------------------------------


@callback(
    Output(SYNC_RUNS, "data"),
    Output(SYNC_MESSAGE, "children"),
    Input(SYNC_BUTTON, "n_clicks"),
    prevent_initial_call=True,
)
def start_sync(clicks):
    scope.require("run_sync", target="sync")
    if type(clicks) is not int or clicks < 1:  # what a button sends, nothing else
        return no_update, no_update
    found, problem = sources()
    if problem:
        return no_update, _note(problem, "danger")
    record = audit.later("sync", "all countries")
    try:
        run_ids = sync_job.start(
            warehouse().engine,
            found,
            warehouse().programme,
            lambda outcomes: record(
                "ok" if outcomes and all(o.ok for o in outcomes) else "failed"
            ),
        )
    except sync_job.AlreadyRunning as busy:
        return busy.run_ids or no_update, _note(f"Not started: {busy}.", "warning")
    return run_ids, _note(f"Sync of {len(run_ids)} countries started.", "info")


@callback(
    Output(SYNC_PROGRESS, "children"),
    Output(SYNC_POLL, "disabled"),
    Output(SYNCED, "data"),
    Input(SYNC_POLL, "n_intervals"),
    Input(SYNC_RUNS, "data"),
    prevent_initial_call=True,
)
def follow_sync(_ticks, run_ids):
    scope.require("run_sync", target="sync progress")
    run_ids = _valid_ids(run_ids)
    if not run_ids:
        return None, True, no_update
    finished = sync_job.done(sync_job.progress(warehouse().engine, run_ids))
    return _progress_list(run_ids), finished, run_ids if finished else no_update


def _valid_ids(value) -> list[int]:
    """Run ids as the page keeps them; anything else (a forged value) is none."""
    if not isinstance(value, list) or len(value) > sync_job.MAX_RUNS:
        return []
    if not all(type(item) is int for item in value):
        return []
    return value


@callback(
    Output(IMPORT_MESSAGE, "children"),
    Output(IMPORTED, "data"),
    Input(UPLOAD, "contents"),
    State(UPLOAD, "filename"),
    prevent_initial_call=True,
)
def import_upload(contents, filename):
    if not importable():
        scope.deny("import bundle")
    if not contents:
        return no_update, no_update
    data, problem = read_upload(contents)
    country, problem = (None, problem) if problem else named_country(data)
    if problem:
        audit.record("import", "a bundle", "failed")
        return _note(f"Rejected: {problem}; nothing stored.", "danger"), no_update
    scope.require("import_bundle", country, target=f"import {country}")
    return _store(data, country)


def _store(data: bytes, country: str):
    try:
        snapshot, payload = bundle.import_bundle(
            warehouse().engine, data, warehouse().programme
        )
    except bundle.BundleError as error:
        audit.record("import", f"country {country}", "failed")
        return _note(f"Rejected: {error}; nothing stored.", "danger"), no_update
    audit.record("import", f"country {country}", "ok")
    message = (
        f"imported {country} ({len(snapshot.cells)} cells, generated "
        f"{payload['generated_at']})"
    )
    return _note(message, "success"), dt.datetime.now(dt.UTC).isoformat()


def read_upload(contents) -> tuple[bytes, str | None]:
    """The file of a dcc.Upload value ('data:…;base64,…'), or why it is unusable."""
    if not isinstance(contents, str) or ";base64," not in contents[:200]:
        return b"", "the upload could not be read"
    encoded = contents.split(";base64,", 1)[1]
    if len(encoded) > MAX_UPLOAD_BYTES * 4 // 3 + 4:
        return b"", f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB"
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return b"", "the upload could not be read"
    if not data.strip():
        return b"", "the file is empty"
    return data, None


def named_country(data: bytes) -> tuple[str | None, str | None]:
    """The programme country a bundle names (nothing checked yet), or why none."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None, "the file is not JSON text, so not a bundle"
    payload = document.get("payload") if isinstance(document, dict) else None
    country = payload.get("country") if isinstance(payload, dict) else None
    if not isinstance(country, str):
        return None, "the file names no country, so it is not a bundle"
    programme = warehouse().programme
    if country not in programme.countries:
        return None, f"the bundle's country is not one of programme {programme.code}"
    return country, None
