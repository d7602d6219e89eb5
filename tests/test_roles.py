"""Role × page × callback × action (CONTRACT §10), through the one scope module and
through hand-made HTTP requests, forged callback requests included."""

from __future__ import annotations

import dash
import pytest
import sqlalchemy as sa
from flask_login import login_user
from werkzeug.exceptions import Forbidden

from dashboard import scope, users
from data_loaders.warehouse import audit_log
from tests.conftest import ACCOUNTS
from tests.dash_requests import callback_body, server_callbacks
from tests.leaks import component_values, hrefs, leaked, markers_outside

ALL7 = {"BA", "RS", "ME", "XK", "AL", "RO", "BG"}
ROLES = list(ACCOUNTS)
# Written from CONTRACT §10, not computed from dashboard.scope.
SEES = {
    "admin": ALL7,
    "regional_manager": ALL7,
    "country_lead": ALL7,
    "donor": {"BA", "ME"},
}
CHANGES = {  # targets and notes; import of a country's bundle
    "admin": ALL7,
    "regional_manager": ALL7,
    "country_lead": {"RS"},
    "donor": set(),
}
MAY = {  # actions not about one country
    "admin": {
        "run_sync",
        "import_bundle",
        "export",
        "read_audit",
        "manage_accounts",
    },
    "regional_manager": {"run_sync", "import_bundle", "export", "read_audit"},
    "country_lead": {"export"},
    "donor": {"export"},
}
PAGES_FOR = {  # every other page: all roles
    "/audit": {"admin", "regional_manager"},
    "/targets": {"admin", "regional_manager", "country_lead"},
}
ROUTER = ".._pages_content.children..._pages_store.data.."


def engine_of(dash_app):
    return dash_app.server.extensions["ctrp_warehouse"].engine


def audit_count(dash_app) -> int:
    with engine_of(dash_app).connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(audit_log)
        ).scalar()


@pytest.fixture
def as_role(dash_app):
    """`with as_role(role):` a request context signed in as that role's account."""
    from contextlib import contextmanager

    @contextmanager
    def context(role):
        with dash_app.server.test_request_context("/"):
            if role is not None:
                account = users.find(engine_of(dash_app), ACCOUNTS[role][0])
                login_user(account)
            yield

    return context


@pytest.mark.parametrize("role", ROLES)
def test_what_each_role_sees_and_may_change(as_role, role):
    with as_role(role):
        assert set(scope.visible_countries()) == SEES[role]
        for country in sorted(ALL7):
            assert scope.can_see(country) == (country in SEES[role]), country
            assert scope.can_change(country) == (country in CHANGES[role]), country
            assert scope.can("edit", country) == (country in CHANGES[role])
            assert scope.can("import_bundle", country) == (country in CHANGES[role])
            assert scope.can("export", country) == (country in SEES[role])
        for action in scope.ACTIONS:
            assert scope.can(action) == (action in MAY[role]), action
        # default deny: unknown actions, countries and values
        for country in ("XX", "", "rs", None, ["RS"], {"c": "RS"}, 7):
            assert not scope.can_see(country)
            assert country is None or not scope.can_change(country)
        assert not scope.can("drop_tables")
        assert not scope.can("edit")  # an edit names its country


def test_nobody_signed_in_sees_and_may_nothing(as_role):
    with as_role(None):
        assert scope.visible_countries() == []
        assert not any(scope.can(action) for action in scope.ACTIONS)
        assert not any(scope.can_see(c) or scope.can_change(c) for c in ALL7)


@pytest.mark.parametrize("role", ROLES)
def test_every_refusal_is_403_and_one_audit_record(dash_app, as_role, role):
    denied = 0
    with as_role(role):
        for action in scope.ACTIONS:
            for country in [None, *sorted(ALL7)]:
                if scope.can(action, country):
                    scope.require(action, country)  # goes on, records nothing
                    continue
                before = audit_count(dash_app)
                with pytest.raises(Forbidden):
                    scope.require(action, country, target=f"test {action}")
                assert audit_count(dash_app) == before + 1
                denied += 1
        for country in sorted(ALL7 - SEES[role]):
            before = audit_count(dash_app)
            with pytest.raises(Forbidden):
                scope.require_see(country)
            assert audit_count(dash_app) == before + 1
    with engine_of(dash_app).connect() as connection:
        last = connection.execute(
            sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(1)
        ).one()
    if denied:
        assert last.actor == ACCOUNTS[role][0] and last.role == role
        assert last.outcome == "denied"


