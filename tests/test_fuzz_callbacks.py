"""Fuzzing the callback endpoint: 10,000+ malformed or hostile requests (wrong ids,
types, sizes, injection strings, other accounts' countries), from every role and from
nobody, must cause no server error and no figure outside the caller's scope.

A seeded generator (the same requests on every run) rather than hypothesis: the
point is volume and breadth across every callback, with counts to report.
"""

from __future__ import annotations

import collections
import json
import random
import time

import pytest
import sqlalchemy as sa

from data_loaders.warehouse import sync_runs
from tests.conftest import ACCOUNTS
from tests.dash_requests import callback_body, server_callbacks
from tests.leaks import leaked, markers_outside

REQUESTS = 10_500
SEED = 20091
URL = "/_dash-update-component"
SEES = {
    "admin": None,  # every country
    "regional_manager": None,
    "country_lead": None,
    "donor": {"BA", "ME"},
}
HOSTILE_TEXT = [
    "' OR '1'='1",
    "RS'; DROP TABLE cells; --",
    '"; DELETE FROM audit_log; --',
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "../../../../etc/passwd",
    "%s%s%s%n",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "\x00",
    "RS\x00",
    "ＲＳ",
    "rs",
    " RS ",
    "Ω≈ç√∫",
    "🙂" * 50,
    "ALL",
    "2010Q9",
    "__proto__",
    "constructor",
    "NaN",
    "-1",
    "1e309",
]


def hostile_value(rng: random.Random, countries: list[str]):
    kind = rng.randrange(12)
    if kind == 0:
        return rng.choice(countries)
    if kind == 1:
        return rng.choice(HOSTILE_TEXT)
    if kind == 2:
        return rng.choice([None, True, False, 0, -1, 2**63, 1.5, float("1e308")])
    if kind == 3:
        return [rng.choice(countries) for _ in range(rng.randrange(0, 8))]
    if kind == 4:
        return {"country": rng.choice(countries), "__proto__": {"admin": True}}
    if kind == 5:
        return "x" * rng.choice([1_000, 50_000, 200_000])
    if kind == 6:
        return list(range(rng.choice([100, 10_000])))
    if kind == 7:
        nested = rng.choice(countries)
        for _ in range(rng.randrange(1, 60)):
            nested = [nested]
        return nested
    if kind == 8:
        return rng.choice(["children_reached", "referrals_out", "media_pieces"])
    if kind == 9:
        return rng.choice(["ALL", "2010", "2010Q3", "2011Q4", "2008"])
    if kind == 10:
        return rng.choice(["/", "/audit", "/country/XK", "/compare", "//x", "/%00"])
    return "".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(1, 40)))


def mutate(rng, body: dict, countries, keys) -> tuple[str, object]:
    """One malformed or hostile variant of a well-formed body, and its category."""
    body = json.loads(json.dumps(body))
    kind = rng.randrange(10)
    if kind <= 3:  # hostile input values in a well-formed request
        for item in body["inputs"]:
            if isinstance(item, dict) and rng.random() < 0.8:
                item["value"] = hostile_value(rng, countries)
        return "hostile values", body
    if kind == 4:  # wrong ids and properties
        item = rng.choice([i for i in body["inputs"] if isinstance(i, dict)] or [{}])
        choice = rng.randrange(4)
        if choice == 0:
            item["id"] = rng.choice(HOSTILE_TEXT)
        elif choice == 1:
            item["property"] = rng.choice(["value", "figure", "children", "data"])
        elif choice == 2:
            item["id"] = {"type": "x", "index": ["ALL"]}
        else:
            body["output"] = rng.choice([*keys, "nope.children", "..x.y.."]) + "x"
        return "wrong ids", body
    if kind == 5:  # wrong shapes of the envelope
        field = rng.choice(["inputs", "state", "outputs", "changedPropIds", "output"])
        body[field] = rng.choice(
            [None, "x", 7, {}, [], [None], [[]], [{"id": 1}], {"id": "x"}]
        )
        return "wrong shapes", body
    if kind == 6:  # missing or extra parts
        if rng.random() < 0.5 and body:
            body.pop(rng.choice(list(body)))
        else:
            body["inputs"] = body["inputs"] + [{"id": "x", "property": "value"}]
        return "missing or extra parts", body
    if kind == 7:  # not a JSON object at all
        return "not an object", rng.choice(
            [[], "x", 1, None, [body], {"output": body}, "{" * 5000]
        )
    if kind == 8:  # big sizes
        body["changedPropIds"] = ["x.value"] * rng.choice([10, 5_000])
        for item in body["inputs"]:
            if isinstance(item, dict):
                item["value"] = "y" * rng.choice([10_000, 200_000])
        return "sizes", body
    body["inputs"] = [  # duplicated inputs, pattern items where none is allowed
        [dict(i, value=hostile_value(rng, countries))] * 3 if isinstance(i, dict) else i
        for i in body["inputs"]
    ]
    return "pattern abuse", body


