"""Figure builders: pure functions of small DataFrames, no I/O, no Dash.

Each returns a plain plotly figure dict ({"data": [...], "layout": {...}}):
building plotly's graph objects validates every property and costs 50–100 ms per
chart, which a page callback cannot afford; the unit tests validate every builder's
output against plotly's schema instead (`plotly.graph_objects.Figure(figure)`).

Colours: a sequential blue scale and Okabe–Ito colours, safe for colour-blind
readers; every series colour has at least 3:1 contrast on white (WCAG 1.4.11) and
lines also differ by marker and dash, so colour is never the only cue. Grey is for
suppressed or missing figures. A suppressed figure is never drawn as a number: it
gets no bar (or a mark in the "<10" band) and the text "<10" with its reason.
"""

from __future__ import annotations

import pandas as pd

from dashboard.numbers import STATUS_COLOURS, STATUS_LABELS, suppressed_title

GEOJSON_URL = "/assets/geo/countries.geojson"
NEIGHBOURS_URL = "/assets/geo/neighbours.geojson"
# ColorBrewer Blues, light to dark, spelled out: plotly.js's own "Blues" runs the
# other way round and plotly.py only swaps it when it builds graph objects.
_BLUES = (
    "#F7FBFF",
    "#DEEBF7",
    "#C6DBEF",
    "#9ECAE1",
    "#6BAED6",
    "#4292C6",
    "#2171B5",
    "#08519C",
    "#08306B",
)
SEQUENTIAL = [[i / (len(_BLUES) - 1), c] for i, c in enumerate(_BLUES)]
ACCENT = "#0072B2"  # Okabe–Ito blue
TARGET = "#D55E00"  # Okabe–Ito vermillion
SECOND = "#009E73"  # Okabe–Ito bluish green
MUTED = "#BBBBBB"
INK = "#212529"  # Bootstrap's body text colour
GRID = "#E5E5E5"
SERIES = ("#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8C5E00", "#6C757D")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid")
SEX_COLOURS = {"F": "#CC79A7", "M": "#0072B2", "U": "#6C757D", "ALL": ACCENT}
REGION_GEO = dict(
    visible=False,
    projection=dict(type="mercator"),
    lonaxis=dict(range=[15.5, 30.5]),
    lataxis=dict(range=[39.3, 48.5]),
    fitbounds=False,
)
NEIGHBOURS = (
    "HRV",
    "SVN",
    "HUN",
    "MKD",
    "GRC",
    "MDA",
    "UKR",
    "TUR",
    "ITA",
    "AUT",
    "SVK",
)
NAME_HOVER = "%{text}: %{customdata}<extra></extra>"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
STATUS_ORDER = tuple(STATUS_COLOURS)


def figure(data: list[dict], height: int, **layout) -> dict:
    """A figure with the look every chart shares: no template payload, readable ink
    on white, the given height."""
    base = dict(  # no plotly.py template (8 KB per chart): the look is set here
        height=height,
        font=dict(family=FONT, color=INK, size=13),
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=10, r=20, t=10, b=40),
        hoverlabel=dict(bgcolor="white", font=dict(color=INK)),
    )
    return {"data": data, "layout": base | layout}


def _axis(**extra) -> dict:
    return dict(
        gridcolor=GRID,
        zerolinecolor="#999999",
        linecolor="#999999",
        automargin=True,
        **extra,
    )


def _list(values) -> list:
    """A column as JSON-ready values, pandas' missing values as None."""
    return [None if pd.isna(v) else v for v in values]


def _numbers(values) -> list:
    return [None if pd.isna(v) else float(v) for v in values]


def _heights(values) -> list[float]:
    """Bar lengths: a hidden or missing figure draws no bar."""
    return [0.0 if pd.isna(v) else float(v) for v in values]


def wrap(label: str, width: int = 14) -> str:
    """A long axis label on two lines ("Bosnia and<br>Herzegovina")."""
    if len(label) <= width or "<br>" in label or " " not in label:
        return label
    middle = len(label) // 2
    spaces = [i for i, ch in enumerate(label) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - middle))
    return label[:cut] + "<br>" + label[cut + 1 :]


