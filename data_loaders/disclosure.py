"""Secondary suppression and its audit, for one country's sensitive cells.

CONTRACT §5: after primary suppression and rounding, an auditor who knows every
relation of §4 must not be able to narrow any suppressed cell to a range narrower
than `min_range`. Both functions here are pure: a DataFrame of one country's cells
in, a result out, no I/O.

The auditor's knowledge becomes one linear programme per component (the sensitive
indicators joined by `at_most` pairs): a variable per non-zero cell, bounded by
what its published value says (a suppressed one by [1, ∞)), with the relations of
§4 as sparse rows. HiGHS gives each suppressed cell's smallest and largest value.

Readings of the contract worth knowing:
- ranges are judged on whole numbers, ceil(low)..floor(high), since counts are
  whole: stricter than the bare LP width, never looser;
- for the distinct-children rules, "year ≤ ALL" is not assumed where age is broken
  down: a child's band comes from its first contact in the period, so one aged 13
  in 2009 and 14 in 2010 is in 14-17 for 2010 but not for ALL (§4 lists the
  inequality "in every breakdown"; the data can break it);
- published zeros are never suppressed (§5), so they are left out of the LPs.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

try:  # SciPy's own copy of HiGHS, which keeps a model loaded between solves
    from scipy.optimize._highspy import _core as _highs
except ImportError:  # pragma: no cover - a SciPy that moved it: cold solves
    _highs = None

KEY_COLUMNS = ("site", "period", "indicator", "sex", "age_band", "service")
ALL = "ALL"
PUBLISHED = "published"
SUPPRESSED = "suppressed"

ROWS = "rows"
DISTINCT_CHILDREN = "distinct_children"
DISTINCT_MIN_CONTACTS = "distinct_min_contacts"
# The programme file spells the last rule out in full; both names mean the same.
_RULE_ALIASES = {"distinct_children_min_contacts": DISTINCT_MIN_CONTACTS}
_RULES = (ROWS, DISTINCT_CHILDREN, DISTINCT_MIN_CONTACTS)

# The breakdowns of §4, as the set of dimensions that are not ALL.
_BREAKDOWNS = {
    (): "none",
    ("site",): "site",
    ("sex",): "sex",
    ("age_band",): "age_band",
    ("service",): "service",
    ("sex", "age_band"): "sex_age",
}
_DIMS = ("site", "sex", "age_band", "service")

_EPS = 1e-6  # LP answers are floats; true values are whole numbers
_DUAL_TOL = 1e-9


@dataclass(frozen=True)
class DisclosureSpec:
    """Disclosure parameters of a programme and what an auditor knows of it."""

    k: int = 10
    b: int = 5
    min_range: int = 4
    rules: dict[str, str] = field(default_factory=dict)
    at_most: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        if self.k < 5:
            raise ValueError("a threshold k below 5 is refused (CONTRACT §5)")
        if self.b < 1 or self.min_range < 0:
            raise ValueError("rounding base must be ≥ 1 and min_range ≥ 0")
        for code, rule in self.rules.items():
            if _RULE_ALIASES.get(rule, rule) not in _RULES:
                raise ValueError(f"indicator {code!r}: unknown rule {rule!r}")

    def rule(self, indicator: str) -> str:
        try:
            rule = self.rules[indicator]
        except KeyError:
            raise ValueError(f"no counting rule for indicator {indicator!r}") from None
        return _RULE_ALIASES.get(rule, rule)


@dataclass(frozen=True)
class Violation:
    """A suppressed cell the auditor can pin to a range narrower than min_range."""

    site: str
    period: str
    indicator: str
    sex: str
    age_band: str
    service: str
    low: float
    high: float | None  # None would be unbounded, which is never a violation

    @property
    def key(self) -> tuple[str, ...]:
        return (
            self.site,
            self.period,
            self.indicator,
            self.sex,
            self.age_band,
            self.service,
        )


def audit(cells: pd.DataFrame, spec: DisclosureSpec) -> list[Violation]:
    """Suppressed cells whose smallest and largest possible values are too close.

    Reads only the key columns, `value` and `status`: never `true_value`.
    """
    cells = cells.iloc[_canonical_order(cells)]
    model = _Model(cells, spec)
    hidden = _suppressed(cells)
    found = _map(lambda comp: _findings(model, comp, hidden), model.components)
    positions = [
        (int(comp.cells[f.cell]), f)
        for comp, findings in zip(model.components, found, strict=True)
        for f in findings
    ]
    keys = cells.loc[:, list(KEY_COLUMNS)].to_numpy()
    return [
        Violation(*keys[pos], low=f.low, high=f.high) for pos, f in sorted(positions)
    ]


def secondary_suppress(cells: pd.DataFrame, spec: DisclosureSpec) -> pd.DataFrame:
    """A copy of `cells` with more cells suppressed, until `audit` finds nothing.

    Greedy and deterministic: for each violation, a published cell whose bound
    limits the violating cell in its LP (a non-zero reduced cost) is suppressed,
    the cheapest by `_costs`. Published zeros are never suppressed (§5). Hiding a
    published value only widens the auditor's feasible set, so every round makes
    progress, and once every non-zero cell of a component is hidden, scaling any
    feasible point shows each hidden cell unbounded: the loop always ends.
    """
    order = _canonical_order(cells)
    work = cells.iloc[order]
    model = _Model(work, spec)
    hidden = _suppressed(work)
    costs = _costs(work, spec)
    protected = _map(
        lambda comp: _protect(model, comp, hidden, costs), model.components
    )
    after = hidden.copy()
    for comp, local in zip(model.components, protected, strict=True):
        after[comp.cells] = local
    newly = np.zeros(len(cells), dtype=bool)
    newly[order] = after & ~hidden
    out = cells.copy()
    out.loc[newly, "value"] = pd.NA
    out.loc[newly, "status"] = SUPPRESSED
    return out


def _findings(model, comp, hidden):
    if not hidden[comp.cells].any():
        return []
    return model.auditor(comp, hidden).findings()


def _canonical_order(cells):
    """Positions sorted by cell key: the result must not depend on row order."""
    _check_frame(cells)
    return np.lexsort([cells[c].to_numpy() for c in reversed(KEY_COLUMNS)])


def _suppressed(cells):
    return (cells["status"] == SUPPRESSED).to_numpy(copy=True)


def _map(function, components):
    """Components are independent and HiGHS releases the GIL: use the cores."""
    workers = min(len(components), os.cpu_count() or 1)
    if workers <= 1:
        return [function(comp) for comp in components]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, components))


# --- secondary suppression -------------------------------------------------------


def _protect(model, comp, hidden, costs):
    """The hidden mask of one component (its own positions) once its audit is clean."""
    if not hidden[comp.cells].any():
        return hidden[comp.cells]
    auditor = model.auditor(comp, hidden)
    costs = costs[comp.cells]
    while findings := auditor.findings():
        auditor.hide(_choose(auditor, findings, costs))
    return auditor.hidden.copy()


def _choose(auditor, findings, costs):
    """One published cell per violation, skipping violations a pick may fix."""
    picks: list[int] = []
    for f in sorted(findings, key=lambda f: (f.high - f.low, f.cell)):
        cand = _helpful_cells(auditor, f)
        if not cand.size or np.isin(cand, picks).any():
            continue
        picks.append(int(cand[np.lexsort((cand, costs[cand]))[0]]))
    if not picks:
        picks = _fallback(auditor, costs)
    return np.array(picks, dtype=np.int64)


def _helpful_cells(auditor, finding):
    """Published cells whose bounds limit the violating cell's optimum.

    A non-zero reduced cost means the optimum would move if the cell's bound
    did; hiding a cell lifts its upper bound and lowers its lower one to 1.
    """
    helpful = np.zeros(len(auditor.hidden), dtype=bool)
    for reduced in finding.reduced:
        helpful |= np.abs(reduced) > _DUAL_TOL
    return np.flatnonzero(helpful & ~auditor.hidden)


def _fallback(auditor, costs):
    """No LP pointed at a cell: hide the cheapest non-zero published cell."""
    shown = np.flatnonzero(~auditor.hidden)
    if not shown.size:
        raise RuntimeError("the audit fails with every non-zero cell suppressed")
    return [int(shown[np.lexsort((shown, costs[shown]))[0]])]


def _costs(cells, spec):
    """What hiding a cell costs users: its published size, times 3 per coarser level.

    A cell's level counts its ALL dimensions and how coarse its period is, so a
    country-year headline costs far more than a quarter's sex×age cell. Published
    values only: choosing by true value would leak it through the choice.
    """
    level = sum((cells[d] == ALL).to_numpy(dtype=int) for d in _DIMS)
    level = level + _period_level(cells["period"])
    value = cells["value"].fillna(0).to_numpy(dtype=float)
    return (value + spec.b) * 3.0**level


# --- the auditor's knowledge -------------------------------------------------


@dataclass
class _Component:
    """Indicators whose cells share relations: one LP, solved on its own."""

    cells: np.ndarray  # positions in the frame, sorted
    matrix: sparse.csc_array  # equality rows first, then `≤ 0` rows
    n_eq: int


class _Model:
    """The relations of §4 over one country's cells, split into components."""

    def __init__(self, cells: pd.DataFrame, spec: DisclosureSpec):
        _check_frame(cells)
        self.spec = spec
        self.lb, self.ub, zero = _published_bounds(cells, spec)
        a_eq, a_ub = _Relations.of(cells, spec)
        # A published 0 is exactly 0 and is never suppressed (§5 promises a
        # suppressed cell is ≥ 1; hiding a true 0 would make that false), so it
        # adds nothing to any relation: the LPs leave zeros out.
        self.components = [
            _component(pos[~zero[pos]], a_eq, a_ub) for pos in _components(cells, spec)
        ]

    def auditor(self, comp, hidden):
        """An auditor of one component, `hidden` given over the whole frame."""
        at = comp.cells
        return _Auditor(
            comp,
            self.lb[at],
            self.ub[at],
            hidden[at],
            self.spec.min_range,
        )


