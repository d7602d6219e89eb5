"""`make bench` section: disclosure control of the default demo data (issue 4).

Per country: time of secondary suppression and of the audit, beside the time of the
SQL aggregation of the same country in the same run (the baseline); and the share of
sensitive cells suppressed per indicator, after primary suppression alone and after
secondary suppression.
"""

from __future__ import annotations

import time

import pandas as pd

from data_loaders import disclosure, protection
from data_loaders.programme import load_programme
from data_loaders.sources import load_sources
from tests.bench_child import sql_cells


def protection_and_audit(bench) -> object:
    from tests.bench import Section

    programme = load_programme()
    sources = load_sources(bench.demo(1), programme.countries)
    spec = protection.disclosure_spec(programme)
    section = Section(
        "Disclosure control of the default demo data (scale 1)",
        [
            "country",
            "sensitive cells",
            "aggregation s",
            "secondary s",
            "audit s",
            "protection ÷ aggregation",
            "violations",
        ],
    )
    shares = []
    total = 0.0
    for country, source in sources.items():
        started = time.perf_counter()
        cells = sql_cells(source, programme)
        aggregation = time.perf_counter() - started
        first = protection.primary(cells, programme)
        sensitive = first[first["indicator"].isin(spec.rules)]
        started = time.perf_counter()
        second = disclosure.secondary_suppress(sensitive, spec)
        secondary = time.perf_counter() - started
        started = time.perf_counter()
        violations = disclosure.audit(second.drop(columns="true_value"), spec)
        audit = time.perf_counter() - started
        total += secondary + audit
        section.rows.append(
            [
                country,
                len(sensitive),
                f"{aggregation:.2f}",
                f"{secondary:.2f}",
                f"{audit:.2f}",
                f"{(secondary + audit) / aggregation:.1f}×",
                len(violations),
            ]
        )
        shares.append(_shares(sensitive, second))
    section.notes.append(
        f"protection and audit of all 7 countries: {total:.1f} s (goal: under 60 s)"
    )
    section.notes += _share_notes(pd.concat(shares))
    return section


def _shares(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator": before["indicator"].to_numpy(),
            "primary": (before["status"] == "suppressed").to_numpy(),
            "secondary": (after.loc[before.index, "status"] == "suppressed").to_numpy(),
        }
    )


def _share_notes(flags: pd.DataFrame) -> list[str]:
    by_indicator = flags.groupby("indicator")[["primary", "secondary"]].mean()
    notes = [
        "share of cells suppressed, per indicator (primary only → with secondary):"
    ]
    for indicator, row in by_indicator.iterrows():
        notes.append(f"{indicator}: {row['primary']:.1%} → {row['secondary']:.1%}")
    overall = flags[["primary", "secondary"]].mean()
    notes.append(
        f"all sensitive cells: {overall['primary']:.1%} → {overall['secondary']:.1%}"
    )
    return notes


SECTIONS = [protection_and_audit]
