"""The regional warehouse (CONTRACT §6): protected aggregates only, never a child.

Any SQLAlchemy database: a SQLite file by default, PostgreSQL for several workers. A
country's snapshot is replaced in one transaction, so a reader sees the old or the new
one, never a mix, and a failed sync leaves the last good one in place.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

DEFAULT_WAREHOUSE = "sqlite:///var/warehouse.sqlite"

metadata = sa.MetaData()

cells = sa.Table(
    "cells",
    metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("site", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(6), primary_key=True),
    sa.Column("indicator", sa.String(64), primary_key=True),
    sa.Column("sex", sa.String(3), primary_key=True),
    sa.Column("age_band", sa.String(5), primary_key=True),
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=True),  # empty when suppressed
    sa.Column("status", sa.String(10), nullable=False),
    sa.Index("cells_by_indicator", "indicator", "period", "country"),
)

sites = sa.Table(
    "sites",
    metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("site_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    # name, municipality and coordinates only where the location is public (§2)
    sa.Column("name", sa.String(200)),
    sa.Column("municipality", sa.String(200)),
    sa.Column("latitude", sa.Float),
    sa.Column("longitude", sa.Float),
    sa.Column("public_location", sa.Boolean, nullable=False),
    sa.Column("opened_on", sa.String(10)),
    sa.Column("closed_on", sa.String(10)),
)

sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("country", sa.String(2), nullable=False, index=True),
    sa.Column("method", sa.String(10), nullable=False),  # pull or import
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("status", sa.String(10), nullable=False),  # running, ok, failed
    sa.Column("error", sa.Text),
    sa.Column("rows", sa.Integer),
    sa.Column("synthetic", sa.Boolean, nullable=False, default=False),
    sa.Column("loader_version", sa.String(20)),
)

quality = sa.Table(
    "quality",
    metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("table_name", sa.String(20), primary_key=True),
    sa.Column("rule", sa.String(40), primary_key=True),
    sa.Column("rows", sa.Integer, nullable=False),
)

targets = sa.Table(
    "targets",
    metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("indicator", sa.String(64), primary_key=True),
    sa.Column("year", sa.String(4), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
    sa.Column("updated_by", sa.String(100)),
    sa.Column("updated_at", sa.DateTime),
)

# A free-text note on one country, for the whole programme (period ALL) or one
# quarter, written on the targets page and shown on the country page. Words of the
# programme team about the work, never about a child.
NOTE_LENGTH = 2000
notes = sa.Table(
    "notes",
    metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("period", sa.String(6), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(100), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Accounts and the audit log (CONTRACT §6, §10), written by dashboard.users,
# dashboard.audit and data_loaders.audit_log. A password is kept only as its Argon2id
# hash.
accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("countries", sa.String(200), nullable=False, default=""),  # "BA RS"
    # bumped by logout, passwd and remove: every session issued before ends at once
    sa.Column("session_epoch", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("last_login_at", sa.DateTime),
)

# Append-only: who, when, what, scope, outcome; never a figure.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
    sa.Column("actor", sa.String(64), nullable=False),  # account, "-" or "cli:<user>"
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("scope", sa.String(200), nullable=False),
    sa.Column("outcome", sa.String(12), nullable=False),
)
for _statement in (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
):
    sa.event.listen(
        audit_log, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
):
    sa.event.listen(
        audit_log, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql")
    )


def warehouse_url(url: str | None = None) -> str:
    return url or os.environ.get("DASHBOARD_WAREHOUSE_URL") or DEFAULT_WAREHOUSE


def warehouse_engine(url: str | None = None) -> sa.Engine:
    """An engine on the warehouse, its tables created if missing."""
    url = sa.make_url(warehouse_url(url))
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    if url.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_wal)
    metadata.create_all(engine)
    return engine


def _sqlite_wal(dbapi_connection, _record) -> None:
    # WAL: readers keep the old snapshot while a sync writes the new one.
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA busy_timeout=10000")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def start_run(engine: sa.Engine, country: str, method: str, synthetic: bool) -> int:
    from data_loaders import __version__

    with engine.begin() as connection:
        result = connection.execute(
            sa.insert(sync_runs).values(
                country=country,
                method=method,
                started_at=now(),
                status="running",
                synthetic=synthetic,
                loader_version=__version__,
            )
        )
        return result.inserted_primary_key[0]


def fail_run(engine: sa.Engine, run_id: int, reason: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.update(sync_runs)
            .where(sync_runs.c.id == run_id)
            .values(finished_at=now(), status="failed", error=reason)
        )


def store_snapshot(
    engine: sa.Engine,
    run_id: int,
    country: str,
    published_cells: pd.DataFrame,
    site_rows: list[dict],
    quality_rows: list[dict],
) -> None:
    """Replace one country's snapshot in a single transaction and close its run."""
    if "true_value" in published_cells:
        raise ValueError("true values must never reach the warehouse")
    names = [column.name for column in cells.columns]
    value = published_cells["value"].astype("Int64")
    columns = [
        [None if v is pd.NA else int(v) for v in value.astype(object)]
        if name == "value"
        else published_cells[name].tolist()
        for name in names
    ]
    cell_rows = [
        dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)
    ]
    with engine.begin() as connection:
        for table in (cells, sites, quality):
            connection.execute(sa.delete(table).where(table.c.country == country))
        connection.execute(sa.insert(cells), cell_rows)
        if site_rows:
            connection.execute(sa.insert(sites), site_rows)
        if quality_rows:
            connection.execute(sa.insert(quality), quality_rows)
        connection.execute(
            sa.update(sync_runs)
            .where(sync_runs.c.id == run_id)
            .values(finished_at=now(), status="ok", rows=len(cell_rows))
        )


