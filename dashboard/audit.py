"""The audit log as the pages use it: `record(...)` for every login, failed login,
denial, export, edit, sync and import; `recent(...)` for the audit-log page.

    audit.record("edit", "targets RS children_reached 2010", "ok")
    audit.record("export", "cells CSV", "ok", scope="BA ME")

Who (account, role, address) and when come from the request. Never put a figure in
`target` or `scope`: the log says what was touched, not what it held.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import has_request_context, request

from dashboard.data import warehouse
from data_loaders import audit_log

OUTCOMES = ("ok", "failed", "denied", "throttled")


def record(
    action: str,
    target: str,
    outcome: str,
    scope: str | None = None,
    actor: str | None = None,
) -> None:
    """Append one record for the current request (`actor` for a not-yet account)."""
    who = _who(scope)
    if actor:
        who["actor"] = actor
    audit_log.write(
        warehouse().engine, action=action, target=target, outcome=outcome, **who
    )


def later(action: str, target: str) -> Callable[[str], None]:
    """`write(outcome)`: the record of the current request's account, written later
    (by a background thread, which has no request), once the outcome is known."""
    engine, who = warehouse().engine, _who()
    return lambda outcome: audit_log.write(
        engine, action=action, target=target, outcome=outcome, **who
    )


def _who(scope: str | None = None) -> dict:
    """Actor, role, address and scope of the current request."""
    from dashboard import scope as scopes

    account = scopes.current_account()
    address = request.remote_addr if has_request_context() else None
    return {
        "actor": account.username if account else "-",
        "role": account.role if account else "-",
        "address": address or "-",
        "scope": scopes.describe(account) if scope is None else scope,
    }


def recent(limit: int = 500, action: str | None = None, actor: str | None = None):
    return audit_log.read(warehouse().engine, limit=limit, action=action, actor=actor)
