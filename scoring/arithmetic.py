"""The scoring arithmetic: answers + grid → scores. Pure, exact (fractions), no database.

The steps are the ones the grid file's `method` describes in French:
question points p in [0, m] → contribution weight × p / m → sub-dimension, matrix cell and
dimension scores = 100 × Σ contributions / Σ weights over the applicable scored questions →
overall index = dimension scores averaged with the grid's dimension weights → level.
A non-applicable question leaves numerator and denominator; an area without any applicable
scored question is "not assessed" (None), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from questionnaire import rules
from questionnaire.models import Question
from scoring.grid import GridSpec, Level

SCORED = "scored"
UNANSWERED = "unanswered"
NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Layout:
    """The questionnaire's areas, in display order: every one gets a score, assessed or not."""

    dimensions: tuple[str, ...]
    subdimensions: tuple[str, ...]
    constraints: tuple[str, ...]

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> Layout:
        return cls(
            dimensions=tuple(d["code"] for d in definition["dimensions"]),
            subdimensions=tuple(
                s["code"] for d in definition["dimensions"] for s in d["subdimensions"]
            ),
            constraints=tuple(c["code"] for c in definition["constraints"]),
        )

    @property
    def cells(self) -> tuple[tuple[str, str], ...]:
        return tuple((d, c) for d in self.dimensions for c in self.constraints)


@dataclass(frozen=True)
class QuestionOutcome:
    number: int
    status: str
    points: Fraction | None  # raw points p; None when the question does not apply
    maximum: Fraction
    weight: Fraction

    @property
    def earned(self) -> Fraction:
        return self.weight * self.points / self.maximum if self.points is not None else Fraction(0)


@dataclass(frozen=True)
class AreaOutcome:
    earned: Fraction
    possible: Fraction
    questions: tuple[int, ...]

    @property
    def score(self) -> Fraction | None:
        return 100 * self.earned / self.possible if self.possible else None


@dataclass(frozen=True)
class ScoreResult:
    questions: Mapping[int, QuestionOutcome]
    subdimensions: Mapping[str, AreaOutcome]
    cells: Mapping[tuple[str, str], AreaOutcome]
    dimensions: Mapping[str, AreaOutcome]
    index: Fraction | None
    level: Level | None


def score_answers(
    *,
    grid: GridSpec,
    layout: Layout,
    questions: Sequence[Question],
    values: Mapping[int, Any],
) -> ScoreResult:
    """Score one response. `values` maps question ids to stored answer values."""
    by_number = {question.number: question for question in questions}
    outcomes: dict[int, QuestionOutcome] = {}
    for number, rule in sorted(grid.rules.items()):
        question = by_number[number]
        value = values.get(question.id)
        if not rules.is_applicable(question, values):
            status, points = NOT_APPLICABLE, None
        elif _is_empty(value):
            status, points = UNANSWERED, Fraction(0)
        else:
            status, points = SCORED, rule.raw_points(value)
        outcomes[number] = QuestionOutcome(number, status, points, rule.maximum, rule.weight)

    def area(numbers: list[int]) -> AreaOutcome:
        counted = [outcomes[n] for n in numbers if outcomes[n].status != NOT_APPLICABLE]
        return AreaOutcome(
            earned=sum((o.earned for o in counted), Fraction(0)),
            possible=sum((o.weight for o in counted), Fraction(0)),
            questions=tuple(o.number for o in counted),
        )

    def numbers_where(**placement: str) -> list[int]:
        return [
            n
            for n, rule in sorted(grid.rules.items())
            if all(getattr(rule, key) == value for key, value in placement.items())
        ]

    dimensions = {d: area(numbers_where(dimension=d)) for d in layout.dimensions}
    weighted = [
        (grid.dimension_weights[d], result.score)
        for d, result in dimensions.items()
        if result.score is not None
    ]
    index = sum(w * s for w, s in weighted) / sum(w for w, _ in weighted) if weighted else None
    return ScoreResult(
        questions=outcomes,
        subdimensions={s: area(numbers_where(subdimension=s)) for s in layout.subdimensions},
        cells={(d, c): area(numbers_where(dimension=d, constraint=c)) for d, c in layout.cells},
        dimensions=dimensions,
        index=index,
        level=grid.level_for(index) if index is not None else None,
    )


def _is_empty(value: Any) -> bool:
    return value is None or value in ("", [], {})


def to_decimal(value: Fraction, places: int) -> Decimal:
    """Round an exact result for storage and display (half up: 62.125 → 62.13)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
