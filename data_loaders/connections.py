"""Opening a country database: read-only, and never longer than its timeout.

A read-only session is a safety net, not a lock: the real guard is an account with
SELECT only (README, "Grants for a country's IT").
"""

from __future__ import annotations

import sqlalchemy as sa

from data_loaders.sources import Source


def source_engine(source: Source) -> sa.Engine:
    """An engine on one country's database that cannot write."""
    url = sa.make_url(source.url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    database = url.database or ""
    if not database.startswith("file:"):
        # Turn a plain path into a read-only URI: an INSERT then fails.
        url = url.set(database=f"file:{database}", query={"mode": "ro", "uri": "true"})
    return sa.create_engine(url, poolclass=sa.pool.NullPool)
