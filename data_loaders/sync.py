"""Pull every country: snapshot, store, one progress line each; failures isolated.

Countries run concurrently (threads: the work is in the databases, which release the
GIL). One country's failure is recorded with a reason its IT can act on, its last
good snapshot stays (and is flagged stale, see `warehouse.country_status`), and the
others go on.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

import sqlalchemy as sa

from data_loaders import warehouse
from data_loaders.connections import SchemaError
from data_loaders.programme import Programme
from data_loaders.snapshot import Snapshot, take_snapshot
from data_loaders.sources import Source

log = logging.getLogger(__name__)
MAX_WORKERS = 8
# A SQLite source is read by this process, on this machine's cores: more of them at
# once than cores only stretches each statement towards its time limit. Servers do
# their own work, so up to MAX_WORKERS of those run at once.
LOCAL_SLOTS = max(1, os.cpu_count() or 1)
_local_work = threading.BoundedSemaphore(LOCAL_SLOTS)
KEPT_AS_UNKNOWN = {
    "sex_unknown_code",
    "birth_year_unusable",
    "activity_unknown_code",
    "agency_unknown_code",
    "outcome_unknown_code",
}


@dataclass(frozen=True)
class Outcome:
    country: str
    ok: bool
    message: str
    seconds: float
    quality: list[dict] = field(default_factory=list)


def sync_country(
    engine: sa.Engine,
    source: Source,
    programme: Programme,
    write_lock: threading.Lock | None = None,
    run_id: int | None = None,
) -> Outcome:
    """Snapshot one country into the warehouse; on failure keep its last good one.

    `run_id`: a run already recorded as running (a sync claimed by the dashboard,
    see sync_job); by default a new one is started."""
    lock = write_lock or threading.Lock()
    started = time.perf_counter()
    if run_id is None:
        with lock:
            run_id = warehouse.start_run(
                engine, source.country, "pull", source.synthetic
            )
    try:
        if sa.make_url(source.url).get_backend_name() == "sqlite":
            with _local_work:
                snapshot = take_snapshot(source, programme)
        else:
            snapshot = take_snapshot(source, programme)
        with lock:
            store(engine, run_id, snapshot)
    except Exception as error:  # one country's failure must not stop the others
        reason = describe_failure(error, source)
        log.info("sync of %s failed", source.country, exc_info=True)
        with lock:
            warehouse.fail_run(engine, run_id, reason)
        return Outcome(source.country, False, reason, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    suppressed = int((snapshot.cells["status"] == "suppressed").sum())
    message = (
        f"{len(snapshot.cells)} cells ({suppressed} suppressed), "
        f"{len(snapshot.sites)} sites"
    )
    return Outcome(source.country, True, message, seconds, snapshot.quality)


def store(engine: sa.Engine, run_id: int, snapshot: Snapshot) -> None:
    warehouse.store_snapshot(
        engine,
        run_id,
        snapshot.country,
        snapshot.cells,
        snapshot.sites,
        snapshot.quality,
    )


def sync_all(
    engine: sa.Engine,
    sources: dict[str, Source],
    programme: Programme,
    echo=print,
    run_ids: dict[str, int] | None = None,
) -> list[Outcome]:
    """Sync every country concurrently; a line per country as each one ends.

    `run_ids`: per country, a run already recorded as running (see sync_job)."""
    run_ids = run_ids or {}
    warehouse.seed_targets(engine, programme)
    # Writes are short; one at a time keeps SQLite free of lock contention.
    lock = threading.Lock()
    outcomes = []
    workers = max(1, min(MAX_WORKERS, len(sources)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
        futures = [
            pool.submit(
                sync_country,
                engine,
                source,
                programme,
                lock,
                run_ids.get(source.country),
            )
            for source in sources.values()
        ]
        for future in as_completed(futures):
            outcome = future.result()
            echo(progress_line(outcome))
            if outcome.ok:
                echo(quality_line(outcome.quality))
            outcomes.append(outcome)
    order = list(sources)
    return sorted(outcomes, key=lambda o: order.index(o.country))


def progress_line(outcome: Outcome) -> str:
    status = "ok" if outcome.ok else "FAILED"
    return f"{outcome.country}  {status:6}  {outcome.seconds:6.1f} s  {outcome.message}"


def quality_line(quality: list[dict]) -> str:
    """The §2 data-quality counts in one line: what was left out, what kept."""
    left_out = [q for q in quality if q["rows"] and q["rule"] not in KEPT_AS_UNKNOWN]
    unknown = [q for q in quality if q["rows"] and q["rule"] in KEPT_AS_UNKNOWN]

    def listed(rows):
        return ", ".join(f"{q['table_name']}.{q['rule']} {q['rows']}" for q in rows)

    return (
        f"    data quality: left out {sum(q['rows'] for q in left_out)} rows"
        + (f" ({listed(left_out)})" if left_out else "")
        + f"; kept as unknown {sum(q['rows'] for q in unknown)}"
        + (f" ({listed(unknown)})" if unknown else "")
    )


# What the database drivers say, and what a country's IT person should hear.
_TIMEOUT = (
    "interrupted",  # SQLite progress handler
    "statement timeout",  # PostgreSQL
    "max_statement_time",  # MariaDB
    "maximum statement execution time",  # MySQL
    "lost connection to mysql server during query",  # read_timeout
    "timed out",
)
_UNREACHABLE = (
    "connection refused",
    "could not connect",
    "can't connect",
    "could not translate host name",
    "name or service not known",
    "no route to host",
    "timeout expired",
    "network is unreachable",
    "unknown mysql server host",
)
_PASSWORD = ("password authentication failed", "access denied", "no password supplied")
_NO_DATABASE = ("unknown database", "does not exist")
_NO_FILE = ("unable to open database file",)


def describe_failure(error: Exception, source: Source | None = None) -> str:
    """One line a country's IT person understands (the log keeps the traceback)."""
    if isinstance(error, SchemaError):
        return str(error)
    text = str(getattr(error, "orig", None) or error).strip()
    lower = text.lower()
    first = text.splitlines()[0] if text else "no detail"
    url = sa.make_url(source.url) if source else None
    where = _where(url)
    limit = f"{source.timeout_seconds:g} s" if source else "its"
    if any(marker in lower for marker in _PASSWORD):
        user = url.username if url is not None and url.username else "the loader"
        return (
            f"{where} refused the password of user {user!r}: check the password "
            "variable and the account's grants (README)"
        )
    if any(marker in lower for marker in _UNREACHABLE):
        return (
            f"cannot reach {where}: the server is down, the address is wrong, or "
            "a firewall blocks the regional server"
        )
    if any(marker in lower for marker in _TIMEOUT):
        return (
            f"a query ran past the {limit} limit and was stopped: the database "
            "is slow or overloaded (raise timeout_seconds in the sources file, or "
            "check the indexes in the README)"
        )
    if any(marker in lower for marker in _NO_FILE):
        return f"cannot open {where}: no such file, or the loader may not read it"
    if "table" in lower and ("no such" in lower or "doesn't exist" in lower):
        return f"a table is missing in {where}: {first}"
    if "column" in lower and ("no such" in lower or "unknown" in lower):
        return f"a column is missing in {where} (renamed?): {first}"
    if any(marker in lower for marker in _NO_DATABASE):
        return f"{where}: {first}"
    return f"{type(error).__name__}: {first}"


def _where(url: sa.URL | None) -> str:
    if url is None:
        return "the database"
    if url.get_backend_name() == "sqlite":
        database = (url.database or "").removeprefix("file:").split("?")[0]
        return f"the database file {database}"
    port = f":{url.port}" if url.port else ""
    return f"the database server {url.host or 'localhost'}{port}/{url.database or ''}"
