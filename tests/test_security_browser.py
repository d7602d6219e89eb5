"""In headless Chromium: sign-in, every page of every role under the strict CSP with
a clean console, pages hidden and refused by role, sign-out, and an ended session."""

from __future__ import annotations

import dash
import pytest

from dashboard import users
from tests.conftest import (
    ACCOUNTS,
    PASSWORD,
    assert_offline_and_clean,
    browser_login,
    chromium_page,
    wait_for_js,
)
from tests.test_roles import PAGES_FOR

ROLES = list(ACCOUNTS)
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def track_inflight(page) -> dict:
    """Count requests still running, so a goto never aborts one of the last page."""
    counts = {"running": 0}

    def change(step):
        counts["running"] += step

    page.on("request", lambda _r: change(1))
    page.on("requestfinished", lambda _r: change(-1))
    page.on("requestfailed", lambda _r: change(-1))
    return counts


def settle(page, counts, quiet_ms=500, timeout_ms=30_000) -> None:
    """Wait until no request has been running for `quiet_ms`."""
    quiet = waited = 0
    while quiet < quiet_ms and waited < timeout_ms:
        page.wait_for_timeout(100)
        waited += 100
        quiet = quiet + 100 if counts["running"] <= 0 else 0


def nav_links(page) -> list[str]:
    return page.eval_on_selector_all(
        "nav .nav-link", "links => links.map(a => a.getAttribute('href'))"
    )


@pytest.mark.browser
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_every_role_renders_under_the_csp(live_url, role):
    expected = {
        page["relative_path"]
        for page in dash.page_registry.values()
        if page.get("nav", True) and role in PAGES_FOR.get(page["path"], ROLES)
    }
    with chromium_page() as page:
        page.add_init_script(WATCH_CSP)
        inflight = track_inflight(page)
        browser_login(page, live_url, role)
        links = nav_links(page)
        assert set(links) == expected
        for path in links:
            settle(page, inflight)
            answer = page.goto(live_url + path, wait_until="networkidle")
            assert answer.status == 200, path
            csp = answer.headers["content-security-policy"]
            assert "script-src 'self' 'sha256-" in csp and "unsafe-eval" not in csp
            wait_for_js(page, "!!document.querySelector('#_pages_content > *')")
            assert page.evaluate("window.__csp") == [], (
                path,
                page.evaluate("window.__csp"),
            )
        assert ACCOUNTS[role][0] in page.inner_text("nav")
        settle(page, inflight)
        assert_offline_and_clean(page)


@pytest.mark.browser
def test_the_audit_log_page_shows_records_to_an_admin(live_url):
    with chromium_page() as page:
        page.add_init_script(WATCH_CSP)
        browser_login(page, live_url, "admin")
        page.click("nav >> text=Audit log")
        wait_for_js(page, "!!document.querySelector('#audit-records-table table')")
        table = page.inner_text("#audit-records-table")
        assert "account test-admin" in table and "login" in table
        assert page.evaluate("window.__csp") == []
        assert_offline_and_clean(page)


@pytest.mark.browser
def test_a_donor_is_refused_the_audit_page_and_signs_out(live_url):
    with chromium_page() as page:
        browser_login(page, live_url, "donor")
        assert "/audit" not in nav_links(page)
        answer = page.goto(live_url + "/audit")
        assert answer.status == 403
        assert "audit-records-table" not in page.content()
        page.goto(live_url + "/", wait_until="networkidle")
        with page.expect_navigation():
            page.click("#navbar-logout-button")
        assert page.url.split("?")[0].endswith("/login")
        page.goto(live_url + "/")
        assert "/login" in page.url


@pytest.mark.browser
def test_an_ended_session_sends_the_page_to_sign_in(dash_app, live_url, programme):
    engine = dash_app.server.extensions["ctrp_warehouse"].engine
    if users.find(engine, "ended-in-browser") is None:
        users.create(
            engine, "ended-in-browser", PASSWORD, "donor", ["RS"], programme.countries
        )
    with chromium_page() as page:
        page.goto(live_url + "/login", wait_until="domcontentloaded")
        page.fill("#login-username", "ended-in-browser")
        page.fill("#login-password", PASSWORD)
        with page.expect_navigation():
            page.click("#login-submit")
        page.wait_for_load_state("networkidle")
        users.end_sessions(engine, users.find(engine, "ended-in-browser").id)
        links = nav_links(page)
        other = next(link for link in links if link != "/")
        page.click(f"nav .nav-link[href='{other}']")  # a callback: now 401
        page.wait_for_url("**/login?next=*", timeout=15_000)
        assert "next=" in page.url