def pages():
    return [page["path"] for page in dash.page_registry.values()]


@pytest.mark.parametrize("role", ROLES)
def test_pages_open_only_to_their_roles(dash_app, login_as, role):
    client = login_as(role)
    for path in pages():
        allowed = role in PAGES_FOR.get(path, set(ROLES))
        before = audit_count(dash_app)
        page = client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == (200 if allowed else 403), (path, role)
        assert audit_count(dash_app) == before + (0 if allowed else 1)
        # the same page asked for by a forged router callback
        body = callback_body(dash_app, ROUTER, [path, ""])
        forged = client.post("/_dash-update-component", json=body)
        assert forged.status_code == (200 if allowed else 403), (path, role)
        if not allowed:
            assert b"audit-records-table" not in forged.data


@pytest.mark.parametrize("role", ROLES)
def test_the_navbar_lists_only_pages_the_role_may_open(login_as, role):
    links = hrefs(login_as(role).get("/_dash-layout").get_json())
    for page in dash.page_registry.values():
        allowed = role in PAGES_FOR.get(page["path"], set(ROLES))
        assert (page["relative_path"] in links) == allowed, page["path"]


def layouts_of_pages(dash_app, client) -> dict:
    """Initial value of every component of every page, as the admin's pages hold."""
    values = {}
    for path in pages():
        answer = client.post(
            "/_dash-update-component",
            json=callback_body(dash_app, ROUTER, [path, ""]),
        )
        if answer.status_code == 200:
            values.update(component_values(answer.get_json()))
    values.update(component_values(client.get("/_dash-layout").get_json()))
    return values


def forged_inputs(dash_app, key, defaults, programme):
    """The page's own values, then each input replaced by every country code and
    by hostile look-alikes: what a forger would try."""
    spec = dash_app.callback_map[key]
    base = [defaults.get((i["id"], i["property"])) for i in spec["inputs"]]
    yield base
    candidates = [*programme.countries, "ALL", None, ["RS", "XK"], "RS' OR 1=1 --"]
    for position in range(len(base)):
        for value in candidates:
            yield [*base[:position], value, *base[position + 1 :]]


@pytest.mark.parametrize("role", ROLES)
def test_forged_callbacks_never_answer_a_figure_outside_the_scope(
    dash_app, login_as, programme, role
):
    defaults = layouts_of_pages(dash_app, login_as("admin"))
    client = login_as(role)
    markers = markers_outside(programme, SEES[role])
    asked = answered = 0
    for key in server_callbacks(dash_app):
        if key == ROUTER:
            continue
        for values in forged_inputs(dash_app, key, defaults, programme):
            body = callback_body(dash_app, key, values)
            answer = client.post("/_dash-update-component", json=body)
            asked += 1
            assert answer.status_code < 500, (key, values, answer.status_code)
            if answer.status_code == 200:
                answered += 1
                found = leaked(answer.get_json(), markers)
                assert not found, (role, key, values, found)
    assert asked > 20 and answered > 0
    layout = client.get("/_dash-layout").get_json()
    assert not leaked(layout, markers)


def test_the_audit_callback_answers_only_managers(dash_app, login_as):
    key = next(k for k in server_callbacks(dash_app) if "audit-records-table" in k)
    for role in ROLES:
        before = audit_count(dash_app)
        answer = login_as(role).post(
            "/_dash-update-component", json=callback_body(dash_app, key, [None, None])
        )
        after = audit_count(dash_app)
        if role in ("admin", "regional_manager"):
            assert answer.status_code == 200 and "test-admin" in answer.text
            assert after == before + 1  # the sign-in of login_as only
        else:
            assert answer.status_code == 403 and "test-admin" not in answer.text
            assert after == before + 2  # sign-in, then the denial
