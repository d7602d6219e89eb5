"""Sign-in, sessions, CSRF, throttling and the security headers (issue 6, §4)."""

from __future__ import annotations

import re
import time

import pytest
from flask.testing import FlaskClient

from dashboard import auth, users
from tests.conftest import ACCOUNTS, ORIGIN, PASSWORD, bare_app, sign_in
from tests.dash_requests import callback_body, callback_by_output


def form_token(client, address="127.0.0.1") -> str:
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def attempt(client, name, password, address, **extra):
    return client.post(
        "/login",
        data={
            "username": name,
            "password": password,
            "csrf_token": form_token(client, address),
            **extra,
        },
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": address},
    )


def engine_of(dash_app):
    return dash_app.server.extensions["ctrp_warehouse"].engine


def overview_body(dash_app):
    key = callback_by_output(dash_app, "overview-map-graph")
    return callback_body(dash_app, key, ["children_reached", "ALL"])


def test_cookies_are_httponly_and_samesite(dash_app):
    client = dash_app.server.test_client()
    sign_in(client, "donor")
    session = client.get_cookie("ctrp_session")
    assert session.http_only and session.same_site == "Lax" and not session.secure
    csrf = client.get_cookie("_csrf_token")
    assert csrf.same_site == "Strict" and not csrf.http_only  # the renderer reads it


def test_over_https_cookies_are_secure_and_hsts_is_sent(dash_app, synced_warehouse):
    app = bare_app(synced_warehouse, {"DASHBOARD_HTTPS": "1"})
    client = app.server.test_client()
    page = client.get("/login", base_url="https://localhost")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert "Strict-Transport-Security" in page.headers
    answer = client.post(
        "/login",
        base_url="https://localhost",
        data={"username": "test-admin", "password": PASSWORD, "csrf_token": token},
        headers={"Origin": "https://localhost"},
    )
    assert answer.status_code == 302
    assert client.get_cookie("ctrp_session", domain="localhost").secure
    assert client.get_cookie("_csrf_token", domain="localhost").secure


@pytest.mark.parametrize("path", ["/login", "/", "/_dash-layout", "/nowhere"])
def test_security_headers_on_every_answer(dash_app, client, anonymous, path):
    for who in (client, anonymous):
        headers = who.get(path).headers
        csp = headers["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]+)", csp).group(1).split()
        assert script_src == ["'self'", *dict.fromkeys(dash_app.csp_hashes())]
        assert "unsafe-inline" not in " ".join(script_src)
        assert "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in headers  # plain http here
    assert client.get("/_dash-layout").headers["Cache-Control"] == "no-store"


def test_debug_and_dev_tools_are_off(dash_app):
    assert not dash_app.server.debug
    assert not dash_app._dev_tools.ui and not dash_app._dev_tools.hot_reload


def test_wrong_password_and_unknown_account_read_the_same(dash_app):
    client = dash_app.server.test_client()
    wrong = attempt(client, "test-admin", "not the password", "127.0.1.1")
    unknown = attempt(client, "nobody-at-all", "not the password", "127.0.1.2")
    assert wrong.status_code == unknown.status_code == 401
    assert auth.FAILED in wrong.text and auth.FAILED in unknown.text
    assert wrong.text == unknown.text.replace("nobody-at-all", "test-admin")
    assert client.get("/_dash-layout").status_code == 401


def test_the_sixth_attempt_from_one_address_is_throttled(dash_app):
    client = dash_app.server.test_client()
    for number in range(5):
        answer = attempt(client, f"guess-{number}", "wrong password", "127.0.2.1")
        assert answer.status_code == 401
    sixth = attempt(client, "test-admin", PASSWORD, "127.0.2.1")  # even the right one
    assert sixth.status_code == 429
    assert auth.FAILED in sixth.text
    assert client.get("/_dash-layout").status_code == 401
    # another address is not held back
    assert attempt(client, "test-admin", PASSWORD, "127.0.2.2").status_code == 302


def test_the_sixth_attempt_on_one_account_is_throttled(dash_app, programme):
    engine = engine_of(dash_app)
    users.create(
        engine, "throttled-one", PASSWORD, "donor", ["AL"], programme.countries
    )
    client = dash_app.server.test_client()
    for number in range(5):
        answer = attempt(client, "throttled-one", "wrong", f"127.0.3.{number + 1}")
        assert answer.status_code == 401
    sixth = attempt(client, "Throttled-One", PASSWORD, "127.0.3.9")
    assert sixth.status_code == 429
    assert auth.FAILED in sixth.text


def test_throttling_looks_back_one_minute_only(dash_app, monkeypatch):
    client = dash_app.server.test_client()
    for number in range(5):
        attempt(client, f"old-guess-{number}", "wrong password", "127.0.4.1")
    import datetime as dt

    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return later

    monkeypatch.setattr(auth.dt, "datetime", Clock)
    assert attempt(client, "test-admin", PASSWORD, "127.0.4.1").status_code == 302


