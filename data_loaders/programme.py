"""The programme file: countries, periods, indicators, disclosure settings, targets.

Loaded once into frozen dataclasses; a bad file stops with a message naming the fix.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from data_loaders.contract import AGENCIES, FILTER_COLUMNS

DEFAULT_PROGRAMME = Path(__file__).parent / "programmes" / "ctrp3.toml"
RULES = {
    "rows": ("contacts", "referrals"),
    "distinct_children": ("contacts", "referrals"),
    "distinct_children_min_contacts": ("contacts",),
    "sum_quantity": ("activities",),
}
MEASURES = ("reach", "attendance", "referrals", "output")
MIN_THRESHOLD = 5


class ProgrammeError(ValueError):
    """The programme file is unusable; the message says where and how to fix it."""


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    map_id: str
    footnote: str = ""


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    objective: int
    measure: str
    source: str
    rule: str
    sensitive: bool
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    min_contacts: int = 0
    at_most: str | None = None

    @property
    def services(self) -> tuple[str, ...]:
        """The agencies the service dimension ranges over ('ALL' only when empty)."""
        if self.source != "referrals" or self.counts_children:
            return ()  # a child referred twice is in two services: not a partition
        return self.filters.get("agency", AGENCIES)

    @property
    def counts_children(self) -> bool:
        return self.rule.startswith("distinct_children")


@dataclass(frozen=True)
class Programme:
    code: str
    name: str
    first_quarter: str
    last_quarter: str
    objectives: dict[int, str]
    countries: dict[str, Country]
    indicators: dict[str, Indicator]
    threshold: int
    rounding_base: int
    green: float
    amber: float
    derived: dict[str, dict]
    targets_per_year: dict[str, float]
    country_weight: dict[str, float]
    # The logframe's baseline: each indicator's value in the year before the
    # programme, for a country of reference size (scaled by country_weight).
    baseline_year: str = ""
    baseline_per_year: dict[str, float] = field(default_factory=dict)

    @cached_property
    def quarters(self) -> tuple[str, ...]:
        first_year, first_q = _parse_quarter(self.first_quarter)
        last_year, last_q = _parse_quarter(self.last_quarter)
        return tuple(
            f"{y}Q{q}"
            for y in range(first_year, last_year + 1)
            for q in range(1, 5)
            if (y, q) >= (first_year, first_q) and (y, q) <= (last_year, last_q)
        )

    @cached_property
    def years(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q[:4] for q in self.quarters))

    @cached_property
    def periods(self) -> tuple[str, ...]:
        """Every period of a cell, finest first: quarters, years, then ALL."""
        return self.quarters + self.years + ("ALL",)

    @property
    def start_date(self) -> str:
        year, quarter = _parse_quarter(self.first_quarter)
        return f"{year}-{3 * quarter - 2:02d}-01"

    @property
    def end_date(self) -> str:
        year, quarter = _parse_quarter(self.last_quarter)
        return f"{year}-{3 * quarter:02d}-{31 if quarter in (1, 4) else 30}"

    def sensitive(self) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.sensitive]

    def target(self, indicator: str, country: str, year: str) -> int:
        """The demo target of one country and year (real ones live in the warehouse)."""
        base = self.targets_per_year.get(indicator, 0)
        return round(base * self.country_weight.get(country, 1.0))

    def baseline(self, indicator: str, country: str) -> int | None:
        """The baseline of one country (None: the programme file gives none)."""
        if indicator not in self.baseline_per_year:
            return None
        base = self.baseline_per_year[indicator]
        return round(base * self.country_weight.get(country, 1.0))


def load_programme(path: str | os.PathLike | None = None) -> Programme:
    """Read and check a programme file (argument > DASHBOARD_PROGRAMME > default)."""
    path = Path(path or os.environ.get("DASHBOARD_PROGRAMME") or DEFAULT_PROGRAMME)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ProgrammeError(
            f"{path}: cannot read the programme file: {error}"
        ) from None
    try:
        return _build(raw)
    except (KeyError, TypeError, ValueError) as error:
        raise ProgrammeError(f"{path}: {error}") from None


def _build(raw: dict) -> Programme:
    info = raw["programme"]
    disclosure = raw["disclosure"]
    if disclosure["threshold"] < MIN_THRESHOLD:
        raise ValueError(
            f"disclosure.threshold is {disclosure['threshold']}; "
            f"a threshold below {MIN_THRESHOLD} is refused"
        )
    indicators = {
        code: _indicator(code, spec) for code, spec in raw["indicators"].items()
    }
    for indicator in indicators.values():
        if indicator.at_most and indicator.at_most not in indicators:
            raise ValueError(
                f"indicator {indicator.code}: at_most names unknown {indicator.at_most}"
            )
    thresholds = raw.get("status_thresholds", {})
    targets = raw.get("targets", {})
    return Programme(
        code=info["code"],
        name=info["name"],
        first_quarter=info["first_quarter"],
        last_quarter=info["last_quarter"],
        objectives={int(k): v for k, v in raw["objectives"].items()},
        countries={
            code: Country(code=code, **spec) for code, spec in raw["countries"].items()
        },
        indicators=indicators,
        threshold=int(disclosure["threshold"]),
        rounding_base=int(disclosure["rounding_base"]),
        green=float(thresholds.get("green", 0.9)),
        amber=float(thresholds.get("amber", 0.6)),
        derived=raw.get("derived", {}),
        targets_per_year=targets.get("per_year", {}),
        country_weight=targets.get("country_weight", {}),
        **_baseline(raw.get("baseline", {}), indicators),
    )


def _baseline(raw: dict, indicators: dict) -> dict:
    """The optional [baseline] section: year and a value per indicator."""
    per_year = {code: float(value) for code, value in raw.get("per_year", {}).items()}
    unknown = sorted(set(per_year) - set(indicators))
    if unknown:
        raise ValueError(f"baseline.per_year names unknown indicators {unknown}")
    return {"baseline_year": str(raw.get("year", "")), "baseline_per_year": per_year}


def _indicator(code: str, spec: dict) -> Indicator:
    source, rule = spec["source"], spec["rule"]
    if rule not in RULES or source not in RULES[rule]:
        raise ValueError(f"indicator {code}: rule {rule!r} cannot count {source!r}")
    if spec["measure"] not in MEASURES:
        raise ValueError(f"indicator {code}: measure must be one of {MEASURES}")
    filters = {}
    for column, values in spec.get("filters", {}).items():
        allowed = FILTER_COLUMNS[source].get(column)
        if allowed is None:
            raise ValueError(f"indicator {code}: cannot filter {source} on {column!r}")
        unknown = set(values) - set(allowed)
        if unknown:
            raise ValueError(f"indicator {code}: unknown {column} {sorted(unknown)}")
        filters[column] = tuple(values)
    return Indicator(
        code=code,
        label=spec["label"],
        objective=int(spec["objective"]),
        measure=spec["measure"],
        source=source,
        rule=rule,
        sensitive=bool(spec["sensitive"]),
        filters=filters,
        min_contacts=int(spec.get("min_contacts", 0)),
        at_most=spec.get("at_most"),
    )


def _parse_quarter(text: str) -> tuple[int, int]:
    year, quarter = text.split("Q")
    return int(year), int(quarter)
