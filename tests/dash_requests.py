"""Hand-made Dash callback requests, as a forger (or the renderer) would send them."""

from __future__ import annotations

import json


def _parsed(component_id):
    """callback_map keeps a pattern id as JSON text; Output objects keep a dict."""
    if isinstance(component_id, str) and component_id.startswith("{"):
        return json.loads(component_id)
    return component_id


def _concrete(component_id, index=0):
    """A declared id with its MATCH/ALLSMALLER wildcards given a concrete value."""
    component_id = _parsed(component_id)
    if isinstance(component_id, dict):
        return {
            key: (
                index if hasattr(value, "to_json") or isinstance(value, list) else value
            )
            for key, value in component_id.items()
        }
    return component_id


def _multi(component_id) -> bool:
    component_id = _parsed(component_id)
    if not isinstance(component_id, dict):
        return False
    return any(
        (json.loads(value.to_json()) if hasattr(value, "to_json") else value)
        in (["ALL"], ["ALLSMALLER"])
        for value in component_id.values()
    )


def _prop_id(component_id, prop) -> str:
    component_id = _concrete(component_id)
    if isinstance(component_id, dict):
        return (
            json.dumps(component_id, sort_keys=True, separators=(",", ":")) + "." + prop
        )
    return f"{component_id}.{prop}"


def server_callbacks(app) -> list[str]:
    """Keys of every callback the server runs (clientside ones run in the browser)."""
    return [key for key, spec in app.callback_map.items() if "callback" in spec]


def callback_body(app, key: str, values=(), states=()) -> dict:
    """The body the renderer would POST to run callback `key` with these inputs."""
    spec = app.callback_map[key]

    def entries(declared, given):
        items = []
        for position, item in enumerate(declared):
            value = given[position] if position < len(given) else None
            if value is None and item["property"] == "id":  # as the renderer sends
                value = _concrete(item["id"])
            if _multi(item["id"]):
                items.append([])
            else:
                items.append(
                    {
                        "id": _concrete(item["id"]),
                        "property": item["property"],
                        "value": value,
                    }
                )
        return items

    declared_outputs = spec["output"]
    multi = isinstance(declared_outputs, list | tuple)
    outputs = [
        []
        if _multi(out.component_id)
        else {"id": _concrete(out.component_id), "property": out.component_property}
        for out in (declared_outputs if multi else [declared_outputs])
    ]
    inputs = entries(spec["inputs"], list(values))
    return {
        "output": key,
        "outputs": outputs if multi else outputs[0],
        "inputs": inputs,
        "state": entries(spec["state"], list(states)),
        "changedPropIds": [
            _prop_id(item["id"], item["property"])
            for item in inputs[:1]
            if isinstance(item, dict)
        ],
    }


def callback_by_output(app, component_id: str) -> str:
    """The key of the server callback that writes to `component_id`."""
    for key in server_callbacks(app):
        if f"{component_id}." in key:
            return key
    raise KeyError(component_id)
