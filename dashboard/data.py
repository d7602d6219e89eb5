"""Read-only access to the warehouse for the pages: small queries, bound parameters.

Pages never see a true value: the warehouse holds only published cells, and a
suppressed one comes back with an empty value and status 'suppressed'.

Every read is the same for all users: it covers every country of the warehouse, goes
through the cache (keyed by the snapshot version, see dashboard.cache), and only then
is cut down to the countries the caller passes in, which pages take from
dashboard.scope. So a scoped result is never cached, and the cache is shared by
every account.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from flask import current_app, g, has_app_context

from data_loaders import warehouse as tables
from data_loaders.contract import ALL
from data_loaders.programme import Programme

EXTENSION = "ctrp_warehouse"
NEVER_SYNCED = {
    "country": None,
    "last_ok": None,
    "synthetic": False,
    "rows": None,
    "last_status": None,
    "last_error": None,
    "last_attempt": None,
    "method": None,
}


_runs, _targets, _notes = tables.sync_runs, tables.targets, tables.notes
# One statement built once, so SQLAlchemy compiles it once: it runs per request.
SNAPSHOT_VERSION = sa.select(
    sa.select(sa.func.max(_runs.c.id)).where(_runs.c.status == "ok").scalar_subquery(),
    sa.select(sa.func.max(_runs.c.id)).scalar_subquery(),
    sa.select(sa.func.count(_runs.c.finished_at)).scalar_subquery(),
    sa.select(sa.func.max(_runs.c.finished_at)).scalar_subquery(),
    sa.select(sa.func.max(_targets.c.updated_at)).scalar_subquery(),
    sa.select(sa.func.count()).select_from(_targets).scalar_subquery(),
    # a removed note lowers the count even when the newest one stays
    sa.select(sa.func.max(_notes.c.updated_at)).scalar_subquery(),
    sa.select(sa.func.count()).select_from(_notes).scalar_subquery(),
)


@dataclass
class Warehouse:
    engine: sa.Engine
    programme: Programme
    cache: object = field(default=None, repr=False)  # dashboard.cache.ReadCache

    # -- plumbing -------------------------------------------------------------------

    def _frame(self, query) -> pd.DataFrame:
        with self.engine.connect() as connection:
            result = connection.execute(query)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def _read(self, name: str, compute, *args) -> pd.DataFrame:
        """`compute(*args)` through the cache, under the current snapshot version."""
        if self.cache is None:
            return compute(*args)
        return self.cache.read(name, self.snapshot_version(), args, compute)

    def snapshot_version(self) -> str:
        """Changes whenever anything a page shows changes: a country's snapshot, a
        sync attempt (the data-status page shows failures), a target or a note.
        Asked once per request; the cache keys every read by it. Timestamps are
        part of it, so a warehouse made again from scratch does not repeat an old
        version."""
        if has_app_context() and "ctrp_snapshot" in g:
            return g.ctrp_snapshot
        with self.engine.connect() as connection:
            parts = connection.execute(SNAPSHOT_VERSION).one()
        version = "-".join("" if part is None else str(part) for part in parts)
        if has_app_context():
            g.ctrp_snapshot = version
        return version

    def changed(self) -> None:
        """This request wrote to the warehouse (a target, a note): what it reads
        from now on must be the new snapshot, not the one it started with."""
        if has_app_context():
            g.pop("ctrp_snapshot", None)

    def answer(self, page: str, key: tuple, compute):
        """A page's answer under the current snapshot, computed once per `key`.

        Only panels.remembered calls this, with a key that holds the scope (the
        visible countries) as well as the view: an answer is served again only
        to a request whose scope is the same."""
        return self._read(f"answer:{page}", lambda *_key: compute(), *key)

    # -- cells ------------------------------------------------------------------------

    def cells(
        self,
        indicators,
        countries,
        periods=None,
        site=ALL,
        sex=ALL,
        age_band=ALL,
        service=ALL,
    ) -> pd.DataFrame:
        """Published cells; a dimension given as None is returned in every value."""
        frame = self._read(
            "cells",
            self._all_cells,
            tuple(sorted(indicators)),
            None if periods is None else tuple(sorted(periods)),
            site,
            sex,
            age_band,
            service,
        )
        return _only(frame, countries)

    def _all_cells(self, indicators, periods, site, sex, age_band, service):
        cells = tables.cells
        query = sa.select(cells).where(cells.c.indicator.in_(list(indicators)))
        if periods is not None:
            query = query.where(cells.c.period.in_(list(periods)))
        for column, value in (
            ("site", site),
            ("sex", sex),
            ("age_band", age_band),
            ("service", service),
        ):
            if value is not None:
                query = query.where(cells.c[column] == value)
        frame = self._frame(query)
        frame["value"] = pd.array(frame["value"], dtype="Int64")
        return frame

    def suppression(self, countries) -> pd.DataFrame:
        """Per country and indicator: how many cells there are, how many suppressed."""
        return _only(self._read("suppression", self._all_suppression), countries)

    def _all_suppression(self) -> pd.DataFrame:
        cells = tables.cells
        suppressed = sa.func.sum(sa.case((cells.c.status == "suppressed", 1), else_=0))
        return self._frame(
            sa.select(
                cells.c.country,
                cells.c.indicator,
                sa.func.count().label("cells"),
                suppressed.label("suppressed"),
            ).group_by(cells.c.country, cells.c.indicator)
        )

    def coverage(self, countries) -> pd.DataFrame:
        """Per country and period: how many of its headline cells (whole country, no
        breakdown) hold something: a published value above 0, or a suppressed one."""
        return _only(self._read("coverage", self._all_coverage), countries)

    def _all_coverage(self) -> pd.DataFrame:
        cells = tables.cells
        holding = sa.func.sum(
            sa.case(
                (cells.c.status == "suppressed", 1),
                (cells.c.value > 0, 1),
                else_=0,
            )
        )
        return self._frame(
            sa.select(
                cells.c.country,
                cells.c.period,
                sa.func.count().label("cells"),
                holding.label("holding"),
            )
            .where(
                cells.c.site == ALL,
                cells.c.sex == ALL,
                cells.c.age_band == ALL,
                cells.c.service == ALL,
            )
            .group_by(cells.c.country, cells.c.period)
        )

    # -- everything else ---------------------------------------------------------

    def last_syncs(self, countries) -> pd.DataFrame:
        """Per country: the last successful sync, the last attempt and its outcome."""
        known = self._read("last_syncs", self._all_last_syncs)
        rows = [
            known.get(country) or {**NEVER_SYNCED, "country": country}
            for country in countries
        ]
        return pd.DataFrame(rows, columns=list(NEVER_SYNCED))

    def _all_last_syncs(self) -> dict[str, dict]:
        runs = tables.sync_runs
        summary: dict[str, dict] = {}
        with self.engine.connect() as connection:
            for run in connection.execute(sa.select(runs).order_by(runs.c.id)):
                own = summary.setdefault(run.country, {**NEVER_SYNCED})
                own.update(
                    country=run.country,
                    last_status=run.status,
                    last_error=run.error,
                    last_attempt=run.started_at,
                    method=run.method,
                )
                if run.status == "ok":
                    own.update(
                        last_ok=run.finished_at,
                        synthetic=bool(run.synthetic),
                        rows=run.rows,
                    )
        return summary

    def targets(self, indicators, countries) -> pd.DataFrame:
        frame = self._read("targets", self._all_targets, tuple(sorted(indicators)))
        return _only(frame, countries)

    def _all_targets(self, indicators) -> pd.DataFrame:
        targets = tables.targets
        return self._frame(
            sa.select(
                targets.c.country, targets.c.indicator, targets.c.year, targets.c.value
            ).where(targets.c.indicator.in_(list(indicators)))
        )

    def notes(self, countries) -> pd.DataFrame:
        """The notes of the countries: country, period, text, who and when."""
        return _only(self._read("notes", self._all_notes), countries)

    def _all_notes(self) -> pd.DataFrame:
        # Sorted here, not in SQL, as sites are: the collations disagree.
        frame = self._frame(sa.select(tables.notes))
        return frame.sort_values(["country", "period"]).reset_index(drop=True)

    def sites(self, countries) -> pd.DataFrame:
        """Site metadata as the warehouse holds it (public fields only, CONTRACT §6)."""
        return _only(self._read("sites", self._all_sites), countries)

    def _all_sites(self) -> pd.DataFrame:
        # Sorted here, not in SQL: PostgreSQL's collation and SQLite's disagree.
        frame = self._frame(sa.select(tables.sites))
        return frame.sort_values(["country", "site_id"]).reset_index(drop=True)

    def quality(self, countries) -> pd.DataFrame:
        return _only(self._read("quality", self._all_quality), countries)

    def _all_quality(self) -> pd.DataFrame:
        frame = self._frame(sa.select(tables.quality))
        return frame.sort_values(["country", "table_name", "rule"]).reset_index(
            drop=True
        )


def _only(frame: pd.DataFrame, countries) -> pd.DataFrame:
    """The rows of the given countries: scope applies here, after the cache."""
    return frame[frame["country"].isin(list(countries))].reset_index(drop=True)


def warehouse() -> Warehouse:
    """The warehouse of the app serving this request."""
    return current_app.extensions[EXTENSION]
