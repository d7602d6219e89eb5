"""One measured run of `make bench`, alone in its process so its peak memory is its own.

    python -m tests.bench_child MODE SOURCES OUT

MODE: sync | baseline (a whole sync into a fresh warehouse OUT.sqlite, aggregating in
SQL or in pandas) | cells-sql | cells-pandas (the true cells of every country, no
protection, no warehouse). Prints one JSON line: seconds (timed here, imports
excluded), contacts, and pickles of what was computed, for the parent to compare.

The baseline is the obvious alternative to grouping inside the source: SELECT every
child-level row, apply the §2 rules and count in pandas, then build the same cube
with the same `cube.assemble`. It is written for speed (vectorised, no Python loop
over rows), so the comparison is fair.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from data_loaders import cube, protection, queries, snapshot, warehouse
from data_loaders import sync as sync_module
from data_loaders.connections import source_engine
from data_loaders.contract import ACTIVITIES, AGENCIES, ALL, OUTCOMES, TABLES
from data_loaders.programme import load_programme
from data_loaders.sources import Source, load_sources

AGE_EDGES = [-np.inf, -0.5, 9.5, 13.5, 17.5, np.inf]
AGE_LABELS = ["U", "0-9", "10-13", "14-17", "18+"]


def sql_cells(source: Source, programme) -> pd.DataFrame:
    """The loader's own path: GROUP BY inside the source."""
    clean = queries.CleanSource(source, programme)
    engine = source_engine(source)
    with engine.connect() as connection:
        sites = snapshot._site_rows(connection, clean, source.country)
        cells = cube.true_cells(connection, clean, [s["site_id"] for s in sites])
    engine.dispose()
    return cells


def pandas_cells(source: Source, programme) -> pd.DataFrame:
    """The baseline: every child-level row into pandas, cleaned and grouped there."""
    engine = source_engine(source)
    with engine.connect() as connection:
        raw = {
            table: pd.read_sql(
                sa.select(queries.contract_table(source, table)), connection
            )
            for table in TABLES
        }
    engine.dispose()
    start = pd.Timestamp(programme.start_date)
    end = pd.Timestamp(programme.end_date)
    sites = raw["sites"][~_duplicated(raw["sites"], "site_id")]
    site_ids = sorted(s for s in sites["site_id"] if s != ALL)
    children = _children(raw["children"], programme)
    plan = cube.plan_queries(programme)
    levels, grains = {}, {}
    events = {
        table: _events(raw[table], table, children, site_ids, start, end)
        for table in ("contacts", "referrals")
    }
    for (table, filters), thresholds in plan.levels.items():
        rows = _filtered(events[table], dict(filters))
        levels[(table, filters)] = _levels(rows, thresholds)
    for table, columns in plan.grains.items():
        rows = events[table].assign(age_band=_band(events[table]["age"]))
        keys = ["site", "year", "quarter", "sex", "age_band", *columns]
        grains[table] = rows.groupby(keys, observed=True).size().rename("value")
        grains[table] = grains[table].reset_index()
    activities = _activities(raw["activities"], programme, site_ids, start, end)
    return cube.assemble(
        programme, source.country, site_ids, levels, grains, activities
    )


def _duplicated(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].duplicated(keep=False)


def _children(frame: pd.DataFrame, programme) -> pd.DataFrame:
    frame = frame[frame["child_id"].notna() & ~_duplicated(frame, "child_id")]
    birth = pd.to_numeric(frame["birth_year"], errors="coerce")
    usable = (
        birth.notna() & (birth == birth.round()) & (birth <= int(programme.years[-1]))
    )
    return pd.DataFrame(
        {
            "child_id": frame["child_id"],
            "sex": frame["sex"].where(frame["sex"].isin(["F", "M"]), "U"),
            "birth_year": birth.where(usable),
        }
    )


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(
        values.astype(str).str[:10], format="%Y-%m-%d", errors="coerce"
    )


def _events(frame, table, children, site_ids, start, end) -> pd.DataFrame:
    id_column = {"contacts": "contact_id", "referrals": "referral_id"}[table]
    date_column = {"contacts": "contact_date", "referrals": "referral_date"}[table]
    day = _dates(frame[date_column])
    keep = (
        ~_duplicated(frame, id_column)
        & frame["site_id"].isin(site_ids)
        & day.between(start, end)
    )
    if table == "referrals":
        keep &= frame["direction"].isin(["in", "out"])
    rows = frame[keep].assign(year=day[keep].dt.year, quarter=day[keep].dt.quarter)
    rows = rows.merge(children, on="child_id", how="inner")
    rows["age"] = rows["year"] - rows["birth_year"]
    rows = rows.rename(columns={"site_id": "site"})
    if table == "contacts":
        rows["activity"] = rows["activity"].where(
            rows["activity"].isin(ACTIVITIES), "other"
        )
    else:
        rows["agency"] = rows["agency"].where(rows["agency"].isin(AGENCIES), "other")
        rows["outcome"] = rows["outcome"].where(
            rows["outcome"].isin(OUTCOMES), "unknown"
        )
    return rows


