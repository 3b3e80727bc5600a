"""The report's charts, drawn on the server as SVG and inlined in the PDF's HTML.

WeasyPrint runs no JavaScript, so the web pages' Plotly figures cannot be reused; these three
charts are small and fixed, and drawing them with ElementTree keeps every label escaped.
Each SVG has a `<title>` (the PDF figure's alternative text) and a `<desc>` giving its values;
in the report each is followed by its data table. Colours are the results page's.
"""

from __future__ import annotations

import math
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cpts_portal.charts import COLOURS, DARK, OURS, PEERS
from scoring.selectors import MatrixRow, SubdimensionPoint

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "DejaVu Sans"
TEXT = "#212529"
MUTED = "#6c757d"
GRID = "#dee2e6"
BAND = "#ced4da"


def _score(value: Decimal | float) -> str:
    return number_format(value, 2)


def _svg(*, width: int, height: int, title: str, desc: str) -> ET.Element:
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {width} {height}",
            "width": f"{width}",
            "height": f"{height}",
            "role": "img",
            "font-family": FONT,
        },
    )
    ET.SubElement(svg, "title").text = title
    ET.SubElement(svg, "desc").text = desc
    return svg


def _text(parent: ET.Element, x: float, y: float, content: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(
        parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", "fill": TEXT, **attributes}
    )
    element.text = content
    return element


def _lines(parent: ET.Element, x: float, y: float, lines: list[str], size: float, **attrs: str):
    """Several lines of text centred vertically on y."""
    top = y - (len(lines) - 1) * size * 0.6
    for number, line in enumerate(lines):
        _text(parent, x, top + number * size * 1.2, line, **{"font-size": f"{size}", **attrs})


def _markup(svg: ET.Element) -> SafeString:
    # ElementTree escapes every text and attribute; names and labels are data.
    return mark_safe(ET.tostring(svg, encoding="unicode"))  # noqa: S308


def colour(value: Decimal | float) -> str:
    """The results page's sequential scale (scoring.charts.COLOURS), interpolated at value."""
    position = max(0.0, min(1.0, float(value) / 100))
    for (start, low), (end, high) in zip(COLOURS, COLOURS[1:], strict=False):
        if position <= end:
            ratio = (position - start) / (end - start)
            channels = [
                round(
                    int(low[i : i + 2], 16)
                    + ratio * (int(high[i : i + 2], 16) - int(low[i : i + 2], 16))
                )
                for i in (1, 3, 5)
            ]
            return "#" + "".join(f"{c:02x}" for c in channels)
    return COLOURS[-1][1]


def _hatch(svg: ET.Element, pattern_id: str) -> None:
    defs = ET.SubElement(svg, "defs")
    pattern = ET.SubElement(
        defs,
        "pattern",
        {
            "id": pattern_id,
            "width": "8",
            "height": "8",
            "patternUnits": "userSpaceOnUse",
            "patternTransform": "rotate(45)",
        },
    )
    ET.SubElement(pattern, "rect", {"width": "8", "height": "8", "fill": "#f1f3f5"})
    ET.SubElement(
        pattern,
        "line",
        {"x1": "0", "y1": "0", "x2": "0", "y2": "8", "stroke": "#adb5bd", "stroke-width": "3"},
    )


# --- Matrix ----------------------------------------------------------------------------------


def matrix_svg(matrix: list[MatrixRow], constraints: list[tuple[str, str]]) -> SafeString:
    """The 3 × 3 matrix as coloured cells with their values (and the peer median when shown);
    a cell without a scored question is hatched and says "non évalué"."""
    label_width, header, cell_width, cell_height, legend = 140, 44, 170, 78, 58
    width = label_width + cell_width * len(constraints)
    height = header + cell_height * len(matrix) + legend
    described = []
    for row in matrix:
        for cell in row.cells:
            value = _score(cell.value) if cell.value is not None else _("non évalué")
            if cell.median is not None:
                value += " (" + _("médiane %(value)s") % {"value": _score(cell.median)} + ")"
            described.append(f"{row.dimension.label} × {cell.constraint_label} : {value}")
    svg = _svg(
        width=width,
        height=height,
        title=_(
            "Matrice des contraintes d’action : score de chaque dimension par type de "
            "contrainte ; les valeurs figurent dans le tableau qui suit."
        ),
        desc=" ; ".join(described) + ".",
    )
    _hatch(svg, "hatch-matrix")
    for position, (_code, label) in enumerate(constraints):
        x = label_width + position * cell_width + cell_width / 2
        _lines(
            svg,
            x,
            header / 2,
            textwrap.wrap(str(label), 20),
            12,
            **{"text-anchor": "middle", "font-weight": "bold"},
        )
    for line, row in enumerate(matrix):
        y = header + line * cell_height
        _lines(
            svg,
            label_width - 10,
            y + cell_height / 2 + 4,
            [row.dimension.label],
            13,
            **{"text-anchor": "end", "font-weight": "bold"},
        )
        for position, cell in enumerate(row.cells):
            x = label_width + position * cell_width
            assessed = cell.value is not None
            ET.SubElement(
                svg,
                "rect",
                {
                    "x": f"{x + 2}",
                    "y": f"{y + 2}",
                    "width": f"{cell_width - 4}",
                    "height": f"{cell_height - 4}",
                    "fill": colour(cell.value) if assessed else "url(#hatch-matrix)",
                    "stroke": "#adb5bd" if not assessed else "none",
                },
            )
            ink = "#ffffff" if assessed and cell.value >= DARK else TEXT
            centre = x + cell_width / 2
            if assessed:
                main = _score(cell.value)
                _text(
                    svg,
                    centre,
                    y + cell_height / 2 + (0 if cell.median is not None else 6),
                    main,
                    **{
                        "text-anchor": "middle",
                        "font-size": "18",
                        "font-weight": "bold",
                        "fill": ink,
                    },
                )
            else:
                _text(
                    svg,
                    centre,
                    y + cell_height / 2 + 5,
                    _("non évalué"),
                    **{
                        "text-anchor": "middle",
                        "font-size": "13",
                        "fill": TEXT,
                        "font-style": "italic",
                    },
                )
            if cell.median is not None:
                _text(
                    svg,
                    centre,
                    y + cell_height / 2 + 20,
                    _("médiane %(value)s") % {"value": _score(cell.median)},
                    **{"text-anchor": "middle", "font-size": "11", "fill": ink},
                )
    _matrix_legend(svg, 10, header + cell_height * len(matrix) + 22)
    return _markup(svg)


def _matrix_legend(svg: ET.Element, x: float, y: float) -> None:
    defs = svg.find("defs")
    gradient = ET.SubElement(defs, "linearGradient", {"id": "scale-matrix"})
    for stop, hex_colour in COLOURS:
        ET.SubElement(gradient, "stop", {"offset": f"{stop}", "stop-color": hex_colour})
    bar = 150
    ET.SubElement(
        svg,
        "rect",
        {
            "x": f"{x}",
            "y": f"{y}",
            "width": f"{bar}",
            "height": "12",
            "fill": "url(#scale-matrix)",
            "stroke": "#adb5bd",
        },
    )
    for tick in (0, 50, 100):
        _text(
            svg,
            x + bar * tick / 100,
            y + 27,
            str(tick),
            **{"text-anchor": "middle", "font-size": "11", "fill": MUTED},
        )
    _text(
        svg,
        x + bar + 10,
        y + 11,
        _("score de 0 à 100 (plus foncé : plus élevé)"),
        **{"font-size": "11", "fill": MUTED},
    )
    swatch = x + bar + 270
    ET.SubElement(
        svg,
        "rect",
        {
            "x": f"{swatch}",
            "y": f"{y}",
            "width": "22",
            "height": "12",
            "fill": "url(#hatch-matrix)",
            "stroke": "#adb5bd",
        },
    )
    _text(svg, swatch + 28, y + 11, _("non évalué"), **{"font-size": "11", "fill": MUTED})


# --- Radar -----------------------------------------------------------------------------------


def radar_svg(points: Sequence[SubdimensionPoint], *, with_median: bool) -> SafeString:
    """The assessed sub-dimensions as spokes (0 at the centre, 100 at the rim), the CPTS as a
    filled polygon and, when the small-cell rule allows it, the peers' median dashed."""
    assessed = [p for p in points if p.value is not None]
    width, height = 660, 500
    cx, cy, radius = width / 2, 238, 168
    described = []
    for point in assessed:
        text = f"{point.subdimension.label} : {_score(point.value)}"
        if with_median and point.median is not None:
            text += " (" + _("médiane %(value)s") % {"value": _score(point.median)} + ")"
        described.append(text)
    svg = _svg(
        width=width,
        height=height,
        title=_(
            "Radar des scores par sous-dimension%(median)s ; les valeurs figurent dans le "
            "tableau qui suit."
        )
        % {"median": _(", face à la médiane des autres CPTS") if with_median else ""},
        desc=" ; ".join(described) + "." if described else _("Aucune sous-dimension évaluée."),
    )
    count = len(assessed)
    if count == 0:
        return _markup(svg)

    def at(spoke: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * spoke / count
        return cx + radius * value / 100 * math.cos(angle), cy + radius * value / 100 * math.sin(
            angle
        )

    def polygon(values: list[float]) -> str:
        return " ".join("{:.1f},{:.1f}".format(*at(i, v)) for i, v in enumerate(values))

    for ring in (25, 50, 75, 100):
        ET.SubElement(
            svg,
            "polygon",
            {
                "points": polygon([ring] * count),
                "fill": "none",
                "stroke": GRID,
                "stroke-width": "1",
            },
        )
    for spoke, point in enumerate(assessed):
        x, y = at(spoke, 100)
        ET.SubElement(
            svg,
            "line",
            {"x1": f"{cx}", "y1": f"{cy}", "x2": f"{x:.1f}", "y2": f"{y:.1f}", "stroke": GRID},
        )
        _radar_label(svg, spoke, count, at, point.subdimension.label)
    # The scale sits between the first two spokes, clear of the labels.
    for ring in (25, 50, 75, 100):
        angle = -math.pi / 2 + math.pi / count
        x = cx + radius * ring / 100 * math.cos(angle)
        y = cy + radius * ring / 100 * math.sin(angle)
        _text(svg, x + 3, y, str(ring), **{"font-size": "10", "fill": MUTED})
    if with_median:
        medians = [float(p.median) if p.median is not None else 0.0 for p in assessed]
        ET.SubElement(
            svg,
            "polygon",
            {
                "points": polygon(medians),
                "fill": "none",
                "stroke": PEERS,
                "stroke-width": "2",
                "stroke-dasharray": "6 4",
            },
        )
    ours = [float(p.value) for p in assessed]
    ET.SubElement(
        svg,
        "polygon",
        {
            "points": polygon(ours),
            "fill": OURS,
            "fill-opacity": "0.22",
            "stroke": OURS,
            "stroke-width": "2.5",
        },
    )
    for spoke, value in enumerate(ours):
        x, y = at(spoke, value)
        ET.SubElement(svg, "circle", {"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": "3.5", "fill": OURS})
    legend = [(_("Votre CPTS"), OURS, "")]
    if with_median:
        legend.append((_("Médiane des autres CPTS"), PEERS, "6 4"))
    _legend(svg, width / 2 - 170, height - 8, legend)
    return _markup(svg)


def _radar_label(svg: ET.Element, spoke: int, count: int, at, label: str) -> None:
    """A spoke's label just beyond its end, anchored away from the chart: beside it for side
    spokes, above the top ones and below the bottom ones, so neighbours do not collide."""
    angle = 2 * math.pi * spoke / count
    across, down = math.sin(angle), -math.cos(angle)
    x, y = at(spoke, 108)
    size = 12
    if abs(across) < 0.3:
        anchor, lines = "middle", textwrap.wrap(label, 16)
    else:
        anchor, lines = ("start" if across > 0 else "end"), textwrap.wrap(label, 19)
    height = (len(lines) - 1) * size * 1.2
    if down < -0.85:  # top: the block ends just above the spoke
        middle = y - height / 2 - 4
    elif down > 0.85:  # bottom: the block starts just below it
        middle = y + height / 2 + size
    else:
        middle = y + 4
    _lines(svg, x, middle, lines, size, **{"text-anchor": anchor})


def _legend(svg: ET.Element, x: float, y: float, entries: list[tuple[str, str, str]]) -> None:
    for label, stroke, dash in entries:
        ET.SubElement(
            svg,
            "line",
            {
                "x1": f"{x}",
                "y1": f"{y - 4}",
                "x2": f"{x + 26}",
                "y2": f"{y - 4}",
                "stroke": stroke,
                "stroke-width": "3",
                **({"stroke-dasharray": dash} if dash else {}),
            },
        )
        _text(svg, x + 32, y, label, **{"font-size": "11"})
        x += 40 + 7 * len(label)


# --- Evolution -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvolutionPoint:
    """One campaign: the CPTS's overall index and, under the small-cell rule, the quartiles of
    the other CPTS's indexes (None when fewer than the minimum)."""

    campaign: str
    index: Decimal | None
    q1: Decimal | None = None
    median: Decimal | None = None
    q3: Decimal | None = None

    @property
    def band_shown(self) -> bool:
        return self.median is not None


def evolution_svg(points: Sequence[EvolutionPoint]) -> SafeString:
    """The CPTS's overall index per campaign as a line, over the other CPTS's interquartile
    band (Q1–Q3) and their median, where the small-cell rule allows them."""
    width, height = 680, 320
    left, right, top, bottom = 52, 24, 18, 78
    plot_width, plot_height = width - left - right, height - top - bottom
    described = []
    for point in points:
        text = f"{point.campaign} : " + (
            _score(point.index) if point.index is not None else _("non évalué")
        )
        if point.band_shown:
            text += (
                " ("
                + _("autres CPTS : médiane %(median)s, quartiles %(q1)s–%(q3)s")
                % {"median": _score(point.median), "q1": _score(point.q1), "q3": _score(point.q3)}
                + ")"
            )
        described.append(text)
    svg = _svg(
        width=width,
        height=height,
        title=_(
            "Évolution de l’indice global d’une campagne à l’autre%(band)s ; les valeurs "
            "figurent dans le tableau qui suit."
        )
        % {
            "band": _(", face à la bande interquartile des autres CPTS")
            if any(p.band_shown for p in points)
            else ""
        },
        desc=" ; ".join(described) + ".",
    )
    count = len(points)

    def x_of(position: int) -> float:
        return left + plot_width * (position + 0.5) / max(count, 1)

    def y_of(value: Decimal | float) -> float:
        return top + plot_height * (1 - float(value) / 100)

    for tick in (0, 25, 50, 75, 100):
        y = y_of(tick)
        ET.SubElement(
            svg,
            "line",
            {
                "x1": f"{left}",
                "y1": f"{y:.1f}",
                "x2": f"{width - right}",
                "y2": f"{y:.1f}",
                "stroke": GRID,
            },
        )
        _text(
            svg,
            left - 8,
            y + 4,
            str(tick),
            **{"text-anchor": "end", "font-size": "10", "fill": MUTED},
        )
    for position, point in enumerate(points):
        _lines(
            svg,
            x_of(position),
            height - bottom + 18,
            textwrap.wrap(point.campaign, 18),
            11,
            **{"text-anchor": "middle"},
        )
    for run in _runs([i for i, p in enumerate(points) if p.band_shown]):
        upper = [(x_of(i), y_of(points[i].q3)) for i in run]
        lower = [(x_of(i), y_of(points[i].q1)) for i in reversed(run)]
        if len(run) == 1:  # a lone campaign: a short bar instead of an area
            (x, y_up), (_x, y_low) = upper[0], lower[0]
            upper, lower = [(x - 10, y_up), (x + 10, y_up)], [(x + 10, y_low), (x - 10, y_low)]
        ET.SubElement(
            svg,
            "polygon",
            {
                "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower),
                "fill": BAND,
                "fill-opacity": "0.6",
                "stroke": "none",
            },
        )
        ET.SubElement(
            svg,
            "polyline",
            {
                "points": " ".join(f"{x_of(i):.1f},{y_of(points[i].median):.1f}" for i in run),
                "fill": "none",
                "stroke": PEERS,
                "stroke-width": "2",
                "stroke-dasharray": "6 4",
            },
        )
    for run in _runs([i for i, p in enumerate(points) if p.index is not None]):
        ET.SubElement(
            svg,
            "polyline",
            {
                "points": " ".join(f"{x_of(i):.1f},{y_of(points[i].index):.1f}" for i in run),
                "fill": "none",
                "stroke": OURS,
                "stroke-width": "3",
            },
        )
        for i in run:
            x, y = x_of(i), y_of(points[i].index)
            ET.SubElement(
                svg, "circle", {"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": "4.5", "fill": OURS}
            )
            _text(
                svg,
                x,
                y - 10,
                _score(points[i].index),
                **{"text-anchor": "middle", "font-size": "11", "font-weight": "bold", "fill": OURS},
            )
    legend_y = height - 10
    entries = [(_("Indice global de votre CPTS"), OURS, "")]
    if any(p.band_shown for p in points):
        entries.append((_("Médiane des autres CPTS"), PEERS, "6 4"))
    _legend(svg, left, legend_y, entries)
    if any(p.band_shown for p in points):
        x = left + 40 + 7 * len(entries[0][0]) + 40 + 7 * len(entries[1][0])
        ET.SubElement(
            svg,
            "rect",
            {
                "x": f"{x}",
                "y": f"{legend_y - 10}",
                "width": "22",
                "height": "12",
                "fill": BAND,
                "fill-opacity": "0.6",
            },
        )
        _text(svg, x + 28, legend_y, _("1er–3e quartile"), **{"font-size": "11"})
    return _markup(svg)


def _runs(positions: list[int]) -> list[list[int]]:
    """Consecutive positions grouped: a campaign without a value breaks a line."""
    runs: list[list[int]] = []
    for position in positions:
        if runs and runs[-1][-1] == position - 1:
            runs[-1].append(position)
        else:
            runs.append([position])
    return runs