def _component(positions, a_eq, a_ub):
    eq, ub = _restrict(a_eq, positions), _restrict(a_ub, positions)
    return _Component(positions, sparse.vstack([eq, ub], format="csc"), eq.shape[0])


def _check_frame(cells):
    missing = {*KEY_COLUMNS, "value", "status"} - set(cells.columns)
    if missing:
        raise ValueError(f"cells lack columns {sorted(missing)}")
    status = cells["status"]
    if not status.isin([PUBLISHED, SUPPRESSED]).all():
        raise ValueError("status must be 'published' or 'suppressed'")
    if (cells["value"].isna() != (status == SUPPRESSED)).any():
        raise ValueError("a value must be empty exactly when its cell is suppressed")
    if "country" in cells.columns and cells["country"].nunique() > 1:
        raise ValueError("cells of one country at a time")
    if cells.duplicated(list(KEY_COLUMNS)).any():
        raise ValueError("the same cell appears twice")


def _published_bounds(cells, spec):
    """What each published value says of the true one (CONTRACT §5)."""
    value = cells["value"].fillna(0).to_numpy(dtype=float)
    published = (cells["status"] == PUBLISHED).to_numpy()
    zero = published & (value == 0)
    half = spec.b // 2
    lb = np.where(zero, 0.0, np.maximum(value - half, spec.k))
    ub = np.where(zero, 0.0, value + half)
    if (published & (lb > ub)).any():
        raise ValueError("a published value is below the threshold k")
    # A suppressed cell's bounds are set per audit: it is ≥ 1, nothing more.
    return lb, ub, zero


