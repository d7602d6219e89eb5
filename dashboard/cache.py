"""The cache of warehouse reads (Flask-Caching), keyed by the warehouse snapshot.

What is cached: results of dashboard.data reads that are the same for every user (they
cover every country). The countries a request may see are applied after the cache, in
dashboard.data, so a scoped result is never stored, let alone under an unscoped key.

Keys: `ctrp:<warehouse>:<read>:<snapshot version>:<arguments>`. A sync, a failed sync
attempt or a changed target changes the version, so a stale entry is never read again
and simply expires. The warehouse part keeps two dashboards that share one Redis apart.

Where: in-process (SimpleCache) by default; Redis when DASHBOARD_CACHE_URL is set, so
several gunicorn workers share one cache. If Redis stops answering, pages read the
warehouse directly and the log says so; they do not fail.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time

import sqlalchemy as sa
from flask import Flask
from flask_caching import Cache

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 24 * 3600  # entries of old snapshots go away within a day
IN_PROCESS_ENTRIES = 1000  # SimpleCache prunes beyond this many entries
RETRY_AFTER_SECONDS = 30  # after a Redis error, read the warehouse directly for a while


class ReadCache:
    """Get-or-compute over a Flask-Caching backend, with versioned keys."""

    def __init__(self, cache: Cache, prefix: str):
        self.cache = cache
        self.prefix = prefix
        self._down_until = 0.0

    def key(self, name: str, version: str, args: tuple) -> str:
        digest = hashlib.sha256(repr(args).encode()).hexdigest()[:24]
        return f"{self.prefix}{name}:{version}:{digest}"

    def read(self, name: str, version: str, args: tuple, compute):
        key = self.key(name, version, args)
        if time.monotonic() < self._down_until:
            return compute(*args)
        try:
            value = self.cache.get(key)
        except Exception as error:  # a Redis outage must not take the pages down
            self._fail("read", error)
            return compute(*args)
        if value is None:
            value = compute(*args)
            try:
                self.cache.set(key, value, timeout=TIMEOUT_SECONDS)
            except Exception as error:
                self._fail("write", error)
        return value

    def clear(self) -> None:
        self.cache.clear()

    def _fail(self, what: str, error: Exception) -> None:
        log.warning("cache %s failed, reading the warehouse directly: %s", what, error)
        self._down_until = time.monotonic() + RETRY_AFTER_SECONDS


def install(server: Flask, warehouse, url: str = "", prefix: str = "") -> ReadCache:
    """Give `warehouse` (dashboard.data.Warehouse) a cache: Redis at `url`, or
    in-process when `url` is empty. Keys start with `prefix`, by default one
    derived from the warehouse's URL."""
    prefix = prefix or f"ctrp:{warehouse_id(warehouse.engine.url)}:"
    if url:
        config = {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": url,
            "CACHE_KEY_PREFIX": prefix,
            "CACHE_OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        }
        prefix = ""  # Flask-Caching adds it to every Redis key
    else:
        config = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": IN_PROCESS_ENTRIES}
    config["CACHE_DEFAULT_TIMEOUT"] = TIMEOUT_SECONDS
    cache = Cache()
    cache.init_app(server, config=config)
    warehouse.cache = ReadCache(cache, prefix)
    return warehouse.cache


def warehouse_id(url: sa.URL) -> str:
    """A short name for one warehouse: its URL (no password), a SQLite file's
    absolute path."""
    if url.get_backend_name() == "sqlite" and url.database:
        url = url.set(database=os.path.abspath(url.database))
    text = url.render_as_string(hide_password=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
