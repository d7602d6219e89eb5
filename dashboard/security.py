"""The gate in front of every route, and the headers on every answer.

`install(app)` is called once by `create_app`, after the pages are registered:

- **gate** (the first `before_request`): without a session only the login and logout
  pages, the health check and the login page's stylesheet answer. Everything else,
  including routes added later by Dash or by us, gets 401, or a redirect to the login
  page for a browser asking for a page. A page registered with `roles=` answers 403 to
  other roles.
- **CSRF**: every state-changing request needs the session's token (form field, or the
  `X-CSRFToken` header Dash's renderer copies from the `_csrf_token` cookie) and an
  Origin (or Referer) of this site.
- **callback envelope**: a `_dash-update-component` body must name a callback of the
  app with its own inputs, state and outputs; a forged or malformed one gets 400
  before Dash sees it (the callbacks themselves re-check scope). A callback that
  chokes on a forged value of the wrong type answers 400, not 500.
- **headers**: a strict CSP (`script-src` from Dash's `csp_hashes()`), frame blocking,
  nosniff, no-store for data, HSTS when served over HTTPS.
- **start-up refused** when the environment turns on Dash's MCP server or debug.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
from urllib.parse import quote, urlsplit

import dash
from flask import Response, current_app, redirect, request, session

from dashboard import audit, auth, settings
from dashboard.scope import can_open, current_account

log = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_COOKIE = "_csrf_token"  # Dash's renderer reads this name (Dash 4 default)
CSRF_HEADER = "X-CSRFToken"
MAX_REQUEST_BYTES = 32 * 1024 * 1024  # a bundle upload fits; a flood does not
STRING_PROPS = ("pathname", "search", "hash", "href")  # dcc.Location's, and more
MAX_ITEMS = 1000  # inputs, outputs, changed props or ALL-pattern items per request
LOGIN_CSS = "vendor/bootstrap/bootstrap.min.css"


# What a callback raises when a forged request hands it a value of the wrong kind
# (a list where its dropdown only offers text, say).
INPUT_ERRORS = (TypeError, ValueError, KeyError, AttributeError, IndexError)


class UnsafeConfiguration(RuntimeError):
    """The environment asks for something the dashboard refuses to serve with."""


def refuse_unsafe_environment(environ=os.environ) -> None:
    """Dash's MCP server and debug mode expose callbacks and tracebacks: refuse."""
    for name in ("DASH_MCP_ENABLED", "DASH_DEBUG"):
        if environ.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            raise UnsafeConfiguration(
                f"{name} is set: the dashboard does not start with Dash's "
                f"{'MCP server' if 'MCP' in name else 'debug mode'} on. Unset it."
            )


def install(app: dash.Dash, overrides: dict | None = None) -> None:
    """Sessions, sign-in, the gate, CSRF and headers on `app` (once, after pages)."""
    refuse_unsafe_environment()
    if getattr(app, "_enable_mcp", False) or app.server.debug:
        raise UnsafeConfiguration("Dash's MCP server or debug mode is on")
    server = app.server
    https = settings.setting("DASHBOARD_HTTPS", overrides).strip() in ("1", "true")
    secret = settings.setting("DASHBOARD_SECRET_KEY", overrides)
    if not secret:
        log.warning("DASHBOARD_SECRET_KEY is not set: sessions end on restart")
    server.config.update(
        SECRET_KEY=secret or secrets.token_hex(32),
        SESSION_COOKIE_NAME="ctrp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=https,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PREFERRED_URL_SCHEME="https" if https else "http",
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        CTRP_HTTPS=https,
        CTRP_IDLE_SECONDS=60
        * float(settings.setting("DASHBOARD_IDLE_MINUTES", overrides)),
        CTRP_SESSION_SECONDS=3600
        * float(settings.setting("DASHBOARD_SESSION_HOURS", overrides)),
    )
    css = app.get_asset_url(LOGIN_CSS)
    auth.init(server, css)
    server.config["CTRP_PUBLIC_PATHS"] = frozenset(
        {auth.LOGIN_PATH, auth.LOGOUT_PATH, auth.HEALTH_PATH, urlsplit(css).path}
    )
    server.config["CTRP_CALLBACK_PATH"] = (
        app.config.routes_pathname_prefix + "_dash-update-component"
    )
    server.extensions["ctrp_dash_app"] = app
    server.before_request_funcs.setdefault(None, []).insert(0, gate)
    server.after_request(add_headers)
    for error in INPUT_ERRORS:
        server.register_error_handler(error, callback_input_error)
    _build_validation_layout(app)
    # one hash per distinct script (twin panels share their clientside callback)
    hashes = list(dict.fromkeys(app.csp_hashes()))
    server.config["CTRP_CSP"] = content_security_policy(hashes)


