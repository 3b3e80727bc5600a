"""The evolution page's waterfall: the earlier score, each question's contribution, the grid's,
the later score. Built with Plotly in Python, drawn by the vendored bundle (static/js/charts.js)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from cpts_portal.charts import as_float, with_layout

RISE, FALL, TOTAL = "#1a7f37", "#b42318", "#12355b"


def waterfall_figure(comparison) -> dict[str, Any]:
    zone = comparison.zone
    labels = [comparison.before.campaign.name]
    measures = ["absolute"]
    values = [as_float(zone.before)]
    for row in comparison.rows:
        labels.append(row.label)
        measures.append("relative")
        values.append(float(row.contribution))
    # The axis spans the path the bars draw, not 0–100, so that small contributions show.
    path = [values[0] or 0.0]
    for value in values[1:]:
        path.append(path[-1] + value)
    low, high = max(0.0, min(path) - 5), min(100.0, max(path) + 5)
    labels.append(comparison.after.campaign.name)
    measures.append("total")
    values.append(as_float(zone.after))
    figure = go.Figure(
        go.Waterfall(
            x=labels,
            y=values,
            measure=measures,
            increasing={"marker": {"color": RISE}},
            decreasing={"marker": {"color": FALL}},
            totals={"marker": {"color": TOTAL}},
            connector={"line": {"color": "#adb5bd"}},
            hovertemplate="%{x} : %{y:.2f}<extra></extra>",
        )
    )
    return with_layout(
        figure,
        height=380,
        showlegend=False,
        xaxis={"type": "category", "fixedrange": True},
        yaxis={"title": {"text": zone.label}, "range": [low, high], "fixedrange": True},
    )
