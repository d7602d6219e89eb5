"""Writing and reading the append-only audit log (CONTRACT §6, §10).

One row says who did what, when, in which scope, and how it ended; never a figure.
The dashboard writes through `dashboard.audit.record`; the loader's commands through
`record_cli`. Nothing updates or deletes a row (the database refuses it too).
"""

from __future__ import annotations

import getpass
import re

import sqlalchemy as sa

from data_loaders.warehouse import audit_log, now

# Column widths of the table; longer text is cut, never refused.
WIDTHS = {
    "actor": 64,
    "role": 20,
    "address": 64,
    "action": 20,
    "target": 200,
    "scope": 200,
    "outcome": 12,
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean(text, width: int) -> str:
    """Printable, single-line and within the column: a forged value can't fake rows."""
    return _CONTROL.sub("?", str(text))[:width]


def write(
    engine: sa.Engine,
    *,
    actor: str,
    role: str,
    address: str,
    action: str,
    target: str,
    scope: str,
    outcome: str,
) -> None:
    values = {
        "actor": actor,
        "role": role,
        "address": address,
        "action": action,
        "target": target,
        "scope": scope,
        "outcome": outcome,
    }
    row = {name: clean(value, WIDTHS[name]) for name, value in values.items()}
    with engine.begin() as connection:
        connection.execute(sa.insert(audit_log).values(at=now(), **row))


def record_cli(
    engine: sa.Engine, action: str, target: str, outcome: str, scope: str = ""
) -> None:
    """A record for a command run on the server (sync, import, accounts)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = "unknown"
    write(
        engine,
        actor=f"cli:{user}",
        role="cli",
        address="local",
        action=action,
        target=target,
        scope=scope,
        outcome=outcome,
    )


def recent_failures(
    engine: sa.Engine, since, address: str, target: str, actions=("login",)
) -> int:
    """Failed or throttled attempts since `since` from one address or on one target."""
    query = sa.select(sa.func.count()).where(
        audit_log.c.at >= since,
        audit_log.c.action.in_(list(actions)),
        audit_log.c.outcome.in_(["failed", "throttled"]),
        sa.or_(audit_log.c.address == address, audit_log.c.target == target),
    )
    with engine.connect() as connection:
        return connection.execute(query).scalar() or 0


def read(
    engine: sa.Engine,
    limit: int = 500,
    action: str | None = None,
    actor: str | None = None,
) -> list[dict]:
    """The newest records first, optionally of one action or one actor."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if action:
        query = query.where(audit_log.c.action == action)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]
