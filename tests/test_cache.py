"""The cache of warehouse reads: keyed by the snapshot, shared by every account, scope
applied after it; in-process by default, Redis when configured."""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask

from dashboard import cache
from dashboard.data import Warehouse
from data_loaders import warehouse as tables
from data_loaders.contract import ALL
from tests.conftest import require_server
from tests.dash_calls import body, response_props

REDIS = "redis://127.0.0.1:6379/15"


def tiny_warehouse(programme) -> Warehouse:
    engine = tables.warehouse_engine("sqlite://")
    rows = [
        {
            "country": country,
            "site": ALL,
            "period": "ALL",
            "indicator": "children_reached",
            "sex": ALL,
            "age_band": ALL,
            "service": ALL,
            "value": value,
            "status": "published" if value is not None else "suppressed",
        }
        for country, value in (("RS", 400), ("ME", None), ("BA", 250))
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(tables.cells), rows)
    return Warehouse(engine, programme)


@contextmanager
def counting(engine: sa.Engine):
    """Count the statements that read cells while the block runs."""
    seen = []

    def listen(_conn, _cursor, statement, *_args):
        if "FROM cells" in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def with_cache(programme, url="", prefix=""):
    store = tiny_warehouse(programme)
    server = Flask(__name__)
    cache.install(server, store, url, prefix=prefix)
    return store, server


def test_a_read_is_cached_whole_and_scope_cuts_it_after(programme):
    store, server = with_cache(programme)
    stored = []
    backend_set = store.cache.cache.set
    store.cache.cache.set = lambda key, value, **kw: (
        stored.append(value),
        backend_set(key, value, **kw),
    )[1]
    with counting(store.engine) as reads:
        with server.test_request_context():
            serbia = store.cells(["children_reached"], ["RS"], periods=["ALL"])
        with server.test_request_context():
            donor = store.cells(["children_reached"], ["BA", "ME"], periods=["ALL"])
    assert len(reads) == 1  # the second account got the first one's read
    assert list(serbia["country"]) == ["RS"]
    assert sorted(donor["country"]) == ["BA", "ME"]
    assert donor.set_index("country").loc["ME", "status"] == "suppressed"
    # what the cache holds is the unscoped read: every country, no one's scope
    assert len(stored) == 1
    assert sorted(stored[0]["country"]) == ["BA", "ME", "RS"]


def test_the_snapshot_version_changes_with_a_sync_a_failure_or_a_target(programme):
    store = tiny_warehouse(programme)
    versions = [store.snapshot_version()]
    run = tables.start_run(store.engine, "RS", "pull", synthetic=True)
    versions.append(store.snapshot_version())
    tables.fail_run(store.engine, run, "timed out")
    versions.append(store.snapshot_version())
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(tables.targets).values(
                country="RS",
                indicator="children_reached",
                year="2010",
                value=400,
                updated_at=dt.datetime(2026, 1, 1),
            )
        )
    versions.append(store.snapshot_version())
    assert len(set(versions)) == len(versions), versions


def test_a_new_snapshot_is_read_again_not_served_stale(programme):
    store, server = with_cache(programme)
    with server.test_request_context():
        before = store.cells(["children_reached"], ["RS"], periods=["ALL"])
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(tables.cells)
            .where(tables.cells.c.country == "RS")
            .values(value=405)
        )
    run = tables.start_run(store.engine, "RS", "pull", synthetic=True)
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(tables.sync_runs)
            .where(tables.sync_runs.c.id == run)
            .values(status="ok", finished_at=tables.now())
        )
    with server.test_request_context():
        after = store.cells(["children_reached"], ["RS"], periods=["ALL"])
    assert before["value"].iloc[0] == 400 and after["value"].iloc[0] == 405


@pytest.mark.servers
def test_the_redis_cache_is_shared_by_two_dashboards(programme):
    require_server("redis")
    prefix = f"ctrp-test-{uuid.uuid4().hex[:8]}:"
    first, first_server = with_cache(programme, REDIS, prefix)
    second, second_server = with_cache(programme, REDIS, prefix)
    try:
        with first_server.test_request_context():
            first.cells(["children_reached"], ["RS"], periods=["ALL"])
        with counting(second.engine) as reads, second_server.test_request_context():
            shared = second.cells(["children_reached"], ["ME"], periods=["ALL"])
        assert reads == []  # served from Redis, written by the other worker
        assert list(shared["country"]) == ["ME"]
        import redis

        keys = redis.Redis.from_url(REDIS).keys(f"{prefix}*")
        assert keys and all(k.decode().startswith(f"{prefix}cells:") for k in keys)
    finally:
        first.cache.clear()


def test_a_redis_outage_falls_back_to_the_warehouse(programme, caplog):
    store, server = with_cache(programme, "redis://127.0.0.1:9/0")  # nothing there
    with server.test_request_context():
        frame = store.cells(["children_reached"], ["RS"], periods=["ALL"])
    assert list(frame["value"]) == [400]
    assert "reading the warehouse directly" in caplog.text


def test_the_warehouse_id_hides_passwords_and_resolves_sqlite_paths(tmp_path):
    one = cache.warehouse_id(sa.make_url("postgresql://u:secret@h/db"))
    two = cache.warehouse_id(sa.make_url("postgresql://u:other@h/db"))
    assert one == two
    relative = cache.warehouse_id(sa.make_url("sqlite:///var/warehouse.sqlite"))
    elsewhere = cache.warehouse_id(sa.make_url(f"sqlite:///{tmp_path}/w.sqlite"))
    assert relative != elsewhere


def test_two_accounts_share_the_cache_and_see_only_their_countries(dash_app, login_as):
    """Through the app: a donor's compare callback after an admin's reads nothing
    new, and holds only the donor's countries."""
    admin, donor = login_as("admin"), login_as("donor")
    deps = admin.get("/_dash-dependencies").json
    values = {
        "compare-indicator-picker": "attendance_visits",
        "compare-period-picker": "2010",
        "compare-countries-checklist": ["BA", "RS", "ME", "XK", "AL", "RO", "BG"],
        "compare-breakdown-radio": "years",
    }
    request = body(deps, "compare-trend-graph.figure", values)
    store = dash_app.server.extensions["ctrp_warehouse"]
    assert admin.post("/_dash-update-component", json=request).status_code == 200
    with counting(store.engine) as reads:
        answer = donor.post("/_dash-update-component", json=request)
    assert answer.status_code == 200
    assert reads == []
    figure = response_props(answer.json)["compare-trend-graph.figure"]
    names = {trace["name"] for trace in figure["data"] if trace.get("showlegend", 1)}
    assert names == {"Bosnia and Herzegovina", "Montenegro"}


def test_a_remembered_answer_is_kept_per_scope(dash_app, monkeypatch):
    """The page-answer cache keys by the visible countries: two scopes, two
    computations; the same scope again, none."""
    from dashboard import panels, scope

    computed = []

    def answer():
        computed.append(tuple(scope.visible_countries()))
        return computed[-1]

    state = {"view": f"test {uuid.uuid4()}"}
    for countries in (["BA", "ME"], ["RS"], ["BA", "ME"]):
        monkeypatch.setattr(scope, "visible_countries", lambda c=countries: list(c))
        with dash_app.server.test_request_context():
            assert panels.remembered("test", state, answer) == tuple(countries)
    assert computed == [("BA", "ME"), ("RS",)]
