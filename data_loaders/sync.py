"""Pull every country: snapshot, store, one progress line each; failures isolated."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import sqlalchemy as sa

from data_loaders import warehouse
from data_loaders.programme import Programme
from data_loaders.snapshot import take_snapshot
from data_loaders.sources import Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    country: str
    ok: bool
    message: str
    seconds: float


def sync_country(engine: sa.Engine, source: Source, programme: Programme) -> Outcome:
    """Snapshot one country into the warehouse; on failure keep its last good one."""
    started = time.perf_counter()
    run_id = warehouse.start_run(engine, source.country, "pull", source.synthetic)
    try:
        snapshot = take_snapshot(source, programme)
        warehouse.store_snapshot(
            engine,
            run_id,
            source.country,
            snapshot.cells,
            snapshot.sites,
            snapshot.quality,
        )
    except Exception as error:  # one country's failure must not stop the others
        reason = describe_failure(error)
        log.exception("sync of %s failed", source.country)
        warehouse.fail_run(engine, run_id, reason)
        return Outcome(source.country, False, reason, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    suppressed = int((snapshot.cells["status"] == "suppressed").sum())
    message = (
        f"{len(snapshot.cells)} cells ({suppressed} suppressed), "
        f"{len(snapshot.sites)} sites"
    )
    return Outcome(source.country, True, message, seconds)


def describe_failure(error: Exception) -> str:
    """One line a country's IT person understands (the log keeps the traceback)."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else 'no detail'}"


def sync_all(
    engine: sa.Engine, sources: dict[str, Source], programme: Programme, echo=print
) -> list[Outcome]:
    outcomes = []
    warehouse.seed_targets(engine, programme)
    for source in sources.values():
        outcome = sync_country(engine, source, programme)
        status = "ok" if outcome.ok else "FAILED"
        echo(
            f"{outcome.country}  {status:6}  {outcome.seconds:6.1f} s  "
            f"{outcome.message}"
        )
        outcomes.append(outcome)
    return outcomes
