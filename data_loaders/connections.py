"""Opening a country database: read-only, and never longer than its timeout.

A read-only session is a safety net, not a lock: the real guard is an account with
SELECT only (README, "Grants for a country's IT").

- SQLite: opened with `mode=ro`; a progress handler stops any statement that runs
  past its deadline (SQLite has no statement timeout of its own).
- PostgreSQL: `default_transaction_read_only` and `statement_timeout` for the session.
- MariaDB / MySQL: `SET SESSION TRANSACTION READ ONLY` and `max_statement_time`
  (MariaDB) or `max_execution_time` (MySQL).
"""

from __future__ import annotations

import math
import time

import sqlalchemy as sa

from data_loaders.contract import TABLES
from data_loaders.sources import Source

CONNECT_TIMEOUT = 10  # seconds to wait for a server before calling it unreachable
PROGRESS_STEPS = 10_000  # SQLite VM steps between two deadline checks


class SchemaError(RuntimeError):
    """A contract table or column is missing from a country database."""


def source_engine(source: Source) -> sa.Engine:
    """An engine on one country's database that cannot write and cannot hang."""
    url = sa.make_url(source.url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, source.timeout_seconds)
    if backend == "postgresql":
        return _postgresql_engine(url, source.timeout_seconds)
    if backend in ("mysql", "mariadb"):
        return _mysql_engine(url, source.timeout_seconds)
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def _sqlite_engine(url: sa.URL, seconds: float) -> sa.Engine:
    database = url.database or ""
    if not database.startswith("file:"):
        # Turn a plain path into a read-only URI: an INSERT then fails.
        url = url.set(database=f"file:{database}", query={"mode": "ro", "uri": "true"})
    elif url.query.get("mode") != "ro":
        url = url.update_query_dict({"mode": "ro", "uri": "true"})
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _deadline_handler(dbapi_connection, record):
        deadline = record.info["deadline"] = [math.inf]
        dbapi_connection.set_progress_handler(
            lambda: time.monotonic() > deadline[0], PROGRESS_STEPS
        )

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _start_clock(connection, cursor, statement, parameters, context, many):
        connection.info["deadline"][0] = time.monotonic() + seconds

    return engine


def _postgresql_engine(url: sa.URL, seconds: float) -> sa.Engine:
    options = (
        f"-c statement_timeout={int(seconds * 1000)} "
        "-c default_transaction_read_only=on "
        f"-c idle_in_transaction_session_timeout={int(seconds * 2000)}"
    )
    return sa.create_engine(
        url,
        poolclass=sa.pool.NullPool,
        connect_args={
            "connect_timeout": _connect_timeout(seconds),
            "options": options,
            "application_name": "ctrp-loader",
        },
    )


def _mysql_engine(url: sa.URL, seconds: float) -> sa.Engine:
    engine = sa.create_engine(
        url,
        poolclass=sa.pool.NullPool,
        connect_args={
            "connect_timeout": _connect_timeout(seconds),
            # the network read gives up a little after the server should have
            "read_timeout": math.ceil(seconds) + 5,
            "charset": "utf8mb4",
        },
    )

    @sa.event.listens_for(engine, "connect")
    def _bound_session(dbapi_connection, record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            try:  # MariaDB: seconds
                cursor.execute(f"SET SESSION max_statement_time = {float(seconds)}")
            except Exception:  # MySQL: milliseconds, SELECT only
                cursor.execute(
                    f"SET SESSION max_execution_time = {int(seconds * 1000)}"
                )

    return engine


def _connect_timeout(seconds: float) -> int:
    return max(1, min(CONNECT_TIMEOUT, math.ceil(seconds)))


def inspect_names(connection: sa.Connection, source: Source) -> dict[str, set[str]]:
    """Columns of each contract table as this database names it (absent: missing)."""
    inspector = sa.inspect(connection)
    names = {}
    for table in TABLES:
        real = source.table_name(table)
        if inspector.has_table(real):
            names[table] = {column["name"] for column in inspector.get_columns(real)}
    return names


def schema_problems(
    source: Source, names: dict[str, set[str]], mapped_only: bool = False
) -> list[str]:
    """What the queries would miss, each said so a country's IT can fix it.

    `mapped_only`: only the names the sources file maps (a wrong mapping is a
    configuration error; an unmapped missing name is the database's problem).
    """
    problems = []
    for table, columns in TABLES.items():
        real = source.table_name(table)
        mapped_table = table in source.tables
        if table not in names:
            if mapped_table or not mapped_only:
                problems.append(_missing_table(source, table, real))
            continue
        for column in columns:
            real_column = source.column_name(table, column)
            mapped = column in source.columns.get(table, {})
            if real_column not in names[table] and (mapped or not mapped_only):
                problems.append(_missing_column(source, table, column, real_column))
    return problems


def _missing_table(source: Source, table: str, real: str) -> str:
    if real != table:
        return (
            f"table {real!r} (mapped from {table}) does not exist; fix "
            f"[countries.{source.country}.tables] {table} = ..."
        )
    return (
        f"table {table!r} does not exist; if it has another name, map it under "
        f"[countries.{source.country}.tables]"
    )


def _missing_column(source: Source, table: str, column: str, real: str) -> str:
    where = f"[countries.{source.country}.columns.{table}]"
    if real != column:
        return (
            f"column {table}.{real} (mapped from {column}) does not exist; fix {where}"
        )
    return (
        f"column {table}.{column} does not exist (renamed?); map it under {where} "
        f'as {column} = "<its name>"'
    )


def check_schema(connection: sa.Connection, source: Source) -> None:
    """Raise SchemaError, one line, when a contract table or column is missing."""
    problems = schema_problems(source, inspect_names(connection, source))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SchemaError(problems[0] + more)