def _period_level(periods: pd.Series) -> np.ndarray:
    """0 for a quarter '2010Q3', 1 for a year '2010', 2 for ALL."""
    quarter = periods.str.fullmatch(r"\d{4}Q[1-4]")
    year = periods.str.fullmatch(r"\d{4}")
    if not (quarter | year | (periods == ALL)).all():
        raise ValueError("a period is neither a quarter, a year nor ALL")
    return np.where(quarter, 0, np.where(year, 1, 2))


def _components(cells, spec):
    """Cell positions per group of indicators joined by at_most pairs."""
    indicators = sorted(cells["indicator"].unique())
    root = {code: code for code in indicators}

    def find(code):
        while root[code] != code:
            code = root[code]
        return code

    for small, large in spec.at_most:
        if small in root and large in root:
            root[find(small)] = find(large)
    group = cells["indicator"].map({code: find(code) for code in indicators})
    return [np.flatnonzero(group.to_numpy() == g) for g in sorted(set(group))]


def _restrict(matrix, positions):
    """The rows of a relation matrix over these cells, as a matrix of them alone."""
    sub = matrix[:, positions]
    return sub[np.flatnonzero(np.diff(sub.indptr))]


class _Relations:
    """Sparse rows `a_eq @ x == 0` and `a_ub @ x <= 0` of CONTRACT §4."""

    def __init__(self, cells):
        self.keys = cells.loc[:, list(KEY_COLUMNS)].reset_index(drop=True)
        self.index = pd.MultiIndex.from_frame(self.keys)
        self.eq = ([], [], [])  # row, column, coefficient
        self.ub = ([], [], [])
        self.n_eq = self.n_ub = 0

    @classmethod
    def of(cls, cells, spec):
        rel = cls(cells)
        rules = cells["indicator"].map(spec.rule).to_numpy()
        breakdown = _breakdown(cells)
        level = _period_level(cells["period"])
        for rule in np.unique(rules):
            rel.add_rule(rule, rules == rule, breakdown, level, cells["period"])
        for small, large in spec.at_most:
            rel.add_at_most(small, large)
        n = len(cells)
        return rel.matrix(rel.eq, rel.n_eq, n), rel.matrix(rel.ub, rel.n_ub, n)

    def add_rule(self, rule, mine, breakdown, level, periods):
        # Each child counts once per period in one sex and one age band, so the
        # partitions are equalities for every rule.
        self.add_partitions(mine, breakdown)
        site = np.flatnonzero(mine & (breakdown == "site"))
        quarter = np.flatnonzero(mine & (level == 0))
        year = np.flatnonzero(mine & (level == 1))
        to_site = self.parents(site, site=ALL)
        year_of = periods.iloc[quarter].str.slice(0, 4).to_numpy()
        to_year = self.parents(quarter, period=year_of)
        to_all = self.parents(year, period=ALL)
        if rule == ROWS:
            self.equal_sum(to_site, site)
            self.equal_sum(to_year, quarter)
            self.equal_sum(to_all, year)
            return
        self.each_at_most(site, to_site)
        self.each_at_most(quarter, to_year)
        self.add_year_below_all(year, to_all, breakdown)
        if rule == DISTINCT_CHILDREN:
            # A child reached in a year was reached in one of its quarters, etc.
            self.sum_at_least(to_site, site)
            self.sum_at_least(to_year, quarter)
            self.sum_at_least(to_all, year)

    def add_year_below_all(self, year, to_all, breakdown):
        # A child's age band in a period comes from its first contact in that
        # period: one aged 13 in 2009 and 14 in 2010 is in 10-13 for ALL but in
        # 14-17 for 2010. So year ≤ ALL holds only where age is not broken down.
        keep = ~np.isin(breakdown[year], ["age_band", "sex_age"])
        self.each_at_most(year[keep], to_all[keep])

    def add_partitions(self, mine, breakdown):
        for name, parent in (
            ("sex", {"sex": ALL}),
            ("age_band", {"age_band": ALL}),
            ("service", {"service": ALL}),
        ):
            child = np.flatnonzero(mine & (breakdown == name))
            self.equal_sum(self.parents(child, **parent), child)
        sex_age = np.flatnonzero(mine & (breakdown == "sex_age"))
        self.equal_sum(self.parents(sex_age, age_band=ALL), sex_age)
        self.equal_sum(self.parents(sex_age, sex=ALL), sex_age)

    def add_at_most(self, small, large):
        child = np.flatnonzero(self.keys["indicator"].to_numpy() == small)
        twin = self.find(child, indicator=large)
        found = twin >= 0
        self.each_at_most(child[found], twin[found])

    def find(self, child, **changes):
        keys = self.keys.iloc[child].copy()
        for column, value in changes.items():
            keys[column] = value
        return self.index.get_indexer(pd.MultiIndex.from_frame(keys))

    def parents(self, child, **changes):
        parent = self.find(child, **changes)
        if (parent < 0).any():
            raise ValueError("the cube is not dense: a total cell is missing")
        return parent

    def equal_sum(self, parent, child):
        """parent = Σ its children."""
        self.n_eq = _add_sum_rows(self.eq, self.n_eq, parent, child, sign=1)

    def sum_at_least(self, parent, child):
        """parent ≤ Σ its children."""
        self.n_ub = _add_sum_rows(self.ub, self.n_ub, parent, child, sign=1)

    def each_at_most(self, child, parent):
        """child ≤ parent, one row per child."""
        rows = self.n_ub + np.arange(len(child))
        _extend(self.ub, rows, child, 1.0)
        _extend(self.ub, rows, parent, -1.0)
        self.n_ub += len(child)

    @staticmethod
    def matrix(triplets, n_rows, n_cols):
        rows, cols, vals = (np.concatenate(t) if t else np.empty(0) for t in triplets)
        return sparse.csr_array(
            (vals, (rows.astype(np.int64), cols.astype(np.int64))),
            shape=(n_rows, n_cols),
        )


