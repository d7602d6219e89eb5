"""Shaping warehouse cells into what pages show: figures, tables and summaries.

Pure pandas over published cells (no SQL, no Dash); pages call these with the
countries the scope allows. Three kinds of output per chart:

- a frame the figure builder draws (dashboard.figures);
- a display table (`*_table`): the same figures as the reader sees them, suppressed
  ones as "<10", which is also what the CSV holds;
- a one-sentence summary (`*_summary`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboard import numbers
from dashboard.numbers import figure_text
from data_loaders.contract import AGE_BANDS, ALL, SEXES
from data_loaders.programme import Programme

GEOJSON_FILE = (
    Path(__file__).resolve().parents[1] / "assets" / "geo" / "countries.geojson"
)
STALE_AFTER_DAYS = 35  # a country not synced for longer is flagged on data status
REGION = "All shown countries"


# -- options and labels ----------------------------------------------------------------


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
SEX_NAMES = {"F": "Female", "M": "Male", "U": "Sex unknown"}
AGE_NAMES = {band: band.replace("-", "–") for band in AGE_BANDS} | {"U": "Age unknown"}
BREAKDOWNS = {
    "sex_age": "Sex × age",
    "sex": "Sex",
    "age_band": "Age band",
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


def country_options(programme: Programme, countries: list[str]) -> list[dict]:
    return [{"label": programme.countries[c].name, "value": c} for c in countries]


ACRONYMS = {"ngo": "NGO"}


def words(code: str | None) -> str:
    """A code as words: 'social_welfare' → 'Social welfare'."""
    if not code:
        return ""
    return ACRONYMS.get(code, code.replace("_", " ").capitalize())


# -- figures of one cell per country ---------------------------------------------------


def cell_text(value, status: str, threshold: int = 10) -> str:
    if status == "missing":
        return "no data"
    if status == "suppressed":
        return f"<{threshold}"
    return figure_text(value, threshold)


def table_value(value, status: str, threshold: int = 10):
    """A figure as a table or CSV holds it: a whole number, "<10", or empty."""
    if status == "suppressed":
        return f"<{threshold}"
    if status == "missing" or value is None or pd.isna(value):
        return ""
    return int(value)


def _values(values, statuses, threshold: int = 10) -> list:
    """A column of figures as a table shows them (see table_value)."""
    return [table_value(v, s, threshold) for v, s in zip(values, statuses, strict=True)]


def status_word(status: str) -> str:
    return {"suppressed": "suppressed (<10)", "missing": "no data"}.get(status, status)


MISSING = (None, "missing")


def lookup(cells: pd.DataFrame, *keys: str) -> dict[tuple, tuple[int | None, str]]:
    """{(key values): (value, status)}: cells made cheap to ask one by one."""
    if cells.empty:
        return {}
    columns = [cells[key].tolist() for key in keys]
    values = [None if pd.isna(v) else int(v) for v in cells["value"].tolist()]
    return dict(
        zip(
            zip(*columns, strict=True),
            zip(values, cells["status"].tolist(), strict=True),
            strict=True,
        )
    )


def target_years(targets: pd.DataFrame, *keys: str) -> dict[tuple, dict[str, float]]:
    """{(key values): {year: target}}."""
    years: dict[tuple, dict[str, float]] = {}
    if targets.empty:
        return years
    columns = [targets[key].tolist() for key in keys]
    for key, year, value in zip(
        zip(*columns, strict=True),
        targets["year"].tolist(),
        targets["value"].tolist(),
        strict=True,
    ):
        own = years.setdefault(key, {})
        own[year] = own.get(year, 0.0) + float(value)
    return years


def period_target(years: dict[str, float] | None, period: str) -> float:
    """The target of a period: a year's, a quarter's share of it, or every year's."""
    if not years:
        return float("nan")
    if period == ALL:
        return sum(years.values())
    target = years.get(period[:4], float("nan"))
    return target / 4 if "Q" in period else target


def figure_row(programme: Programme, code: str, cell: tuple, target: float) -> dict:
    """One country's figure of one period, as the pages show it."""
    value, status = cell
    progress = _progress(programme, value, target, status)
    return {
        "country": code,
        "name": programme.countries[code].name,
        "map_id": programme.countries[code].map_id,
        "value": value,
        "status": status,
        "text": cell_text(value, status, programme.threshold),
        "target": target,
        "progress": progress.status,
        "progress_text": progress.text,
    }


def country_figures(
    cells: pd.DataFrame,
    targets: pd.DataFrame,
    programme: Programme,
    countries: list[str],
    period: str,
) -> pd.DataFrame:
    """One row per visible country: name, map id, published value, status (published,
    suppressed, or missing when the country has no snapshot yet), text, target,
    progress (status and text). `cells` and `targets` are of one indicator."""
    by_country = lookup(cells, "country")
    years = target_years(targets, "country")
    return figures_frame(
        [
            figure_row(
                programme,
                code,
                by_country.get((code,), MISSING),
                period_target(years.get((code,)), period),
            )
            for code in countries
        ]
    )


def figures_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COUNTRY_COLUMNS))
    frame["value"] = frame["value"].astype("Int64")
    frame["target"] = frame["target"].astype("float64")
    return frame


COUNTRY_COLUMNS = (
    "country",
    "name",
    "map_id",
    "value",
    "status",
    "text",
    "target",
    "progress",
    "progress_text",
)


