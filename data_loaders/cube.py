"""From grouped counts to the dense cube of CONTRACT §4 (true values, in memory only).

The SQL returns counts at the finest grain; here they become every cell: each period
(quarters, years, ALL) × each breakdown, with zeros where nothing happened. Row counts
and quantities are sums of the grain; distinct children come from per-level counts
(one statement for every period level and site level), because a child seen twice
must not count twice.

Assembly is array arithmetic: each indicator's grain is poured into one small numpy
array (site × quarter × sex × age band × service) and every cell is a sum over some of
its axes, so the cost does not grow with the number of cells asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa

from data_loaders import queries
from data_loaders.contract import AGE_BANDS, ALL, CELL_KEY, SEXES
from data_loaders.programme import Indicator, Programme

PERIOD_LEVELS = ("quarter", "year", "all")


def true_cells(
    connection: sa.Connection, clean: queries.CleanSource, site_ids: list[str]
) -> pd.DataFrame:
    """Every cell of every indicator of one country, with its true value."""
    programme = clean.programme
    plan = plan_queries(programme)
    levels = {
        (table, filters): _read(
            connection,
            clean,
            queries.children_levels_query,
            table,
            dict(filters),
            thresholds,
        )
        for (table, filters), thresholds in plan.levels.items()
    }
    grains = {
        table: _read(connection, clean, queries.event_grain_query, table, columns)
        for table, columns in plan.grains.items()
    }
    activities = _read(connection, clean, queries.activities_query)
    return assemble(
        programme, clean.source.country, site_ids, levels, grains, activities
    )


@dataclass
class QueryPlan:
    """Which statements one country needs: as few scans of each table as possible.

    levels: (table, filters) → the thresholds of its one distinct-children statement;
    grains: table → the extra columns of its row-count statement (only for row
    indicators that the levels statements cannot serve).
    """

    levels: dict[tuple, tuple[int, ...]] = field(default_factory=dict)
    grains: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _filters_key(indicator: Indicator) -> tuple:
    return tuple(sorted(indicator.filters.items()))


def plan_queries(programme: Programme) -> QueryPlan:
    thresholds: dict[tuple, set[int]] = {}
    for indicator in programme.indicators.values():
        if indicator.counts_children:
            key = (indicator.source, _filters_key(indicator))
            thresholds.setdefault(key, set()).add(indicator.min_contacts)
    plan = QueryPlan()
    for key, mins in thresholds.items():
        plan.levels[key] = tuple(sorted(mins - {0}))
    for indicator in programme.indicators.values():
        if indicator.rule != "rows" or _served_by_levels(indicator, thresholds):
            continue
        columns = set(plan.grains.get(indicator.source, ())) | set(indicator.filters)
        if indicator.services:
            columns.add("agency")
        plan.grains[indicator.source] = tuple(sorted(columns))
    return plan


def _served_by_levels(indicator: Indicator, thresholds: dict) -> bool:
    """A row count with no service split is the quarter × site level's `rows`."""
    key = (indicator.source, _filters_key(indicator))
    return not indicator.services and key in thresholds


def _read(connection: sa.Connection, clean, build, *args) -> pd.DataFrame:
    result = queries.run(connection, clean, build, *args)
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return frame.rename(columns={"site_id": "site"})


def assemble(
    programme: Programme,
    country: str,
    site_ids: list[str],
    levels: dict[tuple, pd.DataFrame],
    grains: dict[str, pd.DataFrame],
    activities: pd.DataFrame,
) -> pd.DataFrame:
    """The dense cube of one country from the grouped counts of its statements."""
    axes = _Axes(programme, list(site_ids))
    out = _Columns()
    for indicator in programme.indicators.values():
        key = (indicator.source, _filters_key(indicator))
        if indicator.rule == "sum_quantity":
            own = activities[activities["indicator"] == indicator.code]
            parts = _additive(axes, own, indicator)
        elif indicator.counts_children:
            frame = levels[key]
            column = (
                f"at_least_{indicator.min_contacts}"
                if indicator.min_contacts
                else "children"
            )
            parts = _distinct(axes, frame, column)
        elif key in levels and not indicator.services:
            frame = levels[key]
            finest = frame[frame["level"] == 0].rename(columns={"rows": "value"})
            parts = _additive(axes, finest, indicator)
        else:
            grain = grains[indicator.source]
            for column, values in indicator.filters.items():
                grain = grain[grain[column].isin(values)]
            parts = _additive(axes, grain, indicator)
        for dims, values in parts.items():
            out.add(axes, indicator, dims, values)
    cells = out.frame()
    cells.insert(0, "country", country)
    return cells[list(CELL_KEY) + ["value"]]


