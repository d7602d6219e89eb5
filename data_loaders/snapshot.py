"""One country's protected snapshot: what a pull computes and a bundle carries.

`take_snapshot` is the only place where a country database is read; what it returns
holds protected cells, public site metadata and data-quality counts, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from data_loaders import protection, queries
from data_loaders.connections import check_schema, source_engine
from data_loaders.contract import SITE_KINDS, TABLES
from data_loaders.cube import true_cells
from data_loaders.programme import Programme
from data_loaders.sources import Source

TRUE_VALUES = ("true", "t", "1", "yes", "y")


@dataclass(frozen=True)
class Snapshot:
    country: str
    cells: pd.DataFrame  # published values only: no true value of a suppressed cell
    sites: list[dict]
    quality: list[dict]


def take_snapshot(source: Source, programme: Programme) -> Snapshot:
    """Aggregate one country inside its database, then protect the figures."""
    clean = queries.CleanSource(source, programme)
    engine = source_engine(source)
    try:
        with engine.connect() as connection:
            check_schema(connection, source)
            site_rows = _site_rows(connection, clean, source.country)
            site_ids = [row["site_id"] for row in site_rows]
            cells = true_cells(connection, clean, site_ids)
            quality = _quality_rows(connection, clean, source.country)
    finally:
        engine.dispose()
    protected = protection.protect(cells, programme)
    return Snapshot(source.country, protection.published(protected), site_rows, quality)


def _site_rows(connection: sa.Connection, clean, country: str) -> list[dict]:
    """Site metadata; a site whose location is not public is known by its kind only."""
    rows = []
    for site in queries.run(connection, clean, queries.sites_query).mappings():
        public = str(site["public_location"]).strip().lower() in TRUE_VALUES
        kind = site["kind"] if site["kind"] in SITE_KINDS else "other"
        rows.append(
            {
                "country": country,
                "site_id": site["site_id"],
                "kind": kind,
                "name": site["name"] if public else None,
                "municipality": site["municipality"] if public else None,
                "latitude": _number(site["latitude"]) if public else None,
                "longitude": _number(site["longitude"]) if public else None,
                "public_location": public,
                "opened_on": _text_date(site["opened_on"]),
                "closed_on": _text_date(site["closed_on"]),
            }
        )
    return sorted(rows, key=lambda row: row["site_id"])


def _quality_rows(connection: sa.Connection, clean, country: str) -> list[dict]:
    rows = []
    for table in TABLES:
        result = queries.run(connection, clean, queries.quality_query, table)
        counts = result.mappings().one()
        rows += [
            {"country": country, "table_name": table, "rule": rule, "rows": int(n)}
            for rule, n in counts.items()
        ]
    return rows


def _number(value) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _text_date(value) -> str | None:
    return None if value is None else str(value)[:10]