def _add_sum_rows(triplets, n_rows, parent, child, sign):
    """Rows `sign * (parent - Σ children)`, one per distinct parent."""
    if not len(child):
        return n_rows
    parents, group = np.unique(parent, return_inverse=True)
    _extend(triplets, n_rows + np.arange(len(parents)), parents, float(sign))
    _extend(triplets, n_rows + group, child, -float(sign))
    return n_rows + len(parents)


def _extend(triplets, rows, cols, value):
    triplets[0].append(np.asarray(rows))
    triplets[1].append(np.asarray(cols))
    triplets[2].append(np.full(len(rows), value))


def _breakdown(cells):
    """The name of each cell's breakdown (which dimensions are not ALL)."""
    flags = pd.DataFrame({d: cells[d].to_numpy() != ALL for d in _DIMS})
    names = np.empty(len(cells), dtype=object)
    for dims, name in _BREAKDOWNS.items():
        match = np.ones(len(cells), dtype=bool)
        for d in _DIMS:
            match &= flags[d].to_numpy() == (d in dims)
        names[match] = name
    if pd.isna(names).any():
        raise ValueError("a cell breaks down by dimensions §4 does not allow")
    return names


# --- the audit as linear programmes ---------------------------------------------


@dataclass
class _Finding:
    cell: int  # position in the component
    low: float
    high: float
    reduced: tuple = ()  # reduced costs of the LPs that gave low and high


