"""Figure builders on tiny frames: valid plotly figures, "<10" never drawn as a
number, colours readable (WCAG) and safe for colour-blind readers."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import figures, numbers

NAMES = {"BA": "Bosnia and Herzegovina", "RS": "Serbia", "ME": "Montenegro"}
MAP_IDS = {"BA": "BIH", "RS": "SRB", "ME": "MNE"}


def country_frame(values, statuses, targets=(None, None, None)):
    """Three countries' figures as views.country_figures shapes them."""
    codes = list(NAMES)
    return pd.DataFrame(
        {
            "country": codes,
            "name": [NAMES[c] for c in codes],
            "map_id": [MAP_IDS[c] for c in codes],
            "value": pd.array(values, dtype="Int64"),
            "status": statuses,
            "text": [
                "<10" if s == "suppressed" else ("no data" if v is None else f"{v:,}")
                for v, s in zip(values, statuses, strict=True)
            ],
            "target": [float("nan") if t is None else float(t) for t in targets],
        }
    )


def valid(figure: dict) -> go.Figure:
    """The dict is a figure plotly.js accepts (plotly.py's schema validation),
    and it serialises as Dash sends it."""
    json.dumps(figure)
    return go.Figure(figure)


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# -- the region ------------------------------------------------------------------------


def test_country_map_draws_suppressed_and_missing_countries_grey_with_their_reason():
    frame = country_frame([120, None, None], ["published", "suppressed", "missing"])
    figure = valid(figures.country_map(frame, "Children reached"))
    published, hidden = figure.data[1], figure.data[2]
    assert list(published.locations) == ["BIH"]
    assert list(published.z) == [120.0]
    assert list(hidden.locations) == ["SRB", "MNE"]
    assert hidden.customdata[0].startswith("<10 (Fewer than 10")
    assert hidden.customdata[1] == "no data"
    assert published.geojson == figures.GEOJSON_URL  # a URL, not 24 KB of shapes


def test_country_bars_give_a_suppressed_country_no_bar_and_the_text_lt10():
    frame = country_frame([120, None, 45], ["published", "suppressed", "published"])
    figure = valid(figures.country_bars(frame, "Children reached"))
    bars = figure.data[0]
    heights = dict(zip(bars.y, bars.x, strict=True))
    texts = dict(zip(bars.y, bars.text, strict=True))
    assert heights["Serbia"] == 0 and texts["Serbia"] == "<10"
    assert list(bars.y) == ["Serbia", "Montenegro", "Bosnia and Herzegovina"]
    assert len(figure.data) == 1  # no target set: no target marks


def test_country_bars_mark_targets_where_set():
    frame = country_frame(
        [120, None, 45], ["published", "suppressed", "published"], (100, 50, None)
    )
    figure = valid(figures.country_bars(frame, "Children reached"))
    assert figure.data[1].name == "target"
    assert dict(zip(figure.data[1].y, figure.data[1].x, strict=True))["Serbia"] == 50


# -- compare ---------------------------------------------------------------------------


def trend(rows):
    return pd.DataFrame(
        rows, columns=["country", "name", "period", "value", "status", "text"]
    ).astype({"value": "Int64"})


def test_trend_lines_break_at_a_suppressed_point_and_mark_it_in_the_lt10_band():
    frame = trend(
        [
            ("BA", "Bosnia and Herzegovina", "2009", 100, "published", "100"),
            ("BA", "Bosnia and Herzegovina", "2010", None, "suppressed", "<10"),
            ("BA", "Bosnia and Herzegovina", "2011", 120, "published", "120"),
            ("RS", "Serbia", "2009", 50, "published", "50"),
            ("RS", "Serbia", "2010", 55, "published", "55"),
            ("RS", "Serbia", "2011", 60, "published", "60"),
        ]
    )
    figure = valid(figures.trend_lines(frame, "Children reached", {}, threshold=10))
    line, marks, serbia = figure.data
    assert list(line.y) == [100.0, None, 120.0]
    assert line.connectgaps is False
    assert list(marks.x) == ["2010"] and list(marks.y) == [5.0]
    assert marks.marker.symbol.endswith("-open")
    assert "<10" in marks.hovertemplate
    assert serbia.line.dash != line.line.dash  # not told apart by colour alone
    assert serbia.marker.symbol != line.marker.symbol
    assert figure.layout.shapes[0].y1 == 10  # the grey band


