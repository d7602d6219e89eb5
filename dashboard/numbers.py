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


def rounded_note(base: int) -> str:
    return (
        f"Figures of sensitive indicators are rounded to the nearest {base}, so totals "
        "may not add up exactly."
    )


def suppressed_title(threshold: int = 10) -> str:
    """The hover text of a "<10": why the number is not shown."""
    return (
        f"Fewer than {threshold}: hidden to protect the children counted "
        "(it is at least 1)."
    )


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


# -- progress against target, red / amber / green ----------------------------------

ON_TRACK, ATTENTION, OFF_TRACK = "on_track", "attention", "off_track"
UNKNOWN, NO_TARGET, NO_DATA = "unknown", "no_target", "no_data"
STATUS_LABELS = {
    ON_TRACK: "On track",
    ATTENTION: "Needs attention",
    OFF_TRACK: "Off track",
    UNKNOWN: "Not known (hidden figures)",
    NO_TARGET: "No target",
    NO_DATA: "No data",
}
# Okabe–Ito colours, dark enough apart for colour-blind readers and each with black
# text above 4.5:1 contrast (WCAG AA); the label is always written too.
STATUS_COLOURS = {
    ON_TRACK: "#009E73",
    ATTENTION: "#E69F00",
    OFF_TRACK: "#D55E00",
    UNKNOWN: "#DDDDDD",
    NO_TARGET: "#F2F2F2",
    NO_DATA: "#F2F2F2",
}


@dataclass(frozen=True)
class Progress:
    status: str
    text: str  # "92%", "≥ 80%", "<10 of 60", "no target"
    ratio: float | None = None  # for sorting and colour scales; None when not known


def progress(
    value,
    target,
    *,
    suppressed: bool = False,
    lower_bound: bool = False,
    green: float = 0.9,
    amber: float = 0.6,
    threshold: int = 10,
) -> Progress:
    """Where a published figure stands against its target.

    A suppressed figure lies in [1, threshold − 1] and a lower bound "≥ N" in
    [N, ∞): the status is given only when the whole range falls in one band.
    """
    if target is None or pd.isna(target) or target <= 0:
        return Progress(NO_TARGET, "no target")
    if suppressed:
        low, high = 1, threshold - 1
    elif value is None or pd.isna(value):
        return Progress(NO_DATA, "no data")
    else:
        low = int(value)
        high = float("inf") if lower_bound else int(value)

    def band(share):
        if share >= green:
            return ON_TRACK
        return ATTENTION if share >= amber else OFF_TRACK

    status = band(low / target)
    if band(high / target) != status:
        status = UNKNOWN
    if suppressed:
        return Progress(status, f"<{threshold} of {target:,.0f}")
    share = low / target
    return Progress(status, f"≥ {share:.0%}" if lower_bound else f"{share:.0%}", share)