class _Auditor:
    """One component's LP, kept across rounds of secondary suppression.

    Every LP solution is a point the auditor cannot rule out, so the spread of
    the points seen so far is a proven lower bound on each cell's range: a cell
    whose seen spread is wide needs no LP of its own. Hiding a non-zero published
    cell only widens the feasible set, so points seen and cells proven wide stay
    valid from one round to the next.
    """

    def __init__(self, comp, lb, ub, hidden, min_range):
        self.lb, self.ub = lb, ub
        self.hidden = hidden.copy()
        self.min_range = min_range
        # Every maximum is taken under a cap far above any count: a capped maximum
        # is still a value the cell can take, so "wide" stays a proof, and every
        # LP has an optimum (no unbounded-or-infeasible status to untangle).
        self.cap = max(1e6, 10.0 * ub[~hidden].sum())
        everyone = np.arange(len(lb))
        self.solver = _solver(comp.matrix, comp.n_eq, *self.bounds(everyone))
        self.seen = _Spread(len(lb))
        self.wide = np.zeros(len(lb), dtype=bool)
        self.rng = np.random.default_rng(0)  # spreading weights, reproducibly

    def bounds(self, cells):
        hidden = self.hidden[cells]
        return (
            np.where(hidden, 1.0, self.lb[cells]),
            np.where(hidden, self.cap, self.ub[cells]),
        )

    def hide(self, cells):
        """Suppress published cells: their bounds open up to [1, cap]."""
        cells = np.unique(cells)
        self.hidden[cells] = True
        self.solver.set_bounds(cells, *self.bounds(cells))

    def findings(self):
        """The hidden cells whose range is narrower than min_range."""
        todo = self.spread(np.flatnonzero(self.hidden & ~self.wide))
        found = []
        for j in todo:
            finding = self.check(j)
            if finding is None:
                self.wide[j] = True
            else:
                found.append(finding)
        return found

    def spread(self, cells):
        """The cells still unproven after pushing them all down, then all up.

        One pair of LPs proves many cells at once; pairs with random weights
        prove more, until a pair proves less than a tenth of those left.
        """
        weight = np.ones(len(cells))
        while cells.size:
            push = np.zeros(len(self.lb))
            push[cells] = weight
            self.seen.add(self.solver.minimise(push).x)
            self.seen.add(self.solver.minimise(-push).x)
            wide = self.is_wide(self.seen.low[cells], self.seen.high[cells])
            self.wide[cells[wide]] = True
            if wide.sum() < 0.1 * len(cells):
                return cells[~wide]
            cells = cells[~wide]
            weight = self.rng.uniform(0.5, 1.5, len(cells))
        return cells

    def check(self, j):
        """A finding if cell j is narrow, else None; its own LPs, min then max."""
        if self.is_wide(self.seen.low[j], self.seen.high[j]):
            return None
        low, reduced = 1.0, ()  # a hidden cell's own bound: no LP goes lower
        if self.seen.low[j] > 1.0 + _EPS:
            lowest = self.optimum(j, 1.0)
            low, reduced = lowest.fun, (lowest.reduced,)
            if self.is_wide(low, self.seen.high[j]):
                return None
        highest = self.optimum(j, -1.0)
        high = -highest.fun
        if self.is_wide(low, high):
            return None
        return _Finding(int(j), float(low), float(high), (*reduced, highest.reduced))

    def optimum(self, j, sign):
        cost = np.zeros(len(self.lb))
        cost[j] = sign
        solution = self.solver.minimise(cost)
        self.seen.add(solution.x)
        return solution

    def is_wide(self, low, high):
        """Whole values the cell (or each cell) can take span at least min_range.

        True values are whole numbers, so only ceil(low)..floor(high) is really
        possible; judging on that is the stricter reading of §5. An infinite
        high is wide.
        """
        span = np.floor(np.add(high, _EPS)) - np.ceil(np.subtract(low, _EPS))
        return span >= self.min_range


