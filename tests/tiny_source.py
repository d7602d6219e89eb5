"""A hand-made country database small enough to count by hand (CONTRACT §2 tables)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from data_loaders.demo import SCHEMA
from data_loaders.sources import Source

SITES = [
    ("S1", "Centre", "drop_in_centre", "Town", 44.0, 20.0, True, "2008-01-01", None),
    ("S2", "Safe house", "shelter", "Secret", 44.1, 20.1, False, "2008-01-01", None),
]
CHILDREN = [("c1", "F", 2000), ("c2", "M", 1996), ("c3", None, 2005)]
# c1 is seen at two sites and in two quarters of 2010, then again in 2011.
CONTACTS = [
    (1, "c1", "S1", "2010-02-01", "drop_in"),
    (2, "c1", "S1", "2010-02-15", "counselling"),
    (3, "c1", "S2", "2010-05-01", "emergency"),
    (4, "c2", "S1", "2010-05-02", "drop_in"),
    (5, "c1", "S1", "2011-01-10", "education"),
    (6, "c3", "S2", "2009-12-31", "emergency"),
]
REFERRALS = [
    (1, "c1", "S1", "2010-02-01", "in", "police", None),
    (2, "c1", "S1", "2010-03-01", "out", "health", "completed"),
    (3, "c2", "S1", "2010-06-01", "out", "school", "pending"),
    (4, "c2", "S1", "2010-06-02", "in", "family", None),
]
ACTIVITIES = [
    (1, "S1", "2010-01-05", 1, "professionals_trained", 7),
    (2, None, "2010-04-01", 1, "professionals_trained", 5),  # country level
]


def write_tiny_source(
    path: Path, extra: dict[str, list[tuple]] | None = None
) -> Source:
    """Write the tiny database (plus `extra` rows per table); return its Source."""
    tables = {
        "sites": SITES,
        "children": CHILDREN,
        "contacts": CONTACTS,
        "referrals": REFERRALS,
        "activities": ACTIVITIES,
    }
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        for table, rows in tables.items():
            rows = rows + (extra or {}).get(table, [])
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    db.close()
    return Source("RS", f"sqlite:///file:{path}?mode=ro&uri=true")
