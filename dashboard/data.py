"""Read-only access to the warehouse for the pages: small queries, bound parameters.

Pages never see a true value: the warehouse holds only published cells, and a
suppressed one comes back with an empty value and status 'suppressed'.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from flask import current_app

from data_loaders import warehouse as tables
from data_loaders.contract import ALL
from data_loaders.programme import Programme

EXTENSION = "ctrp_warehouse"


@dataclass
class Warehouse:
    engine: sa.Engine
    programme: Programme

    def _frame(self, query) -> pd.DataFrame:
        with self.engine.connect() as connection:
            result = connection.execute(query)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def snapshot_version(self) -> int:
        """Changes whenever any country's snapshot is replaced (the cache key)."""
        runs = tables.sync_runs
        query = sa.select(sa.func.max(runs.c.id)).where(runs.c.status == "ok")
        with self.engine.connect() as connection:
            return connection.execute(query).scalar() or 0

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
        cells = tables.cells
        query = sa.select(cells).where(
            cells.c.indicator.in_(list(indicators)),
            cells.c.country.in_(list(countries)),
        )
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

    def last_syncs(self, countries) -> pd.DataFrame:
        """Per country: the last successful sync, the last attempt and its outcome."""
        runs = tables.sync_runs
        frame = self._frame(
            sa.select(runs)
            .where(runs.c.country.in_(list(countries)))
            .order_by(runs.c.id)
        )
        rows = []
        for country in countries:
            own = frame[frame["country"] == country]
            ok = own[own["status"] == "ok"]
            last = own.iloc[-1] if len(own) else None
            rows.append(
                {
                    "country": country,
                    "last_ok": ok["finished_at"].iloc[-1] if len(ok) else None,
                    "synthetic": bool(ok["synthetic"].iloc[-1]) if len(ok) else False,
                    "last_status": None if last is None else last["status"],
                    "last_error": None if last is None else last["error"],
                    "last_attempt": None if last is None else last["started_at"],
                }
            )
        return pd.DataFrame(rows)

    def targets(self, indicators, countries) -> pd.DataFrame:
        targets = tables.targets
        return self._frame(
            sa.select(
                targets.c.country, targets.c.indicator, targets.c.year, targets.c.value
            ).where(
                targets.c.indicator.in_(list(indicators)),
                targets.c.country.in_(list(countries)),
            )
        )

    def sites(self, countries) -> pd.DataFrame:
        sites = tables.sites
        return self._frame(sa.select(sites).where(sites.c.country.in_(list(countries))))

    def quality(self, countries) -> pd.DataFrame:
        quality = tables.quality
        return self._frame(
            sa.select(quality).where(quality.c.country.in_(list(countries)))
        )


def warehouse() -> Warehouse:
    """The warehouse of the app serving this request."""
    return current_app.extensions[EXTENSION]
