"""The gate: nothing but sign-in, health and the login stylesheet answers without a
session, whichever route it is, including ones added after the gate was installed."""

from __future__ import annotations

import re

import pytest

from dashboard import security
from tests.conftest import ORIGIN, bare_app
from tests.dash_requests import callback_body, server_callbacks

PUBLIC = {"/login", "/logout", "/health", "/assets/vendor/bootstrap/bootstrap.min.css"}
SAMPLES = {  # a value for each URL converter, so every rule can be asked
    "filename": "plotly_geo_offline.js",
    "package_name": "dash",
    "fingerprinted_path": "dash-renderer/build/dash_renderer.v4_4_1m1.min.js",
    "path": "audit",
}


def concrete_urls(server):
    """(url, method) for every rule of the Flask URL map."""
    for rule in server.url_map.iter_rules():
        url = re.sub(
            r"<(?:\w+:)?(\w+)>", lambda m: SAMPLES.get(m.group(1), "x"), rule.rule
        )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.rule, url, method


def refused(answer) -> bool:
    """401, or a redirect to the login page."""
    return answer.status_code == 401 or (
        answer.status_code == 302
        and answer.headers["Location"].startswith("/login?next=")
    )


def test_every_route_of_the_url_map_refuses_an_anonymous_request(dash_app, anonymous):
    asked = 0
    for rule, url, method in concrete_urls(dash_app.server):
        for accept in ("text/html", "application/json", "*/*"):
            answer = anonymous.open(url, method=method, headers={"Accept": accept})
            asked += 1
            if url in PUBLIC:  # a POST without the CSRF token is refused there
                expected = (403,) if method == "POST" else (200, 302)
                assert answer.status_code in expected, (
                    rule,
                    method,
                    answer.status_code,
                )
            else:
                assert refused(answer), (rule, url, method, answer.status_code)
    assert asked >= 30


def test_real_assets_and_component_suites_need_a_session(anonymous, client):
    for url in (
        "/assets/plotly_geo_offline.js",
        "/assets/geo/countries.geojson",
        "/_dash-layout",
        "/_dash-dependencies",
        "/_favicon.ico",
        "/audit",
    ):
        assert refused(anonymous.get(url)), url
        assert client.get(url).status_code == 200, url


def test_a_page_request_is_redirected_to_login_with_its_path(anonymous):
    answer = anonymous.get("/audit?x=1", headers={"Accept": "text/html"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/audit%3Fx%3D1"


def test_every_callback_refuses_an_anonymous_request(dash_app, anonymous):
    keys = list(dash_app.callback_map)
    assert len(server_callbacks(dash_app)) >= 3  # router, overview, audit log
    for key in keys:
        body = callback_body(dash_app, key)
        answer = anonymous.post(
            "/_dash-update-component", json=body, headers={"Origin": ORIGIN}
        )
        assert answer.status_code == 401, (key, answer.status_code)
        assert b"figure" not in answer.data


def test_every_callback_answers_a_signed_in_browser_but_not_without_csrf(
    dash_app, client, anonymous
):
    # the same session, but without the X-CSRFToken header the renderer sends
    cookie = client.get_cookie("ctrp_session")
    anonymous.set_cookie("ctrp_session", cookie.value)
    for key in server_callbacks(dash_app):
        body = callback_body(dash_app, key)
        bare = anonymous.post(
            "/_dash-update-component", json=body, headers={"Origin": ORIGIN}
        )
        assert bare.status_code == 403, key
        answer = client.post("/_dash-update-component", json=body)
        assert answer.status_code in (200, 204, 400), key  # 400: inputs left empty


def test_a_route_added_after_the_gate_is_gated_too(dash_app, synced_warehouse):
    later = bare_app(synced_warehouse)
    later.server.add_url_rule("/later", "later", lambda: "secret")
    later.server.add_url_rule(
        "/api/later", "api_later", lambda: "secret", methods=["POST"]
    )
    anonymous = later.server.test_client()
    assert anonymous.get("/later").status_code == 401
    assert anonymous.post("/api/later").status_code == 401
    assert b"secret" not in anonymous.get("/later", follow_redirects=True).data
    assert anonymous.get("/health").status_code == 200


@pytest.mark.parametrize("variable", ["DASH_MCP_ENABLED", "DASH_DEBUG"])
def test_start_up_is_refused_when_the_environment_turns_on_mcp_or_debug(
    monkeypatch, synced_warehouse, variable
):
    from app import create_app

    monkeypatch.setenv(variable, "true")
    with pytest.raises(security.UnsafeConfiguration, match=variable):
        create_app({"DASHBOARD_WAREHOUSE_URL": synced_warehouse})


def test_a_second_dashboard_in_one_process_is_refused_with_the_reason(
    dash_app, synced_warehouse
):
    from app import create_app

    with pytest.raises(RuntimeError, match="once per process"):
        create_app({"DASHBOARD_WAREHOUSE_URL": synced_warehouse})


def test_no_mcp_route_exists(dash_app, client):
    rules = [rule.rule for rule in dash_app.server.url_map.iter_rules()]
    assert not any("mcp" in rule for rule in rules)
    assert client.post("/_mcp", json={}).status_code in (404, 405)