def hidden_text(text: str, threshold: int = 10) -> str:
    """Hover text of a figure: a "<10" says why it is hidden."""
    if text == f"<{threshold}":
        return f"<{threshold} ({suppressed_title(threshold)})"
    return text


def empty(message: str, height: int = 200) -> dict:
    """A chart with nothing to draw says so in words."""
    return figure(
        [],
        height,
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        annotations=[
            dict(
                text=message,
                showarrow=False,
                x=0.5,
                y=0.5,
                xref="paper",
                yref="paper",
                font=dict(size=14),
            )
        ],
    )


def _geo_outline(locations, url, fill, line, width, name) -> dict:
    return dict(
        type="choropleth",
        geojson=url,
        featureidkey="id",
        locations=list(locations),
        z=[0] * len(locations),
        colorscale=[[0, fill], [1, fill]],
        showscale=False,
        hoverinfo="skip",
        marker=dict(line=dict(color=line, width=width)),
        name=name,
    )


# -- the region map and the country bars -----------------------------------------------


def country_map(frame: pd.DataFrame, label: str) -> dict:
    """Choropleth of one figure per country; click a country to open its page.

    `frame`: name, map_id, value, status, text (views.country_figures).
    Suppressed and missing countries are drawn grey with their text ("<10", "no
    data"), so every country's shape always appears.
    """
    published = frame[frame["status"] == "published"]
    hidden = frame[frame["status"] != "published"]
    data = [
        _geo_outline(NEIGHBOURS, NEIGHBOURS_URL, "#F2F2F2", "white", 1, "neighbours"),
        dict(
            type="choropleth",
            geojson=GEOJSON_URL,
            featureidkey="id",
            locations=published["map_id"].tolist(),
            z=_numbers(published["value"]),
            colorscale=SEQUENTIAL,
            zmin=0,
            text=published["name"].tolist(),
            customdata=published["text"].tolist(),
            hovertemplate=NAME_HOVER,
            marker=dict(line=dict(color="#444444", width=0.8)),
            colorbar=dict(title=dict(text=label, side="right"), thickness=12),
            name=label,
        ),
        dict(
            type="choropleth",
            geojson=GEOJSON_URL,
            featureidkey="id",
            locations=hidden["map_id"].tolist(),
            z=[0] * len(hidden),
            colorscale=[[0, MUTED], [1, MUTED]],
            showscale=False,
            text=hidden["name"].tolist(),
            customdata=[hidden_text(t) for t in hidden["text"]],
            hovertemplate=NAME_HOVER,
            marker=dict(line=dict(color="#444444", width=0.8)),
            name="suppressed",
        ),
    ]
    return figure(
        data,
        420,
        geo=REGION_GEO,
        margin=dict(l=0, r=0, t=0, b=0),
        dragmode=False,
        showlegend=False,
    )


def country_bars(frame: pd.DataFrame, label: str) -> dict:
    """One bar per country, largest on top; a suppressed one shows "<10", no bar;
    the target, where set, is a vermillion tick."""
    frame = frame.assign(height=_heights(frame["value"])).sort_values(
        "height", ascending=True, kind="stable"
    )
    data = [
        dict(
            type="bar",
            x=frame["height"].tolist(),
            y=frame["name"].tolist(),
            orientation="h",
            text=frame["text"].tolist(),
            customdata=[hidden_text(t) for t in frame["text"]],
            textposition="outside",
            cliponaxis=False,
            marker=dict(color=ACCENT),
            hovertemplate="%{y}: %{customdata}<extra></extra>",
            name=label,
        )
    ]
    if "target" in frame and frame["target"].notna().any():
        data.append(
            dict(
                type="scatter",
                x=_numbers(frame["target"]),
                y=frame["name"].tolist(),
                mode="markers",
                name="target",
                marker=dict(
                    symbol="line-ns-open",
                    size=18,
                    color=TARGET,
                    line=dict(width=3, color=TARGET),
                ),
                hovertemplate="%{y} target: %{x:,.0f}<extra></extra>",
            )
        )
    return figure(
        data,
        340,
        margin=dict(l=10, r=50, t=10, b=40),
        xaxis=_axis(title=dict(text=label), rangemode="tozero"),
        yaxis=_axis(),
        showlegend=False,
    )