def _progress(programme, value, target, status, lower_bound=False):
    return numbers.progress(
        None if status != "published" else value,
        target,
        suppressed=status == "suppressed",
        lower_bound=lower_bound,
        green=programme.green,
        amber=programme.amber,
        threshold=programme.threshold,
    )


def region_total(rows) -> numbers.Total:
    """The sum of the shown countries that have a snapshot ("≥ N" if any is hidden).
    `rows`: country figures, as a frame or a list of rows."""
    rows = _records(rows)
    shown = [r for r in rows if r["status"] != "missing"]
    if not shown:
        return numbers.Total(0, False, empty=True)
    value = sum(int(r["value"]) for r in shown if r["status"] == "published")
    return numbers.Total(value, any(r["status"] == "suppressed" for r in shown))


def region_target(rows) -> float:
    known = [r["target"] for r in _records(rows) if not pd.isna(r["target"])]
    return sum(known) if known else float("nan")


def _records(rows) -> list[dict]:
    """Country figures as rows (column lists zipped: to_dict is slower)."""
    if not isinstance(rows, pd.DataFrame):
        return rows
    columns = {c: rows[c].tolist() for c in ("status", "value", "target")}
    rows = zip(*columns.values(), strict=True)
    return [dict(zip(columns, v, strict=True)) for v in rows]


def region_progress(programme: Programme, rows) -> numbers.Progress:
    total = region_total(rows)
    if total.empty:
        return numbers.Progress(numbers.NO_DATA, "no data")
    return _progress(
        programme,
        total.value,
        region_target(rows),
        "published",
        lower_bound=total.lower_bound,
    )


def figures_table(frame: pd.DataFrame, label: str, period: str, threshold: int):
    """One row per country: the figure, its status, target and progress."""
    return pd.DataFrame(
        {
            "Country": frame["name"],
            "Indicator": label,
            "Period": period_label(period),
            "Value": _values(frame["value"], frame["status"], threshold),
            "Status": [status_word(s) for s in frame["status"]],
            "Target": frame["target"].round().astype("Int64"),
            "Progress": frame["progress_text"],
        }
    )


def figures_summary(frame: pd.DataFrame, label: str, period: str) -> str:
    """'In 2010, children reached: at least 4,560 across 7 countries; most in …'"""
    shown = frame[frame["status"] != "missing"]
    if shown.empty:
        return f"No {label.lower()} figures for the {period_label(period)} yet."
    total = region_total(frame)
    sentence = (
        f"{_period_phrase(period)}, {label.lower()}: {total.text} across "
        f"{len(shown)} {_plural(len(shown), 'country', 'countries')}"
    )
    published = shown[shown["status"] == "published"]
    if len(published) >= 2:
        ranked = published.sort_values("value", ascending=False, kind="stable")
        top, bottom = ranked.iloc[0], ranked.iloc[-1]
        sentence += (
            f"; most in {top['name']} ({top['text']}), fewest in "
            f"{bottom['name']} ({bottom['text']})"
        )
    hidden = int((shown["status"] == "suppressed").sum())
    if hidden:
        sentence += f"; {hidden} shown as <10"
    return sentence + "."


def target_summary(frame: pd.DataFrame, label: str, period: str) -> str:
    """'Over the whole programme, 3 of 7 countries are on track for …'"""
    counts = frame["progress"].value_counts()
    judged = sum(
        int(counts.get(s, 0))
        for s in (numbers.ON_TRACK, numbers.ATTENTION, numbers.OFF_TRACK)
    )
    if frame.empty or not judged:
        return f"No {label.lower()} figure can be set against a target here."
    sentence = (
        f"{_period_phrase(period)}, {int(counts.get(numbers.ON_TRACK, 0))} of "
        f"{len(frame)} countries are on track for {label.lower()}, "
        f"{int(counts.get(numbers.ATTENTION, 0))} need attention and "
        f"{int(counts.get(numbers.OFF_TRACK, 0))} are off track"
    )
    unknown = len(frame) - judged
    if unknown:
        sentence += f"; {unknown} cannot be judged (hidden figures or no target)"
    return sentence + "."


def _period_phrase(period: str) -> str:
    if period == ALL:
        return "Over the whole programme"
    return f"In {period_label(period)}"


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


# -- compare countries -----------------------------------------------------------------


@dataclass
class CompareView:
    label: str
    period: str
    step: str  # quarters or years
    trend: pd.DataFrame  # country, name, period, value, status, text
    ranking: pd.DataFrame  # country_figures, largest first
    grid: pd.DataFrame  # row, column, indicator, label, text, status, detail
    threshold: int = 10


def headline_indicators(programme: Programme) -> list[tuple[int, str, str]]:
    """(objective, measure, indicator): the first indicator of each measure of each
    objective, in programme order: the columns of the comparison grid."""
    chosen = []
    for objective in programme.objectives:
        for measure in ("reach", "attendance", "referrals"):
            for indicator in programme.indicators.values():
                if indicator.objective == objective and indicator.measure == measure:
                    chosen.append((objective, measure, indicator.code))
                    break
    return chosen


