"""Secondary suppression and its audit (CONTRACT §4–5) on small synthetic cubes.

The cubes are computed here from child-level events, straight from the wording of
CONTRACT §3–4, independently of the pipeline's SQL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_loaders import disclosure
from data_loaders.disclosure import (
    DisclosureSpec,
    Violation,
    _Relations,
    audit,
    secondary_suppress,
)

SPEC = DisclosureSpec(
    k=10,
    b=5,
    min_range=4,
    rules={
        "attendance_visits": "rows",
        "referrals_out": "rows",
        "referrals_completed": "rows",
        "institutional_referrals": "rows",
        "community_referrals": "rows",
        "children_reached": "distinct_children",
        "regular_attenders": "distinct_min_contacts",
    },
    at_most=(
        ("referrals_completed", "referrals_out"),
        ("regular_attenders", "children_reached"),
    ),
)
SEXES = ("F", "M", "U")
AGES = ("0-9", "10-13", "14-17", "18+", "U")
AGENCIES = ("police", "school", "health")
HEADLINE = {"site": "ALL", "sex": "ALL", "age_band": "ALL", "service": "ALL"}
KEY = ["site", "period", "indicator", "sex", "age_band", "service"]


class Contact(NamedTuple):
    child: str
    site: str
    date: dt.date
    sex: str | None
    birth_year: int | None


class Referral(NamedTuple):
    child: str
    site: str
    date: dt.date
    sex: str | None
    birth_year: int | None
    agency: str
    completed: bool


# --- a country cube from child-level events (CONTRACT §3–4) ---------------------


def age_band(year, birth_year):
    age = None if birth_year is None else year - birth_year
    if age is None or age < 0:
        return "U"
    return (
        "0-9" if age < 10 else "10-13" if age < 14 else "14-17" if age < 18 else "18+"
    )


def periods_of(date):
    return (f"{date.year}Q{(date.month - 1) // 3 + 1}", str(date.year), "ALL")


def all_periods(years):
    quarters = [f"{y}Q{q}" for y in years for q in range(1, 5)]
    return quarters + [str(y) for y in years] + ["ALL"]


def cell_keys(indicator, sites, years, services=()):
    """Every cell of one indicator (the cube is dense)."""
    for period in all_periods(years):
        yield ("ALL", period, indicator, "ALL", "ALL", "ALL")
        yield from ((site, period, indicator, "ALL", "ALL", "ALL") for site in sites)
        yield from (("ALL", period, indicator, s, "ALL", "ALL") for s in SEXES)
        yield from (("ALL", period, indicator, "ALL", a, "ALL") for a in AGES)
        yield from (("ALL", period, indicator, "ALL", "ALL", v) for v in services)
        for s in SEXES:
            yield from (("ALL", period, indicator, s, a, "ALL") for a in AGES)


def sex_of(event):
    return event.sex if event.sex in ("F", "M") else "U"


def count_rows(counts, indicator, events, service=False):
    """A row-count indicator: every row in each cell it belongs to."""
    for e in events:
        sex, age = sex_of(e), age_band(e.date.year, e.birth_year)
        svc = e.agency if service else None
        for p in periods_of(e.date):
            keys = [("ALL", "ALL", "ALL", "ALL"), (e.site, "ALL", "ALL", "ALL")]
            keys += [("ALL", sex, "ALL", "ALL"), ("ALL", "ALL", age, "ALL")]
            keys += [("ALL", sex, age, "ALL")]
            keys += [("ALL", "ALL", "ALL", svc)] if svc else []
            for site, s, a, v in keys:
                counts[(site, p, indicator, s, a, v)] += 1


def count_children(counts, indicator, contacts, min_contacts=1):
    """A distinct-children indicator, each cell computed at the source."""
    by_period = defaultdict(list)
    for c in contacts:
        for p in periods_of(c.date):
            by_period[p].append(c)
    for p, rows in by_period.items():
        count_children_in(counts, indicator, p, rows, min_contacts)


def count_children_in(counts, indicator, period, rows, min_contacts):
    per_child = defaultdict(list)
    for c in rows:
        per_child[c.child].append(c)
    for visits in per_child.values():
        if len(visits) < min_contacts:
            continue
        first = min(visits, key=lambda c: c.date)
        sex, age = sex_of(first), age_band(first.date.year, first.birth_year)
        for s, a in (("ALL", "ALL"), (sex, "ALL"), ("ALL", age), (sex, age)):
            counts[("ALL", period, indicator, s, a, "ALL")] += 1
    per_site = defaultdict(lambda: defaultdict(int))
    for c in rows:
        per_site[c.site][c.child] += 1
    for site, children in per_site.items():
        regular = sum(n >= min_contacts for n in children.values())
        counts[(site, period, indicator, "ALL", "ALL", "ALL")] += regular


def true_cube(sites, contacts=(), referrals=(), years=(2009, 2010, 2011)):
    """The dense cube of true values for the contact and referral indicators."""
    counts = defaultdict(int)
    count_rows(counts, "attendance_visits", contacts)
    count_children(counts, "children_reached", contacts)
    count_children(counts, "regular_attenders", contacts, min_contacts=4)
    count_rows(counts, "referrals_out", referrals, service=True)
    done = [r for r in referrals if r.completed]
    count_rows(counts, "referrals_completed", done, service=True)
    keys = [
        *cell_keys("attendance_visits", sites, years),
        *cell_keys("children_reached", sites, years),
        *cell_keys("regular_attenders", sites, years),
        *cell_keys("referrals_out", sites, years, AGENCIES),
        *cell_keys("referrals_completed", sites, years, AGENCIES),
    ]
    assert set(counts) <= set(keys), "an event fell outside the cube"
    frame = pd.DataFrame(keys, columns=KEY)
    frame.insert(0, "country", "XX")
    frame["true_value"] = np.array([counts[k] for k in keys], dtype="int64")
    return frame


def publish(cube, k=10, b=5):
    """Primary suppression (1..k-1) and rounding to the nearest multiple of b."""
    true = cube["true_value"]
    hidden = (true >= 1) & (true < k)
    out = cube.copy()
    out["value"] = pd.array((true + b // 2) // b * b, dtype="Int64")
    out.loc[hidden, "value"] = pd.NA
    out["status"] = np.where(hidden, "suppressed", "published")
    return out


def hide(frame, mask):
    """Suppress more cells by hand, as a secondary suppression would."""
    out = frame.copy()
    out.loc[mask, "value"] = pd.NA
    out.loc[mask, "status"] = "suppressed"
    return out


def only(frame, *indicators):
    return frame[frame["indicator"].isin(indicators)].reset_index(drop=True)


def cell(frame, **key):
    full = {**HEADLINE, **key}
    mask = np.logical_and.reduce([frame[c] == v for c, v in full.items()])
    return mask


def children(prefix, n, sex, birth_year=1997):
    return [(f"{prefix}{i}", sex, birth_year) for i in range(n)]


def visits(kids, site="s1", date=dt.date(2009, 2, 1), times=1):
    return [Contact(c, site, date, s, b) for c, s, b in kids for _ in range(times)]


def violations_at(found, **key):
    full = {**HEADLINE, **key}
    return [v for v in found if all(getattr(v, c) == x for c, x in full.items())]


# --- the helper itself ----------------------------------------------------------


def test_helper_counts_rows_and_distinct_children():
    kids = children("f", 2, "F")
    cube = true_cube(["s1"], visits(kids, times=3)).set_index(KEY)["true_value"]
    assert cube[("ALL", "2009Q1", "attendance_visits", "F", "ALL", "ALL")] == 6
    assert cube[("ALL", "2009", "children_reached", "ALL", "10-13", "ALL")] == 2
    assert cube[("s1", "ALL", "regular_attenders", "ALL", "ALL", "ALL")] == 0


# --- audit ----------------------------------------------------------------------


def worked_case():
    """FIELD-NOTES: a total and two visible parts, each rounded; a hidden 1."""
    kids = children("f", 13, "F") + children("m", 13, "M") + children("u", 1, None)
    return publish(true_cube(["s1"], visits(kids)))


def test_worked_case_pins_the_hidden_one():
    cells = only(worked_case(), "attendance_visits")
    # total 27 → 25, girls 13 → 15, boys 13 → 15: unknown = 25±2 − 15±2 − 15±2
    found = violations_at(audit(cells, SPEC), period="2009Q1", sex="U")
    assert len(found) == 1
    assert found[0].low == pytest.approx(1) and found[0].high == pytest.approx(1)


def test_worked_case_is_clean_after_secondary_suppression():
    cells = worked_case()
    assert audit(cells, SPEC)
    protected = secondary_suppress(cells, SPEC)
    assert audit(protected, SPEC) == []


def test_nothing_suppressed_audits_clean():
    kids = children("f", 20, "F") + children("m", 30, "M")
    cells = publish(true_cube(["s1"], visits(kids, times=4)))
    assert (cells["status"] == "published").all()
    assert audit(cells, SPEC) == []
    pd.testing.assert_frame_equal(secondary_suppress(cells, SPEC), cells)


def test_empty_country_audits_clean():
    cells = publish(true_cube(["s1", "s2"]))
    assert audit(cells, SPEC) == []


def test_genuinely_uncertain_hidden_cells_pass():
    # girls 30 → 30, boys 5 and unknown 5 hidden: each could be 1 to 13
    kids = children("f", 30, "F") + children("m", 5, "M") + children("u", 5, None)
    cells = only(publish(true_cube(["s1"], visits(kids))), "attendance_visits")
    assert (cells["status"] == "suppressed").sum() > 0
    assert audit(cells, SPEC) == []


def test_single_hidden_cell_in_an_equality_is_found():
    # A hand-made one-period cube: total 20 = girls 10 + boys 10 + unknown (hidden)
    rows = [("ALL", 20), ("F", 10), ("M", 10), ("U", None)]
    cells = pd.DataFrame(
        {
            "country": "XX",
            "site": "ALL",
            "period": "ALL",
            "indicator": "attendance_visits",
            "sex": [s for s, _ in rows],
            "age_band": "ALL",
            "service": "ALL",
            "value": pd.array([v for _, v in rows], dtype="Int64"),
            "status": ["published"] * 3 + ["suppressed"],
        }
    )
    [found] = audit(cells, SPEC)
    assert (found.sex, found.low, found.high) == ("U", 1.0, pytest.approx(2))
    assert audit(secondary_suppress(cells, SPEC), SPEC) == []


def reached_in_one_quarter(indicator, times, hidden=("2009Q1",)):
    """Ten girls seen in 2009Q1 only; every non-zero cell of `indicator` in the
    `hidden` periods suppressed, as a secondary suppression might."""
    cells = only(
        publish(true_cube(["s1"], visits(children("f", 10, "F"), times=times))),
        indicator,
    )
    return hide(cells, cells["period"].isin(hidden) & (cells["true_value"] > 0))


def test_children_reached_subadditivity_pins_a_quarter():
    # 2009 ≤ Σ its quarters, the other three are 0: the quarter is ≥ 10, and ≤ 2009
    cells = reached_in_one_quarter("children_reached", times=1)
    found = violations_at(audit(cells, SPEC), period="2009Q1")
    assert [(v.low, v.high) for v in found] == [(pytest.approx(10), pytest.approx(12))]


def test_regular_attenders_have_no_subadditivity():
    # Same shape for regular attenders, who have no "year ≤ Σ quarters" (four
    # visits split over two quarters make a regular of the year in neither):
    # nothing pushes the quarter up, so it may be anything from 1 to 12.
    cells = reached_in_one_quarter("regular_attenders", times=4)
    assert cells["status"].eq("suppressed").any()
    assert audit(cells, SPEC) == []


def test_children_reached_all_bounds_a_hidden_year():
    # With 2009 and its quarters all hidden: ALL ≤ Σ years makes 2009 ≥ 10 and
    # 2009 ≤ ALL makes it ≤ 12.
    cells = reached_in_one_quarter("children_reached", 1, ["2009", "2009Q1"])
    [found] = violations_at(audit(cells, SPEC), period="2009")
    assert (found.low, found.high) == (pytest.approx(10), pytest.approx(12))
    regular = reached_in_one_quarter("regular_attenders", 4, ["2009", "2009Q1"])
    assert audit(regular, SPEC) == []


def test_hidden_quarter_of_children_reached_beside_a_published_one_passes():
    # Five girls in 2009Q1 (hidden), all ten in 2009Q2 (10): 2009 ≤ Q1 + Q2 only
    # says Q1 ≥ 10 − 12, and Q1 ≤ 2009 ≤ 12, so Q1 may be 1 to 12.
    kids = children("f", 10, "F")
    events = visits(kids[:5]) + visits(kids, date=dt.date(2009, 5, 1))
    cells = only(publish(true_cube(["s1"], events)), "children_reached")
    assert audit(cells, SPEC) == []


def boys_referred():
    """Ten girls referred out (not completed) and ten boys (all completed); every
    non-zero referrals_out cell of the boys hidden by hand."""
    refs = [
        Referral(f"{s}{i}", "s1", dt.date(2010, 4, 1), s, 2000, "police", s == "M")
        for s in "FM"
        for i in range(10)
    ]
    cells = publish(true_cube(["s1"], referrals=refs))
    cells = only(cells, "referrals_out", "referrals_completed")
    boys = (cells["indicator"] == "referrals_out") & (cells["sex"] == "M")
    return hide(cells, boys & (cells["true_value"] > 0))


def test_at_most_pins_a_cell():
    # boys' referrals out = 20±2 − 10±2 is 6..12; ≥ completed (10..12) makes it 10..12
    cells = boys_referred()
    without = DisclosureSpec(rules=SPEC.rules)
    assert violations_at(audit(cells, without), period="2010Q2", sex="M") == []
    [found] = violations_at(audit(cells, SPEC), period="2010Q2", sex="M")
    assert (found.low, found.high) == (pytest.approx(10), pytest.approx(12))


def test_audit_never_reads_true_value():
    cells = worked_case()
    expected = audit(cells, SPEC)
    assert expected
    assert audit(cells.drop(columns="true_value"), SPEC) == expected
    scrambled = cells.assign(true_value=cells["true_value"][::-1].to_numpy())
    assert audit(scrambled, SPEC) == expected


def test_violation_carries_the_cell_key():
    [found, *_] = audit(only(worked_case(), "attendance_visits"), SPEC)
    assert isinstance(found, Violation)
    assert found.key == (
        found.site,
        found.period,
        found.indicator,
        found.sex,
        found.age_band,
        found.service,
    )


def test_inconsistent_published_cells_are_refused():
    cells = worked_case()
    total = cell(cells, period="ALL", indicator="attendance_visits")
    cells.loc[total, "value"] = 500
    with pytest.raises(ValueError, match="contradict"):
        audit(cells, SPEC)


def test_missing_rule_is_refused():
    with pytest.raises(ValueError, match="rule"):
        audit(worked_case(), DisclosureSpec(rules={}))


def exact_parts(parts):
    """Every non-zero count a multiple of 10 and published exactly (b = 1), then
    every cell hidden but the quarters' cells of the breakdown `parts`."""
    kids = [(f"k{s}{a}", s, 2009 - a) for s in ("F", "M", None) for a in (5, 12, 16)]
    contacts = [
        Contact(c, f"s{i % 2}", dt.date(2009 + i % 2, 1 + 3 * (i % 4), 5), s, b)
        for i, (c, s, b) in enumerate(kids)
        for _ in range(10)
    ]
    refs = [
        Referral(c.child, c.site, c.date, c.sex, c.birth_year, AGENCIES[i % 3], True)
        for i, c in enumerate(contacts[::10])
        for _ in range(10)
    ]
    cells = publish(true_cube(["s0", "s1"], contacts, refs, years=(2009, 2010)), b=1)
    cells = only(cells, "attendance_visits", "referrals_out")
    shown = cells["period"].str.contains("Q") & (breakdown(cells) == parts)
    return hide(cells, ~shown & (cells["true_value"] > 0))


