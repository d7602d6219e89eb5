"""The audit log: one append-only record per sign-in, failure, denial, sync, import
and account change, with who, when, what, scope and outcome; never a figure."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import sqlalchemy as sa

from data_loaders import audit_log as writer
from data_loaders.warehouse import audit_log, warehouse_engine
from tests.conftest import ORIGIN, PASSWORD, require_server, sign_in
from tests.dash_requests import callback_body, callback_by_output


def engine_of(dash_app):
    return dash_app.server.extensions["ctrp_warehouse"].engine


def newest(dash_app, count=1) -> list:
    with engine_of(dash_app).connect() as connection:
        rows = connection.execute(
            sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(count)
        ).all()
    return list(reversed(rows))


def last_id(dash_app) -> int:
    with engine_of(dash_app).connect() as connection:
        return connection.execute(sa.select(sa.func.max(audit_log.c.id))).scalar()


def test_sign_in_failure_and_denial_are_recorded_once_each(dash_app):
    client = dash_app.server.test_client()
    start = last_id(dash_app)
    sign_in(client, "donor", address="127.0.7.1")
    (login,) = newest(dash_app)
    assert login.id == start + 1
    assert (login.actor, login.role, login.address) == (
        "test-donor",
        "donor",
        "127.0.7.1",
    )
    assert (login.action, login.target, login.outcome) == (
        "login",
        "account test-donor",
        "ok",
    )
    assert login.scope == "sees BA ME"
    assert abs(login.at - dt.datetime.now(dt.UTC).replace(tzinfo=None)).seconds < 60

    assert client.get("/audit", headers={"Accept": "text/html"}).status_code == 403
    (denial,) = newest(dash_app)
    assert denial.id == start + 2
    assert (denial.actor, denial.action, denial.target, denial.outcome) == (
        "test-donor",
        "denial",
        "page /audit",
        "denied",
    )

    other = dash_app.server.test_client()
    token = other.get("/login").text.split('name="csrf_token" value="')[1][:43]
    other.post(
        "/login",
        data={"username": "test-admin", "password": "wrong!", "csrf_token": token},
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": "127.0.7.2"},
    )
    (failed,) = newest(dash_app)
    assert (failed.actor, failed.role, failed.address) == ("-", "-", "127.0.7.2")
    assert (failed.action, failed.target, failed.outcome) == (
        "login",
        "account test-admin",
        "failed",
    )
    assert "wrong!" not in str(tuple(failed)) and PASSWORD not in str(tuple(failed))


def test_reading_figures_writes_nothing_and_no_record_holds_a_figure(
    dash_app, login_as
):
    client = login_as("regional_manager")
    start = last_id(dash_app)
    key = callback_by_output(dash_app, "overview-map-graph")
    for indicator in ("children_reached", "professionals_trained"):
        answer = client.post(
            "/_dash-update-component",
            json=callback_body(dash_app, key, [indicator, "ALL"]),
        )
        assert answer.status_code == 200
    assert last_id(dash_app) == start
    # every column but the timestamp is a name, an address, a code or a word
    for row in newest(dash_app, 1000):
        for column in ("action", "outcome", "role"):
            assert not any(ch.isdigit() for ch in getattr(row, column))


def test_the_log_refuses_update_and_delete(dash_app):
    engine = engine_of(dash_app)
    for statement in (
        sa.update(audit_log).values(outcome="ok"),
        sa.delete(audit_log),
    ):
        with (
            pytest.raises(sa.exc.DatabaseError, match="append-only"),
            engine.begin() as connection,
        ):
            connection.execute(statement)


@pytest.mark.servers
def test_the_log_refuses_update_delete_and_truncate_on_postgresql():
    require_server("postgresql")
    database = f"ctrp_audit_test_{os.getpid()}"  # parallel runs don't collide
    admin = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {database}"))
        connection.execute(sa.text(f"CREATE DATABASE {database}"))
    engine = warehouse_engine(f"postgresql+psycopg://postgres@127.0.0.1/{database}")
    try:
        writer.record_cli(engine, "sync", "country RS", "ok", "RS")
        for statement in (
            sa.update(audit_log).values(outcome="failed"),
            sa.delete(audit_log),
            sa.text("TRUNCATE audit_log"),
        ):
            with (
                pytest.raises(sa.exc.DatabaseError, match="append-only"),
                engine.begin() as connection,
            ):
                connection.execute(statement)
        assert len(writer.read(engine)) == 1
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {database}"))
        admin.dispose()


def test_a_forged_value_cannot_forge_a_line(tmp_path):
    engine = warehouse_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    writer.write(
        engine,
        actor="eve\n2026-01-01 admin login ok",
        role="donor",
        address="127.0.0.1",
        action="login",
        target="x" * 1000,
        scope="\x1b[31mred",
        outcome="failed",
    )
    (row,) = writer.read(engine)
    assert "\n" not in row["actor"] and "\x1b" not in row["scope"]
    assert len(row["target"]) == 200


def test_a_sync_from_the_command_line_is_recorded(tmp_path, demo_sources):
    from data_loaders.__main__ import main

    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    assert main(["sync", "--sources", str(demo_sources), "--warehouse", url]) == 0
    rows = writer.read(warehouse_engine(url))
    assert {r["target"] for r in rows} == {
        f"country {c}" for c in ("BA", "RS", "ME", "XK", "AL", "RO", "BG")
    }
    assert all(r["action"] == "sync" and r["outcome"] == "ok" for r in rows)
    assert all(r["actor"].startswith("cli:") for r in rows)


def test_the_audit_page_lists_records_for_a_manager(dash_app, login_as):
    client = login_as("regional_manager")
    key = callback_by_output(dash_app, "audit-records-table")
    answer = client.post(
        "/_dash-update-component", json=callback_body(dash_app, key, ["login", None])
    )
    assert answer.status_code == 200
    assert "test-manager" in answer.text and "account test-manager" in answer.text
    only_failed = client.post(
        "/_dash-update-component",
        json=callback_body(dash_app, key, ["login", "test-manager"]),
    )
    assert "test-admin" not in only_failed.text


def test_a_csv_export_is_recorded_and_holds_only_the_donors_countries(
    dash_app, login_as, programme
):
    import dash

    from tests.dash_requests import server_callbacks
    from tests.leaks import component_values, leaked, markers_outside

    client = login_as("donor")
    router = ".._pages_content.children..._pages_store.data.."
    values = {}
    for page in dash.page_registry.values():
        answer = client.post(
            "/_dash-update-component",
            json=callback_body(dash_app, router, [page["path"], ""]),
        )
        if answer.status_code == 200:
            values.update(component_values(answer.get_json()))
    downloads = [k for k in server_callbacks(dash_app) if "-download.data" in k]
    assert downloads, "no CSV download to test"
    markers = markers_outside(programme, {"BA", "ME"})
    exported = 0
    for key in downloads:
        name = key.removesuffix("-download.data")
        state = values.get((f"{name}-state", "data"))
        if not isinstance(state, dict):
            continue
        start = last_id(dash_app)
        answer = client.post(
            "/_dash-update-component", json=callback_body(dash_app, key, [1], [state])
        )
        assert answer.status_code == 200, (key, answer.status_code)
        assert not leaked(answer.get_json(), markers), key
        (row,) = newest(dash_app)
        assert row.id == start + 1
        assert (row.actor, row.action, row.target, row.outcome) == (
            "test-donor",
            "export",
            f"csv {name}",
            "ok",
        )
        assert row.scope == "sees BA ME"
        exported += 1
    assert exported > 0