def compare_view(store, countries: list[str], state: dict) -> CompareView:
    programme = store.programme
    code, period, step = state["indicator"], state["period"], state["breakdown"]
    chosen = [c for c in state["countries"] if c in countries]
    indicator = programme.indicators[code]
    periods = programme.quarters if step == "quarters" else programme.years
    trend_cells = store.cells([code], chosen, periods=periods)
    period_cells = store.cells([code], chosen, periods=[period])
    targets = store.targets([code], chosen)
    ranking = country_figures(period_cells, targets, programme, chosen, period)
    ranking = ranking.sort_values("value", ascending=False, kind="stable")
    return CompareView(
        label=indicator.label,
        period=period,
        step=step,
        trend=trend_frame(trend_cells, programme, chosen, periods),
        ranking=ranking.reset_index(drop=True),
        grid=progress_grid_frame(store, programme, chosen, period),
        threshold=programme.threshold,
    )


def trend_frame(cells, programme: Programme, countries, periods) -> pd.DataFrame:
    """One row per country and period, in period order; missing cells as no data."""
    by_key = lookup(cells, "country", "period")
    rows = []
    for code in countries:
        name = programme.countries[code].name
        for period in periods:
            value, status = by_key.get((code, period), MISSING)
            rows.append(
                {
                    "country": code,
                    "name": name,
                    "period": period,
                    "value": value,
                    "status": status,
                    "text": cell_text(value, status, programme.threshold),
                }
            )
    frame = pd.DataFrame(
        rows, columns=["country", "name", "period", "value", "status", "text"]
    )
    frame["value"] = frame["value"].astype("Int64")
    return frame


GRID_COLUMNS = ["row", "column", "indicator", "label", "text", "status", "detail"]


def progress_grid_frame(store, programme, countries, period) -> pd.DataFrame:
    """Rows: the shown countries (and their total); columns: objective × measure;
    each cell the progress of the measure's headline indicator against target."""
    headline = headline_indicators(programme)
    codes = [code for _o, _m, code in headline]
    by_cell = lookup(
        store.cells(codes, countries, periods=[period]), "indicator", "country"
    )
    years = target_years(store.targets(codes, countries), "indicator", "country")
    cells = []
    for objective, measure, code in headline:
        column = f"Objective {objective}<br>{MEASURE_NAMES[measure]}"
        rows = [
            figure_row(
                programme,
                country,
                by_cell.get((code, country), MISSING),
                period_target(years.get((code, country)), period),
            )
            for country in countries
        ]
        cells += [
            {**cell, "row": cell["column"], "column": column}
            for cell in grid_cells(programme, programme.indicators[code], rows)
        ]
    return pd.DataFrame(cells, columns=GRID_COLUMNS)


def grid_cells(programme: Programme, indicator, rows: list[dict]) -> list[dict]:
    """One indicator's grid cells: the total of the shown countries (when there are
    several), then each country; `column` names the country, `row` the indicator."""
    cells = []
    if len(rows) > 1:
        total = region_total(rows)
        cells.append(
            _grid_cell(
                REGION,
                indicator,
                total.text,
                region_progress(programme, rows),
                region_target(rows),
            )
        )
    for row in rows:
        progress = numbers.Progress(row["progress"], row["progress_text"])
        cells.append(
            _grid_cell(row["name"], indicator, row["text"], progress, row["target"])
        )
    return cells


def _grid_cell(name, indicator, text, progress, target) -> dict:
    target_text = "no target" if pd.isna(target) else f"target {target:,.0f}"
    judged = progress.status not in (numbers.NO_TARGET, numbers.NO_DATA)
    return {
        "row": indicator.label,
        "column": name,
        "indicator": indicator.code,
        "label": indicator.label,
        "text": progress.text if judged else text,  # without a target: the figure
        "status": progress.status,
        "detail": (
            f"{indicator.label}: {text}, {target_text} — "
            f"{numbers.STATUS_LABELS[progress.status].lower()}"
        ),
    }


def trend_table(view: CompareView) -> pd.DataFrame:
    trend = view.trend
    return pd.DataFrame(
        {
            "Country": trend["name"],
            "Indicator": view.label,
            "Period": trend["period"].map(period_label),
            "Value": _values(trend["value"], trend["status"], view.threshold),
            "Status": trend["status"].map(status_word),
        }
    )


def trend_summary(view: CompareView) -> str:
    trend = view.trend
    if trend.empty:
        return "Choose at least one country to compare."
    first, last = trend["period"].iloc[0], trend["period"].iloc[-1]
    totals = [
        numbers.total(trend.loc[trend["period"] == p, "value"]) for p in (first, last)
    ]
    sentence = (
        f"{view.label} by {view.step[:-1]}, {period_label(first)} to "
        f"{period_label(last)}: the shown countries went from {totals[0].text} to "
        f"{totals[1].text}"
    )
    latest = trend[(trend["period"] == last) & (trend["status"] == "published")]
    if len(latest):
        top = latest.sort_values("value", ascending=False, kind="stable").iloc[0]
        sentence += f"; {top['name']} had the most in {period_label(last)}"
    return sentence + "."