def breakdown(cells):
    """'sex+age', 'site', … : the dimensions of each cell that are not ALL."""
    names = {"site": "site", "sex": "sex", "age_band": "age", "service": "service"}
    used = [cells[c].ne("ALL").map({True: n, False: ""}) for c, n in names.items()]
    return pd.concat(used, axis=1).agg(lambda r: "+".join(x for x in r if x), axis=1)


@pytest.mark.parametrize(
    "parts, totals",
    [
        ("sex+age", ["", "sex", "age", "sex+age"]),
        ("site", ["", "site"]),
        ("service", ["", "service"]),
    ],
)
def test_row_relations_derive_totals_from_their_parts(parts, totals):
    # Drop any family of §4's equalities (over sex, age, sex×age, site, service
    # or time) and some total could no longer be worked out exactly.
    cells = exact_parts(parts)
    exact = DisclosureSpec(k=10, b=1, min_range=1, rules=SPEC.rules)
    found = {v.key: (v.low, v.high) for v in audit(cells, exact)}
    kind = breakdown(cells)
    has_parts = cells["indicator"].isin(cells.loc[kind == parts, "indicator"])
    derived = cells[cells["status"].eq("suppressed") & kind.isin(totals) & has_parts]
    assert len(derived) > 15
    for row in derived.itertuples():
        key = tuple(getattr(row, c) for c in KEY)
        assert found[key] == (pytest.approx(row.true_value),) * 2, key


