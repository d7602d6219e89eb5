"""Every page in headless Chromium: it loads and draws, asks nothing of another host,
keeps a clean console, keeps its view in the URL (a copied link opens it again,
back and forward work), switches a chart to its table, and meets WCAG AA contrast.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import time
from dataclasses import dataclass

import pytest

from tests.conftest import (
    assert_offline_and_clean,
    browser_login,
    chromium_page,
    wait_for_js,
)

# a chart with something drawn (an empty dcc.Graph has a .main-svg too)
DRAWN = ".js-plotly-plot .main-svg :is(.trace, .hm, .choroplethlocation)"
TIMEOUT = 30_000
until = functools.partial(wait_for_js, timeout=TIMEOUT)

# In the page, for every visible text node: its colour against the first opaque
# background behind it; WCAG AA asks 4.5:1, or 3:1 for large text (24 px, or 18.66
# px bold). Charts' SVG text is left to the figure tests (tests/test_figures.py).
CONTRAST_FAILURES = """
() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2],
    a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 :
    Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g)
    + 0.0722 * f(c.b); };
  const background = el => { let colour = {r: 255, g: 255, b: 255};
    const stack = []; for (let e = el; e; e = e.parentElement) stack.push(e);
    for (const e of stack.reverse()) { const c = parse(getComputedStyle(e)
      .backgroundColor); if (c && c.a > 0) colour = {r: c.r * c.a + colour.r *
      (1 - c.a), g: c.g * c.a + colour.g * (1 - c.a), b: c.b * c.a + colour.b *
      (1 - c.a)}; } return colour; };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('svg')) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || box.width === 0 || box.height === 0) continue;
    if (el.closest('[hidden], [aria-hidden="true"]')) continue;
    const fg = parse(style.color), bg = background(el);
    const blended = {r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g *
      (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a)};
    const [hi, lo] = [lum(blended), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) failures.push(`${node.textContent.trim().slice(0, 40)}: ` +
      `${ratio.toFixed(2)} < ${needed}`);
  }
  return failures;
}
"""


@dataclass
class View:
    """A page, a link to one of its views, and one control change to try."""

    path: str
    query: str
    graph: str  # a graph the page draws
    shown: dict  # control id → what the link's view shows in it
    change: tuple[str, str]  # (role, accessible name) of a control to click
    changed: str  # what the query holds after the click
    panel: str  # a panel to switch to its table


VIEWS = [
    View(
        "/",
        "?indicator=attendance_visits&period=2010",
        "overview-bars-graph",
        {"overview-period-picker": "2010"},
        ("option", "Reach: Children reached"),
        "indicator=children_reached",
        "overview-bars",
    ),
    View(
        "/compare",
        "?indicator=referrals_out&period=2011&countries=BA,RS,ME&breakdown=quarters",
        "compare-trend-graph",
        {"compare-period-picker": "2011"},
        ("radio", "Years"),
        "breakdown=years",
        "compare-ranking",
    ),
    View(
        "/country/ME",
        "?period=2010&indicator=children_reached&breakdown=sex_age",
        "country-split-graph",
        {"country-country-picker": "Montenegro"},
        ("radio", "Age band"),
        "breakdown=age_band",
        "country-sites",
    ),
    View(
        "/objectives",
        "?objective=2&period=2010&countries=BA,RS,ME,XK,AL,RO,BG",
        "objectives-status-graph",
        {"objectives-period-picker": "2010"},
        ("radio", "Objective 3"),
        "objective=3",
        "objectives-status",
    ),
    View(
        "/data-status",
        "?countries=BA,RS,ME,XK,AL,RO,BG",
        "status-coverage-graph",
        {},
        ("checkbox", "Serbia"),
        "countries=BA,ME,XK,AL,RO,BG",
        "status-suppression",
    ),
]


def sign_in(page, live_url: str) -> None:
    """Sign in, and let the overview it lands on settle, so that opening the next
    page aborts nothing in flight."""
    page.emulate_media(reduced_motion="reduce")  # Bootstrap: no colour transitions
    page.pending = set()
    page.on("request", lambda request: page.pending.add(request.url))
    page.on("requestfinished", lambda request: page.pending.discard(request.url))
    page.on("requestfailed", lambda request: page.pending.discard(request.url))
    browser_login(page, live_url)
    settle(page)


def settle(page, quiet_ms: int = 400) -> None:
    """Wait until no request has been in flight for `quiet_ms` (Playwright's
    "networkidle" only counts for a document load, not for callbacks)."""
    deadline = time.monotonic() + TIMEOUT / 1000
    quiet = 0
    while quiet < quiet_ms and time.monotonic() < deadline:
        page.wait_for_timeout(50)
        quiet = 0 if page.pending else quiet + 50


def superseded(page, since: int) -> None:
    """Forget the callback requests the renderer cancelled since `since`.

    Back and forward can make Dash's router re-render the page from the URL while
    the old layout's callbacks are still in flight; the renderer drops those, and
    the browser logs them as aborted. Anything else that failed stays."""
    failed = page.log["failed"]
    page.log["failed"] = failed[:since] + [
        entry
        for entry in failed[since:]
        if not ("/_dash-update-component" in entry and "ERR_ABORTED" in entry)
    ]


def wait_drawn(page, graph: str) -> None:
    page.wait_for_selector(f"#{graph} {DRAWN}", timeout=TIMEOUT)


def control_text(page, control: str) -> str:
    return page.inner_text(f"#{control}")


def click_control(page, role: str, name: str) -> None:
    if role == "option":  # a dropdown: open it, then pick
        page.click("#overview-indicator-picker")
        page.get_by_role("option", name=name).click()
    elif role == "checkbox":
        page.get_by_role("checkbox", name=name, exact=True).uncheck()
    else:
        page.get_by_role(role, name=name, exact=True).check()


@pytest.mark.browser
@pytest.mark.parametrize("view", VIEWS, ids=[v.path for v in VIEWS])
def test_page_draws_keeps_its_view_in_the_url_and_shows_its_table(live_url, view):
    with chromium_page() as page:
        sign_in(page, live_url)
        link = live_url + view.path + view.query
        page.goto(link, wait_until="domcontentloaded")
        wait_drawn(page, view.graph)
        for control, text in view.shown.items():
            assert text in control_text(page, control), (control, text)
        assert "Part of this link was ignored" not in page.inner_text("main, body")
        summary = f"#{view.graph.replace('-graph', '-summary')}"
        until(page, f"document.querySelector({summary!r}).innerText.endsWith('.')")

        # a control change goes into the URL, without reloading the page
        page.evaluate("window.__same_page = true")
        click_control(page, *view.change)
        until(page, f"location.search.includes({view.changed!r})")
        changed_url = page.url
        assert page.evaluate("window.__same_page === true")

        # back: the link's view again; forward: the changed one
        settle(page)
        before = len(page.log["failed"])
        page.go_back()
        until(page, f"!location.search.includes({view.changed!r})")
        for control, text in view.shown.items():
            until(
                page,
                f"document.getElementById({control!r}).innerText.includes({text!r})",
                timeout=TIMEOUT,
            )
        page.go_forward()
        until(page, f"location.search.includes({view.changed!r})")

        # the changed link, opened afresh, shows the changed view
        settle(page)  # nothing in flight to abort
        superseded(page, before)
        page.goto(changed_url, wait_until="domcontentloaded")
        wait_drawn(page, view.graph)
        assert view.changed in page.url

        # chart → table → chart
        page.get_by_role("radio", name="Table").nth(0)  # the toggles exist
        page.click(f"#{view.panel}-view label:has-text('Table')")
        page.wait_for_selector(f"#{view.panel}-table .ag-row", timeout=TIMEOUT)
        assert page.is_hidden(f"#{view.panel}-chart")
        rows = page.locator(f"#{view.panel}-table .ag-center-cols-container .ag-row")
        assert rows.count() > 0
        page.click(f"#{view.panel}-view label:has-text('Chart')")
        page.wait_for_selector(f"#{view.panel}-chart", state="visible")

        settle(page)
        failures = page.evaluate(CONTRAST_FAILURES)
        assert_offline_and_clean(page)
    assert failures == [], failures


@pytest.mark.browser
def test_a_link_with_unknown_values_says_what_it_ignored(live_url):
    with chromium_page() as page:
        sign_in(page, live_url)
        page.goto(
            live_url + "/compare?period=1999&countries=RS,XX&colour=red",
            wait_until="domcontentloaded",
        )
        wait_drawn(page, "compare-trend-graph")
        note = page.inner_text("#compare-note")
        assert "period “1999”" in note and "countries “XX”" in note
        assert "“colour” (not a setting of this page)" in note
        assert "Whole programme" in control_text(page, "compare-period-picker")
        assert_offline_and_clean(page)


@pytest.mark.browser
def test_clicking_a_country_on_the_map_opens_its_page(live_url):
    with chromium_page() as page:
        sign_in(page, live_url)
        page.goto(live_url + "/?indicator=attendance_visits", wait_until="load")
        wait_drawn(page, "overview-map-graph")
        until(
            page,
            "document.querySelectorAll('#overview-map-graph "
            "path.choroplethlocation').length >= 7 + 11",
            timeout=TIMEOUT,
        )
        box = page.evaluate(
            """() => {
            const paths = [...document.querySelectorAll(
                '#overview-map-graph path.choroplethlocation')];
            const romania = paths.find(p => p.__data__ && p.__data__.loc === 'ROU');
            const b = romania.getBoundingClientRect();
            return {x: b.x + b.width * 0.5, y: b.y + b.height * 0.45};
        }"""
        )
        page.mouse.click(box["x"], box["y"])
        until(page, "location.pathname === '/country/RO'")
        until(
            page,
            "document.getElementById('country-title') && "
            "document.getElementById('country-title').innerText === 'Romania'",
            timeout=TIMEOUT,
        )
        assert "indicator=attendance_visits" in page.url  # the view goes along
        wait_drawn(page, "country-sites-graph")
        assert_offline_and_clean(page)


@pytest.mark.browser
def test_every_control_is_reachable_by_keyboard(live_url):
    with chromium_page() as page:
        sign_in(page, live_url)
        page.goto(live_url + "/compare", wait_until="domcontentloaded")
        wait_drawn(page, "compare-grid-graph")
        reached = set()
        for _ in range(120):
            page.keyboard.press("Tab")
            reached.update(
                page.evaluate(
                    """() => { const ids = [];
                    for (let e = document.activeElement; e; e = e.parentElement)
                        if (e.id) ids.push(e.id);
                    return ids; }"""
                )
            )
        # a radio group takes one Tab stop; its arrows move between choices
        page.focus("#compare-breakdown-radio input[value='quarters']")
        page.keyboard.press("ArrowRight")
        until(page, "location.search.includes('breakdown=years')")
        assert_offline_and_clean(page)
    for control in (
        "compare-indicator-picker",
        "compare-period-picker",
        "compare-countries-checklist",
        "compare-breakdown-radio",
        "compare-trend-view",
        "compare-trend-csv",
        "compare-grid-view",
        "compare-grid-csv",
    ):
        assert control in reached, (control, sorted(reached))


@pytest.mark.browser
def test_the_csv_button_downloads_what_the_chart_shows(live_url):
    with chromium_page() as page:
        sign_in(page, live_url)
        page.goto(
            live_url + "/?indicator=regular_attenders&period=2009Q1",
            wait_until="domcontentloaded",
        )
        wait_drawn(page, "overview-bars-graph")
        with page.expect_download() as download:
            page.click("#overview-bars-csv")
        with open(download.value.path(), encoding="utf-8") as file:
            content = file.read()
        filename = download.value.suggested_filename
        bars = page.eval_on_selector(
            "#overview-bars-graph .js-plotly-plot",
            "g => Object.fromEntries(g.data[0].y.map((y, i) => "
            "[y, g.data[0].text[i]]))",
        )
        assert_offline_and_clean(page)
    assert re.match(r"ctrp3-overview-bars-\d{8}\.csv", filename)
    rows = list(csv.DictReader(io.StringIO(content)))
    assert {row["Country"] for row in rows} == set(bars)
    for row in rows:
        shown = bars[row["Country"]].replace(",", "")
        assert row["Value"] == ("" if shown == "no data" else shown), row