def ranking_summary(view: CompareView) -> str:
    ranked = view.ranking[view.ranking["status"] == "published"]
    if ranked.empty:
        return f"No published {view.label.lower()} figures to rank."
    top, bottom = ranked.iloc[0], ranked.iloc[-1]
    sentence = (
        f"{_period_phrase(view.period)}, {top['name']} ranks first in "
        f"{view.label.lower()} ({top['text']}, {top['progress_text']} of target)"
    )
    if len(ranked) > 1:
        sentence += f" and {bottom['name']} last ({bottom['text']})"
    hidden = int((view.ranking["status"] == "suppressed").sum())
    if hidden:
        sentence += f"; {hidden} cannot be ranked (<10)"
    return sentence + "."


def grid_table(grid: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Row": grid["row"],
            "Column": grid["column"].str.replace("<br>", " ", regex=False),
            "Indicator": grid["label"],
            "Progress": grid["text"],
            "Status": grid["status"].map(numbers.STATUS_LABELS),
            "Detail": grid["detail"],
        }
    )


def grid_summary(grid: pd.DataFrame, period: str, what: str) -> str:
    if grid.empty:
        return "Nothing to show for this choice."
    counts = grid["status"].value_counts()
    on, attention, off = (
        int(counts.get(s, 0))
        for s in (numbers.ON_TRACK, numbers.ATTENTION, numbers.OFF_TRACK)
    )
    unknown = int(counts.get(numbers.UNKNOWN, 0))
    sentence = (
        f"{_period_phrase(period)}, {on} of {len(grid)} {what} are on track, "
        f"{attention} need attention and {off} are off track"
    )
    if unknown:
        sentence += f"; {unknown} cannot be judged because figures are hidden"
    return sentence + "."


# -- one country -----------------------------------------------------------------------


@dataclass
class CountryView:
    country: str
    name: str
    label: str
    period: str
    breakdown: str
    sites: pd.DataFrame
    bounds: tuple[float, float, float, float] | None  # lon min/max, lat min/max
    split: pd.DataFrame  # sex, age_band, value, status, text
    split_note: str
    services: pd.DataFrame  # service, referred/completed value+status+text, rate
    completion: str  # the country's referral completion rate, or why not shown
    trend: pd.DataFrame  # period, value, status, text, target
    headline: pd.DataFrame  # country_figures of the period
    threshold: int = 10


def country_view(store, country: str, state: dict) -> CountryView:
    programme = store.programme
    code, period, breakdown = state["indicator"], state["period"], state["breakdown"]
    indicator = programme.indicators[code]
    threshold = programme.threshold
    site_cells = store.cells([code], [country], periods=[period], site=None)
    split_cells = store.cells(
        [code], [country], periods=[period], sex=None, age_band=None
    )
    split, split_note = split_frame(split_cells, breakdown, indicator, threshold)
    services, completion = service_frame(store, programme, country, period)
    trend_cells = store.cells([code], [country], periods=programme.quarters)
    targets = store.targets([code], [country])
    headline_cells = site_cells[site_cells["site"] == ALL]
    return CountryView(
        country=country,
        name=programme.countries[country].name,
        label=indicator.label,
        period=period,
        breakdown=breakdown,
        sites=site_frame(store.sites([country]), site_cells, threshold),
        bounds=country_bounds(programme.countries[country].map_id),
        split=split,
        split_note=split_note,
        services=services,
        completion=completion,
        trend=quarter_trend(trend_cells, targets, programme),
        headline=country_figures(headline_cells, targets, programme, [country], period),
        threshold=threshold,
    )


SITE_COLUMNS = [
    "site",
    "name",
    "kind",
    "municipality",
    "latitude",
    "longitude",
    "public",
    "opened",
    "closed",
    "value",
    "status",
    "text",
]


def site_frame(sites: pd.DataFrame, cells: pd.DataFrame, threshold: int):
    """Each site with its figure; a site whose location is secret is named by kind."""
    by_site = lookup(cells, "site")
    rows = []
    for site in sites.to_dict("records"):
        value, status = by_site.get((site["site_id"],), MISSING)
        public = bool(site["public_location"])
        rows.append(
            {
                "site": site["site_id"],
                "name": site["name"]
                if public and site["name"]
                else withheld(site["kind"]),
                "kind": words(site["kind"]),
                "municipality": site["municipality"] if public else "",
                "latitude": site["latitude"] if public else None,
                "longitude": site["longitude"] if public else None,
                "public": public,
                "opened": site["opened_on"] or "",
                "closed": site["closed_on"] or "",
                "value": value,
                "status": status,
                "text": cell_text(value, status, threshold),
            }
        )
    frame = pd.DataFrame(rows, columns=SITE_COLUMNS)
    frame["value"] = frame["value"].astype("Int64")
    return frame


def withheld(kind: str) -> str:
    return f"{words(kind)}, location withheld"