def test_site_and_all_sites_bound_each_other_for_children_reached():
    # One site: its children are all the country's (ALL ≤ Σ sites) and no more
    # (site ≤ ALL), so hiding every site cell still leaves them at 10 to 12.
    cells = only(
        publish(true_cube(["s1"], visits(children("f", 10, "F")))), "children_reached"
    )
    cells = hide(cells, (cells["site"] == "s1") & (cells["true_value"] > 0))
    found = audit(cells, SPEC)
    assert len(found) == 3
    assert {(v.site, v.low, v.high) for v in found} == {("s1", 10, 12)}


def test_fallback_to_linprog_gives_the_same_audit(monkeypatch):
    cases = [worked_case(), boys_referred(), exact_parts("sex+age")]
    cases.append(reached_in_one_quarter("children_reached", times=1))

    def ranges(cells):
        return [(v.key, round(v.low, 6), round(v.high, 6)) for v in audit(cells, SPEC)]

    expected = [ranges(cells) for cells in cases]
    assert all(expected)
    monkeypatch.setattr(disclosure, "_highs", None)
    assert [ranges(cells) for cells in cases] == expected
    assert audit(secondary_suppress(cases[0], SPEC), SPEC) == []


# --- the relations are true of real data ------------------------------------------


def relation_slack(cells):
    a_eq, a_ub = _Relations.of(cells, SPEC)
    true = cells["true_value"].to_numpy(dtype=float)
    return a_eq @ true, a_ub @ true


