"""The dashboards' charts: each is a Plotly figure and the table of the same numbers.

The table is the chart's accessible alternative on the page and the content of its CSV
download, so the three can never disagree. Groups hidden by the small-cell rule appear in the
table with their size and no values, and are left out of the figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from cpts_portal.charts import (
    FONT,
    OURS,
    as_float,
    heatmap_figure,
    percent,
    radar_series_figure,
    score_text,
    with_layout,
)
from cpts_portal.spreadsheet import Cell
from dashboards.selectors import (
    CampaignResult,
    Distribution,
    MeanCell,
    RadarComparison,
    TerritoryAggregates,
)
from questionnaire.models import ConstraintType, SubDimension
from scoring.selectors import SMALL_CELL_MINIMUM
from territories.models import Cpts


@dataclass
class ChartTable:
    columns: list[str]
    rows: list[list[Cell]]


@dataclass
class Chart:
    slug: str  # names the CSV download and the page elements
    title: str
    summary: str  # the figure's text alternative
    figure: dict[str, Any] | None  # None when every group is hidden or there is no data
    table: ChartTable
    hidden: int = 0  # groups hidden by the small-cell rule


def hidden_note() -> str:
    return _("masqué : moins de %(minimum)s CPTS") % {"minimum": SMALL_CELL_MINIMUM}


def overview_charts(data: TerritoryAggregates) -> list[Chart]:
    return [
        matrix_chart(data),
        _distribution_chart(
            slug="departements",
            title=_("Indice global par département"),
            summary=_("Boîtes à moustaches de l’indice global par département."),
            group=_("Département"),
            groups=data.by_department,
        ),
        evolution_chart(data),
        _distribution_chart(
            slug="stades",
            title=_("Stade de la CPTS et maturité"),
            summary=_("Boîtes à moustaches de l’indice global par stade de la CPTS."),
            group=_("Stade"),
            groups=data.by_stage,
        ),
    ]


def matrix_chart(data: TerritoryAggregates) -> Chart:
    rows, hidden = [], 0
    for cells in data.matrix:
        for cell in cells:
            hidden += cell.count > 0 and not cell.shown
            rows.append(
                [
                    cell.dimension.label,
                    cell.constraint_label,
                    cell.count,
                    cell.mean,
                    _cell_note(cell.count, cell.shown),
                ]
            )
    figure = None
    if any(cell.shown for cells in data.matrix for cell in cells):
        figure = heatmap_figure(
            rows=[cells[0].dimension.label for cells in data.matrix],
            columns=[str(label) for _code, label in ConstraintType.choices],
            values=[[cell.mean for cell in cells] for cells in data.matrix],
            texts=[[_cell_text(cell) for cell in cells] for cells in data.matrix],
        )
    return Chart(
        slug="matrice",
        title=_("Matrice moyenne du territoire"),
        summary=_("Carte de chaleur des scores moyens par case de la matrice 3 × 3."),
        figure=figure,
        table=ChartTable(
            [_("Dimension"), _("Contrainte"), _("CPTS évaluées"), _("Moyenne"), _("Note")], rows
        ),
        hidden=hidden,
    )


def _cell_note(count: int, shown: bool) -> str:
    if not count:
        return _("aucune CPTS évaluée")
    return "" if shown else hidden_note()


def _cell_text(cell: MeanCell) -> str:
    if not cell.count:
        return _("non évalué")
    value = _("moyenne %(value)s") % {"value": percent(cell.mean)} if cell.shown else _("masqué")
    return value + "<br>" + _("%(count)s CPTS") % {"count": cell.count}


def evolution_chart(data: TerritoryAggregates) -> Chart:
    points = data.evolution
    shown = [p for p in points if p.distribution.shown]
    columns = [_("Campagne"), _("CPTS"), _("1er quartile"), _("Médiane"), _("3e quartile")]
    columns += [c.name for c in data.followed] + [_("Note")]
    rows = [
        [
            p.campaign.name,
            p.distribution.count,
            p.distribution.q1,
            p.distribution.median,
            p.distribution.q3,
            *[p.followed.get(c.pk) for c in data.followed],
            _cell_note(p.distribution.count, p.distribution.shown),
        ]
        for p in points
    ]
    traces = []
    if shown:
        x = [p.campaign.name for p in shown]
        traces += [
            go.Scatter(
                x=x,
                y=[as_float(p.distribution.q3) for p in shown],
                name=_("3e quartile"),
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=x,
                y=[as_float(p.distribution.q1) for p in shown],
                name=_("Écart interquartile"),
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(13, 110, 253, 0.15)",
                hoverinfo="skip",
            ),
            go.Scatter(
                x=x,
                y=[as_float(p.distribution.median) for p in shown],
                name=_("Médiane"),
                mode="lines+markers",
                line={"color": OURS, "width": 3},
            ),
        ]
    for cpts in data.followed:
        traces.append(
            go.Scatter(
                x=[p.campaign.name for p in points],
                y=[as_float(p.followed.get(cpts.pk)) for p in points],
                name=cpts.name,
                mode="lines+markers",
                line={"dash": "dot"},
            )
        )
    figure = None
    if traces:
        figure = with_layout(
            go.Figure(traces),
            height=380,
            yaxis={"range": [0, 100], "title": {"text": _("Indice global")}, "fixedrange": True},
            xaxis={"type": "category", "fixedrange": True},
            legend={"orientation": "h", "y": -0.2},
        )
    return Chart(
        slug="evolution",
        title=_("Évolution d’une campagne à l’autre"),
        summary=_(
            "Médiane et écart interquartile de l’indice global par campagne, "
            "et une courbe par CPTS suivie."
        ),
        figure=figure,
        table=ChartTable(columns, rows),
        hidden=sum(1 for p in points if p.distribution.count and not p.distribution.shown),
    )


def _distribution_chart(
    *, slug: str, title: str, summary: str, group: str, groups: list[Distribution]
) -> Chart:
    shown = [g for g in groups if g.shown]
    figure = None
    if shown:
        # Only the quartiles go to the browser, never the individual values.
        box = go.Figure(
            go.Box(
                x=[g.label for g in shown],
                q1=[as_float(g.q1) for g in shown],
                median=[as_float(g.median) for g in shown],
                q3=[as_float(g.q3) for g in shown],
                lowerfence=[as_float(g.minimum) for g in shown],
                upperfence=[as_float(g.maximum) for g in shown],
                name=_("Indice global"),
                marker={"color": OURS},
                hoverinfo="y",
            )
        )
        figure = with_layout(
            box,
            height=380,
            yaxis={"range": [0, 100], "title": {"text": _("Indice global")}, "fixedrange": True},
            xaxis={"type": "category", "fixedrange": True, "tickfont": FONT},
            showlegend=False,
        )
    rows = [
        [
            g.label,
            g.count,
            g.minimum,
            g.q1,
            g.median,
            g.q3,
            g.maximum,
            _cell_note(g.count, g.shown),
        ]
        for g in groups
    ]
    columns = [group, _("CPTS"), _("Minimum"), _("1er quartile"), _("Médiane")]
    columns += [_("3e quartile"), _("Maximum"), _("Note")]
    return Chart(
        slug=slug,
        title=title,
        summary=summary,
        figure=figure,
        table=ChartTable(columns, rows),
        hidden=sum(1 for g in groups if g.count and not g.shown),
    )


# --- One CPTS, and CPTS side by side -------------------------------------------------------


def result_matrix_figure(result: CampaignResult, *, height: int = 320) -> dict[str, Any]:
    values = [
        [result.cell_value(d, code) for code, _label in ConstraintType.choices]
        for d in result.dimensions
    ]
    return heatmap_figure(
        rows=[d.label for d in result.dimensions],
        # Half-width figures: "Contraintes<br>internes" fits where one line would be tilted.
        columns=[str(label).replace(" ", "<br>", 1) for _code, label in ConstraintType.choices],
        values=values,
        texts=[[score_text(v) for v in row] for row in values],
        height=height,
    )


def region_radar_figure(radar: RadarComparison, cpts: Cpts) -> dict[str, Any]:
    assessed = [i for i, value in enumerate(radar.values) if value is not None]
    series = [(cpts.name, [radar.values[i] for i in assessed])]
    if radar.median_shown:
        series.append(
            (_("Médiane des autres CPTS de la région"), [radar.medians[i] for i in assessed])
        )
    return radar_series_figure(
        [radar.subdimensions[i].label for i in assessed],
        series,
        with_reference=radar.median_shown,
    )


def compare_radar_figure(
    subdimensions: list[SubDimension], results: list[tuple[Cpts, CampaignResult]]
) -> dict[str, Any]:
    return radar_series_figure(
        [s.label for s in subdimensions],
        [(cpts.name, [r.subdimension_value(s) for s in subdimensions]) for cpts, r in results],
    )
