"""Portable SQL pieces for SQLite, PostgreSQL and MariaDB.

The contract compares codes exactly (case-sensitive, no trimming) on every engine, and
reads dates that SQLite may hold as text; these constructs compile to the right SQL for
each dialect so the queries above them stay engine-neutral.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class exact(FunctionElement):
    """A text value compared byte for byte (MariaDB's default collation would not)."""

    type = sa.String()
    inherit_cache = True
    name = "exact"


@compiles(exact)
def _exact_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(exact, "mysql")
@compiles(exact, "mariadb")
def _exact_mysql(element, compiler, **kw):
    # A binary, no-pad collation compares bytes (case and trailing spaces count) yet
    # keeps the value a string, so it can be grouped on and read back as text.
    value = compiler.process(element.clauses, **kw)
    return f"(CONVERT({value} USING utf8mb4) COLLATE utf8mb4_nopad_bin)"


def same(left, right) -> sa.ColumnElement:
    """`left` equals `right` exactly, in a form an index can serve on every engine.

    The plain equality lets MariaDB use its (case-insensitive) index to find
    candidates; the exact one then drops 'abc' = 'ABC'. Elsewhere both are the same
    test, which the planner evaluates once.
    """
    return sa.and_(left == right, exact(left) == exact(right))


class day(FunctionElement):
    """A column read as a calendar date; NULL when it is not a valid date."""

    type = sa.Date()
    inherit_cache = True
    name = "day"


@compiles(day)
def _day_default(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


@compiles(day, "sqlite")
def _day_sqlite(element, compiler, **kw):
    # SQLite keeps dates as text: date() normalises timestamps and rejects 2010-13-45.
    return f"date({compiler.process(element.clauses, **kw)})"


def whole_number(column) -> sa.ColumnElement:
    """True when the value is a whole number (not 2.5, not text)."""
    return sa.cast(column, sa.Integer) == column


class year_of(FunctionElement):
    """The calendar year of a `day()` value, as an integer."""

    type = sa.Integer()
    inherit_cache = True
    name = "year_of"


class quarter_of(FunctionElement):
    """The quarter (1-4) of a `day()` value."""

    type = sa.Integer()
    inherit_cache = True
    name = "quarter_of"


@compiles(year_of)
def _year_default(element, compiler, **kw):
    return (
        f"CAST(EXTRACT(YEAR FROM {compiler.process(element.clauses, **kw)}) AS INTEGER)"
    )


@compiles(quarter_of)
def _quarter_default(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    return f"CAST(EXTRACT(QUARTER FROM {value}) AS INTEGER)"


@compiles(year_of, "mysql")
@compiles(year_of, "mariadb")
def _year_mysql(element, compiler, **kw):
    return f"YEAR({compiler.process(element.clauses, **kw)})"


@compiles(quarter_of, "mysql")
@compiles(quarter_of, "mariadb")
def _quarter_mysql(element, compiler, **kw):
    return f"QUARTER({compiler.process(element.clauses, **kw)})"


# SQLite: date() already gave canonical 'YYYY-MM-DD' text; cutting it is several
# times cheaper than strftime() on a million rows.
@compiles(year_of, "sqlite")
def _year_sqlite(element, compiler, **kw):
    return f"CAST(substr({compiler.process(element.clauses, **kw)}, 1, 4) AS INTEGER)"


@compiles(quarter_of, "sqlite")
def _quarter_sqlite(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    return f"((CAST(substr({value}, 6, 2) AS INTEGER) + 2) / 3)"


def code_or(column, codes, fallback: str) -> sa.ColumnElement:
    """The exact code when it is one of `codes`, else `fallback` ("kept as unknown")."""
    return sa.case(
        *((exact(column) == code, code) for code in codes), else_=sa.literal(fallback)
    )