def seed_targets(engine: sa.Engine, programme) -> int:
    """Write the programme's demo targets where no target was set yet."""
    with engine.begin() as connection:
        existing = set(
            connection.execute(
                sa.select(targets.c.country, targets.c.indicator, targets.c.year)
            )
        )
        rows = [
            {
                "country": country,
                "indicator": code,
                "year": year,
                "value": programme.target(code, country, year),
                "updated_by": "programme",
                "updated_at": now(),
            }
            for country in programme.countries
            for code in programme.indicators
            for year in programme.years
            if (country, code, year) not in existing
        ]
        if rows:
            connection.execute(sa.insert(targets), rows)
    return len(rows)


class EditConflict(RuntimeError):
    """Targets changed by someone else since the editor loaded them:
    [(indicator, year, updated_by)]."""

    def __init__(self, cells: list[tuple[str, str, str | None]]):
        super().__init__(f"{len(cells)} target(s) changed meanwhile")
        self.cells = cells


def save_targets(
    engine: sa.Engine,
    country: str,
    values: dict[tuple[str, str], int],
    by: str,
    expected: dict[tuple[str, str], int | None] | None = None,
) -> None:
    """Set targets of one country, {(indicator, year): value}, all in one
    transaction: a save is all or nothing. The caller validated the values.

    `expected`: the value each cell held when the editor loaded it (None: no
    target). If another save changed one since, raise EditConflict and write
    nothing, so two people editing at once never overwrite each other unseen.
    Each write is a compare-and-set (UPDATE … WHERE value = expected, or an INSERT
    the primary key refuses), which holds on every engine."""
    changed = {"updated_by": by, "updated_at": now()}
    expected = expected or {}
    conflicts, cell = [], None
    try:
        with engine.begin() as connection:
            for (indicator, year), value in sorted(values.items()):
                cell = {"country": country, "indicator": indicator, "year": year}
                was = expected.get((indicator, year), ANY)
                if not _set_target(connection, cell, {"value": value, **changed}, was):
                    conflicts.append((indicator, year))
            if conflicts:
                raise _Undo  # leaving the block by an exception rolls it all back
    except _Undo:
        pass
    except sa.exc.IntegrityError:  # another save inserted the same cell just now
        conflicts = [(cell["indicator"], cell["year"])]
    if conflicts:
        raise EditConflict(_last_editors(engine, country, conflicts))


ANY = object()  # no expectation: overwrite whatever the cell holds


class _Undo(Exception):
    """Raised inside a transaction to roll it back."""


