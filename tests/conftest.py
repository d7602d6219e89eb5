"""Shared fixtures: real demo databases, a synced warehouse, the app, a live server,
headless Chromium, and one signed-in account per role.

Everything but /login, /logout, /health and the login stylesheet needs a session:
`client` is signed in as admin, `login_as(role)` gives a client of another role,
`anonymous` has no session, and `browser_login(page, live_url, role)` signs a
Playwright page in through the login form.

A test that needs something the machine lacks (a server, Chromium) is skipped with the
reason, except when CTRP_REQUIRE_ALL=1 (set by .ci/run): then it fails.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
SERVERS = {"postgresql": 5432, "mariadb": 3306, "redis": 6379}
TEST_SCALE = 0.25  # a quarter of the default demo volume: fast, still suppresses
# One account per role (CONTRACT §10), made by the `dash_app` fixture.
ACCOUNTS = {
    "admin": ("test-admin", ()),
    "regional_manager": ("test-manager", ()),
    "country_lead": ("test-lead", ("RS",)),
    "donor": ("test-donor", ("BA", "ME")),
}
PASSWORD = "correct horse battery staple"  # every test account's
ORIGIN = "http://localhost"  # what the test client's requests come from


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


def wait_for_js(page, expression: str, timeout: float = 15_000) -> None:
    """Poll a JavaScript expression until it is truthy.

    Use this, not `page.wait_for_function`: Playwright evaluates that predicate with
    `eval`, which the dashboard's Content-Security-Policy forbids (as it should).
    """
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout:.0f} ms: {expression}")
        page.wait_for_timeout(100)


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
def dash_app(synced_warehouse, programme):
    """The dashboard on the synced demo warehouse, with one account per role."""
    from app import create_app
    from dashboard import users
    from data_loaders.warehouse import warehouse_engine

    engine = warehouse_engine(synced_warehouse)
    for role, (name, countries) in ACCOUNTS.items():
        if users.find(engine, name) is None:
            users.create(engine, name, PASSWORD, role, countries, programme.countries)
    engine.dispose()
    app = create_app({"DASHBOARD_WAREHOUSE_URL": synced_warehouse})
    app.server.test_client_class = SameSiteClient
    return app


class SameSiteClient(FlaskClient):
    """A test client that behaves like the dashboard's own pages in a browser: it
    sends an Origin of this site and echoes the `_csrf_token` cookie as the
    X-CSRFToken header, as Dash's renderer does."""

    def open(self, *args, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Origin", ORIGIN)
        cookie = self.get_cookie("_csrf_token")
        if cookie is not None:
            headers.setdefault("X-CSRFToken", cookie.value)
        return super().open(*args, headers=headers, **kwargs)


def sign_in(client, role: str, address: str = "127.0.0.1"):
    """Sign `client` in through the login form as the test account of `role`."""
    name = ACCOUNTS[role][0]
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token},
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": address},
    )
    assert answer.status_code == 302, (answer.status_code, answer.text)
    return client


@pytest.fixture
def login_as(dash_app):
    """`login_as(role)`: a new test client signed in as that role's test account."""
    return lambda role: sign_in(dash_app.server.test_client(), role)


@pytest.fixture
def client(login_as):
    """A Flask test client of the dashboard, signed in as admin."""
    return login_as("admin")


@pytest.fixture
def anonymous(dash_app):
    """A test client with no session and no help: no Origin, no CSRF header."""
    return FlaskClient(dash_app.server, dash_app.server.response_class)


def browser_login(page, base_url: str, role: str = "admin") -> None:
    """Sign a Playwright page in through the login form; it lands on the overview."""
    page.goto(base_url + "/login", wait_until="domcontentloaded")
    page.fill("#login-username", ACCOUNTS[role][0])
    page.fill("#login-password", PASSWORD)
    with page.expect_navigation():
        page.click("#login-submit")
    assert not page.url.split("?")[0].endswith("/login"), page.url
    # let the landing page finish (favicon, bundles) so a goto cannot abort it
    page.wait_for_load_state("networkidle")


def bare_app(warehouse_url: str, overrides: dict | None = None):
    """A Dash app with no pages behind the same `security.install`: for tests that
    need an app of their own (the pages' modules refuse to be imported twice)."""
    import dash
    from dash import html

    from dashboard import data, security
    from data_loaders.programme import load_programme
    from data_loaders.warehouse import warehouse_engine

    app = dash.Dash(__name__, use_pages=False, serve_locally=True)
    app.layout = html.Div("bare", id="bare")
    engine = warehouse_engine(warehouse_url)
    app.server.extensions[data.EXTENSION] = data.Warehouse(engine, load_programme())
    app._setup_server()
    security.install(
        app, {"DASHBOARD_WAREHOUSE_URL": warehouse_url, **(overrides or {})}
    )
    return app


@pytest.fixture(scope="session")
def live_url(dash_app) -> Iterator[str]:
    """The dashboard served on 127.0.0.1 for browser tests."""
    with serve_wsgi(dash_app.server) as url:
        yield url
