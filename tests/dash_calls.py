"""Call a Dash callback over HTTP the way the renderer does, for tests and benchmarks.

`body(deps, "overview-map-graph.figure", {"overview-period-picker": "2010"})` builds
the JSON of a `/_dash-update-component` request for the callback that has that
output; inputs not given are sent as None.
"""

from __future__ import annotations

import json


def parse_outputs(output: str) -> list[dict]:
    """'..a.figure...b.children..' → [{'id': 'a', 'property': 'figure'}, …]."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    outputs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        if component.startswith("{"):
            component = json.loads(component)
        outputs.append({"id": component, "property": prop})
    return outputs


def find(deps: list[dict], output: str) -> dict:
    """The callback whose outputs include `output` ("component.property")."""
    for spec in deps:
        if output in spec["output"].split("..."):
            return spec
        if any(
            f"{o['id']}.{o['property']}" == output
            for o in parse_outputs(spec["output"])
        ):
            return spec
    raise KeyError(output)


def body(deps: list[dict], output: str, values: dict, state: dict | None = None):
    """The request body that runs the callback with `output`, with these inputs."""
    spec = find(deps, output)
    outputs = parse_outputs(spec["output"])
    multi = spec["output"].startswith("..")
    inputs = [
        {"id": i["id"], "property": i["property"], "value": values.get(i["id"])}
        for i in spec["inputs"]
    ]
    states = [
        {
            "id": s["id"],
            "property": s["property"],
            "value": (state or {}).get(s["id"]),
        }
        for s in spec["state"]
    ]
    return {
        "output": spec["output"],
        "outputs": outputs if multi else outputs[0],
        "inputs": inputs,
        "state": states,
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"]][:1],
    }


def response_props(answer: dict) -> dict:
    """{'component.property': value} of a callback's JSON answer."""
    flat = {}
    for component, props in answer.get("response", {}).items():
        for prop, value in props.items():
            flat[f"{component}.{prop}"] = value
    return flat
