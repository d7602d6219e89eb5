"""Shared fixtures: real demo databases, a synced warehouse, the app, a live server,
headless Chromium.

A test that needs something the machine lacks (a server, Chromium) is skipped with the
reason, except when CTRP_REQUIRE_ALL=1 (set by .ci/run): then it fails.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
SERVERS = {"postgresql": 5432, "mariadb": 3306, "redis": 6379}
TEST_SCALE = 0.25  # a quarter of the default demo volume: fast, still suppresses


def require(available: bool, reason: str) -> None:
    """Skip when something is missing, or fail when CI demands everything."""
    if available:
        return
    if os.environ.get("CTRP_REQUIRE_ALL") == "1":
        pytest.fail(reason + " (CTRP_REQUIRE_ALL=1 forbids skipping)")
    pytest.skip(reason)


def require_server(kind: str) -> None:
    port = SERVERS[kind]
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        reachable = True
    except OSError:
        reachable = False
    require(reachable, f"{kind} is not listening on 127.0.0.1:{port}")


def require_chromium() -> str:
    """Path of Chromium; Python playwright drives it (no browser download needed)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, "Python package playwright is not installed")
    require(
        os.path.exists(CHROMIUM),
        f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)",
    )
    return CHROMIUM


@contextmanager
def serve_wsgi(wsgi_app) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (free port) in a thread; yields its base URL."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # no access log in test output
            pass

    server = make_server(
        "127.0.0.1", 0, wsgi_app, threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def chromium_page(viewport=(1280, 900)):
    """A headless Chromium page with its traffic and console recorded in `page.log`."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(
                viewport={"width": viewport[0], "height": viewport[1]}
            )
            page.log = record_traffic(page)
            yield page
        finally:
            browser.close()


def record_traffic(page) -> dict:
    """Every request URL, response status, failed request, console and page error."""
    log = {
        "requests": [],
        "status": {},
        "console_errors": [],
        "page_errors": [],
        "failed": [],
    }
    page.on("request", lambda req: log["requests"].append(req.url))
    page.on("response", lambda resp: log["status"].__setitem__(resp.url, resp.status))
    page.on(
        "requestfailed", lambda req: log["failed"].append(f"{req.url} {req.failure}")
    )
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and log["console_errors"].append(f"{msg.text} @ {msg.location}")
        ),
    )
    page.on("pageerror", lambda exc: log["page_errors"].append(str(exc)))
    return log


def assert_offline_and_clean(page) -> None:
    """Nothing was asked of another host, nothing failed, the console stayed clean."""
    outside = [u for u in page.log["requests"] if not u.startswith("http://127.0.0.1:")]
    assert outside == [], outside
    assert page.log["failed"] == [], page.log["failed"]
    assert page.log["console_errors"] == [], page.log["console_errors"]
    assert page.log["page_errors"] == [], page.log["page_errors"]


@pytest.fixture(scope="session")
def programme():
    """The default CTRP III programme."""
    from data_loaders.programme import load_programme

    return load_programme()


@pytest.fixture(scope="session")
def demo_sources(tmp_path_factory, programme) -> Path:
    """Seven small demo country databases and their sources file."""
    from data_loaders.__main__ import main

    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--scale", str(TEST_SCALE)]) == 0
    return out / "sources.toml"


@pytest.fixture(scope="session")
def synced_warehouse(tmp_path_factory, demo_sources) -> str:
    """A SQLite warehouse holding a sync of the demo databases (read-only for tests)."""
    from data_loaders.__main__ import main

    url = f"sqlite:///{tmp_path_factory.mktemp('warehouse') / 'warehouse.sqlite'}"
    assert main(["sync", "--sources", str(demo_sources), "--warehouse", url]) == 0
    return url


@pytest.fixture(scope="session")
def dash_app(synced_warehouse):
    """The dashboard on the synced demo warehouse."""
    from app import create_app

    return create_app({"DASHBOARD_WAREHOUSE_URL": synced_warehouse})


@pytest.fixture
def client(dash_app):
    """A Flask test client of the dashboard."""
    return dash_app.server.test_client()


@pytest.fixture(scope="session")
def live_url(dash_app) -> Iterator[str]:
    """The dashboard served on 127.0.0.1 for browser tests."""
    with serve_wsgi(dash_app.server) as url:
        yield url
