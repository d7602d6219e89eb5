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
    return f"CAST({compiler.process(element.clauses, **kw)} AS BINARY)"


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


def year_of(date_value) -> sa.ColumnElement:
    return sa.cast(sa.extract("year", date_value), sa.Integer)


def quarter_of(date_value) -> sa.ColumnElement:
    month = sa.extract("month", date_value)
    return sa.case((month <= 3, 1), (month <= 6, 2), (month <= 9, 3), else_=4)


def code_or(column, codes, fallback: str) -> sa.ColumnElement:
    """The exact code when it is one of `codes`, else `fallback` ("kept as unknown")."""
    return sa.case(
        *((exact(column) == code, code) for code in codes), else_=sa.literal(fallback)
    )