def split_frame(cells, breakdown: str, indicator, threshold: int):
    """The indicator by sex, age band or both; empty with a reason when the
    indicator is not recorded that way (activities are counted per site only)."""
    columns = ["sex", "age_band", "value", "status", "text"]
    if indicator.source == "activities":
        reason = f"{indicator.label} is counted per activity, not per child: "
        return pd.DataFrame(columns=columns), reason + "no sex or age breakdown."
    by_sex = breakdown in ("sex", "sex_age")
    by_age = breakdown in ("age_band", "sex_age")
    chosen = cells[
        ((cells["sex"] != ALL) == by_sex) & ((cells["age_band"] != ALL) == by_age)
    ]
    chosen = chosen[chosen["service"] == ALL]
    order = {s: i for i, s in enumerate(SEXES)} | {
        a: i for i, a in enumerate(AGE_BANDS)
    }
    chosen = chosen.sort_values(
        ["sex", "age_band"], key=lambda s: s.map(order).fillna(-1), kind="stable"
    )
    frame = pd.DataFrame(
        {
            "sex": chosen["sex"].to_numpy(),
            "age_band": chosen["age_band"].to_numpy(),
            "value": chosen["value"].to_numpy(),
            "status": chosen["status"].to_numpy(),
        },
        columns=columns[:4],
    )
    frame["value"] = frame["value"].astype("Int64")
    frame["text"] = [
        cell_text(v, s, threshold)
        for v, s in zip(frame["value"], frame["status"], strict=True)
    ]
    return frame, ""


SERVICE_COLUMNS = [
    "service",
    "referred",
    "referred_status",
    "completed",
    "completed_status",
    "rate",
]


def service_frame(store, programme: Programme, country: str, period: str):
    """Referrals by service (agency): referred, completed and the completion rate,
    which is not shown when either figure is hidden. Also the country's rate."""
    derived = programme.derived.get("referral_completion")
    if not derived:
        return pd.DataFrame(columns=SERVICE_COLUMNS), "not defined by this programme"
    top, bottom = derived["numerator"], derived["denominator"]
    cells = store.cells([top, bottom], [country], periods=[period], service=None)
    by_key = lookup(cells, "service", "indicator")
    rows, rate_text = [], "no data"
    for service in dict.fromkeys(cells["service"].tolist()):
        referred = by_key.get((service, bottom))
        completed = by_key.get((service, top))
        if referred is None or completed is None:
            continue
        rate = rate_words(completed[0], referred[0], referred[1] == "suppressed")
        if service == ALL:
            rate_text = rate
            continue
        if referred == (0, "published") and completed == (0, "published"):
            continue  # a service this programme never refers to
        rows.append(
            {
                "service": service,
                "referred": referred[0],
                "referred_status": referred[1],
                "completed": completed[0],
                "completed_status": completed[1],
                "rate": rate,
            }
        )
    frame = pd.DataFrame(rows, columns=SERVICE_COLUMNS)
    frame["referred"] = frame["referred"].astype("Int64")
    frame["completed"] = frame["completed"].astype("Int64")
    return frame, rate_text


def rate_words(numerator, denominator, denominator_hidden: bool) -> str:
    """A rate from published parts, or why it is not shown."""
    share = numbers.ratio(numerator, denominator)
    if share is not None:
        return f"{share:.0%}"
    if denominator_hidden:
        return "not shown (fewer than 10 referred)"
    if denominator is not None and not pd.isna(denominator) and denominator == 0:
        return "none referred"
    return "not shown (fewer than 10 completed)"


def quarter_trend(cells, targets, programme: Programme) -> pd.DataFrame:
    """The indicator per quarter with a quarter's share of the year's target."""
    by_period = lookup(cells, "period")
    years = target_years(targets, "indicator")
    own_years = next(iter(years.values()), None)
    rows = []
    for quarter in programme.quarters:
        value, status = by_period.get((quarter,), MISSING)
        rows.append(
            {
                "period": quarter,
                "value": value,
                "status": status,
                "text": cell_text(value, status, programme.threshold),
                "target": period_target(own_years, quarter),
            }
        )
    frame = pd.DataFrame(rows, columns=["period", "value", "status", "text", "target"])
    frame["value"] = frame["value"].astype("Int64")
    return frame


@functools.cache
def _all_bounds() -> dict[str, tuple[float, float, float, float]]:
    shapes = json.loads(GEOJSON_FILE.read_text(encoding="utf-8"))
    bounds = {}
    for feature in shapes["features"]:
        points = list(_points(feature["geometry"]["coordinates"]))
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        bounds[feature["id"]] = (min(lons), max(lons), min(lats), max(lats))
    return bounds


def _points(coordinates):
    if coordinates and isinstance(coordinates[0], int | float):
        yield coordinates
        return
    for part in coordinates:
        yield from _points(part)


def country_bounds(map_id: str):
    """A country's longitude and latitude range, with a margin, for its map."""
    box = _all_bounds().get(map_id)
    if box is None:
        return None
    lon0, lon1, lat0, lat1 = box
    pad = 0.15 * max(lon1 - lon0, lat1 - lat0)
    return (lon0 - pad, lon1 + pad, lat0 - pad, lat1 + pad)


def sites_table(view: CountryView) -> pd.DataFrame:
    sites = view.sites
    return pd.DataFrame(
        {
            "Site": sites["name"],
            "Kind": sites["kind"],
            "Municipality": sites["municipality"],
            "Opened": sites["opened"],
            "Closed": sites["closed"],
            "Indicator": view.label,
            "Period": period_label(view.period),
            "Value": _values(sites["value"], sites["status"], view.threshold),
            "Status": sites["status"].map(status_word),
        }
    )