def test_trend_lines_say_so_when_no_country_is_chosen():
    figure = valid(figures.trend_lines(trend([]), "Children reached", {}))
    assert figure.data == ()
    assert "Choose at least one country" in figure.layout.annotations[0].text


def test_progress_grid_colours_each_cell_by_status_and_writes_its_progress():
    frame = pd.DataFrame(
        {
            "row": ["Serbia", "Serbia", "Montenegro"],
            "column": ["Reach", "Attendance", "Reach"],
            "text": ["95%", "<10 of 60", "40%"],
            "status": [numbers.ON_TRACK, numbers.UNKNOWN, numbers.OFF_TRACK],
            "detail": ["a", "b", "c"],
        }
    )
    figure = valid(figures.progress_grid(frame))
    heatmap = figure.data[0]
    order = list(figures.STATUS_ORDER)
    assert heatmap.z[0][0] == order.index(numbers.ON_TRACK) + 0.5
    assert heatmap.z[0][1] == order.index(numbers.UNKNOWN) + 0.5
    assert heatmap.z[1][1] is None  # Montenegro has no attendance cell
    assert heatmap.text[0][1] == "<10 of 60"
    assert heatmap.zmax == len(order)


# -- one country -----------------------------------------------------------------------


def test_site_map_shows_public_sites_only_and_a_suppressed_one_small_and_grey():
    sites = pd.DataFrame(
        {
            "name": ["Belgrade centre", "Shelter, location withheld", "Niš team"],
            "kind": ["Drop in centre", "Shelter", "Outreach"],
            "public": [True, False, True],
            "latitude": [44.8, None, 43.3],
            "longitude": [20.5, None, 21.9],
            "value": pd.array([400, 30, None], dtype="Int64"),
            "status": ["published", "published", "suppressed"],
            "text": ["400", "30", "<10"],
        }
    )
    figure = valid(figures.site_map(sites, "SRB", (18.0, 23.0, 42.0, 46.5), "x"))
    points = figure.data[1]
    assert list(points.text) == ["Belgrade centre", "Niš team"]
    assert points.marker.color[1] == figures.MUTED
    assert points.marker.size[0] > points.marker.size[1]
    assert "<10" in points.customdata[1]
    assert list(figure.layout.geo.lonaxis.range) == [18.0, 23.0]


def test_split_bars_group_age_bands_by_sex_and_leave_hidden_ones_at_zero():
    split = pd.DataFrame(
        {
            "sex": ["F", "F", "M", "M"],
            "age_band": ["0-9", "10-13", "0-9", "10-13"],
            "value": pd.array([20, None, 25, 15], dtype="Int64"),
            "status": ["published", "suppressed", "published", "published"],
            "text": ["20", "<10", "25", "15"],
        }
    )
    figure = valid(
        figures.split_bars(
            split, "Children", "sex_age", {"F": "Female", "M": "Male"}, {}
        )
    )
    female, male = figure.data
    assert female.name == "Female" and male.name == "Male"
    assert list(female.y) == [20.0, 0.0] and list(female.text) == ["20", "<10"]
    assert figure.layout.barmode == "group"


def test_service_bars_say_lt10_where_a_figure_is_hidden():
    services = pd.DataFrame(
        {
            "service": ["police", "health"],
            "referred": pd.array([40, None], dtype="Int64"),
            "referred_status": ["published", "suppressed"],
            "completed": pd.array([25, None], dtype="Int64"),
            "completed_status": ["published", "suppressed"],
            "rate": ["62%", "not shown (fewer than 10 referred)"],
        }
    )
    figure = valid(figures.service_bars(services, {"police": "Police"}))
    referred = figure.data[0]
    assert list(referred.y) == ["health", "Police"]  # reversed: first on top
    assert list(referred.text) == ["<10", "40"]
    assert referred.customdata[0][1].startswith("not shown")