# -- compare: lines over time, the progress grid ---------------------------------------


def trend_lines(
    frame: pd.DataFrame, label: str, period_labels: dict, threshold: int = 10
) -> dict:
    """One line per country over the periods. A suppressed point breaks the line
    and is drawn as an open mark in the grey "<10" band at the bottom."""
    if frame.empty:
        return empty("Choose at least one country.")
    data = []
    for i, (code, own) in enumerate(frame.groupby("country", sort=False)):
        name = own["name"].iloc[0]
        x = [period_labels.get(p, p) for p in own["period"]]
        statuses = own["status"].tolist()
        y = [
            float(v) if s == "published" else None
            for v, s in zip(own["value"], statuses, strict=True)
        ]
        colour = SERIES[i % len(SERIES)]
        symbol = SYMBOLS[i % len(SYMBOLS)]
        data.append(
            dict(
                type="scatter",
                x=x,
                y=y,
                mode="lines+markers",
                name=name,
                legendgroup=code,
                connectgaps=False,
                line=dict(color=colour, dash=DASHES[i % len(DASHES)], width=2),
                marker=dict(symbol=symbol, size=7, color=colour),
                customdata=own["text"].tolist(),
                hovertemplate=f"{name}, %{{x}}: %{{customdata}}<extra></extra>",
            )
        )
        hidden = [xi for xi, s in zip(x, statuses, strict=True) if s == "suppressed"]
        if hidden:
            data.append(
                dict(
                    type="scatter",
                    x=hidden,
                    y=[threshold / 2] * len(hidden),
                    mode="markers",
                    name=f"{name} <{threshold}",
                    legendgroup=code,
                    showlegend=False,
                    marker=dict(symbol=f"{symbol}-open", size=8, color=colour),
                    hovertemplate=(
                        f"{name}, %{{x}}: {hidden_text(f'<{threshold}', threshold)}"
                        "<extra></extra>"
                    ),
                )
            )
    shapes, annotations = [], []
    if (frame["status"] == "suppressed").any():
        shapes.append(
            dict(
                type="rect",
                xref="x domain",
                x0=0,
                x1=1,
                yref="y",
                y0=0,
                y1=threshold,
                fillcolor="#EEEEEE",
                line=dict(width=0),
                layer="below",
            )
        )
        annotations.append(
            dict(
                text=f"<{threshold} (hidden)",
                xref="paper",
                x=1,
                xanchor="right",
                y=threshold,
                yanchor="bottom",
                showarrow=False,
                font=dict(size=11, color="#555555"),
            )
        )
    return figure(
        data,
        380,
        xaxis=_axis(type="category"),
        yaxis=_axis(title=dict(text=label), rangemode="tozero"),
        legend=dict(orientation="h", y=-0.18),
        margin=dict(l=10, r=20, t=10, b=70),
        hovermode="closest",
        shapes=shapes,
        annotations=annotations,
    )