def _build_validation_layout(app: dash.Dash) -> None:
    """Let Dash's pages router run now, for nobody: page layouts see no country.

    Dash builds the validation layout (sent to every browser) by calling each page's
    layout on the first request, as whoever made it. Built here, without a session,
    it can't carry one account's view to another; and the router's clientside
    callback exists before the CSP hashes are taken.
    """
    routers = [
        func
        for func in app.server.before_request_funcs.get(None, [])
        if getattr(func, "__name__", "") in ("router_sync", "router_async")
    ]
    with app.server.test_request_context("/"):
        for router in routers:
            router()


def content_security_policy(script_hashes) -> str:
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": "'self' 'unsafe-inline'",  # plotly.js sets styles inline
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "worker-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


# -- the gate ---------------------------------------------------------------------


def gate():
    """Runs before every request; an answer returned here ends the request."""
    config = current_app.config
    auth.expire_stale_session(
        config["CTRP_IDLE_SECONDS"], config["CTRP_SESSION_SECONDS"]
    )
    path = request.path
    public = path in config["CTRP_PUBLIC_PATHS"]
    account = current_account()
    if account is None and not public:
        return _unauthenticated(path)
    if request.method not in SAFE_METHODS:
        problem = _csrf_problem()
        if problem:
            log.warning("refused %s %s: %s", request.method, path, problem)
            audit.record("csrf", f"{request.method} {path}"[:200], "denied")
            return _plain("This request was refused: reload the page.", 403)
    if request.method == "POST" and path == config["CTRP_CALLBACK_PATH"]:
        problem = callback_problem(
            current_app.extensions["ctrp_dash_app"], request.get_json(silent=True)
        )
        if problem:
            return _plain(f"Malformed callback request: {problem}.", 400)
    if request.method == "GET" and account is not None:
        page = _page_of(path)
        if page and not can_open(page):
            audit.record("denial", f"page {page['path']}", "denied")
            return _plain("You do not have access to this page.", 403)
    return None


def _unauthenticated(path: str):
    if request.method == "GET" and request.accept_mimetypes.accept_html:
        query = request.query_string.decode("latin-1")
        target = path + (f"?{query}" if query else "")
        return redirect(f"{auth.LOGIN_PATH}?next={quote(auth.safe_next(target))}")
    return _plain("Sign in first.", 401)


def _plain(text: str, status: int) -> Response:
    return Response(text + "\n", status, mimetype="text/plain")


def _csrf_problem() -> str | None:
    expected_origin = ("https" if current_app.config["CTRP_HTTPS"] else "http") + (
        "://" + request.host
    )
    origin = request.headers.get("Origin")
    if origin is None and request.referrer:
        parts = urlsplit(request.referrer)
        origin = f"{parts.scheme}://{parts.netloc}"
    if origin is None:
        return "no Origin or Referer"
    if not _same_origin(origin, expected_origin):
        return f"Origin {origin[:80]!r} is not this site"
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
    token = session.get(auth.CSRF_KEY)
    if not token or not hmac.compare_digest(str(sent).encode(), token.encode()):
        return "missing or wrong CSRF token"
    return None


def _same_origin(origin: str, expected: str) -> bool:
    if origin.lower() == expected.lower():
        return True
    # Plain http serving behind nothing: accept the request's own scheme too.
    return not current_app.config["CTRP_HTTPS"] and origin.lower() == (
        request.host_url.rstrip("/").lower()
    )


def _page_of(path: str) -> dict | None:
    """The registered page a browser asks for with this path, if any."""
    from dash._pages import _path_to_page

    if request.url_rule is None or not request.url_rule.rule.endswith(
        ("/", "<path:path>")
    ):
        return None
    app = current_app.extensions["ctrp_dash_app"]
    page, _variables = _path_to_page(app.strip_relative_path(path) or "")
    return page or None


# -- the callback envelope ----------------------------------------------------------


