"""Shaping warehouse cells into what pages show: per-country figures with targets.

Pure pandas over published cells; pages call these after asking the scope.
"""

from __future__ import annotations

import pandas as pd

from dashboard.numbers import figure_text
from data_loaders.contract import ALL
from data_loaders.programme import Programme


def period_label(period: str) -> str:
    if period == ALL:
        return "whole programme"
    return period.replace("Q", " Q")


def period_options(programme: Programme) -> list[dict]:
    """Whole programme, then years, then quarters."""
    first, last = programme.years[0], programme.years[-1]
    options = [{"label": f"Whole programme ({first}–{last})", "value": ALL}]
    options += [{"label": year, "value": year} for year in programme.years]
    options += [{"label": period_label(q), "value": q} for q in programme.quarters]
    return options


MEASURE_NAMES = {
    "reach": "Reach",
    "attendance": "Attendance",
    "referrals": "Referrals",
    "output": "Outputs",
}


def indicator_options(programme: Programme) -> list[dict]:
    """Indicators grouped by objective, then measure (reach, attendance, referrals,
    outputs); group headings are disabled options."""
    options = []
    for objective, title in programme.objectives.items():
        options.append(
            {
                "label": f"Objective {objective}: {title}",
                "value": f"objective-{objective}",
                "disabled": True,
            }
        )
        for measure, name in MEASURE_NAMES.items():
            for indicator in programme.indicators.values():
                if indicator.objective == objective and indicator.measure == measure:
                    options.append(
                        {
                            "label": f"    {name}: {indicator.label}",
                            "value": indicator.code,
                        }
                    )
    return options


def target_for(targets: pd.DataFrame, period: str) -> pd.Series:
    """Per-country target of a period: a year's, a quarter's share, or all years."""
    if targets.empty:
        return pd.Series(dtype="float64")
    if period == ALL:
        return targets.groupby("country")["value"].sum()
    year = period[:4]
    own = targets[targets["year"] == year].groupby("country")["value"].sum()
    return own / 4 if "Q" in period else own


def country_figures(
    cells: pd.DataFrame,
    targets: pd.DataFrame,
    programme: Programme,
    countries: list[str],
    period: str,
) -> pd.DataFrame:
    """One row per visible country: name, map id, published value, status (published,
    suppressed, or missing when the country has no snapshot yet), text, target."""
    by_country = cells.set_index("country") if len(cells) else None
    target = target_for(targets, period)
    rows = []
    for code in countries:
        country = programme.countries[code]
        if by_country is None or code not in by_country.index:
            value, status, text = pd.NA, "missing", "no data"
        else:
            value, status = by_country.at[code, "value"], by_country.at[code, "status"]
            text = figure_text(value, programme.threshold)
        rows.append(
            {
                "country": code,
                "name": country.name,
                "map_id": country.map_id,
                "value": value,
                "status": status,
                "text": text,
                "target": target.get(code, float("nan")),
            }
        )
    frame = pd.DataFrame(rows)
    frame["value"] = frame["value"].astype("Int64")
    return frame