def progress_grid(frame: pd.DataFrame, height: int | None = None) -> dict:
    """A grid of progress against target: `row` × `column`, each cell coloured by
    its red/amber/green status and labelled with its progress ("92%", "<10 of 60").

    `frame`: row, column, text, status, detail (views.progress_grid_frame)."""
    if frame.empty:
        return empty("Nothing to show for this choice.")
    rows = list(dict.fromkeys(frame["row"]))
    columns = list(dict.fromkeys(frame["column"]))
    index = {status: i for i, status in enumerate(STATUS_ORDER)}
    labels = [wrap(c) for c in columns]
    cells = {
        (r, c): (index[s] + 0.5, t, d)  # + 0.5: the middle of the status's band
        for r, c, s, t, d in zip(
            frame["row"],
            frame["column"],
            frame["status"],
            frame["text"],
            frame["detail"],
            strict=True,
        )
    }
    blank = (None, "", "")
    grid = [[cells.get((r, c), blank) for c in columns] for r in rows]
    steps = len(STATUS_ORDER)
    colorscale = []
    for i, status in enumerate(STATUS_ORDER):
        colorscale += [[i / steps, STATUS_COLOURS[status]]]
        colorscale += [[(i + 1) / steps, STATUS_COLOURS[status]]]
    data = [
        dict(
            type="heatmap",
            z=[[cell[0] for cell in row] for row in grid],
            x=labels,
            y=rows,
            text=[[cell[1] for cell in row] for row in grid],
            customdata=[[cell[2] for cell in row] for row in grid],
            texttemplate="%{text}",
            textfont=dict(color="#000000", size=12),
            hovertemplate="%{y}<br>%{customdata}<extra></extra>",
            colorscale=colorscale,
            zmin=0,
            zmax=steps,
            showscale=False,
            xgap=2,
            ygap=2,
        )
    ]
    return figure(
        data,
        height or max(220, 44 * len(rows) + 80),
        xaxis=dict(side="top", automargin=True, tickangle=0, type="category"),
        yaxis=dict(autorange="reversed", automargin=True, type="category"),
        margin=dict(l=10, r=10, t=40, b=10),
    )


def status_legend() -> list[tuple[str, str]]:
    """(label, colour) of every status, for the legend written under a grid."""
    return [(STATUS_LABELS[s], STATUS_COLOURS[s]) for s in STATUS_ORDER[:4]]


# -- one country -----------------------------------------------------------------------


def site_map(
    sites: pd.DataFrame,
    map_id: str,
    bounds: tuple[float, float, float, float] | None,
    label: str,
) -> dict:
    """The country's outline and its sites with a public location, each a dot
    sized by its figure (a suppressed one small and grey, "<10")."""
    shown = sites[sites["public"] & sites["latitude"].notna()]
    values = _heights(shown["value"])
    largest = max([*values, 1.0])
    published = [s == "published" for s in shown["status"]]
    data = [
        _geo_outline([map_id], GEOJSON_URL, "#F2F2F2", "#444444", 1, "country"),
        dict(
            type="scattergeo",
            lon=_numbers(shown["longitude"]),
            lat=_numbers(shown["latitude"]),
            mode="markers",
            text=shown["name"].tolist(),
            customdata=[
                f"{kind}, {hidden_text(text)}"
                for kind, text in zip(shown["kind"], shown["text"], strict=True)
            ],
            hovertemplate=NAME_HOVER,
            marker=dict(
                size=[
                    10 + 26 * (v / largest) ** 0.5 if p else 9
                    for v, p in zip(values, published, strict=True)
                ],
                color=[ACCENT if p else MUTED for p in published],
                line=dict(color="#222222", width=1),
                opacity=0.85,
            ),
            name=label,
        ),
    ]
    geo = dict(REGION_GEO)
    if bounds:
        geo |= dict(
            lonaxis=dict(range=list(bounds[:2])), lataxis=dict(range=list(bounds[2:]))
        )
    return figure(
        data,
        360,
        geo=geo,
        margin=dict(l=0, r=0, t=0, b=0),
        dragmode=False,
        showlegend=False,
    )