def sites_summary(view: CountryView) -> str:
    sites = view.sites
    if sites.empty:
        return f"No sites of {view.name} in the warehouse yet."
    secret = int((~sites["public"]).sum())
    sentence = (
        f"{view.name} has {len(sites)} {_plural(len(sites), 'site', 'sites')}"
        f" ({len(sites) - secret} on the map"
    )
    sentence += f", {secret} with a location withheld)" if secret else ")"
    published = sites[(sites["status"] == "published") & (sites["value"] > 0)]
    if len(published):
        top = published.sort_values("value", ascending=False, kind="stable").iloc[0]
        sentence += (
            f"; {top['name']} has the most {view.label.lower()} "
            f"({top['text']}, {period_label(view.period)})"
        )
    return sentence + "."


def split_table(view: CountryView) -> pd.DataFrame:
    split = view.split
    return pd.DataFrame(
        {
            "Sex": split["sex"].map(lambda s: SEX_NAMES.get(s, "All")),
            "Age band": split["age_band"].map(lambda a: AGE_NAMES.get(a, "All")),
            "Indicator": view.label,
            "Period": period_label(view.period),
            "Value": _values(split["value"], split["status"], view.threshold),
            "Status": split["status"].map(status_word),
        }
    )


def split_summary(view: CountryView) -> str:
    if view.split_note:
        return view.split_note
    split = view.split
    published = split[(split["status"] == "published") & (split["value"] > 0)]
    hidden = int((split["status"] == "suppressed").sum())
    where = f"In {view.name}, {period_label(view.period)}"
    if published.empty:
        return (
            f"{where}, no {BREAKDOWNS[view.breakdown].lower()} group has a published "
            f"figure above 0; {hidden} {_plural(hidden, 'is', 'are')} <10."
        )
    top = published.sort_values("value", ascending=False, kind="stable").iloc[0]
    sentence = (
        f"{where}, the largest group is {_group_name(top)} "
        f"({top['text']} {view.label.lower()})"
    )
    if hidden:
        sentence += f"; {hidden} {_plural(hidden, 'group is', 'groups are')} <10"
    return sentence + "."


def _group_name(row) -> str:
    parts = []
    if row["sex"] != ALL:
        parts.append(SEX_NAMES[row["sex"]].lower())
    if row["age_band"] != ALL:
        parts.append(f"aged {AGE_NAMES[row['age_band']]}")
    return " ".join(parts)


def services_table(view: CountryView) -> pd.DataFrame:
    services = view.services
    return pd.DataFrame(
        {
            "Service": services["service"].map(words),
            "Period": period_label(view.period),
            "Children referred": _values(
                services["referred"], services["referred_status"]
            ),
            "Referrals completed": _values(
                services["completed"], services["completed_status"]
            ),
            "Completion rate": services["rate"],
        }
    )


def services_summary(view: CountryView) -> str:
    services = view.services
    if services.empty:
        return f"No referrals to services in {view.name} for this period."
    published = services[
        (services["referred_status"] == "published") & (services["referred"] > 0)
    ]
    if view.completion.endswith("%"):
        sentence = (
            f"{_period_phrase(view.period)}, {view.name} completed "
            f"{view.completion} of its referrals to services"
        )
    else:
        sentence = (
            f"{_period_phrase(view.period)}, {view.name}'s completion rate is "
            f"{view.completion}"
        )
    if len(published):
        top = published.sort_values("referred", ascending=False, kind="stable")
        top = top.iloc[0]
        sentence += (
            f"; most went to {words(top['service']).lower()} "
            f"({figure_text(top['referred'])}, {top['rate']} completed)"
        )
    return sentence + "."


def quarter_table(view: CountryView) -> pd.DataFrame:
    trend = view.trend
    return pd.DataFrame(
        {
            "Quarter": trend["period"].map(period_label),
            "Indicator": view.label,
            "Value": _values(trend["value"], trend["status"], view.threshold),
            "Status": trend["status"].map(status_word),
            "Target (quarter share)": trend["target"].round().astype("Int64"),
        }
    )


def quarter_summary(view: CountryView) -> str:
    trend = view.trend
    reached = trend[
        (trend["status"] == "published") & (trend["value"] >= trend["target"])
    ]
    known = trend[trend["status"] == "published"]
    if known.empty:
        return f"Every quarterly {view.label.lower()} figure of {view.name} is hidden."
    best = known.sort_values("value", ascending=False, kind="stable").iloc[0]
    return (
        f"{view.name} met its quarterly share of the {view.label.lower()} target in "
        f"{len(reached)} of {len(trend)} quarters; the highest quarter was "
        f"{period_label(best['period'])} ({best['text']})."
    )


# -- objectives (logframe) -------------------------------------------------------------


@dataclass
class ObjectivesView:
    period: str
    logframe: pd.DataFrame  # the display table itself
    grid: pd.DataFrame  # row (indicator), column (country), text, status, detail


def objectives_view(store, countries: list[str], state: dict) -> ObjectivesView:
    programme = store.programme
    objective, period = state["objective"], state["period"]
    chosen = [c for c in state["countries"] if c in countries]
    indicators = [
        i
        for i in programme.indicators.values()
        if objective == "all" or str(i.objective) == objective
    ]
    codes = [i.code for i in indicators]
    periods = [*programme.years, ALL]
    by_cell = lookup(
        store.cells(codes, chosen, periods=periods), "indicator", "country", "period"
    )
    years = target_years(store.targets(codes, chosen), "indicator", "country")
    rows, grid = [], []
    for indicator in indicators:
        per_period = {
            p: [
                figure_row(
                    programme,
                    country,
                    by_cell.get((indicator.code, country, p), MISSING),
                    period_target(years.get((indicator.code, country)), p),
                )
                for country in chosen
            ]
            for p in periods
        }
        rows += _logframe_rows(programme, indicator, chosen, per_period)
        grid += grid_cells(programme, indicator, per_period[period])
    return ObjectivesView(
        period=period,
        logframe=pd.DataFrame(rows),
        grid=pd.DataFrame(grid, columns=GRID_COLUMNS),
    )