def callback_problem(app: dash.Dash, body) -> str | None:
    """Why this `_dash-update-component` body is not one the app's renderer sends."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    output = body.get("output")
    spec = app.callback_map.get(output) if isinstance(output, str) else None
    if spec is None or "callback" not in spec:  # clientside ones run in the browser
        return "no such callback"
    for key, declared in (("inputs", spec["inputs"]), ("state", spec["state"])):
        problem = _values_problem(body.get(key, []), declared, key)
        if problem:
            return problem
    problem = _outputs_problem(body.get("outputs"), spec)
    if problem:
        return problem
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or len(changed) > MAX_ITEMS:
        return "changedPropIds is not a list"
    if not all(isinstance(item, str) for item in changed):
        return "changedPropIds holds a non-string"
    return None


def _values_problem(given, declared: list[dict], key: str) -> str | None:
    if not isinstance(given, list) or len(given) != len(declared):
        return f"{key} do not match the callback"
    for item, spec in zip(given, declared, strict=True):
        items = item if isinstance(item, list) else [item]
        if isinstance(item, list) and (
            not _is_multi(spec["id"]) or len(item) > MAX_ITEMS
        ):
            return f"{key} do not match the callback"
        for one in items:
            if not (
                isinstance(one, dict)
                and one.get("property") == spec["property"]
                and _same_id(one.get("id"), spec["id"])
            ):
                return f"{key} do not match the callback"
            value = one.get("value")
            if spec["property"] in STRING_PROPS and not (
                value is None or isinstance(value, str)
            ):
                return f"{key} {spec['property']} is not text"
            if spec["property"] == "pathname" and not (
                isinstance(value, str) and value.startswith("/")
            ):
                return f"{key} pathname is not a path"
    return None


def _outputs_problem(given, spec: dict) -> str | None:
    if spec.get("no_output"):
        return None if given in (None, [], {}) else "outputs do not match"
    declared = spec["output"]
    multi = isinstance(declared, list | tuple)
    declared = list(declared) if multi else [declared]
    if given is None:
        return "outputs are missing"
    items = given if multi else [given]
    if not isinstance(items, list) or len(items) != len(declared):
        return "outputs do not match the callback"
    for item, out in zip(items, declared, strict=True):
        entries = item if isinstance(item, list) else [item]
        if isinstance(item, list) and not _is_multi(out.component_id):
            return "outputs do not match the callback"
        for one in entries:
            if not (
                isinstance(one, dict)
                and one.get("property") == out.component_property
                and _same_id(one.get("id"), _plain_id(out.component_id))
            ):
                return "outputs do not match the callback"
    return None


def _plain_id(component_id):
    """A declared id as the renderer names it (wildcards as their JSON form)."""
    if isinstance(component_id, str) and component_id.startswith("{"):
        return json.loads(component_id)  # a pattern id, as callback_map keeps it
    if isinstance(component_id, dict):
        return {
            key: (json.loads(value.to_json()) if hasattr(value, "to_json") else value)
            for key, value in component_id.items()
        }
    return component_id


def _is_wildcard(value) -> bool:
    return isinstance(value, list) and value in (["ALL"], ["MATCH"], ["ALLSMALLER"])


def _is_multi(component_id) -> bool:
    component_id = _plain_id(component_id)
    return isinstance(component_id, dict) and any(
        value in (["ALL"], ["ALLSMALLER"]) for value in component_id.values()
    )


def _same_id(given, declared) -> bool:
    declared = _plain_id(declared)
    if isinstance(declared, str):
        return given == declared
    if not isinstance(given, dict) or set(given) != set(declared):
        return False
    for key, value in declared.items():
        if _is_wildcard(value):
            if not isinstance(given[key], str | int | float | bool):
                return False
        elif given[key] != value:
            return False
    return True


def callback_input_error(error: Exception):
    """A callback choking on a forged input answers 400, not 500; the log keeps the
    traceback, so the page can still be taught to check its inputs."""
    if request.path != current_app.config["CTRP_CALLBACK_PATH"]:
        raise error
    log.exception("callback refused its input: %s", type(error).__name__)
    return _plain("This request could not be answered.", 400)


# -- headers ----------------------------------------------------------------------


def add_headers(response: Response) -> Response:
    config = current_app.config
    headers = response.headers
    headers["Content-Security-Policy"] = config["CTRP_CSP"]
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if config["CTRP_HTTPS"]:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    static = request.path.startswith(("/assets/", "/_dash-component-suites/"))
    if not static:
        headers["Cache-Control"] = "no-store"
    token = session.get(auth.CSRF_KEY)
    if token and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=False,  # the renderer reads it to send the X-CSRFToken header
            secure=config["CTRP_HTTPS"],
            samesite="Strict",
        )
    return response
