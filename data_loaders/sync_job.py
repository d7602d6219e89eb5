"""A sync of every country started from the dashboard: claimed in the warehouse, run
in a background thread, followed through `sync_runs`.

One sync at a time, across processes (gunicorn workers share one warehouse):
`start` records a "running" run per country, then withdraws them and refuses if any
other recent run is still running (so of two workers starting at the same moment,
at most one goes on). An in-process lock, held until the thread ends, keeps a
second request of the same worker from getting that far. Progress is read back
from `sync_runs` by run id, so any worker can answer the page that polls it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa

from data_loaders import __version__, warehouse
from data_loaders.programme import Programme
from data_loaders.sources import Source
from data_loaders.sync import Outcome, sync_all

log = logging.getLogger(__name__)
runs = warehouse.sync_runs

# A run still "running" after this long belongs to a process that died (a sync of
# the seven countries takes minutes): it blocks nothing and is shown as stopped.
RECENT = dt.timedelta(hours=1)
MAX_RUNS = 100  # run ids one progress question may name
_one_at_a_time = threading.Lock()


class AlreadyRunning(RuntimeError):
    """Another sync is running: since when (UTC) and its runs, to follow them."""

    def __init__(self, since: dt.datetime, run_ids: list[int]):
        super().__init__(f"a sync is already running since {since:%H:%M} UTC")
        self.since, self.run_ids = since, run_ids


def start(
    engine: sa.Engine,
    sources: dict[str, Source],
    programme: Programme,
    finished: Callable[[list[Outcome] | None], None] = lambda outcomes: None,
) -> list[int]:
    """Claim a sync of `sources` and run it in a thread; return its run ids at once.

    Raises AlreadyRunning. `finished(outcomes)` is called in the thread at the end
    (outcomes None when the sync stopped on an unexpected error)."""
    if not _one_at_a_time.acquire(blocking=False):
        busy = running(engine)
        raise AlreadyRunning(busy[0]["started_at"] if busy else now(), _ids(busy))
    try:
        run_ids = claim(engine, sources)
        thread = threading.Thread(
            target=_run,
            args=(engine, sources, programme, run_ids, finished),
            name="dashboard-sync",
            daemon=True,
        )
        thread.start()
    except BaseException:
        _one_at_a_time.release()
        raise
    return list(run_ids.values())


def claim(engine: sa.Engine, sources: dict[str, Source]) -> dict[str, int]:
    """One running run per country, or AlreadyRunning and nothing left behind."""
    with engine.begin() as connection:
        busy = running(connection)
        if busy:
            raise AlreadyRunning(busy[0]["started_at"], _ids(busy))
        run_ids = {
            country: connection.execute(
                sa.insert(runs).values(
                    country=country,
                    method="pull",
                    started_at=now(),
                    status="running",
                    synthetic=source.synthetic,
                    loader_version=__version__,
                )
            ).inserted_primary_key[0]
            for country, source in sources.items()
        }
    others = [run for run in running(engine) if run["id"] not in run_ids.values()]
    if others:  # another process claimed at the same moment: both may back out
        with engine.begin() as connection:
            connection.execute(sa.delete(runs).where(runs.c.id.in_(run_ids.values())))
        raise AlreadyRunning(others[0]["started_at"], _ids(others))
    return run_ids


def running(bind) -> list[dict]:
    """Runs still running that started within RECENT, oldest first."""
    query = (
        sa.select(runs.c.id, runs.c.started_at)
        .where(runs.c.status == "running", runs.c.started_at >= now() - RECENT)
        .order_by(runs.c.id)
    )
    if isinstance(bind, sa.Engine):
        with bind.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]
    return [dict(row._mapping) for row in bind.execute(query)]


def progress(engine: sa.Engine, run_ids: list[int]) -> list[dict]:
    """country, status (running, ok, failed, stopped), error and rows of these runs."""
    query = (
        sa.select(runs.c.id, runs.c.country, runs.c.status, runs.c.started_at)
        .add_columns(runs.c.error, runs.c.rows)
        .where(runs.c.id.in_(list(run_ids)[:MAX_RUNS]))
        .order_by(runs.c.id)
    )
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    for row in rows:
        if row["status"] == "running" and row["started_at"] < now() - RECENT:
            row["status"] = "stopped"
            row["error"] = "no news for over an hour: the process running it stopped"
    return rows


def done(rows: list[dict]) -> bool:
    return all(row["status"] != "running" for row in rows)


def wait(timeout: float) -> bool:
    """Whether no sync of this process is running, waiting up to `timeout` s."""
    if not _one_at_a_time.acquire(timeout=timeout):
        return False
    _one_at_a_time.release()
    return True


def now() -> dt.datetime:
    return warehouse.now()


def _run(engine, sources, programme, run_ids, finished) -> None:
    outcomes = None
    try:
        outcomes = sync_all(engine, sources, programme, log.info, run_ids)
    except Exception:  # the runs must not stay "running"; the log has the detail
        log.exception("the sync started from the dashboard stopped")
        _fail_unfinished(engine, list(run_ids.values()))
    finally:
        try:
            finished(outcomes)
        except Exception:
            log.exception("could not record the end of the sync")
        _one_at_a_time.release()


def _fail_unfinished(engine: sa.Engine, run_ids: list[int]) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.update(runs)
            .where(runs.c.id.in_(run_ids), runs.c.status == "running")
            .values(
                finished_at=now(),
                status="failed",
                error="the sync stopped on an unexpected error (see the server log)",
            )
        )


def _ids(rows: list[dict]) -> list[int]:
    return [row["id"] for row in rows]