def _logframe_rows(programme, indicator, countries, per_period):
    """The indicator's logframe rows: the shown countries' total, then each."""
    rows = []
    names = ([REGION] if len(countries) > 1 else []) + countries
    for name in names:
        own = countries if name == REGION else [name]
        baselines = [programme.baseline(indicator.code, c) for c in own]
        known = [b for b in baselines if b is not None]
        row = {
            "Objective": indicator.objective,
            "Indicator": indicator.label,
            "Country": name if name == REGION else programme.countries[name].name,
            f"Baseline {programme.baseline_year}".strip(): sum(known) if known else "",
        }
        for period, figures in per_period.items():
            heading = _span(programme) if period == ALL else period
            if name == REGION:
                target = region_target(figures)
                actual = region_total(figures).text
                progress = region_progress(programme, figures)
            else:
                mine = next(f for f in figures if f["country"] == name)
                target, actual = mine["target"], mine["text"]
                progress = numbers.Progress(mine["progress"], mine["progress_text"])
            row[f"Target {heading}"] = "" if pd.isna(target) else round(target)
            row[f"Actual {heading}"] = actual
            row[f"Status {heading}"] = numbers.STATUS_LABELS[progress.status]
        rows.append(row)
    return rows


def _span(programme: Programme) -> str:
    return f"{programme.years[0]}–{programme.years[-1]}"


def logframe_summary(view: ObjectivesView, programme: Programme) -> str:
    frame = view.logframe
    if frame.empty:
        return "Choose at least one country."
    column = f"Status {_span(programme) if view.period == ALL else view.period}"
    rows = (
        frame[frame["Country"] != REGION]
        if (frame["Country"] == REGION).any()
        else frame
    )
    on = int((rows[column] == numbers.STATUS_LABELS[numbers.ON_TRACK]).sum())
    return (
        f"{frame['Indicator'].nunique()} indicators across "
        f"{rows['Country'].nunique()} countries: {on} of {len(rows)} "
        f"country-indicator pairs are on track for {period_label(view.period)}."
    )


# -- data status -----------------------------------------------------------------------


@dataclass
class StatusView:
    syncs: pd.DataFrame
    coverage: pd.DataFrame  # country, name, period, holding, cells, share, text
    quality: pd.DataFrame  # country, name, rule (words), rows
    suppression: pd.DataFrame  # country, name, cells, suppressed, share


def status_view(store, countries: list[str], state: dict, now=None) -> StatusView:
    programme = store.programme
    chosen = [c for c in state["countries"] if c in countries]
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return StatusView(
        syncs=sync_frame(store.last_syncs(chosen), programme, now),
        coverage=coverage_frame(store.coverage(chosen), programme, chosen),
        quality=quality_frame(store.quality(chosen), programme),
        suppression=suppression_frame(store.suppression(chosen), programme, chosen),
    )


def sync_frame(syncs: pd.DataFrame, programme: Programme, now) -> pd.DataFrame:
    rows = []
    for row in syncs.itertuples():
        last_ok = None if row.last_ok is None or pd.isna(row.last_ok) else row.last_ok
        age = None if last_ok is None else (now - last_ok).total_seconds() / 86400
        rows.append(
            {
                "country": row.country,
                "name": programme.countries[row.country].name,
                "last_ok": last_ok,
                "age_days": age,
                "stale": age is None or age > STALE_AFTER_DAYS,
                "last_attempt": row.last_attempt,
                "last_status": _text(row.last_status) or "never synced",
                "reason": _text(row.last_error),
                "method": _text(row.method),
                "synthetic": bool(row.synthetic),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "country",
            "name",
            "last_ok",
            "age_days",
            "stale",
            "last_attempt",
            "last_status",
            "reason",
            "method",
            "synthetic",
        ],
    )