def empty_cells(programme: Programme, country: str, site_ids: list[str]):
    """The dense set of cells a country with these sites has, every value zero."""
    plan = plan_queries(programme)
    level_columns = ["level", "site", "year", "quarter", "sex", "age_band", "rows"]
    levels = {
        key: pd.DataFrame(
            columns=level_columns + ["children"] + [f"at_least_{m}" for m in mins]
        )
        for key, mins in plan.levels.items()
    }
    grain_columns = ["site", "year", "quarter", "sex", "age_band", "value"]
    grains = {
        table: pd.DataFrame(columns=grain_columns + list(columns))
        for table, columns in plan.grains.items()
    }
    activities = pd.DataFrame(columns=["site", "year", "quarter", "indicator", "value"])
    return assemble(programme, country, site_ids, levels, grains, activities)


class _Axes:
    """Label and position of every site, period, sex, age band of one country."""

    def __init__(self, programme: Programme, site_ids: list[str]):
        self.site_ids = site_ids
        self.quarters = programme.quarters
        self.years = programme.years
        self.periods = programme.periods
        self.first_year = int(self.years[0])
        self.first_quarter = int(self.quarters[0][-1])
        # period × quarter: which quarters each period (quarter, year, ALL) sums
        q_count, y_count = len(self.quarters), len(self.years)
        self.sums = np.zeros((len(self.periods), q_count), dtype=np.int64)
        for q, label in enumerate(self.quarters):
            self.sums[q, q] = 1
            self.sums[q_count + self.years.index(label[:4]), q] = 1
            self.sums[q_count + y_count, q] = 1

    def quarter_index(self, year, quarter) -> np.ndarray:
        year = np.asarray(year, dtype=np.int64)
        quarter = np.asarray(quarter, dtype=np.int64)
        return (year - self.first_year) * 4 + quarter - self.first_quarter

    def level_period_index(self, level, year, quarter) -> np.ndarray:
        """Row of `periods` for a levels row: quarter, year or ALL by its level."""
        level = np.asarray(level, dtype=np.int64)
        period_level = np.array([queries.LEVELS[n][0] for n in range(6)])[level]
        year = np.asarray(year, dtype=np.int64)
        q_count = len(self.quarters)
        return np.select(
            [period_level == "quarter", period_level == "year"],
            [
                self.quarter_index(year, quarter),
                q_count + year - self.first_year,
            ],
            default=q_count + len(self.years),
        )

    def site_index(self, sites) -> np.ndarray:
        """Position of each site; unknown or missing (country level) → the last."""
        codes = _codes(sites, self.site_ids)
        return np.where(codes < 0, len(self.site_ids), codes)


def _codes(values, labels) -> np.ndarray:
    """Position of each value among `labels`; -1 when it is not one of them."""
    values = pd.Index(np.asarray(values, dtype=object))
    return pd.Index(list(labels), dtype=object).get_indexer(values).astype(np.int64)


