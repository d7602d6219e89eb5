"""Run a sync and import a bundle from the Data status page (CONTRACT §10): managers
sync and follow it to the end, one sync at a time; a lead imports its own country's
bundle only; a forged request of another role gets 403, one audit record and changes
nothing; a bad or tampered file is refused with its reason and nothing stored."""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import data
from dashboard.pages import _status_actions as actions
from data_loaders import bundle, sync_job, warehouse
from data_loaders.__main__ import main
from tests.conftest import (
    assert_offline_and_clean,
    browser_login,
    chromium_page,
    wait_for_js,
)
from tests.dash_requests import callback_body, callback_by_output

KEYS = {"RS": "rs-office-and-region-shared-secret", "ME": "me-office-and-region-key"}
URL = "/_dash-update-component"


@pytest.fixture(scope="module", autouse=True)
def keys():
    """RS's and ME's signing keys, as the country offices and the region hold them."""
    with pytest.MonkeyPatch.context() as patch:
        for country, key in KEYS.items():
            patch.setenv(f"DASHBOARD_BUNDLE_KEY_{country}", key)
        yield


@pytest.fixture(scope="module")
def bundles(demo_sources, tmp_path_factory) -> dict[str, bytes]:
    """RS's and ME's bundles, exported by the command as a country office would."""
    out = tmp_path_factory.mktemp("bundles")
    made = {}
    for country in KEYS:
        path = out / f"{country}.json"
        argv = ["export", "--sources", str(demo_sources), "--country", country]
        assert main([*argv, "--out", str(path)]) == 0
        made[country] = path.read_bytes()
    return made


@pytest.fixture
def own_warehouse(dash_app, synced_warehouse, demo_sources, tmp_path, monkeypatch):
    """The app on a copy of the test warehouse, with the demo sources file: what a
    test syncs or imports lands in the copy, the shared warehouse stays as it was."""
    copy = tmp_path / "warehouse.sqlite"
    source = sqlite3.connect(sa.make_url(synced_warehouse).database)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    engine = warehouse.warehouse_engine(f"sqlite:///{copy}")
    monkeypatch.setattr(dash_app.server.extensions[data.EXTENSION], "engine", engine)
    monkeypatch.setenv("DASHBOARD_SOURCES", str(demo_sources))
    yield engine
    assert sync_job.wait(120), "a sync of this test is still running"
    engine.dispose()


def call(dash_app, client, output: str, values=(), states=()):
    """Run the server callback that writes `output`; the answer as Flask gives it."""
    key = callback_by_output(dash_app, output)
    return client.post(URL, json=callback_body(dash_app, key, values, states))


def props(answer) -> dict:
    assert answer.status_code == 200, answer.text[:300]
    return {
        f"{component}.{prop}": value
        for component, changed in answer.get_json()["response"].items()
        for prop, value in changed.items()
    }


def count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(table)
        ).scalar()


def last_audit(engine) -> dict:
    log = warehouse.audit_log
    with engine.connect() as connection:
        row = connection.execute(sa.select(log).order_by(log.c.id.desc()).limit(1))
        return dict(row.one()._mapping)


def start(dash_app, client) -> dict:
    return props(call(dash_app, client, actions.SYNC_RUNS, [1]))


def follow(dash_app, client, run_ids, timeout: float = 120) -> dict:
    """Poll as the page's interval does until the sync is finished."""
    deadline = time.monotonic() + timeout
    for tick in range(10_000):
        answer = props(call(dash_app, client, actions.SYNC_PROGRESS, [tick, run_ids]))
        if answer[f"{actions.SYNC_POLL}.disabled"]:
            return answer
        assert time.monotonic() < deadline, "the sync did not finish"
        time.sleep(0.2)
    raise AssertionError("unreachable")


def upload(dash_app, client, content: bytes, name: str = "bundle.json"):
    contents = "data:application/json;base64," + base64.b64encode(content).decode()
    return call(dash_app, client, actions.IMPORT_MESSAGE, [contents], [name])


def message(answer) -> str:
    return json.dumps(props(answer)[f"{actions.IMPORT_MESSAGE}.children"])


# -- run a sync ---------------------------------------------------------------------


def test_a_manager_runs_a_sync_and_polling_shows_every_country_finish(
    dash_app, own_warehouse, login_as, programme
):
    manager = login_as("regional_manager")
    before = count(own_warehouse, warehouse.sync_runs)
    started = start(dash_app, manager)
    run_ids = started[f"{actions.SYNC_RUNS}.data"]
    assert len(run_ids) == len(programme.countries)
    assert "started" in json.dumps(started[f"{actions.SYNC_MESSAGE}.children"])
    end = follow(dash_app, manager, run_ids)
    assert end[f"{actions.SYNCED}.data"] == run_ids  # the panels redraw
    shown = json.dumps(end[f"{actions.SYNC_PROGRESS}.children"])
    for country in programme.countries.values():
        assert country.name in shown
    assert "running" not in shown and "FAILED" not in shown
    assert sync_job.wait(60)
    runs = sync_job.progress(own_warehouse, run_ids)
    assert {r["status"] for r in runs} == {"ok"}
    assert count(own_warehouse, warehouse.sync_runs) == before + len(run_ids)
    record = last_audit(own_warehouse)
    assert (record["actor"], record["action"], record["target"]) == (
        "test-manager",
        "sync",
        "all countries",
    )
    assert record["outcome"] == "ok"