def _text(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def age_words(days: float | None) -> str:
    if days is None or pd.isna(days):
        return "never"
    if days < 1 / 24:
        return "less than an hour ago"
    if days < 1:
        hours = round(days * 24)
        return f"{hours} {_plural(hours, 'hour', 'hours')} ago"
    return f"{round(days)} {_plural(round(days), 'day', 'days')} ago"


def syncs_table(view: StatusView) -> pd.DataFrame:
    syncs = view.syncs
    return pd.DataFrame(
        {
            "Country": syncs["name"],
            "Last successful sync (UTC)": syncs["last_ok"].map(_when),
            "Age": syncs["age_days"].map(age_words),
            "Stale": syncs["stale"].map({True: "yes", False: "no"}),
            "Last attempt (UTC)": syncs["last_attempt"].map(_when),
            "Last attempt's status": syncs["last_status"],
            "Reason": syncs["reason"],
            "How": syncs["method"],
            "Synthetic demo data": syncs["synthetic"].map({True: "yes", False: "no"}),
        }
    )


def _when(value) -> str:
    if value is None or pd.isna(value):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def syncs_summary(view: StatusView) -> str:
    syncs = view.syncs
    if syncs.empty:
        return "Choose at least one country."
    failed = syncs[syncs["last_status"] == "failed"]
    stale = syncs[syncs["stale"]]
    sentence = (
        f"{len(syncs) - len(stale)} of {len(syncs)} countries were synced within "
        f"{STALE_AFTER_DAYS} days"
    )
    if len(failed):
        sentence += f"; the last attempt failed for {_names(failed)}"
    if len(stale):
        sentence += f"; stale or never synced: {_names(stale)}"
    return sentence + "."


def _names(frame: pd.DataFrame) -> str:
    return ", ".join(frame["name"])


def coverage_frame(coverage, programme: Programme, countries) -> pd.DataFrame:
    index = {
        (c, p): (int(h), int(n))
        for c, p, h, n in zip(
            coverage["country"].tolist(),
            coverage["period"].tolist(),
            coverage["holding"].tolist(),
            coverage["cells"].tolist(),
            strict=True,
        )
    }
    rows = []
    for code in countries:
        for quarter in programme.quarters:
            holding, cells = index.get((code, quarter), (0, 0))
            rows.append(
                {
                    "country": code,
                    "name": programme.countries[code].name,
                    "period": quarter,
                    "holding": holding,
                    "cells": cells,
                    "share": holding / cells if cells else 0.0,
                    "text": f"{holding}/{cells}" if cells else "none",
                }
            )
    return pd.DataFrame(
        rows,
        columns=["country", "name", "period", "holding", "cells", "share", "text"],
    )


def coverage_table(view: StatusView) -> pd.DataFrame:
    coverage = view.coverage
    return pd.DataFrame(
        {
            "Country": coverage["name"],
            "Quarter": coverage["period"].map(period_label),
            "Indicators with data": coverage["holding"],
            "Indicators": coverage["cells"],
        }
    )


def coverage_summary(view: StatusView) -> str:
    coverage = view.coverage
    if coverage.empty:
        return "Choose at least one country."
    empty = coverage[coverage["holding"] == 0]
    per_country = empty.groupby("name", sort=False)["period"].count()
    if per_country.empty:
        return "Every shown country has data in every quarter of the programme."
    worst = per_country.sort_values(ascending=False, kind="stable")
    listing = ", ".join(f"{name} ({n})" for name, n in worst.items())
    return f"Quarters without any data: {listing}."


def quality_frame(quality: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    frame = quality.assign(
        name=quality["country"].map(lambda c: programme.countries[c].name),
        check=quality["table_name"] + ": " + quality["rule"].map(words).str.lower(),
    )
    return frame[["country", "name", "table_name", "rule", "check", "rows"]]


def quality_table(view: StatusView) -> pd.DataFrame:
    quality = view.quality
    return pd.DataFrame(
        {
            "Country": quality["name"],
            "Table": quality["table_name"],
            "Rule": quality["rule"].map(words),
            "Rows": quality["rows"],
        }
    )


def quality_summary(view: StatusView) -> str:
    quality = view.quality
    flagged = quality[quality["rows"] > 0]
    if flagged.empty:
        return "No data-quality problem was counted in the shown countries."
    per_country = flagged.groupby("name", sort=False)["rows"].sum()
    worst = per_country.sort_values(ascending=False, kind="stable")
    return (
        f"{int(flagged['rows'].sum()):,} rows were kept as unknown or left out in "
        f"the last syncs; most in {worst.index[0]} ({int(worst.iloc[0]):,})."
    )


def suppression_frame(suppression, programme: Programme, countries) -> pd.DataFrame:
    """The share of cells of sensitive indicators that are suppressed, per country."""
    sensitive = {i.code for i in programme.sensitive()}
    own = suppression[suppression["indicator"].isin(sensitive)]
    sums = own.groupby("country")[["cells", "suppressed"]].sum()
    rows = []
    for code in countries:
        cells = int(sums.at[code, "cells"]) if code in sums.index else 0
        hidden = int(sums.at[code, "suppressed"]) if code in sums.index else 0
        rows.append(
            {
                "country": code,
                "name": programme.countries[code].name,
                "cells": cells,
                "suppressed": hidden,
                "share": hidden / cells if cells else None,
            }
        )
    return pd.DataFrame(
        rows, columns=["country", "name", "cells", "suppressed", "share"]
    )


def suppression_table(view: StatusView) -> pd.DataFrame:
    frame = view.suppression
    return pd.DataFrame(
        {
            "Country": frame["name"],
            "Cells of sensitive indicators": frame["cells"],
            "Suppressed": frame["suppressed"],
            "Share suppressed": frame["share"].map(numbers.percent),
        }
    )


def suppression_summary(view: StatusView) -> str:
    frame = view.suppression.dropna(subset=["share"])
    if frame.empty:
        return "No cells of sensitive indicators yet."
    ranked = frame.sort_values("share", ascending=False, kind="stable")
    overall = frame["suppressed"].sum() / frame["cells"].sum()
    return (
        f"{overall:.0%} of the cells of sensitive indicators are suppressed to "
        f"protect children; most in {ranked.iloc[0]['name']} "
        f"({ranked.iloc[0]['share']:.0%})."
    )
