"""Disclosure control of CONTRACT §5: what may be published of a sensitive cell.

True values exist only in memory between the source query and `protect`; what comes out
holds the published value (rounded, or empty when suppressed) and never the true one.
Order: primary suppression and rounding, then secondary suppression until the audit
(linear programming over every relation an auditor knows) finds no narrow cell.
"""

from __future__ import annotations

import pandas as pd

from data_loaders import disclosure
from data_loaders.programme import Programme


class DisclosureError(RuntimeError):
    """Protected cells that would still let a reader narrow down a hidden one."""


def primary(cells: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Suppress 1..k-1, round every other sensitive value to the nearest multiple of b.

    A true 0 stays 0: zeros are never suppressed, so a suppressed cell is known ≥ 1.
    Non-sensitive indicators are published exactly.
    """
    k, b = programme.threshold, programme.rounding_base
    sensitive = cells["indicator"].isin([i.code for i in programme.sensitive()])
    true = cells["value"]
    hidden = sensitive & (true >= 1) & (true < k)
    # Nearest multiple of b; with b odd no value sits exactly half-way.
    rounded = ((true + b // 2) // b) * b
    out = cells.rename(columns={"value": "true_value"})
    out["value"] = true.where(~sensitive, rounded).astype("Int64").mask(hidden)
    out["status"] = "published"
    out.loc[hidden, "status"] = "suppressed"
    return out


def disclosure_spec(programme: Programme) -> disclosure.DisclosureSpec:
    """What an auditor knows of this programme: k, b, rules and `at_most` pairs."""
    sensitive = programme.sensitive()
    return disclosure.DisclosureSpec(
        k=programme.threshold,
        b=programme.rounding_base,
        # The width of a published value's range: 15 says [13, 17] when b = 5.
        min_range=2 * (programme.rounding_base // 2),
        rules={i.code: i.rule for i in sensitive},
        at_most=tuple((i.code, i.at_most) for i in sensitive if i.at_most),
    )


def protect(cells: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Primary then secondary suppression, country by country; true values attached.

    Raises DisclosureError if the audit still finds a narrow cell (never expected:
    secondary suppression runs until it does not).
    """
    protected = primary(cells, programme)
    spec = disclosure_spec(programme)
    sensitive = protected["indicator"].isin(spec.rules)
    parts = [protected[~sensitive]]
    for _country, own in protected[sensitive].groupby("country", sort=False):
        parts.append(disclosure.secondary_suppress(own, spec))
    out = pd.concat(parts).loc[protected.index]
    violations = audit_cells(published(out), programme)
    if violations:
        raise DisclosureError(_describe(violations))
    return out


def audit_cells(cells: pd.DataFrame, programme: Programme) -> list[tuple]:
    """(country, Violation) for every suppressed cell a reader could narrow down,
    judged from published cells only."""
    spec = disclosure_spec(programme)
    sensitive = cells[cells["indicator"].isin(spec.rules)]
    if "true_value" in sensitive:
        sensitive = sensitive.drop(columns="true_value")  # the audit never reads it
    violations = []
    for country, own in sensitive.groupby("country", sort=False):
        violations += [(country, v) for v in disclosure.audit(own, spec)]
    return violations


def _describe(violations) -> str:
    country, first = violations[0]
    return (
        f"{len(violations)} suppressed cells could be narrowed down, e.g. {country} "
        f"{first.indicator} {first.period} site={first.site} sex={first.sex} "
        f"age={first.age_band} service={first.service}"
    )


def published(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells without their true values: the only form that may be stored."""
    return cells.drop(columns=["true_value"])
