"""What the targets page edits, as plain data: the grid's rows, which cells changed,
whether a value is a target, and a note made safe to store.

Pure functions of the programme and the values a browser sent (no SQL, no Dash): a
hand-made request can send anything, so every value is checked here before a page
writes it, and nothing here trusts the shape of what it is given.
"""

from __future__ import annotations

import math
import re
import unicodedata

import pandas as pd

from dashboard import views
from data_loaders.contract import ALL
from data_loaders.programme import Programme
from data_loaders.warehouse import NOTE_LENGTH

TARGET_LIMIT = 1_000_000  # a target is a whole number from 0 to TARGET_LIMIT - 1
MAX_ROWS = 200  # more rows than any programme has indicators: a forged request
# Typed by a person: "12 000" and "12,000" are twelve thousand; "12.000" is not
# accepted, since it reads as twelve in some countries and twelve thousand in others.
WHOLE_NUMBER = re.compile(r"\d{1,3}(?:[ ,]\d{3})*|\d+")


def column(year: str) -> str:
    """The grid's field of a year: AG Grid reads a field name as a path, and a
    name of digits alone is asking for trouble."""
    return f"y{year}"


def target_rows(programme: Programme, targets: pd.DataFrame) -> list[dict]:
    """One row per indicator, grouped by objective as the pickers group them, with
    the target of each year (None where there is none)."""
    values = {
        (row.indicator, row.year): int(row.value)
        for row in targets.itertuples(index=False)
    }
    rows = []
    for objective, title in programme.objectives.items():
        heading = f"{objective}: {title}"  # on the group's first row only
        for measure, name in views.MEASURE_NAMES.items():
            for indicator in programme.indicators.values():
                if indicator.objective != objective or indicator.measure != measure:
                    continue
                row = {
                    "objective": heading,
                    "indicator": indicator.code,
                    "label": f"{name}: {indicator.label}",
                }
                for year in programme.years:
                    row[column(year)] = values.get((indicator.code, year))
                rows.append(row)
                heading = ""
    return rows


def cells_of(programme: Programme, rows) -> dict[tuple[str, str], object]:
    """{(indicator, year): value as sent} of the grid's rows; anything that is not
    a row of a known indicator is left out."""
    if not isinstance(rows, list):
        return {}
    cells = {}
    for row in rows[:MAX_ROWS]:
        if not isinstance(row, dict) or row.get("indicator") not in (
            programme.indicators
        ):
            continue
        for year in programme.years:
            cells[(row["indicator"], year)] = row.get(column(year))
    return cells


def parse_target(value) -> int | None:
    """The target a cell holds, or None when it holds no whole number in range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and WHOLE_NUMBER.fullmatch(value.strip()):
        value = int(re.sub(r"[ ,]", "", value.strip()))
    if isinstance(value, int) and 0 <= value < TARGET_LIMIT:
        return value
    return None


def changed_targets(
    programme: Programme, sent, loaded
) -> tuple[dict[tuple[str, str], int], list[str]]:
    """The cells the person changed since the grid was loaded, as targets, and a
    sentence for each value that is not a target (then nothing may be saved)."""
    before = cells_of(programme, loaded)
    changes, problems = {}, []
    for (code, year), value in cells_of(programme, sent).items():
        was = before.get((code, year))
        if value == was or (value in (None, "") and was in (None, "")):
            continue  # untouched, or a cell without a target left empty
        target = parse_target(value)
        if target is None:
            problems.append(_problem(programme, code, year, value))
        elif target != was:
            changes[(code, year)] = target
    return changes, problems


def loaded_targets(
    programme: Programme, loaded, cells
) -> dict[tuple[str, str], int | None]:
    """The value each of `cells` held when the grid was loaded (None: no target),
    for the save to check that nobody changed it since."""
    before = cells_of(programme, loaded)
    return {cell: parse_target(before.get(cell)) for cell in cells}


def conflict_message(programme: Programme, cells, stored: dict) -> str:
    """What a person reads when someone else saved some of their cells meanwhile:
    which, by whom, and what they hold now (`stored`, as `cells_of` gives it)."""
    changed = "; ".join(
        f"{programme.indicators[code].label}, {year}: now "
        + _shown(stored.get((code, year)))
        + (f" (by {who})" if who else "")
        for code, year, who in cells
    )
    return (
        f"Someone changed these targets after you opened them: {changed}. Nothing "
        "was saved. Your values are still in the grid: save again to replace "
        "theirs, or change them first."
    )


def _shown(value) -> str:
    return "no target" if value is None else f"{value:,}"


def _problem(programme: Programme, code: str, year: str, value) -> str:
    shown = "an empty cell" if value in (None, "") else f"“{str(value)[:20]}”"
    return (
        f"{programme.indicators[code].label}, {year}: {shown} is not a target. "
        f"A target is a whole number from 0 to {TARGET_LIMIT - 1:,}."
    )


def note_periods(programme: Programme) -> list[dict]:
    """What a note may be about: the whole programme, or one quarter."""
    return [
        {"label": "Whole programme", "value": ALL},
        *({"label": views.period_label(q), "value": q} for q in programme.quarters),
    ]


def clean_note(text) -> str | None:
    """The note as stored: control characters other than line breaks and tabs,
    and lone surrogates, removed (PostgreSQL refuses a NUL, UTF-8 a surrogate),
    ends trimmed; None when it is not text or is longer than NOTE_LENGTH."""
    if not isinstance(text, str):
        return None
    text = text.replace("\r\n", "\n")
    kept = "".join(c for c in text if c in "\n\t" or _storable(c)).strip()
    return kept if len(kept) <= NOTE_LENGTH else None


def _storable(character: str) -> bool:
    return unicodedata.category(character) not in ("Cc", "Cs")


def note_rows(programme: Programme, notes: pd.DataFrame) -> list[dict]:
    """A country's notes in programme order (the whole programme first), each with
    the period in words and who changed it when."""
    order = {p: i for i, p in enumerate((ALL, *programme.quarters))}
    rows = [
        {
            "period": "Whole programme"
            if n.period == ALL
            else views.period_label(n.period),
            "text": n.text,
            "by": f"{n.updated_by}, {n.updated_at:%Y-%m-%d}",
            "order": order.get(n.period, len(order)),
        }
        for n in notes.itertuples(index=False)
    ]
    return sorted(rows, key=lambda row: row["order"])