def split_bars(
    frame: pd.DataFrame,
    label: str,
    breakdown: str,
    sex_names: dict,
    age_names: dict,
) -> dict:
    """Bars by sex, age band, or age band grouped by sex; "<10" where hidden."""
    if frame.empty:
        return empty("No breakdown for this indicator.")
    data = []
    by_age = breakdown in ("age_band", "sex_age")
    for sex, own in frame.groupby("sex", sort=False):
        x = (
            [age_names.get(a, a) for a in own["age_band"]]
            if by_age
            else [sex_names.get(s, s) for s in own["sex"]]
        )
        data.append(
            dict(
                type="bar",
                x=x,
                y=_heights(own["value"]),
                text=own["text"].tolist(),
                customdata=[hidden_text(t) for t in own["text"]],
                textposition="outside",
                cliponaxis=False,
                name=sex_names.get(sex, "All"),
                marker=dict(color=SEX_COLOURS.get(sex, ACCENT)),
                hovertemplate=f"{sex_names.get(sex, '')} %{{x}}: %{{customdata}}"
                "<extra></extra>",
            )
        )
    return figure(
        data,
        340,
        barmode="group",
        xaxis=_axis(type="category"),
        yaxis=_axis(title=dict(text=label), rangemode="tozero"),
        showlegend=breakdown == "sex_age",
        legend=dict(orientation="h", y=1.12),
        margin=dict(l=10, r=20, t=30, b=40),
    )


def service_bars(frame: pd.DataFrame, service_names: dict) -> dict:
    """Referrals by service: children referred and referrals completed."""
    if frame.empty:
        return empty("No referrals to services for this period.")
    frame = frame.iloc[::-1]  # plotly draws the first category at the bottom
    y = [service_names.get(s, s) for s in frame["service"]]
    data = []
    for column, name, colour in (
        ("referred", "Children referred", ACCENT),
        ("completed", "Referrals completed", SECOND),
    ):
        hidden = (frame[f"{column}_status"] == "suppressed").tolist()
        values = _heights(frame[column])
        text = [
            "<10" if h else f"{int(v):,}" for v, h in zip(values, hidden, strict=True)
        ]
        data.append(
            dict(
                type="bar",
                x=values,
                y=y,
                orientation="h",
                name=name,
                marker=dict(color=colour),
                text=text,
                textposition="outside",
                cliponaxis=False,
                customdata=[
                    [hidden_text(t), rate]
                    for t, rate in zip(text, frame["rate"], strict=True)
                ],
                hovertemplate=(
                    f"%{{y}}: %{{customdata[0]}} {name.lower()}"
                    "<br>completion rate: %{customdata[1]}<extra></extra>"
                ),
            )
        )
    return figure(
        data,
        max(260, 34 * len(frame) + 90),
        barmode="group",
        xaxis=_axis(title=dict(text="Referrals"), rangemode="tozero"),
        yaxis=_axis(type="category"),
        legend=dict(orientation="h", y=1.1),
        margin=dict(l=10, r=50, t=30, b=40),
    )


def quarter_bars(frame: pd.DataFrame, label: str, period_labels: dict) -> dict:
    """The indicator per quarter (bars) against the quarter's share of the yearly
    target (a vermillion dashed line)."""
    x = [period_labels.get(p, p) for p in frame["period"]]
    data = [
        dict(
            type="bar",
            x=x,
            y=_heights(frame["value"]),
            text=frame["text"].tolist(),
            customdata=[hidden_text(t) for t in frame["text"]],
            textposition="outside",
            cliponaxis=False,
            marker=dict(color=ACCENT),
            name=label,
            hovertemplate="%{x}: %{customdata}<extra></extra>",
        )
    ]
    if frame["target"].notna().any():
        data.append(
            dict(
                type="scatter",
                x=x,
                y=_numbers(frame["target"]),
                mode="lines",
                line=dict(color=TARGET, dash="dash", width=2, shape="hvh"),
                name="target (quarter's share)",
                hovertemplate="%{x} target: %{y:,.0f}<extra></extra>",
            )
        )
    return figure(
        data,
        340,
        xaxis=_axis(type="category"),
        yaxis=_axis(title=dict(text=label), rangemode="tozero"),
        legend=dict(orientation="h", y=1.12),
        margin=dict(l=10, r=20, t=30, b=40),
    )


# -- data status -----------------------------------------------------------------------