def test_year_of_distinct_children_can_exceed_all_in_an_age_band():
    # Contract §4 lists "year ≤ ALL in every breakdown"; with age from the first
    # contact of the period, a child aged 13 in 2009 and 14 in 2010 breaks it, so
    # the audit must not assume it where age is broken down.
    events = [
        Contact("c", "s1", dt.date(2009, 3, 1), "F", 1996),
        Contact("c", "s1", dt.date(2010, 3, 1), "F", 1996),
    ]
    cells = publish(true_cube(["s1"], events))
    cube = cells.set_index(KEY)["true_value"]
    band = ("ALL", "2010", "children_reached", "ALL", "14-17", "ALL")
    assert (cube[band], cube[("ALL", "ALL", *band[2:])]) == (1, 0)
    equal, at_most = relation_slack(cells)
    assert np.abs(equal).max() == 0 and at_most.max() <= 0


# --- secondary suppression ------------------------------------------------------


@st.composite
def countries(draw):
    """A small random country: a year or two, one or two sites, a few children."""
    years = draw(st.sampled_from([(2009,), (2009, 2010)]))
    sites = ["s1", "s2"][: draw(st.integers(1, 2))]
    day = st.integers(0, 365 * len(years) - 1)
    contacts, referrals = [], []
    for i in range(draw(st.integers(1, 30))):
        sex = draw(st.sampled_from(["F", "M", None, "x"]))
        born = draw(st.one_of(st.none(), st.integers(1988, 2009)))
        for _ in range(draw(st.integers(1, 6))):
            date = dt.date(years[0], 1, 1) + dt.timedelta(days=draw(day))
            contacts.append(
                Contact(f"c{i}", draw(st.sampled_from(sites)), date, sex, born)
            )
        for _ in range(draw(st.integers(0, 2))):
            date = dt.date(years[0], 1, 1) + dt.timedelta(days=draw(day))
            referrals.append(
                Referral(
                    f"c{i}",
                    draw(st.sampled_from(sites)),
                    date,
                    sex,
                    born,
                    draw(st.sampled_from(AGENCIES)),
                    draw(st.booleans()),
                )
            )
    return publish(true_cube(sites, contacts, referrals, years))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(countries())
