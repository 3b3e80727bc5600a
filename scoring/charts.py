"""Plotly figures for the results page, built in Python and rendered by static/js/charts.js.

Each function returns `figure.to_plotly_json()`, passed to the page with `json_script`. Values
are floats (JSON numbers); a "not assessed" cell is a gap (None), labelled in the cell. The
page shows every figure's data as a table too.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from scoring.selectors import HistoryPoint, MatrixRow, SubdimensionPoint

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif", "size": 13}
OURS = "#0d6efd"
PEERS = "#6c757d"
# Sequential and colour-blind safe; the cell text switches to white from DARK, where white
# reads better than dark grey on the cell's blue.
COLOURS = [[0, "#eff3ff"], [0.5, "#6baed6"], [1, "#08519c"]]
DARK = 75


def matrix_figure(matrix: list[MatrixRow], constraints: list[tuple[str, str]]) -> dict[str, Any]:
    columns = [str(label) for _code, label in constraints]
    rows = [row.dimension.label for row in matrix]
    z = [[_float(cell.value) for cell in row.cells] for row in matrix]
    annotations = []
    for row in matrix:
        for column, cell in zip(columns, row.cells, strict=True):
            text = _percent(cell.value) if cell.value is not None else _("non évalué")
            if cell.median is not None:
                text += "<br>" + _("médiane %(value)s") % {"value": _percent(cell.median)}
            dark = cell.value is not None and cell.value >= DARK
            annotations.append(
                {
                    "x": column,
                    "y": row.dimension.label,
                    "text": text,
                    "showarrow": False,
                    "font": {**FONT, "color": "#ffffff" if dark else "#212529"},
                }
            )
    figure = go.Figure(
        go.Heatmap(
            z=z,
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
    figure.update_layout(
        **_layout(height=360),
        annotations=annotations,
        plot_bgcolor="#e9ecef",
        xaxis={"side": "top", "fixedrange": True, "showgrid": False, "zeroline": False},
        yaxis={"autorange": "reversed", "fixedrange": True, "showgrid": False, "zeroline": False},
    )
    return figure.to_plotly_json()


def radar_figure(points: list[SubdimensionPoint], *, with_median: bool) -> dict[str, Any]:
    assessed = [p for p in points if p.value is not None]
    # The first point is repeated at the end to close each polygon.
    theta = ["<br>".join(textwrap.wrap(p.subdimension.label, 22)) for p in assessed]
    values = [_float(p.value) for p in assessed]
    traces = [
        go.Scatterpolar(
            r=values + values[:1],
            theta=theta + theta[:1],
            name=_("Votre CPTS"),
            fill="toself",
            line={"color": OURS},
            hovertemplate="%{theta} : %{r:.2f}<extra></extra>",
        )
    ]
    if with_median:
        medians = [_float(p.median) for p in assessed]
        traces.append(
            go.Scatterpolar(
                r=medians + medians[:1],
                theta=theta + theta[:1],
                name=_("Médiane des autres CPTS"),
                line={"color": PEERS, "dash": "dash"},
                hovertemplate="%{theta} : %{r:.2f}<extra></extra>",
            )
        )
    figure = go.Figure(traces)
    figure.update_layout(
        **_layout(height=560, margin={"l": 110, "r": 110, "t": 40, "b": 40}),
        polar={
            # The scale sits between the first and the last spoke, clear of the data.
            "radialaxis": {
                "range": [0, 100],
                "tickvals": [25, 50, 75, 100],
                "angle": 90 + 180 / max(len(assessed), 1),
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
    return figure.to_plotly_json()


def evolution_figure(
    history: list[HistoryPoint], dimension_labels: dict[str, str]
) -> dict[str, Any]:
    campaigns = [point.response.campaign.name for point in history]
    traces = [
        go.Scatter(
            x=campaigns,
            y=[_float(p.index) for p in history],
            name=_("Indice global"),
            mode="lines+markers",
            line={"color": OURS, "width": 3},
        )
    ]
    dashes = ["dot", "dash", "dashdot", "longdash"]
    for position, (code, label) in enumerate(dimension_labels.items()):
        traces.append(
            go.Scatter(
                x=campaigns,
                y=[_float(p.dimensions.get(code)) for p in history],
                name=label,
                mode="lines+markers",
                line={"dash": dashes[position % len(dashes)]},
            )
        )
    figure = go.Figure(traces)
    figure.update_layout(
        **_layout(height=360),
        yaxis={"range": [0, 100], "title": {"text": _("Score (0–100)")}, "fixedrange": True},
        xaxis={"type": "category", "fixedrange": True},
        legend={"orientation": "h", "y": -0.2},
        hovermode="x unified",
    )
    return figure.to_plotly_json()


def _layout(*, height: int, **overrides: Any) -> dict[str, Any]:
    return {
        "template": "none",
        "height": height,
        "font": FONT,
        "separators": ", ",  # French: decimal comma, space between thousands
        "margin": {"l": 90, "r": 30, "t": 50, "b": 40},
        "paper_bgcolor": "#ffffff",
        **overrides,
    }


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _percent(value: Decimal) -> str:
    return number_format(value, 2)
