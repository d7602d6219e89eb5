"""Throw-away databases on the machine's PostgreSQL and MariaDB servers.

Each test run creates its own uniquely named database and drops it afterwards, so
runs never see each other's data. A missing server skips the test, or fails it under
CTRP_REQUIRE_ALL=1 (tests/conftest.py::require_server).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from tests.conftest import require_server

ADMIN_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "mariadb": "mariadb+pymysql://root@127.0.0.1:3306/mysql",
}
KINDS = {"postgresql": "postgresql", "mariadb": "mariadb"}


@contextmanager
def server_database(kind: str) -> Iterator[str]:
    """A new empty database on the local `kind` server; yields its URL."""
    require_server(KINDS[kind])
    name = f"ctrp_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.make_url(ADMIN_URLS[kind])
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            if kind == "postgresql":
                connection.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                )
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        engine.dispose()


def copy_warehouse(url: str, target) -> str:
    """A copy of a SQLite warehouse, WAL included (a file copy could miss commits
    still in the -wal file); returns the copy's URL."""
    import sqlite3

    source = sqlite3.connect(sa.make_url(url).database)
    copy = sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{target}"
