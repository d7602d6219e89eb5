"""Finding a country outside an account's scope in what the server answered."""

from __future__ import annotations


def walk(payload):
    """Every dict and string inside a JSON payload, depth first."""
    stack = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            yield item


def component_values(payload) -> dict:
    """{(id, property): value} of every Dash component with a text id."""
    values = {}
    for item in walk(payload):
        if isinstance(item, dict) and isinstance(item.get("props"), dict):
            props = item["props"]
            if isinstance(props.get("id"), str):
                for name, value in props.items():
                    values[(props["id"], name)] = value
    return values


def hrefs(payload) -> set[str]:
    return {
        item["props"]["href"]
        for item in walk(payload)
        if isinstance(item, dict)
        and isinstance(item.get("props"), dict)
        and isinstance(item["props"].get("href"), str)
    }


def markers_outside(programme, visible) -> dict:
    """How a country outside `visible` would show: code, map id, name."""
    hidden = [c for code, c in programme.countries.items() if code not in visible]
    return {
        "exact": {c.code for c in hidden} | {c.map_id for c in hidden},
        "names": {c.name.rstrip("*") for c in hidden},
    }


def leaked(payload, markers) -> list[str]:
    """Strings of the payload that name a country outside the scope."""
    found = []
    for item in walk(payload):
        if not isinstance(item, str):
            continue
        if item in markers["exact"] or any(n in item for n in markers["names"]):
            found.append(item[:120])
    return found