def test_a_second_sync_is_refused_while_one_runs(
    dash_app, own_warehouse, login_as, monkeypatch
):
    gate = threading.Event()
    real = sync_job.sync_all

    def held(*args, **kwargs):  # the first sync waits until the second was tried
        gate.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(sync_job, "sync_all", held)
    admin, manager = login_as("admin"), login_as("regional_manager")
    first = start(dash_app, admin)[f"{actions.SYNC_RUNS}.data"]
    rows = count(own_warehouse, warehouse.sync_runs)
    try:
        second = start(dash_app, manager)
    finally:
        gate.set()
    assert "already running since" in json.dumps(second)
    assert second[f"{actions.SYNC_RUNS}.data"] == first  # the page follows that one
    assert count(own_warehouse, warehouse.sync_runs) == rows
    follow(dash_app, manager, first)


def test_a_sync_running_in_another_worker_is_respected(
    dash_app, own_warehouse, login_as
):
    """Another process's sync is only known from its running run in the warehouse."""
    run = warehouse.start_run(own_warehouse, "BA", "pull", True)
    manager = login_as("regional_manager")
    rows = count(own_warehouse, warehouse.sync_runs)
    answer = start(dash_app, manager)
    since = sync_job.now().strftime("%H:")
    assert "already running since " + since in json.dumps(answer)
    assert answer[f"{actions.SYNC_RUNS}.data"] == [run]
    assert count(own_warehouse, warehouse.sync_runs) == rows
    warehouse.fail_run(own_warehouse, run, "test over")


@pytest.mark.parametrize("role", ["country_lead", "donor"])
def test_a_forged_sync_request_of_a_lead_or_donor_is_403_and_starts_nothing(
    dash_app, own_warehouse, login_as, role
):
    client = login_as(role)
    runs = count(own_warehouse, warehouse.sync_runs)
    records = count(own_warehouse, warehouse.audit_log)
    answer = call(dash_app, client, actions.SYNC_RUNS, [1])
    assert answer.status_code == 403
    assert count(own_warehouse, warehouse.audit_log) == records + 1
    assert last_audit(own_warehouse)["outcome"] == "denied"
    assert count(own_warehouse, warehouse.sync_runs) == runs
    assert call(dash_app, client, actions.SYNC_PROGRESS, [1, [1]]).status_code == 403


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("admin", {"Run a sync", "Import a bundle"}),
        ("regional_manager", {"Run a sync", "Import a bundle"}),
        ("country_lead", {"Import a bundle"}),
        ("donor", set()),
    ],
)
def test_the_page_offers_each_role_only_its_actions(dash_app, login_as, role, shown):
    client = login_as(role)
    key = ".._pages_content.children..._pages_store.data.."
    body = callback_body(dash_app, key, ["/data-status", ""])
    text = json.dumps(props(client.post(URL, json=body)))
    for title in ("Run a sync", "Import a bundle"):
        assert (title in text) == (title in shown), (role, title)
    if role == "country_lead":
        assert "bundles of: Serbia." in text


# -- import a bundle -----------------------------------------------------------------


def test_a_manager_imports_a_bundle_and_stores_what_the_command_stores(
    dash_app, own_warehouse, login_as, bundles, tmp_path
):
    answer = upload(dash_app, login_as("regional_manager"), bundles["RS"])
    text = message(answer)
    assert "imported RS (" in text and " cells, generated " in text
    assert props(answer)[f"{actions.IMPORTED}.data"]  # the panels redraw
    path, url = tmp_path / "rs.json", f"sqlite:///{tmp_path / 'cli.sqlite'}"
    path.write_bytes(bundles["RS"])
    assert main(["import", str(path), "--warehouse", url]) == 0
    by_cli = sa.create_engine(url)
    pd.testing.assert_frame_equal(
        warehouse.read_cells(own_warehouse, "RS"), warehouse.read_cells(by_cli, "RS")
    )
    by_cli.dispose()
    record = last_audit(own_warehouse)
    assert (record["action"], record["target"], record["outcome"]) == (
        "import",
        "country RS",
        "ok",
    )


def test_a_lead_imports_its_own_country_but_not_another(
    dash_app, own_warehouse, login_as, bundles
):
    lead = login_as("country_lead")
    assert "imported RS (" in message(upload(dash_app, lead, bundles["RS"]))
    runs = count(own_warehouse, warehouse.sync_runs)
    records = count(own_warehouse, warehouse.audit_log)
    me_before = warehouse.read_cells(own_warehouse, "ME")
    answer = upload(dash_app, lead, bundles["ME"])
    assert answer.status_code == 403
    assert count(own_warehouse, warehouse.sync_runs) == runs
    assert count(own_warehouse, warehouse.audit_log) == records + 1
    record = last_audit(own_warehouse)
    assert (record["actor"], record["target"], record["outcome"]) == (
        "test-lead",
        "import ME",
        "denied",
    )
    pd.testing.assert_frame_equal(warehouse.read_cells(own_warehouse, "ME"), me_before)