def test_quarter_bars_draw_the_target_share_as_a_line():
    frame = pd.DataFrame(
        {
            "period": ["2009Q1", "2009Q2"],
            "value": pd.array([30, None], dtype="Int64"),
            "status": ["published", "suppressed"],
            "text": ["30", "<10"],
            "target": [25.0, 25.0],
        }
    )
    figure = valid(figures.quarter_bars(frame, "Children", {"2009Q1": "2009 Q1"}))
    assert list(figure.data[0].x) == ["2009 Q1", "2009Q2"]
    assert list(figure.data[0].y) == [30.0, 0.0]
    assert list(figure.data[1].y) == [25.0, 25.0]


# -- data status -----------------------------------------------------------------------


def test_sync_age_bars_flag_stale_countries_and_never_synced_ones():
    frame = pd.DataFrame(
        {
            "name": ["Serbia", "Montenegro"],
            "age_days": [2.0, None],
            "stale": [False, True],
        }
    )
    figure = valid(figures.sync_age_bars(frame, 35))
    bars = figure.data[0]
    assert list(bars.text) == ["never synced", "2.0 days"]
    assert list(bars.marker.color) == [figures.TARGET, figures.ACCENT]
    assert figure.layout.shapes[0].x0 == 35


def test_value_grid_and_share_bars_label_every_cell():
    frame = pd.DataFrame(
        {"row": ["a", "a", "b"], "col": ["x", "y", "x"], "n": [1, 5, 0], "t": [1, 5, 0]}
    )
    grid = valid(figures.value_grid(frame, "row", "col", "n", "t", "Rows"))
    assert grid.data[0].z[1][1] is None and grid.data[0].text[0][1] == "5"
    assert grid.data[0].zmax == 5
    shares = pd.DataFrame({"name": ["Serbia", "Albania"], "share": [0.25, None]})
    bars = valid(figures.share_bars(shares, "Share"))
    assert list(bars.data[0].text) == ["—", "25%"]


@pytest.mark.parametrize(
    "builder",
    [
        lambda: figures.trend_lines(trend([]), "x", {}),
        lambda: figures.progress_grid(pd.DataFrame(columns=["row", "column"])),
        lambda: figures.split_bars(pd.DataFrame(), "x", "sex", {}, {}),
        lambda: figures.service_bars(pd.DataFrame(), {}),
        lambda: figures.sync_age_bars(pd.DataFrame(), 35),
        lambda: figures.share_bars(pd.DataFrame(), "x"),
        lambda: figures.value_grid(pd.DataFrame(), "a", "b", "c", "d", "x"),
    ],
)
def test_an_empty_frame_gives_a_valid_figure_that_says_why(builder):
    figure = valid(builder())
    assert figure.layout.annotations[0].text


# -- colours ---------------------------------------------------------------------------


def test_series_colours_reach_3_to_1_on_white_and_are_distinct():
    assert len(set(figures.SERIES)) == len(figures.SERIES)
    for colour in figures.SERIES:
        assert contrast(colour, "#FFFFFF") >= 3.0, colour


def test_status_colours_carry_black_text_at_wcag_aa():
    for status, colour in numbers.STATUS_COLOURS.items():
        assert contrast(colour, "#000000") >= 4.5, (status, colour)


def test_accent_and_target_colours_reach_3_to_1_on_white():
    for colour in (figures.ACCENT, figures.TARGET, figures.SECOND):
        assert contrast(colour, "#FFFFFF") >= 3.0


def test_long_axis_labels_wrap_at_the_space_nearest_the_middle():
    assert figures.wrap("Bosnia and Herzegovina") == "Bosnia and<br>Herzegovina"
    assert figures.wrap("Serbia") == "Serbia"
