"""Plotly figures for the results page (matrix, radar against the peers, evolution).

Built on the shared helpers of `cpts_portal.charts`; the page shows every figure's data as a
table too.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from cpts_portal.charts import (
    OURS,
    as_float,
    heatmap_figure,
    percent,
    radar_series_figure,
    score_text,
    with_layout,
)
from scoring.selectors import HistoryPoint, MatrixRow, SubdimensionPoint


def matrix_figure(matrix: list[MatrixRow], constraints: list[tuple[str, str]]) -> dict[str, Any]:
    texts = []
    for row in matrix:
        row_texts = []
        for cell in row.cells:
            text = score_text(cell.value)
            if cell.median is not None:
                text += "<br>" + _("médiane %(value)s") % {"value": percent(cell.median)}
            row_texts.append(text)
        texts.append(row_texts)
    return heatmap_figure(
        rows=[row.dimension.label for row in matrix],
        columns=[str(label) for _code, label in constraints],
        values=[[cell.value for cell in row.cells] for row in matrix],
        texts=texts,
    )


def radar_figure(points: list[SubdimensionPoint], *, with_median: bool) -> dict[str, Any]:
    assessed = [p for p in points if p.value is not None]
    series = [(_("Votre CPTS"), [p.value for p in assessed])]
    if with_median:
        series.append((_("Médiane des autres CPTS"), [p.median for p in assessed]))
    return radar_series_figure(
        [p.subdimension.label for p in assessed], series, with_reference=with_median
    )


def evolution_figure(
    history: list[HistoryPoint], dimension_labels: dict[str, str]
) -> dict[str, Any]:
    campaigns = [point.response.campaign.name for point in history]
    traces = [
        go.Scatter(
            x=campaigns,
            y=[as_float(p.index) for p in history],
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
                y=[as_float(p.dimensions.get(code)) for p in history],
                name=label,
                mode="lines+markers",
                line={"dash": dashes[position % len(dashes)]},
            )
        )
    figure = go.Figure(traces)
    return with_layout(
        figure,
        height=360,
        yaxis={"range": [0, 100], "title": {"text": _("Score (0–100)")}, "fixedrange": True},
        xaxis={"type": "category", "fixedrange": True},
        legend={"orientation": "h", "y": -0.2},
        hovermode="x unified",
    )