def test_a_donor_may_import_nothing(dash_app, own_warehouse, login_as, bundles):
    donor = login_as("donor")
    records = count(own_warehouse, warehouse.audit_log)
    runs = count(own_warehouse, warehouse.sync_runs)
    assert upload(dash_app, donor, bundles["RS"]).status_code == 403
    assert count(own_warehouse, warehouse.audit_log) == records + 1
    assert count(own_warehouse, warehouse.sync_runs) == runs


def tampered(data: bytes) -> bytes:
    """A published figure changed after export, the signature left as it was."""
    document = json.loads(data)
    rows = document["payload"]["cells"]["rows"]
    row = next(r for r in rows if r[-1] == "published" and r[-2])
    row[-2] += 5
    return json.dumps(document).encode()


def other_programme(data: bytes) -> bytes:
    document = json.loads(data)
    document["payload"]["programme"] = "another-programme"
    key = KEYS["RS"].encode()
    document["signature"]["value"] = bundle._sign(document["payload"], key)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (tampered, "the signature does not match RS's key"),
        (other_programme, "bundle of programme 'another-programme'"),
        (lambda _data: b"", "the file is empty"),
        (lambda _data: b"   \n", "the file is empty"),
        (lambda _data: b"\x89PNG\r\n\x1a\n\x00", "not JSON text"),
        (lambda _data: b'{"payload": {"country": "ZZ"}}', "not one of programme"),
        (lambda _data: b"[1, 2]", "names no country"),
    ],
    ids=["tampered", "programme", "empty", "blank", "binary", "country", "no-country"],
)
def test_a_bad_or_tampered_file_is_refused_with_its_reason_and_nothing_stored(
    dash_app, own_warehouse, login_as, bundles, make, reason
):
    runs = count(own_warehouse, warehouse.sync_runs)
    rs_before = warehouse.read_cells(own_warehouse, "RS")
    answer = upload(dash_app, login_as("regional_manager"), make(bundles["RS"]))
    text = message(answer)
    assert reason in text and "nothing stored" in text, text
    assert f"{actions.IMPORTED}.data" not in props(answer)
    assert count(own_warehouse, warehouse.sync_runs) == runs
    pd.testing.assert_frame_equal(warehouse.read_cells(own_warehouse, "RS"), rs_before)
    assert last_audit(own_warehouse)["outcome"] == "failed"


@pytest.mark.parametrize(
    "contents",
    [
        "not a data url",
        "data:application/json;base64,@@@not base64@@@",
        ["a list"],
        {"a": "dict"},
        12,
    ],
)
def test_an_upload_value_that_is_no_file_gets_a_message_not_an_error(
    dash_app, own_warehouse, login_as, contents
):
    client = login_as("regional_manager")
    answer = call(dash_app, client, actions.IMPORT_MESSAGE, [contents], ["x.json"])
    assert "could not be read" in message(answer)


def test_a_file_over_the_limit_is_refused_before_it_is_decoded(monkeypatch):
    monkeypatch.setattr(actions, "MAX_UPLOAD_BYTES", 1024)
    big = "data:application/json;base64," + base64.b64encode(b"x" * 4096).decode()
    data, problem = actions.read_upload(big)
    assert data == b"" and "larger than" in problem


# -- in the browser, under the strict CSP -------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize(
    ("role", "sync", "upload"),
    [("country_lead", False, True), ("donor", False, False)],
)
def test_each_role_sees_only_its_actions_and_the_console_stays_clean(
    live_url, role, sync, upload
):
    with chromium_page() as page:
        browser_login(page, live_url, role)
        page.goto(live_url + "/data-status", wait_until="domcontentloaded")
        page.wait_for_selector("#status-coverage-graph .main-svg", timeout=30_000)
        page.wait_for_timeout(500)  # the panels' callbacks end
        assert page.is_visible(f"#{actions.SYNC_BUTTON}") == sync
        assert page.is_visible(f"#{actions.UPLOAD}") == upload
        assert_offline_and_clean(page)


@pytest.mark.browser
def test_a_manager_clicks_run_a_sync_and_watches_every_country_finish(
    live_url, own_warehouse, programme
):
    with chromium_page() as page:
        browser_login(page, live_url, "regional_manager")
        page.goto(live_url + "/data-status", wait_until="domcontentloaded")
        page.wait_for_selector("#status-coverage-graph .main-svg", timeout=30_000)
        page.click(f"#{actions.SYNC_BUTTON}")
        progress = f"document.querySelector('#{actions.SYNC_PROGRESS}').innerText"
        wait_for_js(page, f"{progress}.includes('ok')", timeout=60_000)
        wait_for_js(page, f"!{progress}.includes('running')", timeout=120_000)
        text = page.inner_text(f"#{actions.SYNC_PROGRESS}")
        assert text.count(": ok") == len(programme.countries), text
        assert sync_job.wait(60)
        assert_offline_and_clean(page)