def test_relations_hold_for_true_values(cells):
    equal, at_most = relation_slack(cells)
    assert np.abs(equal).max(initial=0) == 0
    assert at_most.max(initial=0) <= 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(countries())
def test_secondary_suppression_leaves_a_clean_audit(cells):
    protected = secondary_suppress(cells, SPEC)
    assert audit(protected, SPEC) == []
    was_hidden = cells["status"] == "suppressed"
    assert (protected["status"][was_hidden] == "suppressed").all()
    still = protected["status"] == "published"
    assert (protected["value"][still] == cells["value"][still]).all()
    zero = cells["value"].eq(0).fillna(False)
    assert (protected["status"][zero] == "published").all()
    assert protected["value"][~still].isna().all()
    assert protected["true_value"].equals(cells["true_value"])


def test_secondary_suppression_is_deterministic():
    cells = worked_case()
    first = secondary_suppress(cells, SPEC)
    pd.testing.assert_frame_equal(first, secondary_suppress(cells, SPEC))
    pd.testing.assert_frame_equal(
        first,
        secondary_suppress(cells.sample(frac=1, random_state=1), SPEC).loc[first.index],
    )


def test_secondary_suppression_spares_headline_totals():
    cells = worked_case()
    protected = secondary_suppress(cells, SPEC)
    headline = cell(protected, period="ALL", indicator="attendance_visits")
    assert (protected.loc[headline, "status"] == "published").all()


def test_secondary_suppression_does_not_change_its_input():
    cells = worked_case()
    before = cells.copy()
    secondary_suppress(cells, SPEC)
    pd.testing.assert_frame_equal(cells, before)