class _Spread:
    """The smallest and largest value each cell took over the points seen."""

    def __init__(self, n):
        self.low = np.full(n, np.inf)
        self.high = np.full(n, -np.inf)

    def add(self, x):
        np.minimum(self.low, x, out=self.low)
        np.maximum(self.high, x, out=self.high)


# --- solvers ------------------------------------------------------------------------


class _Solution(NamedTuple):
    x: np.ndarray
    fun: float
    reduced: np.ndarray  # ∂ objective / ∂ x_j at the optimum, for non-basic cells


def _solver(matrix, n_eq, lb, ub):
    if _highs is None:
        return _LinprogSolver(matrix, n_eq, lb, ub)
    return _HighsSolver(matrix, n_eq, lb, ub)


class _HighsSolver:
    """HiGHS kept loaded between solves, so each one starts from the last basis.

    From one solve to the next only the objective changes (and, between rounds
    of secondary suppression, a few bounds), so primal simplex from the last
    optimal basis needs a few dozen iterations where a cold start needs a
    thousand or more.
    """

    def __init__(self, matrix, n_eq, lb, ub):
        n_cols, n_rows = len(lb), matrix.shape[0]
        lp = _highs.HighsLp()
        lp.num_col_, lp.num_row_ = n_cols, n_rows
        lp.col_cost_ = np.zeros(n_cols)
        lp.col_lower_, lp.col_upper_ = lb, ub
        lp.row_lower_ = np.r_[np.zeros(n_eq), np.full(n_rows - n_eq, -_highs.kHighsInf)]
        lp.row_upper_ = np.zeros(n_rows)
        lp.a_matrix_.format_ = _highs.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, n_rows
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        self.highs = _highs._Highs()
        _ok(self.highs.setOptionValue("output_flag", False))
        _ok(self.highs.passModel(lp))
        self.cols = np.arange(n_cols, dtype=np.int32)
        self.warm = False

    def set_bounds(self, cells, lb, ub):
        cells = np.asarray(cells, dtype=np.int32)
        _ok(self.highs.changeColsBounds(len(cells), cells, lb, ub))

    def minimise(self, cost):
        _ok(self.highs.changeColsCost(len(cost), self.cols, cost))
        status = self.run()
        if status != _highs.HighsModelStatus.kOptimal and self.warm:
            # Never trust a verdict reached from an old basis alone: start afresh.
            self.highs.clearSolver()
            self.warm = False
            status = self.run()
        if status == _highs.HighsModelStatus.kInfeasible:
            raise ValueError("published cells contradict the relations of §4")
        if status != _highs.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS: {self.highs.modelStatusToString(status)}")
        self.warm = True
        solution = self.highs.getSolution()
        return _Solution(
            np.array(solution.col_value),
            self.highs.getInfo().objective_function_value,
            np.array(solution.col_dual),
        )

    def run(self):
        # Dual simplex is quickest from nothing, primal from a previous optimum.
        self.highs.setOptionValue("simplex_strategy", 4 if self.warm else 1)
        self.highs.run()
        return self.highs.getModelStatus()


