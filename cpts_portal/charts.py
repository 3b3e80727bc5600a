"""Plotly figures shared by the results pages and the dashboards, and the layout every chart
of the portal uses.

A figure is a dict (`with_layout`): its traces built and validated by the Plotly package, its
layout passed to plotly.js as is; pages hand it to static/js/charts.js with `json_script`, and
`templates/_plotly.html` loads plotly.js under the CSP. Values are floats (JSON numbers); a
"not assessed" value is a gap (None).
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
from django.utils.formats import number_format
from django.utils.translation import gettext as _

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif", "size": 13}
OURS = "#0d6efd"
PEERS = "#6c757d"
# Sequential and colour-blind safe; the cell text switches to white from DARK, where white
# reads better than dark grey on the cell's blue.
COLOURS = [[0, "#eff3ff"], [0.5, "#6baed6"], [1, "#08519c"]]
DARK = 75


def heatmap_figure(
    *,
    rows: list[str],
    columns: list[str],
    values: list[list[Decimal | None]],
    texts: list[list[str]],
    height: int = 360,
) -> dict[str, Any]:
    """A 0–100 heatmap whose every cell is labelled; a None value is a grey gap."""
    annotations = []
    for row, row_values, row_texts in zip(rows, values, texts, strict=True):
        for column, value, text in zip(columns, row_values, row_texts, strict=True):
            dark = value is not None and value >= DARK
            annotations.append(
                {
                    "x": column,
                    "y": row,
                    "text": text,
                    "showarrow": False,
                    "font": {**FONT, "color": "#ffffff" if dark else "#212529"},
                }
            )
    figure = go.Figure(
        go.Heatmap(
            z=[[as_float(value) for value in row_values] for row_values in values],
            x=columns,
            y=rows,
            zmin=0,
            zmax=100,
            colorscale=COLOURS,
            hoverongaps=False,
            hovertemplate="%{y} × %{x} : %{z:.2f}<extra></extra>",
            # No colour bar: plotly.js resets its style attribute, which the CSP refuses; each
            # cell carries its value and the page says darker means higher.
            showscale=False,
            xgap=3,
            ygap=3,
        )
    )
    return with_layout(
        figure,
        height=height,
        annotations=annotations,
        plot_bgcolor="#e9ecef",
        xaxis={"side": "top", "fixedrange": True, "showgrid": False, "zeroline": False},
        yaxis={"autorange": "reversed", "fixedrange": True, "showgrid": False, "zeroline": False},
    )


def radar_series_figure(
    labels: list[str],
    series: list[tuple[str, list[Decimal | None]]],
    *,
    with_reference: bool = False,
) -> dict[str, Any]:
    """One polygon per series over the same spokes. With a reference (a median, last), the
    first series is filled and the reference dashed grey; otherwise series (CPTS compared)
    take the default palette."""
    # The first point is repeated at the end to close each polygon.
    theta = ["<br>".join(textwrap.wrap(label, 22)) for label in labels]
    traces = []
    for position, (name, values) in enumerate(series):
        r = [as_float(v) for v in values]
        style: dict[str, Any] = {}
        if position == 0 and (with_reference or len(series) == 1):
            style = {"fill": "toself", "line": {"color": OURS}}
        elif with_reference and position == len(series) - 1:
            style = {"line": {"color": PEERS, "dash": "dash"}}
        traces.append(
            go.Scatterpolar(
                r=r + r[:1],
                theta=theta + theta[:1],
                name=name,
                hovertemplate="%{theta} : %{r:.2f}<extra></extra>",
                **style,
            )
        )
    figure = go.Figure(traces)
    return with_layout(
        figure,
        height=560,
        margin={"l": 110, "r": 110, "t": 40, "b": 40},
        polar={
            # The scale sits between the first and the last spoke, clear of the data.
            "radialaxis": {
                "range": [0, 100],
                "tickvals": [25, 50, 75, 100],
                "angle": 90 + 180 / max(len(labels), 1),
                "tickangle": 0,
                "tickfont": {**FONT, "size": 10, "color": "#6c757d"},
                "showline": False,
                "gridcolor": "#dee2e6",
            },
            "angularaxis": {
                "direction": "clockwise",
                "tickfont": {**FONT, "size": 11},
                "gridcolor": "#dee2e6",
                "linecolor": "#adb5bd",
            },
        },
        legend={"orientation": "h", "y": -0.08},
    )


def with_layout(figure: go.Figure, **layout: Any) -> dict[str, Any]:
    """The figure's traces, validated by Plotly, with the page's layout passed to plotly.js as
    is: validating a layout in Python cost more than the rest of a dashboard page (profiled)."""
    return {"data": figure.to_plotly_json()["data"], "layout": base_layout(**layout)}


def base_layout(*, height: int, **overrides: Any) -> dict[str, Any]:
    # No "template": plotly.js has none by default, as Python's "none" template gave.
    return {
        "height": height,
        "font": FONT,
        "separators": ", ",  # French: decimal comma, space between thousands
        "margin": {"l": 90, "r": 30, "t": 50, "b": 40},
        "paper_bgcolor": "#ffffff",
        **overrides,
    }


def as_float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def percent(value: Decimal) -> str:
    return number_format(value, 2)


def score_text(value: Decimal | None) -> str:
    """A score as a chart label: two decimals, or "non évalué"."""
    return percent(value) if value is not None else _("non évalué")
