"""From grouped counts to the dense cube of CONTRACT §4 (true values, in memory only).

The SQL returns counts at the finest grain; here they become every cell: each period
(quarters, years, ALL) × each breakdown, with zeros where nothing happened. Row counts
and quantities are sums of the grain; distinct children come from one query per
period level and site level, because a child seen twice must not count twice.
"""

from __future__ import annotations

import itertools

import pandas as pd
import sqlalchemy as sa

from data_loaders import queries
from data_loaders.contract import AGE_BANDS, ALL, BREAKDOWNS, CELL_KEY, SEXES
from data_loaders.programme import Indicator, Programme

GRAIN = ["site", "year", "quarter", "sex", "age_band", "service", "value"]
PERIOD_LEVELS = ("quarter", "year", "all")


def true_cells(
    connection: sa.Connection, clean: queries.CleanSource, site_ids: list[str]
) -> pd.DataFrame:
    """Every cell of every indicator of one country, with its true value."""
    programme = clean.programme
    frames = []
    for indicator in programme.indicators.values():
        if indicator.rule == "sum_quantity":
            continue
        if indicator.counts_children:
            frames.append(_distinct_cells(connection, clean, indicator, site_ids))
        else:
            grain = _read(connection, queries.rows_query(clean, indicator))
            frames.append(_additive_cells(grain, indicator, programme, site_ids))
    frames.append(_activity_cells(connection, clean, site_ids))
    cells = pd.concat(frames, ignore_index=True)
    cells.insert(0, "country", clean.source.country)
    cells["value"] = cells["value"].astype("int64")
    return cells[list(CELL_KEY) + ["value"]]


def _read(connection: sa.Connection, query: sa.Select) -> pd.DataFrame:
    result = connection.execute(query)
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    frame = frame.rename(columns={"site_id": "site"})
    if "year" in frame:
        frame[["year", "quarter"]] = frame[["year", "quarter"]].astype("int64")
    frame["value"] = pd.to_numeric(frame["value"]).astype("int64")
    return frame


def _with_period(grain: pd.DataFrame, level: str) -> pd.DataFrame:
    """Label each grain row with its period at one level: 2010Q3, 2010 or ALL."""
    grain = grain.copy()
    if level == "quarter":
        grain["period"] = grain["year"].astype(str) + "Q" + grain["quarter"].astype(str)
    elif level == "year":
        grain["period"] = grain["year"].astype(str)
    else:
        grain["period"] = ALL
    return grain


def _periods(programme: Programme, level: str) -> tuple[str, ...]:
    return {"quarter": programme.quarters, "year": programme.years, "all": (ALL,)}[
        level
    ]


def _dense(
    grain: pd.DataFrame, dims: tuple[str, ...], values: dict[str, tuple]
) -> pd.DataFrame:
    """Sum `grain` over everything but period and `dims`, with a zero for every
    combination nobody fell into (the cube is dense)."""
    keys = ["period", *dims]
    sums = grain.groupby(keys, sort=False)["value"].sum() if len(grain) else None
    index = pd.MultiIndex.from_tuples(
        list(itertools.product(*(values[key] for key in keys))), names=keys
    )
    if sums is None:
        dense = pd.Series(0, index=index, name="value")
    else:
        sums.index = (
            sums.index
            if len(keys) > 1
            else pd.MultiIndex.from_arrays([sums.index], names=keys)
        )
        dense = sums.reindex(index, fill_value=0)
    frame = dense.reset_index()
    for dimension in ("site", "sex", "age_band", "service"):
        if dimension not in frame:
            frame[dimension] = ALL
    return frame


def _dimension_values(indicator, programme, site_ids, level) -> dict[str, tuple]:
    return {
        "period": _periods(programme, level),
        "site": tuple(site_ids),
        "sex": SEXES,
        "age_band": AGE_BANDS,
        "service": indicator.services,
    }


def _breakdowns(indicator: Indicator) -> tuple[tuple[str, ...], ...]:
    if indicator.rule == "sum_quantity":
        return ((), ("site",))
    return tuple(b for b in BREAKDOWNS if "service" not in b or indicator.services)


def _additive_cells(grain, indicator, programme, site_ids) -> pd.DataFrame:
    frames = []
    for level in PERIOD_LEVELS:
        labelled = _with_period(grain, level)
        values = _dimension_values(indicator, programme, site_ids, level)
        for dims in _breakdowns(indicator):
            frames.append(_dense(labelled, dims, values))
    cells = pd.concat(frames, ignore_index=True)
    cells["indicator"] = indicator.code
    return cells


def _distinct_cells(connection, clean, indicator, site_ids) -> pd.DataFrame:
    frames = []
    for level in PERIOD_LEVELS:
        values = _dimension_values(indicator, clean.programme, site_ids, level)
        for by_site in (False, True):
            query = queries.distinct_children_query(clean, indicator, level, by_site)
            grain = _with_period(_read(connection, query), level)
            breakdowns = (
                [("site",)]
                if by_site
                else [d for d in _breakdowns(indicator) if "site" not in d]
            )
            frames += [_dense(grain, dims, values) for dims in breakdowns]
    cells = pd.concat(frames, ignore_index=True)
    cells["indicator"] = indicator.code
    return cells


def _activity_cells(connection, clean, site_ids) -> pd.DataFrame:
    grain = _read(connection, queries.activities_query(clean))
    frames = []
    for indicator in clean.programme.indicators.values():
        if indicator.rule != "sum_quantity":
            continue
        own = grain[grain["indicator"] == indicator.code].drop(columns="indicator")
        # Country-level rows (no site) count in ALL only: not a site of their own.
        own = own.assign(site=own["site"].fillna(""))
        frames.append(_additive_cells(own, indicator, clean.programme, site_ids))
    return pd.concat(frames, ignore_index=True)