def sync_runs_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(sync_runs)
        ).scalar()


@pytest.mark.slow
def test_ten_thousand_hostile_callback_requests(
    dash_app, login_as, anonymous, programme, capsys, tmp_path, monkeypatch
):
    # Admins and managers may start a sync: here it answers "no sources file"
    # rather than syncing into the shared warehouse on every hostile click.
    monkeypatch.setenv("DASHBOARD_SOURCES", str(tmp_path / "no-sources.toml"))
    engine = dash_app.server.extensions["ctrp_warehouse"].engine
    runs_before = sync_runs_count(engine)
    rng = random.Random(SEED)
    countries = list(programme.countries)
    keys = server_callbacks(dash_app)
    clients = {role: login_as(role) for role in ACCOUNTS}
    clients[None] = anonymous
    markers = {
        role: markers_outside(programme, sees if sees else set(countries))
        for role, sees in SEES.items()
    }
    by_category = collections.Counter()
    by_status = collections.Counter()
    server_errors, leaks = [], []
    seconds = collections.Counter()
    for number in range(REQUESTS):
        role = rng.choice([*ACCOUNTS, None])
        key = rng.choice(keys)
        base = callback_body(dash_app, key)
        category, body = mutate(rng, base, countries, keys)
        raw = rng.random() < 0.03  # sometimes not even JSON
        kwargs = (
            {"data": json.dumps(body)[:-1] + "\x00", "content_type": "application/json"}
            if raw
            else {"json": body}
        )
        started = time.perf_counter()
        answer = clients[role].post(URL, **kwargs)
        category = "not JSON" if raw else category
        seconds[category] += time.perf_counter() - started
        by_category[category] += 1
        by_status[answer.status_code] += 1
        if answer.status_code >= 500:
            server_errors.append((number, role, category, key, answer.status_code))
        if answer.status_code == 200 and role is not None:
            found = leaked(answer.get_json(silent=True), markers[role])
            if found:
                leaks.append((number, role, key, found[:3]))
    report = (
        f"fuzzed {REQUESTS} callback requests (seed {SEED}), "
        f"{len(keys)} callbacks\n"
        + "".join(
            f"  {c:24} {n:6}  {seconds[c]:6.1f} s\n"
            for c, n in sorted(by_category.items())
        )
        + "  status: "
        + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items()))
        + f"\n  server errors: {len(server_errors)}; out-of-scope answers: {len(leaks)}"
    )
    with capsys.disabled():  # the counts belong in every test log, CI's too
        print("\n" + report)
    assert sum(by_category.values()) >= 10_000
    assert server_errors == [], server_errors[:5]
    assert leaks == [], leaks[:5]
    assert sync_runs_count(engine) == runs_before  # no sync started, nothing stored
    assert by_status[401] > 0 and by_status[400] > 0 and by_status[200] > 0
