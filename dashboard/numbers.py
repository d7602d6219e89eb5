"""How published figures are combined and written, in one place.

A suppressed cell reads "<10" (never 0, never blank). A region figure is the sum of the
countries' published values; one that includes a suppressed country is a lower bound,
written "≥ N".
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

SUPPRESSED_TEXT = "<10"
SUPPRESSED_HELP = (
    "Fewer than 10: hidden to protect the children counted. Published figures are "
    "rounded to the nearest 5, so totals may not add up exactly."
)


@dataclass(frozen=True)
class Total:
    value: int
    lower_bound: bool  # some part was suppressed: the true total is at least `value`
    empty: bool = False  # no part at all (nothing synced yet)

    @property
    def text(self) -> str:
        if self.empty:
            return "no data"
        return f"≥ {self.value:,}" if self.lower_bound else f"{self.value:,}"


def total(values: pd.Series) -> Total:
    """Sum of published values; suppressed parts (<NA>) make it a lower bound."""
    if len(values) == 0:
        return Total(0, False, empty=True)
    return Total(int(values.sum(skipna=True)), bool(values.isna().any()))


def figure_text(value, threshold: int = 10) -> str:
    """One published cell as text: a number, or "<10" when suppressed."""
    if value is None or pd.isna(value):
        return f"<{threshold}"
    return f"{int(value):,}"


def ratio(numerator, denominator) -> float | None:
    """A rate from published values only; none when either part is hidden or zero."""
    if numerator is None or denominator is None:
        return None
    if pd.isna(numerator) or pd.isna(denominator) or denominator == 0:
        return None
    return float(numerator) / float(denominator)
