"""The bench's table: one line per measure, its baseline from the same run, ratio and verdict."""

from __future__ import annotations

from dataclasses import dataclass

PASS, FAIL, UNAVAILABLE = "PASS", "FAIL", "not available yet"


@dataclass(frozen=True)
class Line:
    measure: str
    measured: str
    baseline: str
    ratio: str
    target: str
    verdict: str


def unavailable(measure: str, target: str, why: str) -> Line:
    return Line(measure, why, "–", "–", target, UNAVAILABLE)


def verdict(ok: bool) -> str:
    return PASS if ok else FAIL


def table(lines: list[Line]) -> str:
    """A Markdown table, so that a run can be pasted into the README as it is."""
    header = ("measure", "measured", "baseline (same run)", "ratio", "target", "result")
    rows = [header] + [
        (l.measure, l.measured, l.baseline, l.ratio, l.target, l.verdict)
        for l in lines  # noqa: E741
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    def render(row: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([render(header), separator, *(render(row) for row in rows[1:])])


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def megabytes(value: float) -> str:
    return f"{value / 2**10:.0f} KiB" if value < 2**20 else f"{value / 2**20:.1f} MiB"