def test_login_and_callbacks_need_the_csrf_token_and_this_origin(dash_app):
    client = FlaskClient(dash_app.server, dash_app.server.response_class)  # no help
    token = form_token(client)
    data = {"username": "test-admin", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 403  # no Origin
    evil = {"Origin": "http://evil.example"}
    assert client.post("/login", data=data, headers=evil).status_code == 403
    forged = {**data, "csrf_token": "x" * 43}
    answer = client.post("/login", data=forged, headers={"Origin": ORIGIN})
    assert answer.status_code == 403
    referer = {"Referer": ORIGIN + "/login"}  # no Origin, but a Referer of this site
    assert client.post("/login", data=data, headers=referer).status_code == 302
    body = overview_body(dash_app)
    token = client.get_cookie("_csrf_token").value
    assert token != data["csrf_token"]  # a new token after sign-in
    ok = {"Origin": ORIGIN, "X-CSRFToken": token}
    answer = client.post("/_dash-update-component", json=body, headers=ok)
    assert answer.status_code == 200
    for headers in (
        {"Origin": ORIGIN},
        {"Origin": ORIGIN, "X-CSRFToken": data["csrf_token"]},  # the pre-login one
        {"Origin": "http://evil.example", "X-CSRFToken": token},
        {"Origin": "null", "X-CSRFToken": token},
        {"X-CSRFToken": token},
    ):
        answer = client.post("/_dash-update-component", json=body, headers=headers)
        assert answer.status_code == 403, headers


def test_a_session_fixed_before_sign_in_is_worthless_after(dash_app):
    client = dash_app.server.test_client()
    client.get("/login")
    before = client.get_cookie("ctrp_session").value
    sign_in(client, "admin")
    attacker = FlaskClient(dash_app.server, dash_app.server.response_class)
    attacker.set_cookie("ctrp_session", before)
    assert attacker.get("/_dash-layout").status_code == 401


def test_logout_ends_the_session_even_for_a_copied_cookie(dash_app):
    client = dash_app.server.test_client()
    sign_in(client, "regional_manager")
    stolen = client.get_cookie("ctrp_session").value
    assert client.get("/logout").status_code == 200  # a confirmation form
    assert client.post("/logout").status_code == 302
    assert client.get("/_dash-layout").status_code == 401
    thief = FlaskClient(dash_app.server, dash_app.server.response_class)
    thief.set_cookie("ctrp_session", stolen)
    assert thief.get("/_dash-layout").status_code == 401


def test_a_new_password_or_removal_ends_sessions(dash_app, programme):
    engine = engine_of(dash_app)
    users.create(engine, "short-lived", PASSWORD, "donor", ["BG"], programme.countries)
    client = dash_app.server.test_client()
    attempt(client, "short-lived", PASSWORD, "127.0.5.1")
    assert client.get("/_dash-layout").status_code == 200
    users.set_password(engine, "short-lived", "another long password")
    assert client.get("/_dash-layout").status_code == 401
    attempt(client, "short-lived", "another long password", "127.0.5.1")
    assert client.get("/_dash-layout").status_code == 200
    users.remove(engine, "short-lived")
    assert client.get("/_dash-layout").status_code == 401


def test_idle_and_absolute_session_timeouts(dash_app, monkeypatch):
    client = dash_app.server.test_client()
    sign_in(client, "admin")
    start = time.time()
    clock = {"now": start}
    monkeypatch.setattr(auth.time, "time", lambda: clock["now"])
    clock["now"] = start + 29 * 60
    assert client.get("/_dash-layout").status_code == 200
    clock["now"] += 31 * 60  # idle for 31 minutes
    assert client.get("/_dash-layout").status_code == 401

    sign_in(client, "admin")
    start = clock["now"]
    while clock["now"] < start + 8 * 3600 - 20 * 60:  # busy all day
        clock["now"] += 20 * 60
        assert client.get("/_dash-layout").status_code == 200
    clock["now"] = start + 8 * 3600 + 1
    assert client.get("/_dash-layout").status_code == 401


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "http://evil.example/", "/\\evil.example", "javascript:x"],
)
def test_login_never_redirects_to_another_site(dash_app, target):
    client = dash_app.server.test_client()
    answer = attempt(client, "test-donor", PASSWORD, "127.0.6.1", next=target)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_login_page_goes_back_where_the_user_was_going(dash_app):
    client = dash_app.server.test_client()
    answer = attempt(client, "test-admin", PASSWORD, "127.0.6.2", next="/audit?x=1")
    assert answer.headers["Location"] == "/audit?x=1"


def test_passwords_are_argon2id_hashes(dash_app):
    import sqlalchemy as sa

    from data_loaders.warehouse import accounts

    with engine_of(dash_app).connect() as connection:
        hashes = connection.execute(sa.select(accounts.c.password_hash)).scalars()
        hashes = list(hashes)
    assert len(hashes) >= len(ACCOUNTS)
    assert all(h.startswith("$argon2id$v=19$m=65536,t=3,p=4$") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)