def _filtered(rows: pd.DataFrame, filters: dict) -> pd.DataFrame:
    for column, values in filters.items():
        rows = rows[rows[column].isin(values)]
    return rows


def _band(age: pd.Series) -> pd.Series:
    return pd.cut(age, AGE_EDGES, labels=AGE_LABELS).astype(object).fillna("U")


def _levels(rows: pd.DataFrame, thresholds) -> pd.DataFrame:
    """Distinct children of every (period level, site level), as the SQL returns."""
    frames = []
    for number, (level, by_site) in enumerate(queries.LEVELS):
        keys = ["child_id"] + (["site"] if by_site else [])
        keys += {"quarter": ["year", "quarter"], "year": ["year"], "all": []}[level]
        per_child = rows.groupby(keys, sort=False).agg(
            n=("year", "size"),
            first_year=("year", "min"),
            sex=("sex", "first"),
            birth_year=("birth_year", "first"),
        )
        per_child = per_child.reset_index()
        per_child["age_band"] = _band(per_child["first_year"] - per_child["birth_year"])
        if not by_site:
            per_child["site"] = ALL
        for column in ("year", "quarter"):
            if column not in per_child:
                per_child[column] = 0
        for m in thresholds:
            per_child[f"at_least_{m}"] = (per_child["n"] >= m).astype("int64")
        counts = {
            "children": ("n", "size"),
            "rows": ("n", "sum"),
            **{f"at_least_{m}": (f"at_least_{m}", "sum") for m in thresholds},
        }
        out = per_child.groupby(
            ["site", "year", "quarter", "sex", "age_band"], sort=False
        ).agg(**counts)
        frames.append(out.reset_index().assign(level=number))
    return pd.concat(frames, ignore_index=True)


def _activities(frame, programme, site_ids, start, end) -> pd.DataFrame:
    codes = {
        i.code: i.objective
        for i in programme.indicators.values()
        if i.source == "activities"
    }
    day = _dates(frame["activity_date"])
    quantity = pd.to_numeric(frame["quantity"], errors="coerce")
    keep = (
        ~_duplicated(frame, "activity_id")
        & (frame["site_id"].isna() | frame["site_id"].isin(site_ids))
        & day.between(start, end)
        & frame["indicator"].isin(list(codes))
        & (frame["objective"] == frame["indicator"].map(codes))
        & quantity.notna()
        & (quantity == quantity.round())
        & (quantity >= 0)
    )
    rows = pd.DataFrame(
        {
            "site": frame["site_id"][keep].astype(object),
            "year": day[keep].dt.year,
            "quarter": day[keep].dt.quarter,
            "indicator": frame["indicator"][keep],
            "value": quantity[keep].astype("int64"),
        }
    )
    rows["site"] = rows["site"].where(rows["site"].notna(), None)
    keys = ["site", "year", "quarter", "indicator"]
    return rows.groupby(keys, dropna=False).sum().reset_index()


def pandas_snapshot(source: Source, programme) -> snapshot.Snapshot:
    """take_snapshot with the aggregation done in pandas (quality counts skipped)."""
    cells = pandas_cells(source, programme)
    engine = source_engine(source)
    clean = queries.CleanSource(source, programme)
    with engine.connect() as connection:
        sites = snapshot._site_rows(connection, clean, source.country)
    engine.dispose()
    protected = protection.protect(cells, programme)
    return snapshot.Snapshot(source.country, protection.published(protected), sites, [])


def _contacts(sources: dict[str, Source]) -> int:
    total = 0
    for source in sources.values():
        engine = source_engine(source)
        with engine.connect() as connection:
            total += connection.exec_driver_sql(
                "SELECT count(*) FROM contacts"
            ).scalar()
        engine.dispose()
    return total


def main(mode: str, sources_file: str, out: str) -> dict:
    programme = load_programme()
    sources = load_sources(Path(sources_file), programme.countries)
    result = {"contacts": _contacts(sources)}
    if mode in ("sync", "baseline"):
        target = Path(f"{out}.sqlite")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        engine = warehouse.warehouse_engine(f"sqlite:///{target}")
        if mode == "baseline":
            sync_module.take_snapshot = pandas_snapshot
        started = time.perf_counter()
        outcomes = sync_module.sync_all(engine, sources, programme, echo=lambda _: None)
        result["seconds"] = time.perf_counter() - started
        assert all(o.ok for o in outcomes), [o.message for o in outcomes]
        result["published"] = f"{out}-published.pkl"
        warehouse.read_cells(engine).to_pickle(result["published"])
    else:
        compute = sql_cells if mode == "cells-sql" else pandas_cells
        started = time.perf_counter()
        # as many at once as the sync reads SQLite sources: one per core
        with ThreadPoolExecutor(max_workers=sync_module.LOCAL_SLOTS) as pool:
            frames = list(pool.map(lambda s: compute(s, programme), sources.values()))
        result["seconds"] = time.perf_counter() - started
        cells = pd.concat(frames, ignore_index=True)
        cells = cells.sort_values(list(cells.columns[:-1]), ignore_index=True)
        result["cells"] = f"{out}-cells.pkl"
        cells.to_pickle(result["cells"])
    return result


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
