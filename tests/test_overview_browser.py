"""The overview in a real headless Chromium: map, chart, picker, nothing external."""

from __future__ import annotations

import pytest

from tests.conftest import (
    assert_offline_and_clean,
    browser_login,
    chromium_page,
    wait_for_js,
)

MAP = "#overview-map-graph .js-plotly-plot"
BARS = "#overview-bars-graph .js-plotly-plot"
# Trace 0 is the grey neighbours; the programme countries are the traces after it.
COUNTRY_SHAPES = ".choroplethlayer .trace:not(:first-child) path.choroplethlocation"


def plotted(page, selector):
    """What a graph currently draws: its traces' locations, values and labels."""
    return page.eval_on_selector(
        selector,
        """g => g.data.map(t => ({
        locations: t.locations, z: t.z, text: t.text, x: t.x, y: t.y}))""",
    )


@pytest.mark.browser
def test_overview_draws_seven_countries_and_follows_the_indicator(live_url):
    with chromium_page() as page:
        browser_login(page, live_url)
        page.goto(live_url + "/", wait_until="networkidle")
        wait_for_js(
            page,
            f"document.querySelectorAll('#overview-map-graph {COUNTRY_SHAPES}')"
            ".length === 7",
            timeout=30_000,
        )
        map_before, bars_before = plotted(page, MAP), plotted(page, BARS)
        assert "Kosovo*" in page.inner_text("#overview-bars-graph")
        assert "UNSCR 1244/1999" in page.inner_text("footer")
        assert "Data as of" in page.inner_text("body")
        assert "synthetic demo data" in page.inner_text("body")

        page.click("#overview-indicator-picker")
        page.get_by_role("option", name="Attendance: Attendance visits").click()
        wait_for_js(
            page,
            f"document.querySelector('{BARS}').data[0].name === 'Attendance visits'",
        )
        page.wait_for_load_state("networkidle")
        shapes = page.eval_on_selector_all(
            f"#overview-map-graph {COUNTRY_SHAPES}", "paths => paths.length"
        )
        map_after, bars_after = plotted(page, MAP), plotted(page, BARS)
        assert_offline_and_clean(page)

    assert shapes == 7
    assert map_after != map_before
    assert bars_after[0]["x"] != bars_before[0]["x"]
