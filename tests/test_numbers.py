"""How figures are written and judged: "<10", "≥ N", rates, red/amber/green."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import numbers


def test_a_suppressed_figure_reads_lt10_never_0_or_blank():
    assert numbers.figure_text(pd.NA) == "<10"
    assert numbers.figure_text(None, threshold=11) == "<11"
    assert numbers.figure_text(1234) == "1,234"


def test_a_total_with_a_hidden_part_is_a_lower_bound():
    total = numbers.total(pd.Series([10, pd.NA, 5], dtype="Int64"))
    assert (total.value, total.lower_bound, total.text) == (15, True, "≥ 15")
    assert numbers.total(pd.Series([], dtype="Int64")).text == "no data"


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 10, 0.5), (5, pd.NA, None), (pd.NA, 10, None), (0, 0, None), (3, None, None)],
)
def test_a_rate_needs_both_parts_published(numerator, denominator, expected):
    assert numbers.ratio(numerator, denominator) == expected


@pytest.mark.parametrize(
    ("value", "target", "flags", "status", "text"),
    [
        (95, 100, {}, numbers.ON_TRACK, "95%"),
        (60, 100, {}, numbers.ATTENTION, "60%"),
        (59, 100, {}, numbers.OFF_TRACK, "59%"),
        (None, 100, {"suppressed": True}, numbers.OFF_TRACK, "<10 of 100"),
        (None, 12, {"suppressed": True}, numbers.UNKNOWN, "<10 of 12"),
        (None, 5, {"suppressed": True}, numbers.UNKNOWN, "<10 of 5"),
        (95, 100, {"lower_bound": True}, numbers.ON_TRACK, "≥ 95%"),
        (50, 100, {"lower_bound": True}, numbers.UNKNOWN, "≥ 50%"),
        (50, None, {}, numbers.NO_TARGET, "no target"),
        (50, 0, {}, numbers.NO_TARGET, "no target"),
        (None, 100, {}, numbers.NO_DATA, "no data"),
    ],
)
def test_progress_gives_a_status_only_when_every_possible_value_agrees(
    value, target, flags, status, text
):
    progress = numbers.progress(value, target, **flags)
    assert (progress.status, progress.text) == (status, text)


def test_every_status_has_a_label_and_a_colour():
    assert set(numbers.STATUS_LABELS) == set(numbers.STATUS_COLOURS)