def _additive(axes: _Axes, grain: pd.DataFrame, indicator: Indicator) -> dict:
    """Sums of the grain over every period and breakdown of an additive indicator."""
    services = indicator.services or (ALL,)
    shape = (len(axes.site_ids) + 1, len(axes.quarters), 3, 5, len(services))
    array = np.zeros(shape, dtype=np.int64)
    if len(grain):
        nothing = np.zeros(len(grain), dtype=np.int64)  # activities: no sex, age
        where = (
            axes.site_index(grain["site"].to_numpy()),
            axes.quarter_index(grain["year"], grain["quarter"]),
            _codes(grain["sex"], SEXES) if "sex" in grain else nothing,
            _codes(grain["age_band"], AGE_BANDS) if "age_band" in grain else nothing,
            _codes(grain["agency"], services) if indicator.services else nothing,
        )
        values = pd.to_numeric(grain["value"]).to_numpy(dtype=np.int64)
        keep = (where[1] < len(axes.quarters)) & np.logical_and.reduce(
            [w >= 0 for w in where]
        )
        np.add.at(array, tuple(w[keep] for w in where), values[keep])
    # period axis: quarters → every period (quarters, years, ALL)
    by_period = np.einsum("sqxav,pq->spxav", array, axes.sums)
    parts = {
        (): by_period.sum(axis=(0, 2, 3, 4)),
        # the last site slot holds country-level rows: in ALL only, not a site
        ("site",): by_period[:-1].sum(axis=(2, 3, 4)),
    }
    if indicator.rule == "sum_quantity":
        return parts
    parts[("sex",)] = by_period.sum(axis=(0, 3, 4))
    parts[("age_band",)] = by_period.sum(axis=(0, 2, 4))
    if indicator.services:
        parts[("service",)] = by_period.sum(axis=(0, 2, 3))
    parts[("sex", "age_band")] = by_period.sum(axis=(0, 4))
    return parts


def _distinct(axes: _Axes, levels: pd.DataFrame, column: str) -> dict:
    """Distinct children per period and site from the levels statement: bands and
    sexes add up within a level (one band per child and period); nothing else does."""
    periods = len(axes.periods)
    country = np.zeros((periods, 3, 5), dtype=np.int64)
    sites = np.zeros((len(axes.site_ids) + 1, periods, 3, 5), dtype=np.int64)
    if len(levels):
        period = axes.level_period_index(
            levels["level"], levels["year"], levels["quarter"]
        )
        sex = _codes(levels["sex"], SEXES)
        age = _codes(levels["age_band"], AGE_BANDS)
        values = pd.to_numeric(levels[column]).to_numpy(dtype=np.int64)
        by_site = np.array([queries.LEVELS[n][1] for n in range(6)])[
            levels["level"].to_numpy(dtype=np.int64)
        ]
        total = ~by_site
        known = (sex >= 0) & (age >= 0)
        total, by_site = total & known, by_site & known
        np.add.at(country, (period[total], sex[total], age[total]), values[total])
        site = axes.site_index(levels["site"].to_numpy())
        np.add.at(
            sites,
            (site[by_site], period[by_site], sex[by_site], age[by_site]),
            values[by_site],
        )
    return {
        (): country.sum(axis=(1, 2)),
        ("site",): sites[:-1].sum(axis=(2, 3)),
        ("sex",): country.sum(axis=2),
        ("age_band",): country.sum(axis=1),
        ("sex", "age_band"): country,
    }


class _Columns:
    """Cells collected as column arrays, turned into one frame at the end."""

    def __init__(self):
        self.columns = {name: [] for name in CELL_KEY[1:] + ("value",)}

    def add(self, axes: _Axes, indicator: Indicator, dims: tuple, values) -> None:
        labels = {
            "site": axes.site_ids,
            "sex": SEXES,
            "age_band": AGE_BANDS,
            "service": indicator.services,
        }
        order = (["site"] if "site" in dims else []) + ["period"]
        order += [d for d in dims if d != "site"]
        lists = [axes.periods if d == "period" else labels[d] for d in order]
        grids = np.meshgrid(
            *(np.asarray(x, dtype=object) for x in lists), indexing="ij"
        )
        size = values.size
        for name in ("site", "period", "sex", "age_band", "service"):
            if name in order:
                self.columns[name].append(grids[order.index(name)].reshape(-1))
            else:
                self.columns[name].append(np.full(size, ALL, dtype=object))
        self.columns["indicator"].append(np.full(size, indicator.code, dtype=object))
        self.columns["value"].append(np.asarray(values, dtype=np.int64).reshape(-1))

    def frame(self) -> pd.DataFrame:
        data = {name: np.concatenate(parts) for name, parts in self.columns.items()}
        frame = pd.DataFrame(data)
        for name in CELL_KEY[1:]:
            frame[name] = frame[name].astype(str)
        return frame
