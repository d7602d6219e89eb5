"""Figure builders: pure functions of small DataFrames, no I/O, no Dash.

Colours: a sequential blue scale and one accent, both safe for colour-blind readers
(Okabe–Ito / ColorBrewer), grey for suppressed or missing.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

GEOJSON_URL = "/assets/geo/countries.geojson"
NEIGHBOURS_URL = "/assets/geo/neighbours.geojson"
SEQUENTIAL = "Blues"
ACCENT = "#0072B2"  # Okabe–Ito blue
TARGET = "#D55E00"  # Okabe–Ito vermillion
MUTED = "#BBBBBB"
REGION_GEO = dict(
    visible=False,
    projection_type="mercator",
    lonaxis_range=[15.5, 30.5],
    lataxis_range=[39.3, 48.5],
    fitbounds=False,
)


def country_map(frame: pd.DataFrame, label: str) -> go.Figure:
    """Choropleth of one figure per country.

    `frame`: name, map_id, value, status, text (see views.country_figures). Suppressed
    and missing countries are drawn grey with their text ("<10", "no data"), so every
    country's shape always appears.
    """
    published = frame[frame["status"] == "published"]
    hidden = frame[frame["status"] != "published"]
    figure = go.Figure()
    figure.add_trace(
        go.Choropleth(
            geojson=NEIGHBOURS_URL,
            featureidkey="id",
            locations=_neighbour_ids(),
            z=[0] * len(_neighbour_ids()),
            colorscale=[[0, "#F2F2F2"], [1, "#F2F2F2"]],
            showscale=False,
            hoverinfo="skip",
            marker_line_color="white",
            name="neighbours",
        )
    )
    figure.add_trace(
        go.Choropleth(
            geojson=GEOJSON_URL,
            featureidkey="id",
            locations=published["map_id"],
            z=published["value"].astype(float),
            colorscale=SEQUENTIAL,
            zmin=0,
            text=published["name"],
            customdata=published["text"],
            hovertemplate="%{text}: %{customdata}<extra></extra>",
            marker_line_color="#444444",
            marker_line_width=0.8,
            colorbar=dict(title=dict(text=label, side="right"), thickness=12),
            name=label,
        )
    )
    figure.add_trace(
        go.Choropleth(
            geojson=GEOJSON_URL,
            featureidkey="id",
            locations=hidden["map_id"],
            z=[0] * len(hidden),
            colorscale=[[0, MUTED], [1, MUTED]],
            showscale=False,
            text=hidden["name"],
            customdata=hidden["text"],
            hovertemplate="%{text}: %{customdata}<extra></extra>",
            marker_line_color="#444444",
            marker_line_width=0.8,
            name="suppressed",
        )
    )
    figure.update_layout(
        geo=REGION_GEO,
        margin=dict(l=0, r=0, t=0, b=0),
        height=420,
        dragmode=False,
        showlegend=False,
    )
    return figure


def _neighbour_ids() -> list[str]:
    return ["HRV", "SVN", "HUN", "MKD", "GRC", "MDA", "UKR", "TUR", "ITA", "AUT", "SVK"]


def country_bars(frame: pd.DataFrame, label: str) -> go.Figure:
    """One bar per country, largest on top; a suppressed one shows "<10", no bar."""
    frame = frame.assign(height=frame["value"].astype(float).fillna(0)).sort_values(
        "height", ascending=True
    )
    figure = go.Figure(
        go.Bar(
            x=frame["height"],
            y=frame["name"],
            orientation="h",
            text=frame["text"],
            textposition="outside",
            cliponaxis=False,
            marker_color=ACCENT,
            hovertemplate="%{y}: %{text}<extra></extra>",
            name=label,
        )
    )
    if "target" in frame and frame["target"].notna().any():
        figure.add_trace(
            go.Scatter(
                x=frame["target"],
                y=frame["name"],
                mode="markers",
                name="target",
                marker=dict(
                    symbol="line-ns-open",
                    size=18,
                    color=TARGET,
                    line=dict(width=3, color=TARGET),
                ),
                hovertemplate="%{y} target: %{x:,}<extra></extra>",
            )
        )
    figure.update_layout(
        margin=dict(l=10, r=40, t=10, b=30),
        height=340,
        xaxis_title=label,
        yaxis_title=None,
        plot_bgcolor="white",
        showlegend=False,
        xaxis=dict(gridcolor="#E5E5E5", rangemode="tozero"),
    )
    return figure
