"""The SQL that runs inside a country database: clean rows (§2), then GROUP BY.

No child-level row ever leaves the database: every query returns counts grouped by
site, period, sex, age band and service. Rows broken in a way §2 keeps are mapped to an
"unknown" category in SQL; rows §2 leaves out are filtered in SQL and counted by
`quality_counts`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from data_loaders.contract import ACTIVITIES, AGENCIES, ALL, OUTCOMES, TABLES
from data_loaders.programme import Indicator, Programme
from data_loaders.sources import Source
from data_loaders.sql import code_or, day, exact, quarter_of, whole_number, year_of

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
        """Kept contacts or referrals, joined to their child, codes normalised."""
        events = self.raw[table]
        event_day = day(events.c[EVENT_DATE[table]])
        year = year_of(event_day)
        columns = [
            exact(events.c.child_id).label("child_id"),
            exact(events.c.site_id).label("site_id"),
            year.label("year"),
            quarter_of(event_day).label("quarter"),
            self.children.c.sex,
            _age_band(year - self.children.c.birth_year).label("age_band"),
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
                exact(events.c.child_id) == self.children.c.child_id,
            )
            .where(sa.not_(sa.or_(*self.event_rules(table).values())))
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


def _age_band(age) -> sa.ColumnElement:
    return sa.case(
        (age.is_(None), "U"),
        (age < 0, "U"),
        (age <= 9, "0-9"),
        (age <= 13, "10-13"),
        (age <= 17, "14-17"),
        else_="18+",
    )


def _filtered(events: sa.Subquery, indicator: Indicator) -> list[sa.ColumnElement]:
    return [
        events.c[column].in_(values) for column, values in indicator.filters.items()
    ]


def rows_query(clean: CleanSource, indicator: Indicator) -> sa.Select:
    """Row counts at the finest grain; every coarser cell is a sum of these."""
    events = clean.events(indicator.source)
    service = events.c.agency if indicator.services else sa.literal(ALL)
    keys = [
        events.c.site_id,
        events.c.year,
        events.c.quarter,
        events.c.sex,
        events.c.age_band,
        service.label("service"),
    ]
    return (
        sa.select(*keys, sa.func.count().label("value"))
        .where(*_filtered(events, indicator))
        .group_by(*_group_columns(keys))
    )


def distinct_children_query(
    clean: CleanSource, indicator: Indicator, period_level: str, by_site: bool
) -> sa.Select:
    """Distinct children per period (and site), split by sex and age band.

    Each child falls in one sex and one age band per period (its age in the year of its
    first contact in that period), so summing these bands gives the exact total; across
    periods and sites nothing may be summed, hence one query per level.
    """
    events = clean.events(indicator.source)
    period = {
        "quarter": [events.c.year, events.c.quarter],
        "year": [events.c.year, sa.literal(0).label("quarter")],
        "all": [sa.literal(0).label("year"), sa.literal(0).label("quarter")],
    }[period_level]
    site = [events.c.site_id] if by_site else [sa.literal(ALL).label("site_id")]
    per_child = (
        sa.select(
            events.c.child_id,
            *period,
            *site,
            sa.func.min(events.c.year).label("first_year"),
        )
        .where(*_filtered(events, indicator))
        .group_by(events.c.child_id, *_group_columns(period + site))
    )
    if indicator.min_contacts:
        per_child = per_child.having(sa.func.count() >= indicator.min_contacts)
    per_child = per_child.subquery("per_child")
    children = clean.children
    keys = [
        per_child.c.site_id,
        per_child.c.year,
        per_child.c.quarter,
        children.c.sex,
        _age_band(per_child.c.first_year - children.c.birth_year).label("age_band"),
    ]
    return (
        sa.select(*keys, sa.func.count().label("value"))
        .join_from(per_child, children, per_child.c.child_id == children.c.child_id)
        .group_by(*keys)
    )


def _group_columns(columns) -> list:
    """Literal placeholders group nothing; only real columns go in GROUP BY."""
    return [
        c for c in columns if not isinstance(getattr(c, "element", c), sa.BindParameter)
    ]


def activities_query(clean: CleanSource) -> sa.Select:
    """Activity quantities per site (NULL: country level), quarter, indicator."""
    rows = clean.activities()
    keys = [rows.c.site_id, rows.c.year, rows.c.quarter, rows.c.indicator]
    return sa.select(*keys, sa.func.sum(rows.c.quantity).label("value")).group_by(*keys)


def sites_query(clean: CleanSource) -> sa.Select:
    return sa.select(clean.sites)


def quality_query(clean: CleanSource) -> sa.Select:
    """One row per (table, rule) with how many rows that rule catches (§2)."""
    checks = []
    for rule, condition in clean.site_rules().items():
        checks.append(("sites", rule, clean.raw["sites"], condition))
    for rule, condition in clean.child_rules().items():
        checks.append(("children", rule, clean.raw["children"], condition))
    children = clean.raw["children"]
    checks += [
        (
            "children",
            "sex_unknown_code",
            children,
            sa.and_(
                children.c.sex.is_not(None),
                sa.not_(exact(children.c.sex).in_(("F", "M"))),
            ),
        ),
        (
            "children",
            "birth_year_unusable",
            children,
            sa.or_(
                children.c.birth_year.is_(None),
                sa.not_(whole_number(children.c.birth_year)),
                children.c.birth_year > int(clean.programme.years[-1]),
            ),
        ),
    ]
    for table in ("contacts", "referrals"):
        for rule, condition in clean.event_rules(table).items():
            checks.append((table, rule, clean.raw[table], condition))
    raw = clean.raw
    checks += [
        (
            "contacts",
            "activity_unknown_code",
            raw["contacts"],
            sa.not_(exact(raw["contacts"].c.activity).in_(ACTIVITIES)),
        ),
        (
            "referrals",
            "agency_unknown_code",
            raw["referrals"],
            sa.not_(exact(raw["referrals"].c.agency).in_(AGENCIES)),
        ),
        (
            "referrals",
            "outcome_unknown_code",
            raw["referrals"],
            sa.and_(
                raw["referrals"].c.outcome.is_not(None),
                sa.not_(exact(raw["referrals"].c.outcome).in_(OUTCOMES)),
            ),
        ),
    ]
    for rule, condition in clean.activity_rules().items():
        checks.append(("activities", rule, raw["activities"], condition))
    return sa.union_all(
        *(
            sa.select(
                sa.literal(table).label("table_name"),
                sa.literal(rule).label("rule"),
                sa.func.coalesce(
                    sa.func.sum(sa.case((condition, 1), else_=0)), 0
                ).label("rows"),
            ).select_from(source)
            for table, rule, source, condition in checks
        )
    )
