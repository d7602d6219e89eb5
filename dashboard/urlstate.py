"""A page's view lives in its URL query, so a copied link opens the same view.

A page declares its fields (name, allowed values, default). `parse` turns a query
into a valid state and a list of what it had to ignore (unknown names, unknown or
malformed values), which the page shows in a note; `encode` writes the canonical
query back. The allowed values are computed per request, so a country the user may
not see is ignored like an unknown one.

How the URL and the controls stay in step (see `sync`): each page has its own
`dcc.Location(refresh=False)`. A control change writes the query with pushState,
which does not re-run the page layout; back and forward change the Location's
`search`, and the same callback sets the controls from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, ctx, dcc, html, no_update

MAX_SHOWN = 40  # characters of an ignored value repeated in the note


@dataclass(frozen=True)
class Field:
    name: str
    choices: tuple[str, ...]
    default: str | tuple[str, ...]
    multiple: bool = False  # a comma-separated subset of the choices, in that order

    def clean(self, value) -> str | tuple[str, ...]:
        """A control's value made valid (a hand-made request may send anything)."""
        if self.multiple:
            given = value if isinstance(value, list | tuple) else []
            return tuple(c for c in self.choices if c in given)
        return (
            value
            if isinstance(value, str) and value in self.choices
            else (self.default)
        )


def parse(query: Mapping, fields: Sequence[Field]) -> tuple[dict, list[str]]:
    """The state a query asks for, and a phrase for each thing ignored."""
    known = {f.name: f for f in fields}
    state = {f.name: f.default for f in fields}
    ignored = [
        f"“{_short(name)}” (not a setting of this page)"
        for name in query
        if name not in known
    ]
    for name, raw in query.items():
        field = known.get(name)
        if field is None:
            continue
        values = raw if isinstance(raw, list) else [raw]
        if field.multiple:
            parts = [p for value in values for p in str(value).split(",") if p]
            bad = [p for p in parts if p not in field.choices]
            state[name] = tuple(c for c in field.choices if c in parts)
            ignored += [f"{name} “{_short(p)}”" for p in bad]
        elif len(values) != 1 or values[0] not in field.choices:
            ignored.append(f"{name} “{_short(','.join(map(str, values)))}”")
        else:
            state[name] = values[0]
    return state, ignored


def parse_search(search: str | None, fields: Sequence[Field]):
    """`parse` of a Location's `search` ("?a=1&b=2")."""
    return parse(_query(search), fields)


def encode(state: Mapping, fields: Sequence[Field]) -> str:
    """The canonical query of a state: every field, in declared order."""
    pairs = []
    for field in fields:
        value = state.get(field.name, field.default)
        pairs.append((field.name, ",".join(value) if field.multiple else value))
    return "?" + urlencode(pairs, safe=",")


def clean(values: Mapping, fields: Sequence[Field]) -> dict:
    """Controls' (or a stored state's) values, each made valid."""
    return {f.name: f.clean(values.get(f.name)) for f in fields}


def note(ignored: list[str]):
    """What the page says when a link held values it could not use."""
    if not ignored:
        return None
    return html.Div(
        dbc.Alert(
            [
                html.Strong("Part of this link was ignored: "),
                "; ".join(ignored),
                ". The page shows its defaults instead.",
            ],
            color="warning",
            className="py-2 small",
        ),
        role="status",
    )


def sync(
    fields: Sequence[Field],
    search: str,
    values: Sequence,
    from_url: bool,
    path: tuple[str, str] | None = None,
    pathname: str | None = None,
):
    """The one callback body that keeps a page's URL and controls in step.

    Returns (search, note, *control values), or (pathname, search, note, *control
    values) when one field lives in the path: `path` = (prefix, field name), as in
    ("/country/", "country"). From the URL (load, back, forward): controls are set
    to the URL's state, only where they differ (so nothing that depends on them
    runs twice). From a control: the URL gets the new query; an unchanged one is
    not pushed again.
    """
    current = {
        f.name: tuple(v or ()) if f.multiple else v
        for f, v in zip(fields, values, strict=True)
    }
    if from_url:
        query = dict(_query(search))
        if path:
            query.pop(path[1], None)  # the path decides, not a query parameter
            code = path_value(pathname, path[0])
            if code is not None:
                query[path[1]] = code
        state, ignored = parse(query, fields)
        updates = [
            (list(state[f.name]) if f.multiple else state[f.name])
            if state[f.name] != current[f.name]
            else no_update
            for f in fields
        ]
        head = (no_update,) if path else ()
        return (*head, no_update, note(ignored), *updates)
    state = clean(current, fields)
    in_query = [f for f in fields if not path or f.name != path[1]]
    query = encode(state, in_query)
    head = ()
    if path:
        new_path = path[0] + state[path[1]] if state[path[1]] else no_update
        head = (no_update if new_path == pathname else new_path,)
    return (
        *head,
        no_update if query == search else query,
        None,
        *([no_update] * len(fields)),
    )


def keep_in_step(
    url: str,
    note_id: str,
    controls: Mapping[str, str],
    fields: Callable[[], Sequence[Field]],
    path_prefix: str | None = None,
) -> None:
    """Register a page's callback that keeps its URL and its controls in step.

    `controls` maps each field name to its control's id, in `fields()` order;
    with `path_prefix`, the first field lives in the path after it.
    """
    path_outputs = [Output(url, "pathname")] if path_prefix else []
    path_inputs = [Input(url, "pathname")] if path_prefix else []

    @callback(
        *path_outputs,
        Output(url, "search"),
        Output(note_id, "children"),
        *[Output(c, "value") for c in controls.values()],
        *path_inputs,
        Input(url, "search"),
        *[Input(c, "value") for c in controls.values()],
        prevent_initial_call=True,
    )
    def sync_url(*args):
        """Controls → URL, and URL (load, back, forward) → controls."""
        pathname = args[0] if path_prefix else None
        search, *values = args[1:] if path_prefix else args
        path = (path_prefix, next(iter(controls))) if path_prefix else None
        return sync(fields(), search, values, ctx.triggered_id == url, path, pathname)


def header(title: str, url: str, note_id: str, ignored: list[str], **title_props):
    """The top of a page with a view in its URL: its Location, title and note."""
    return [
        dcc.Location(id=url, refresh=False),
        html.H1(title, className="h3", **title_props),
        html.Div(note(ignored), id=note_id),
    ]


def path_value(pathname: str | None, prefix: str) -> str | None:
    """The value a path carries after `prefix` ("/country/RS" → "RS"), if any."""
    if not pathname or not pathname.startswith(prefix):
        return None
    return pathname[len(prefix) :].strip("/") or None


def _query(search: str | None) -> dict:
    query = parse_qs((search or "").lstrip("?"), keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in query.items()}


def _short(text: str) -> str:
    text = str(text)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