def _ok(status):
    """HiGHS reports a refused change by its return value, not by raising."""
    if status == _highs.HighsStatus.kError:
        raise RuntimeError("HiGHS refused a change to the model")


class _LinprogSolver:
    """The public SciPy interface, should SciPy's copy of HiGHS move: cold solves."""

    def __init__(self, matrix, n_eq, lb, ub):
        matrix = sparse.csr_array(matrix)
        self.a_eq, self.a_ub = matrix[:n_eq], matrix[n_eq:]
        self.bounds = np.column_stack([lb, ub])

    def set_bounds(self, cells, lb, ub):
        self.bounds[cells] = np.column_stack([lb, ub])

    def minimise(self, cost):
        res = linprog(
            cost,
            A_ub=self.a_ub if self.a_ub.shape[0] else None,
            b_ub=np.zeros(self.a_ub.shape[0]) if self.a_ub.shape[0] else None,
            A_eq=self.a_eq if self.a_eq.shape[0] else None,
            b_eq=np.zeros(self.a_eq.shape[0]) if self.a_eq.shape[0] else None,
            bounds=self.bounds,
            method="highs",
        )
        if res.status == 2:
            raise ValueError("published cells contradict the relations of §4")
        if res.status != 0:
            raise RuntimeError(f"linear programme failed: {res.message}")
        return _Solution(res.x, res.fun, res.lower.marginals + res.upper.marginals)
