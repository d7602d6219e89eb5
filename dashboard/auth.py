"""Sign-in and sign-out: Flask-Login on the accounts of the warehouse.

The login page is plain Flask (no Dash), so a visitor without a session is served
nothing but this page and one stylesheet. Attempts are throttled through the audit
log, which every worker shares: the 6th failed attempt within a minute from one
address or on one account name gets 429. Every failure reads the same.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from urllib.parse import urlsplit

from flask import (
    Flask,
    redirect,
    render_template_string,
    request,
    session,
)
from flask_login import LoginManager, login_user, logout_user

from dashboard import audit, users
from dashboard.data import warehouse
from dashboard.scope import current_account, describe
from data_loaders import audit_log

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
HEALTH_PATH = "/health"
FAILED = (
    "Sign-in failed. Check the account name and password; after several failed "
    "attempts, wait a minute before trying again."
)
ATTEMPTS_PER_MINUTE = 5  # the 6th within a minute is refused with 429
CSRF_KEY = "csrf"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · CTRP III regional dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{ css }}"></head>
<body class="bg-light">
<nav class="navbar navbar-dark bg-primary mb-4"><div class="container-fluid">
<span class="navbar-brand">CTRP III regional dashboard</span></div></nav>
<main class="container" style="max-width: 26rem">
<h1 class="h4 mb-3">{{ title }}</h1>
{% if error %}<div class="alert alert-danger" role="alert" id="login-error">{{ error }}
</div>{% endif %}
{% if message %}<div class="alert alert-info" role="status">{{ message }}</div>
{% endif %}
<form method="post" action="{{ action }}">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
{% if login %}
<input type="hidden" name="next" value="{{ next }}">
<div class="mb-3"><label class="form-label" for="login-username">Account</label>
<input class="form-control" id="login-username" name="username" autocomplete="username"
 maxlength="64" required autofocus value="{{ username }}"></div>
<div class="mb-3"><label class="form-label" for="login-password">Password</label>
<input class="form-control" id="login-password" name="password" type="password"
 autocomplete="current-password" maxlength="1024" required></div>
<button class="btn btn-primary" id="login-submit" type="submit">Sign in</button>
{% else %}
<button class="btn btn-primary" id="logout-submit" type="submit">Sign out</button>
{% endif %}
</form></main></body></html>"""


def init(server: Flask, css_url: str) -> None:
    """Flask-Login, and the login, logout and health routes."""
    manager = LoginManager()
    manager.session_protection = "basic"
    manager.user_loader(lambda session_id: users.load(engine(), session_id))
    manager.init_app(server)
    server.config["CTRP_LOGIN_CSS"] = css_url
    server.add_url_rule(LOGIN_PATH, "login", login, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT_PATH, "logout", logout, methods=["GET", "POST"])
    server.add_url_rule(HEALTH_PATH, "health", health)


def engine():
    return warehouse().engine


def health():
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


def csrf_token() -> str:
    """This session's token (made on first use); the form and the cookie carry it."""
    if CSRF_KEY not in session:
        session[CSRF_KEY] = secrets.token_urlsafe(32)
    return session[CSRF_KEY]


def _page(status=200, **values):
    from flask import current_app

    context = {
        "title": "Sign in",
        "css": current_app.config["CTRP_LOGIN_CSS"],
        "csrf": csrf_token(),
        "error": "",
        "message": "",
        "login": True,
        "action": LOGIN_PATH,
        "next": "/",
        "username": "",
    }
    context.update(values)
    return render_template_string(PAGE, **context), status


def safe_next(target) -> str:
    """Only a path of this site: never another host (open redirect)."""
    target = str(target or "/")
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or parts.scheme
        or parts.netloc
        or any(ord(ch) < 32 for ch in target)
    ):
        return "/"
    return target


def login():
    next_path = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_account() is not None:
            return redirect(next_path)
        return _page(next=next_path)
    name = users.normalise_name(request.form.get("username", ""))[:64]
    password = request.form.get("password", "")
    target = f"account {name}"
    if throttled(target):
        audit.record("login", target, "throttled", scope="", actor="-")
        return _page(429, error=FAILED, next=next_path, username=name)
    account = users.authenticate(engine(), name, password)
    if account is None:
        audit.record("login", target, "failed", scope="", actor="-")
        return _page(401, error=FAILED, next=next_path, username=name)
    session.clear()  # a session fixed before sign-in is worth nothing after it
    login_user(account)
    now = time.time()
    session["auth_at"] = session["seen_at"] = now
    csrf_token()
    audit.record("login", target, "ok", scope=describe(account), actor=name)
    return redirect(next_path)


def throttled(target: str) -> bool:
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=1)
    failures = audit_log.recent_failures(
        engine(), since, request.remote_addr or "-", target
    )
    return failures >= ATTEMPTS_PER_MINUTE


def logout():
    if request.method == "GET":
        if current_account() is None:
            return redirect(LOGIN_PATH)
        return _page(title="Sign out", login=False, action=LOGOUT_PATH)
    account = current_account()
    if account is not None:
        users.end_sessions(engine(), account.id)
        audit.record("logout", f"account {account.username}", "ok")
    logout_user()
    session.clear()
    return redirect(LOGIN_PATH)


def expire_stale_session(idle_seconds: float, absolute_seconds: float) -> None:
    """End a session idle too long or signed in too long ago; refresh 'seen'."""
    if "_user_id" not in session:
        return
    now = time.time()
    idle = now - session.get("seen_at", 0)
    age = now - session.get("auth_at", 0)
    if idle > idle_seconds or age > absolute_seconds:
        session.clear()
    elif idle > 60:  # at most one new cookie a minute
        session["seen_at"] = now
