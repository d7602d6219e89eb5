"""The map and the Bootstrap styling work with no internet access.

A tiny Dash app using the repo's assets/ (vendored Bootstrap CSS, the GeoJSON shapes and
plotly_geo_offline.js) is served on 127.0.0.1 and opened in headless Chromium. The page
must draw all 7 programme countries (Kosovo as its own shape), ask nothing of any other
host, log no console error, and get Bootstrap's CSS from the local asset.

Chromium missing: skipped, unless CTRP_REQUIRE_ALL=1 (then it fails).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import chromium_page, serve_wsgi

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "assets"

PROGRAMME_ISO3 = ["BIH", "SRB", "MNE", "XKX", "ALB", "ROU", "BGR"]
BOOTSTRAP_PRIMARY_BG = "rgb(13, 110, 253)"  # .btn-primary background in Bootstrap 5.3


def build_map_app():
    """The smallest app that uses the map the way the dashboard does."""
    import dash
    import plotly.graph_objects as go
    from dash import dcc, html

    fig = go.Figure(
        go.Choropleth(
            # a URL: plotly fetches it once, the figure carries no shapes
            geojson="/assets/geo/countries.geojson",
            locations=PROGRAMME_ISO3,
            z=list(range(1, len(PROGRAMME_ISO3) + 1)),
            featureidkey="id",
        )
    )
    fig.update_layout(
        geo={
            "visible": False,
            "projection_type": "mercator",
            "lonaxis_range": [15.5, 30.5],
            "lataxis_range": [39.3, 48.5],
            "fitbounds": False,
        },
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=600,
    )
    app = dash.Dash(__name__, assets_folder=str(ASSETS))  # no external_stylesheets
    app.layout = html.Div(
        [
            html.Button("Bootstrap?", id="probe-btn", className="btn btn-primary"),
            dcc.Graph(id="map", figure=fig),
        ]
    )
    return app


# --------------------------------------------------------------------------- test


@pytest.mark.browser
def test_map_draws_offline_with_local_assets_only():
    app = build_map_app()
    with serve_wsgi(app.server) as base, chromium_page() as page:
        log = page.log
        page.goto(base + "/", wait_until="networkidle")
        page.wait_for_function(
            "document.querySelectorAll('#map path.choroplethlocation').length >= 7",
            timeout=30_000,
        )
        page.wait_for_load_state("networkidle")

        shapes = page.eval_on_selector_all(
            "#map path.choroplethlocation",
            """paths => paths.map(p => {
                const b = p.getBBox();
                return {d: (p.getAttribute('d') || '').length, w: b.width, h: b.height};
            })""",
        )
        plot_area = page.eval_on_selector(
            "#map .layer.bg rect",
            "r => { const b = r.getBBox(); return [b.width, b.height]; }",
        )
        btn_bg = page.eval_on_selector(
            "#probe-btn", "b => getComputedStyle(b).backgroundColor"
        )

    # 7 countries drawn, each a real shape, none filling the whole map (a ring with the
    # wrong winding order would cover the globe)
    assert len(shapes) == 7, shapes
    for s in shapes:
        assert s["d"] > 50 and s["w"] > 1 and s["h"] > 1, s
        width, height = plot_area
        assert s["w"] < 0.9 * width and s["h"] < 0.9 * height, (s, plot_area)

    # nothing from anywhere but this server
    outside = [u for u in log["requests"] if not u.startswith("http://127.0.0.1:")]
    assert outside == [], outside
    assert log["failed"] == [], log["failed"]
    assert log["console_errors"] == [], log["console_errors"]
    assert log["page_errors"] == [], log["page_errors"]

    # plotly asked for our GeoJSON; the vendored Bootstrap CSS was served and applied
    requests = log["requests"]
    assert any("/assets/geo/countries.geojson" in u for u in requests), requests
    css = [u for u in log["status"] if "/vendor/bootstrap/bootstrap.min.css" in u]
    assert css and all(log["status"][u] == 200 for u in css), log["status"]
    assert btn_bg == BOOTSTRAP_PRIMARY_BG