def _set_target(connection: sa.Connection, cell: dict, changed: dict, was) -> bool:
    """Write one cell if it still holds `was`; whether it was written."""
    key = sa.and_(*(targets.c[name] == value for name, value in cell.items()))
    if was is not None:
        guarded = key if was is ANY else key & (targets.c.value == was)
        done = connection.execute(sa.update(targets).where(guarded).values(changed))
        if done.rowcount == 1 or was is not ANY:
            return done.rowcount == 1
    if connection.execute(sa.select(targets.c.value).where(key)).first():
        return False  # the editor saw no target, and now there is one
    connection.execute(sa.insert(targets).values(**cell, **changed))
    return True


def _last_editors(engine, country, cells) -> list[tuple[str, str, str | None]]:
    """Who last changed each of these cells of `country`."""
    query = sa.select(targets.c.indicator, targets.c.year, targets.c.updated_by).where(
        targets.c.country == country
    )
    with engine.connect() as connection:
        rows = {(r.indicator, r.year): r.updated_by for r in connection.execute(query)}
    return [(code, year, rows.get((code, year))) for code, year in cells]


def save_note(
    engine: sa.Engine,
    country: str,
    period: str,
    text: str,
    by: str,
    expected: str | None = None,
):
    """Set (or, with empty text, remove) the note of one country and period.

    `expected`: the note's text when the editor loaded it ("" for none; None: do
    not check). If another save changed it since, raise EditConflict
    [("note", period, who)] and write nothing: the removal of the old note is a
    compare-and-set, and a new note's INSERT is refused by the primary key."""
    if len(text) > NOTE_LENGTH:
        raise ValueError(f"a note holds at most {NOTE_LENGTH} characters")
    key = (notes.c.country == country) & (notes.c.period == period)
    try:
        with engine.begin() as connection:
            if expected != "":  # the editor saw a note (or does not say)
                guarded = key if expected is None else key & (notes.c.text == expected)
                removed = connection.execute(sa.delete(notes).where(guarded)).rowcount
                if expected is not None and removed != 1:
                    raise _Undo
            if text:
                connection.execute(
                    sa.insert(notes).values(
                        country=country,
                        period=period,
                        text=text,
                        updated_by=by,
                        updated_at=now(),
                    )
                )
    except (_Undo, sa.exc.IntegrityError):
        with engine.connect() as connection:
            who = connection.execute(sa.select(notes.c.updated_by).where(key)).scalar()
        raise EditConflict([("note", period, who)]) from None


def read_cells(engine: sa.Engine, country: str | None = None) -> pd.DataFrame:
    query = sa.select(cells).order_by(*cells.primary_key.columns)
    if country:
        query = query.where(cells.c.country == country)
    with engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    frame["value"] = frame["value"].astype("Int64")
    return frame


def country_status(engine: sa.Engine) -> dict[str, dict]:
    """Per country: its last run and its last good one, and whether what the
    warehouse holds is stale (the last run failed after the last good one).

    Derived from sync_runs, so it cannot drift from them. Keys of each entry:
    last_status, last_started_at, last_error, last_method, ok_at (finished time of
    the last good run, or None), stale.
    """
    query = sa.select(
        sync_runs.c.country,
        sync_runs.c.status,
        sync_runs.c.started_at,
        sync_runs.c.finished_at,
        sync_runs.c.error,
        sync_runs.c.method,
    ).order_by(sync_runs.c.id)
    status: dict[str, dict] = {}
    with engine.connect() as connection:
        for run in connection.execute(query):
            entry = status.setdefault(run.country, {"ok_at": None})
            if run.status == "running":
                continue  # still going (or killed): says nothing yet
            entry.update(
                last_status=run.status,
                last_started_at=run.started_at,
                last_error=run.error,
                last_method=run.method,
            )
            if run.status == "ok":
                entry["ok_at"] = run.finished_at
    for entry in status.values():
        entry.setdefault("last_status", None)
        entry["stale"] = entry["last_status"] == "failed" and entry["ok_at"] is not None
    return status


def stale_countries(engine: sa.Engine) -> set[str]:
    """Countries whose cells are the last good snapshot of a failed sync since."""
    return {c for c, entry in country_status(engine).items() if entry["stale"]}
