"""`python -m dashboard.users`: accounts from the command line (CONTRACT §7, §10)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from dashboard import users
from data_loaders.warehouse import audit_log, warehouse_engine
from tests.conftest import REPO

SECRET = "a long enough password"


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.sqlite'}"


def run(url, *argv, stdin=SECRET + "\n"):
    return users.main(["--warehouse", url, *argv], stdin=io.StringIO(stdin))


def test_add_list_passwd_remove(url, capsys):
    assert run(url, "add", "Alice", "--role", "donor", "--country", "RS") == 0
    assert run(url, "add", "bob", "--role", "country_lead", "--country", "BA") == 0
    assert run(url, "list") == 0
    listing = capsys.readouterr().out
    assert "alice" in listing and "donor RS" in listing
    assert "country_lead BA" in listing
    engine = warehouse_engine(url)
    assert users.authenticate(engine, "alice", SECRET).countries == ("RS",)
    assert run(url, "passwd", "alice", stdin="a different long one\n") == 0
    assert users.authenticate(engine, "alice", SECRET) is None
    assert users.authenticate(engine, "ALICE", "a different long one") is not None
    assert run(url, "remove", "alice") == 0
    assert users.find(engine, "alice") is None
    with engine.connect() as connection:
        actions = connection.execute(
            sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.target)
        ).all()
    assert [a.target for a in actions] == [
        "add alice",
        "add bob",
        "passwd alice",
        "remove alice",
    ]
    assert all(a.action == "account" and a.actor.startswith("cli:") for a in actions)


def test_a_donor_of_all_countries(url):
    assert run(url, "add", "everyone", "--role", "donor", "--country", "all") == 0
    account = users.find(warehouse_engine(url), "everyone")
    assert account.countries == ("BA", "RS", "ME", "XK", "AL", "RO", "BG")


@pytest.mark.parametrize(
    "argv, stdin",
    [
        (["add", "x", "--role", "donor"], SECRET),  # a donor needs countries
        (["add", "x", "--role", "donor", "--country", "FR"], SECRET),
        (["add", "x", "--role", "country_lead"], SECRET),
        (["add", "x", "--role", "country_lead", "--country", "all"], SECRET),
        (["add", "x", "--role", "admin", "--country", "RS"], SECRET),
        (["add", "x", "--role", "admin"], "short"),
        (["add", "bad name!", "--role", "admin"], SECRET),
        (["remove", "nobody"], ""),
        (["passwd", "nobody"], SECRET),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(url, argv, stdin, capsys):
    assert run(url, *argv, stdin=stdin + "\n") == 2
    assert "error:" in capsys.readouterr().err
    assert users.all_accounts(warehouse_engine(url)) == []


def test_a_password_is_never_taken_from_the_command_line(url):
    with pytest.raises(SystemExit) as stop:
        run(url, "add", "x", "--role", "admin", "a-password-on-argv")
    assert stop.value.code == 2
    with pytest.raises(SystemExit):
        run(url, "add", "x", "--role", "admin", "--password", SECRET)


def test_an_existing_account_is_not_replaced(url):
    assert run(url, "add", "x", "--role", "admin") == 0
    assert run(url, "add", "X", "--role", "donor", "--country", "RS") == 2
    assert users.find(warehouse_engine(url), "x").role == "admin"


def test_demo_makes_one_account_per_role_once(url, capsys):
    assert run(url, "demo", stdin="") == 0
    printed = capsys.readouterr().out
    engine = warehouse_engine(url)
    made = {a.username: a.role for a in users.all_accounts(engine)}
    assert sorted(made.values()) == sorted(users.ROLES)
    passwords = {}
    for line in printed.splitlines():
        words = line.split()
        if words and words[0] in made:
            passwords[words[0]] = words[1]
    assert len(set(passwords.values())) == 4
    for name, password in passwords.items():
        assert users.authenticate(engine, name, password).username == name
    assert run(url, "demo", stdin="") == 0
    again = capsys.readouterr().out
    assert "no demo account created" in again
    assert not any(p in again for p in passwords.values())


def test_the_module_runs_and_reads_the_password_from_a_pipe(url):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.users", "--warehouse", url, "add", "piped"]
        + ["--role", "regional_manager"],
        input=SECRET + "\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert users.authenticate(warehouse_engine(url), "piped", SECRET) is not None
