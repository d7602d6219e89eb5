"""The production command of the README (gunicorn, several workers, a PostgreSQL
warehouse, the Redis cache) serves the same figures as the development server."""

from __future__ import annotations

import uuid

import pytest
import redis
import sqlalchemy as sa

from data_loaders import warehouse as tables
from tests.conftest import ACCOUNTS, PASSWORD, require_server
from tests.dash_calls import body, response_props
from tests.served import Client, gunicorn
from tests.servers import server_database
from tests.test_pages import PAGES

pytestmark = [pytest.mark.servers, pytest.mark.slow]
REDIS = "redis://127.0.0.1:6379/14"
COPIED = (
    tables.cells,
    tables.sites,
    tables.sync_runs,
    tables.quality,
    tables.targets,
    tables.accounts,
)
# The age of the last sync is measured at the moment of asking: not compared.
CLOCK_OUTPUTS = ("status-age", "status-syncs")


@pytest.fixture(scope="module")
def pg_copy(synced_warehouse, dash_app):
    """A PostgreSQL warehouse holding exactly what the test warehouse holds, test
    accounts included (dash_app made them)."""
    with server_database("postgresql") as url:
        source = sa.create_engine(synced_warehouse)
        target = tables.warehouse_engine(url)
        with source.connect() as reading, target.begin() as writing:
            for table in COPIED:
                rows = [dict(r._mapping) for r in reading.execute(sa.select(table))]
                if rows:
                    writing.execute(sa.insert(table), rows)
        source.dispose()
        target.dispose()
        yield url


@pytest.fixture(scope="module")
def production(pg_copy):
    """gunicorn with 3 workers on the PostgreSQL copy, the cache in Redis."""
    require_server("redis")
    environment = {
        "DASHBOARD_WAREHOUSE_URL": pg_copy,
        "DASHBOARD_CACHE_URL": REDIS,
        "DASHBOARD_SECRET_KEY": f"test {uuid.uuid4()}",
    }
    with gunicorn(environment, workers=3) as url:
        yield url
    cache = redis.Redis.from_url(REDIS)
    for key in cache.scan_iter("ctrp:*"):
        cache.delete(key)


@pytest.mark.parametrize("path", list(PAGES))
def test_gunicorn_on_postgresql_and_redis_serves_what_the_dev_server_does(
    production, client, path
):
    output, values = PAGES[path]
    remote = Client(production, ACCOUNTS["admin"][0], PASSWORD)
    deps = client.get("/_dash-dependencies").json
    local = client.post("/_dash-update-component", json=body(deps, output, values))
    assert local.status_code == 200
    answers = [remote.call(output, values) for _ in range(3)]  # several workers
    for answer in answers:
        assert answer.status_code == 200, answer.text[:300]
        assert answer.headers["Content-Encoding"] == "br"
    expected = _comparable(response_props(local.json))
    for answer in answers:
        assert _comparable(response_props(answer.json())) == expected
    figures = [v for k, v in expected.items() if k.endswith("-graph.figure")]
    assert figures and all(f["data"] for f in figures)  # something was drawn


def _comparable(props: dict) -> dict:
    return {
        key: value for key, value in props.items() if not key.startswith(CLOCK_OUTPUTS)
    }


def test_the_workers_share_one_cache_in_redis(production):
    remote = Client(production, ACCOUNTS["admin"][0], PASSWORD)
    output, values = PAGES["/objectives"]
    assert remote.call(output, values).status_code == 200
    keys = [k.decode() for k in redis.Redis.from_url(REDIS).scan_iter("ctrp:*")]
    assert any(":cells:" in key for key in keys), keys
    assert any(":answer:objectives:" in key for key in keys), keys


def test_a_donor_served_by_gunicorn_sees_only_its_countries(production):
    donor = Client(production, ACCOUNTS["donor"][0], PASSWORD)
    output, values = PAGES["/compare"]
    figure = response_props(donor.call(output, values).json())[output]
    names = {trace["name"] for trace in figure["data"] if trace.get("showlegend", 1)}
    assert names == {"Bosnia and Herzegovina", "Montenegro"}
