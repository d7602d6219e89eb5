"""The SQL that runs inside a country database: clean rows (§2), then GROUP BY.

No child-level row ever leaves the database: every query returns counts grouped by
site, period, sex, age band and service. Rows broken in a way §2 keeps are mapped to an
"unknown" category in SQL; rows §2 leaves out are filtered in SQL and counted by
`quality_counts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from data_loaders.contract import ACTIVITIES, AGENCIES, ALL, OUTCOMES, TABLES
from data_loaders.programme import Programme
from data_loaders.sources import Source
from data_loaders.sql import (
    code_or,
    day,
    exact,
    quarter_of,
    same,
    whole_number,
    year_of,
)

EVENT_DATE = {"contacts": "contact_date", "referrals": "referral_date"}
EVENT_ID = {"contacts": "contact_id", "referrals": "referral_id"}


def contract_table(source: Source, table: str) -> sa.Subquery:
    """The source table as a subquery whose columns carry the contract names."""
    real = sa.table(
        source.table_name(table),
        *(sa.column(source.column_name(table, column)) for column in TABLES[table]),
    )
    columns = [
        real.c[source.column_name(table, column)].label(column)
        for column in TABLES[table]
    ]
    return sa.select(*columns).subquery(f"src_{table}")


_COMPILED: dict[tuple, str] = {}


def run(
    connection: sa.Connection, clean: CleanSource, build: Callable, *args
) -> sa.CursorResult:
    """Execute `build(clean, *args)`, compiled once per kind of engine, mapping,
    programme and arguments, not once per country and sync.

    Compiling these statements costs more than running them on a small country.
    Every value in them is a constant of the programme or the contract (codes,
    dates, thresholds), never user input, so they are rendered inline.
    """
    dialect = connection.dialect
    key = (dialect.name, dialect.driver, clean.key, build.__name__, repr(args))
    sql = _COMPILED.get(key)
    if sql is None:
        compiled = build(clean, *args).compile(
            dialect=dialect, compile_kwargs={"literal_binds": True}
        )
        sql = _COMPILED[key] = str(compiled)
    return connection.exec_driver_sql(sql)


def _duplicated(table: sa.Subquery, id_column: str) -> sa.Select:
    """Ids that appear more than once: every copy is left out."""
    key = exact(table.c[id_column])
    return sa.select(key).group_by(key).having(sa.func.count() > 1)


@dataclass
class CleanSource:
    """The §2 rules applied to one source, as subqueries the counting queries share."""

    source: Source
    programme: Programme

    def __post_init__(self):
        # What the SQL depends on: equal keys compile to the same statements.
        self.key = (
            repr(sorted(self.source.tables.items())),
            repr(sorted(self.source.columns.items())),
            self.programme.code,
            self.programme.start_date,
            self.programme.end_date,
            repr(self.programme.indicators),
        )
        self.raw = {table: contract_table(self.source, table) for table in TABLES}
        self.start = sa.literal(_date(self.programme.start_date), sa.Date)
        self.end = sa.literal(_date(self.programme.end_date), sa.Date)
        self.sites = self._sites()
        self.children = self._children()

    def site_rules(self) -> dict[str, sa.ColumnElement]:
        sites = self.raw["sites"]
        return {
            "duplicate_id": exact(sites.c.site_id).in_(_duplicated(sites, "site_id")),
            "reserved_site_id": exact(sites.c.site_id) == ALL,
        }

    def _sites(self) -> sa.Subquery:
        sites = self.raw["sites"]
        left_out = sa.or_(*self.site_rules().values())
        return sa.select(sites).where(sa.not_(left_out)).subquery("clean_sites")

    def _site_ids(self) -> sa.Select:
        return sa.select(exact(self.sites.c.site_id))

    def child_rules(self) -> dict[str, sa.ColumnElement]:
        children = self.raw["children"]
        return {
            "duplicate_id": exact(children.c.child_id).in_(
                _duplicated(children, "child_id")
            )
        }

    def _children(self) -> sa.Subquery:
        children = self.raw["children"]
        birth_year = children.c.birth_year
        usable_birth_year = sa.and_(
            birth_year.is_not(None),
            whole_number(birth_year),
            birth_year <= int(self.programme.years[-1]),
        )
        return (
            sa.select(
                exact(children.c.child_id).label("child_id"),
                code_or(children.c.sex, ("F", "M"), "U").label("sex"),
                sa.case(
                    (usable_birth_year, sa.cast(birth_year, sa.Integer)),
                    else_=sa.null(),
                ).label("birth_year"),
            )
            .where(
                children.c.child_id.is_not(None),
                sa.not_(sa.or_(*self.child_rules().values())),
            )
            .subquery("clean_children")
        )

    def event_rules(self, table: str) -> dict[str, sa.ColumnElement]:
        """Why a contacts or referrals row is left out of every count."""
        events = self.raw[table]
        event_day = day(events.c[EVENT_DATE[table]])
        rules = {
            "duplicate_id": exact(events.c[EVENT_ID[table]]).in_(
                _duplicated(events, EVENT_ID[table])
            ),
            "dangling_child_id": sa.or_(
                events.c.child_id.is_(None),
                exact(events.c.child_id).not_in(sa.select(self.children.c.child_id)),
            ),
            "dangling_site_id": sa.or_(
                events.c.site_id.is_(None),
                exact(events.c.site_id).not_in(self._site_ids()),
            ),
            "date_outside_period": sa.or_(
                event_day.is_(None), event_day < self.start, event_day > self.end
            ),
        }
        if table == "referrals":
            rules["invalid_direction"] = sa.not_(
                exact(events.c.direction).in_(("in", "out"))
            )
        return rules

    def events(self, table: str) -> sa.Subquery:
        """Kept contacts or referrals, joined to their child, codes normalised.

        The child's sex and birth year come along (the age band depends on which
        year a count is about); the inner join already leaves out dangling children.
        """
        events = self.raw[table]
        event_day = day(events.c[EVENT_DATE[table]])
        rules = self.event_rules(table)
        del rules["dangling_child_id"]  # the join below does it, faster
        del rules["date_outside_period"]  # one date parse, not three
        columns = [
            self.children.c.child_id,
            exact(events.c.site_id).label("site_id"),
            year_of(event_day).label("year"),
            quarter_of(event_day).label("quarter"),
            self.children.c.sex,
            self.children.c.birth_year,
        ]
        if table == "contacts":
            columns.append(
                code_or(events.c.activity, ACTIVITIES, "other").label("activity")
            )
        else:
            columns += [
                exact(events.c.direction).label("direction"),
                code_or(events.c.agency, AGENCIES, "other").label("agency"),
                code_or(events.c.outcome, OUTCOMES, "unknown").label("outcome"),
            ]
        return (
            sa.select(*columns)
            .join_from(
                events,
                self.children,
                same(events.c.child_id, self.children.c.child_id),
            )
            .where(
                event_day.between(self.start, self.end),
                sa.not_(sa.or_(*rules.values())),
            )
            .subquery(f"clean_{table}")
        )

    def activity_rules(self) -> dict[str, sa.ColumnElement]:
        activities = self.raw["activities"]
        activity_day = day(activities.c.activity_date)
        codes = {
            i.code: i.objective
            for i in self.programme.indicators.values()
            if i.source == "activities"
        }
        known = exact(activities.c.indicator).in_(tuple(codes))
        return {
            "duplicate_id": exact(activities.c.activity_id).in_(
                _duplicated(activities, "activity_id")
            ),
            "dangling_site_id": sa.and_(
                activities.c.site_id.is_not(None),
                exact(activities.c.site_id).not_in(self._site_ids()),
            ),
            "date_outside_period": sa.or_(
                activity_day.is_(None),
                activity_day < self.start,
                activity_day > self.end,
            ),
            "unknown_indicator": sa.not_(known),
            "objective_mismatch": sa.and_(
                known,
                sa.not_(
                    sa.or_(
                        *(
                            sa.and_(
                                exact(activities.c.indicator) == code,
                                activities.c.objective == objective,
                            )
                            for code, objective in codes.items()
                        )
                    )
                ),
            ),
            "invalid_quantity": sa.or_(
                activities.c.quantity.is_(None),
                sa.not_(whole_number(activities.c.quantity)),
                activities.c.quantity < 0,
            ),
        }

    def activities(self) -> sa.Subquery:
        activities = self.raw["activities"]
        activity_day = day(activities.c.activity_date)
        return (
            sa.select(
                exact(activities.c.site_id).label("site_id"),
                year_of(activity_day).label("year"),
                quarter_of(activity_day).label("quarter"),
                exact(activities.c.indicator).label("indicator"),
                sa.cast(activities.c.quantity, sa.Integer).label("quantity"),
            )
            .where(sa.not_(sa.or_(*self.activity_rules().values())))
            .subquery("clean_activities")
        )


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _text(value: str) -> sa.ColumnElement:
    """A constant written into the SQL (no bound parameter), so that GROUP BY and
    SELECT stay textually equal on PostgreSQL and compile caching keeps working."""
    return sa.literal_column(f"'{value}'", sa.String)


def _age_band(age) -> sa.ColumnElement:
    return sa.case(
        (age.is_(None), _text("U")),
        (age < 0, _text("U")),
        (age <= 9, _text("0-9")),
        (age <= 13, _text("10-13")),
        (age <= 17, _text("14-17")),
        else_=_text("18+"),
    )


def _filtered(events, filters: dict[str, tuple[str, ...]]) -> list[sa.ColumnElement]:
    return [events.c[column].in_(values) for column, values in filters.items()]


def event_grain_query(clean: CleanSource, table: str, columns: tuple[str, ...]):
    """Row counts of one table at the finest grain, split by `columns` (filter
    columns and the service): every row-count indicator is a filtered sum of these,
    so one scan serves them all."""
    events = clean.events(table)
    age = _age_band(events.c.year - events.c.birth_year).label("age_band")
    keys = [
        events.c.site_id,
        events.c.year,
        events.c.quarter,
        events.c.sex,
        age,
        *(events.c[column] for column in columns),
    ]
    return sa.select(*keys, sa.func.count().label("value")).group_by(*keys)


# (period level, by site): the cells a distinct-children count is computed for.
LEVELS = (
    ("quarter", True),
    ("quarter", False),
    ("year", True),
    ("year", False),
    ("all", True),
    ("all", False),
)


def children_levels_query(
    clean: CleanSource,
    table: str,
    filters: dict[str, tuple[str, ...]],
    thresholds: tuple[int, ...],
) -> sa.CompoundSelect:
    """Distinct children of every period level and site level in one statement.

    Each child falls in one sex and one age band per period (its age in the year of
    its first contact in that period), so summing bands gives the exact total; across
    periods and sites nothing may be summed, hence one group per level. The rows are
    scanned once, into a per (child, site, quarter) table that every level regroups.
    Columns: level, site_id, year, quarter, sex, age_band, children, rows, and
    at_least_<m> (children with m rows or more) for each threshold.
    """
    events = clean.events(table)
    grain = [events.c.child_id, events.c.site_id, events.c.year, events.c.quarter]
    per_quarter = (
        sa.select(
            *grain,
            # one value per child: MAX only spares the sort two more keys
            sa.func.max(events.c.sex).label("sex"),
            sa.func.max(events.c.birth_year).label("birth_year"),
            sa.func.count().label("n"),
        )
        .where(*_filtered(events, filters))
        .group_by(*grain)
        .cte("per_child_quarter")
    )
    return sa.union_all(
        *(
            _level_select(per_quarter, number, level, by_site, thresholds)
            for number, (level, by_site) in enumerate(LEVELS)
        )
    )


def _level_select(per_quarter, number, level, by_site, thresholds) -> sa.Select:
    g = per_quarter.c
    if (level, by_site) == ("quarter", True):
        per_child = sa.select(
            g.child_id,
            g.site_id,
            g.year,
            g.quarter,
            g.sex,
            g.birth_year,
            g.year.label("first_year"),
            g.n,
        ).subquery(f"per_child_{number}")
        return _level_counts(per_child, number, level, by_site, thresholds)
    keys = [g.child_id, *_level_keys(g, level, by_site)]
    per_child = (
        sa.select(
            *keys,
            sa.func.max(g.sex).label("sex"),
            sa.func.max(g.birth_year).label("birth_year"),
            sa.func.min(g.year).label("first_year"),
            sa.func.sum(g.n).label("n"),
        )
        .group_by(*keys)
        .subquery(f"per_child_{number}")
    )
    return _level_counts(per_child, number, level, by_site, thresholds)


def _level_keys(columns, level: str, by_site: bool) -> list:
    """What a level groups on besides the child: site, year, quarter as it needs."""
    keys = [columns.site_id] if by_site else []
    if level != "all":
        keys.append(columns.year)
    if level == "quarter":
        keys.append(columns.quarter)
    return keys


def _level_counts(per_child, number, level, by_site, thresholds) -> sa.Select:
    c = per_child.c
    zero = sa.literal_column("0", sa.Integer)
    outer = [
        c.site_id if by_site else _text(ALL).label("site_id"),
        c.year if level != "all" else zero.label("year"),
        c.quarter if level == "quarter" else zero.label("quarter"),
        c.sex,
        _age_band(c.first_year - c.birth_year).label("age_band"),
    ]
    groups = [c.sex, outer[4], *_level_keys(c, level, by_site)]
    counts = [
        sa.func.sum(sa.case((c.n >= m, 1), else_=0)).label(f"at_least_{m}")
        for m in thresholds
    ]
    return sa.select(
        sa.literal_column(str(number), sa.Integer).label("level"),
        *outer,
        sa.func.count().label("children"),
        sa.func.sum(c.n).label("rows"),
        *counts,
    ).group_by(*groups)


def activities_query(clean: CleanSource) -> sa.Select:
    """Activity quantities per site (NULL: country level), quarter, indicator."""
    rows = clean.activities()
    keys = [rows.c.site_id, rows.c.year, rows.c.quarter, rows.c.indicator]
    return sa.select(*keys, sa.func.sum(rows.c.quantity).label("value")).group_by(*keys)


def sites_query(clean: CleanSource) -> sa.Select:
    return sa.select(clean.sites)


def quality_checks(clean: CleanSource) -> dict[str, dict[str, sa.ColumnElement]]:
    """Per table, each §2 rule as a condition on that table's raw rows."""
    raw = clean.raw
    children, contacts, referrals = raw["children"], raw["contacts"], raw["referrals"]
    return {
        "sites": clean.site_rules(),
        "children": {
            **clean.child_rules(),
            "sex_unknown_code": sa.and_(
                children.c.sex.is_not(None),
                sa.not_(exact(children.c.sex).in_(("F", "M"))),
            ),
            "birth_year_unusable": sa.or_(
                children.c.birth_year.is_(None),
                sa.not_(whole_number(children.c.birth_year)),
                children.c.birth_year > int(clean.programme.years[-1]),
            ),
        },
        "contacts": {
            **clean.event_rules("contacts"),
            "activity_unknown_code": sa.not_(
                exact(contacts.c.activity).in_(ACTIVITIES)
            ),
        },
        "referrals": {
            **clean.event_rules("referrals"),
            "agency_unknown_code": sa.not_(exact(referrals.c.agency).in_(AGENCIES)),
            "outcome_unknown_code": sa.and_(
                referrals.c.outcome.is_not(None),
                sa.not_(exact(referrals.c.outcome).in_(OUTCOMES)),
            ),
        },
        "activities": clean.activity_rules(),
    }


def quality_query(clean: CleanSource, table: str) -> sa.Select:
    """One scan of `table`, a column per §2 rule: how many rows that rule catches."""
    rules = quality_checks(clean)[table]
    return sa.select(
        *(
            sa.func.coalesce(sa.func.sum(sa.case((rule, 1), else_=0)), 0).label(name)
            for name, rule in rules.items()
        )
    ).select_from(clean.raw[table])