def sync_age_bars(frame: pd.DataFrame, stale_days: int) -> dict:
    """Days since each country's last successful sync; stale ones in vermillion."""
    if frame.empty:
        return empty("Choose at least one country.")
    frame = frame.iloc[::-1]
    age = _numbers(frame["age_days"])
    known = [a for a in age if a is not None]
    top = max([*known, stale_days]) * 1.25
    data = [
        dict(
            type="bar",
            x=[a or 0.0 for a in age],
            y=frame["name"].tolist(),
            orientation="h",
            text=[age_text(a) for a in age],
            textposition="outside",
            cliponaxis=False,
            marker=dict(color=[TARGET if s else ACCENT for s in frame["stale"]]),
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    ]
    return figure(
        data,
        max(220, 34 * len(frame) + 80),
        xaxis=_axis(
            title=dict(text="Days since the last successful sync"), range=[0, top]
        ),
        yaxis=_axis(type="category"),
        showlegend=False,
        margin=dict(l=10, r=30, t=30, b=40),
        shapes=[
            dict(
                type="line",
                x0=stale_days,
                x1=stale_days,
                xref="x",
                y0=0,
                y1=1,
                yref="y domain",
                line=dict(color=INK, dash="dot", width=1),
            )
        ],
        annotations=[
            dict(
                x=stale_days,
                y=1,
                yref="paper",
                text=f"stale after {stale_days} days",
                showarrow=False,
                xanchor="left",
                yanchor="bottom",
                font=dict(size=11),
            )
        ],
    )


def age_text(days: float | None) -> str:
    if days is None:
        return "never synced"
    return f"{days * 24:.0f} h" if days < 1 else f"{days:.1f} days"


def value_grid(
    frame: pd.DataFrame,
    row: str,
    column: str,
    value: str,
    text: str,
    label: str,
    height: int | None = None,
    zmax: float | None = None,
) -> dict:
    """A heatmap of counts or shares on the blue scale (0 to `zmax`, or to the
    largest value), each cell labelled."""
    if frame.empty:
        return empty("Nothing to show for this choice.")
    rows = list(dict.fromkeys(frame[row]))
    columns = list(dict.fromkeys(frame[column]))
    cells = {
        (r, c): (v, t)
        for r, c, v, t in zip(
            frame[row], frame[column], frame[value], frame[text], strict=True
        )
    }
    blank = (None, "")
    grid = [[cells.get((r, c), blank) for c in columns] for r in rows]
    z = [[None if pd.isna(cell[0]) else float(cell[0]) for cell in g] for g in grid]
    top = zmax or max([v for line in z for v in line if v is not None] + [1.0])
    data = [
        dict(
            type="heatmap",
            z=z,
            x=columns,
            y=rows,
            text=[[str(cell[1]) for cell in g] for g in grid],
            texttemplate="%{text}",
            colorscale=SEQUENTIAL,
            zmin=0,
            zmax=top,
            colorbar=dict(title=dict(text=label, side="right"), thickness=12),
            hovertemplate="%{y}, %{x}: %{text}<extra></extra>",
            xgap=1,
            ygap=1,
        )
    ]
    return figure(
        data,
        height or max(220, 30 * len(rows) + 90),
        xaxis=dict(side="top", automargin=True, type="category"),
        yaxis=dict(autorange="reversed", automargin=True, type="category"),
        margin=dict(l=10, r=10, t=40, b=10),
    )


def share_bars(frame: pd.DataFrame, label: str) -> dict:
    """A share (0–1) per country, as a percentage bar."""
    if frame.empty:
        return empty("Choose at least one country.")
    frame = frame.iloc[::-1]
    shares = _numbers(frame["share"])
    data = [
        dict(
            type="bar",
            x=[s or 0.0 for s in shares],
            y=frame["name"].tolist(),
            orientation="h",
            text=["—" if s is None else f"{s:.0%}" for s in shares],
            textposition="outside",
            cliponaxis=False,
            marker=dict(color=ACCENT),
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    ]
    return figure(
        data,
        max(220, 34 * len(frame) + 80),
        xaxis=_axis(title=dict(text=label), tickformat=".0%", rangemode="tozero"),
        yaxis=_axis(type="category"),
        showlegend=False,
        margin=dict(l=10, r=40, t=10, b=40),
    )
