"""The scoring arithmetic: answers + grid → scores. Pure, exact (fractions), no database.

The steps are the ones the grid file's `method` describes in French:
question points p in [0, m] → contribution weight × p / m → sub-dimension, matrix cell and
dimension scores = 100 × Σ contributions / Σ weights over the applicable scored questions →
overall index = dimension scores averaged with the grid's dimension weights → level.
A non-applicable question leaves numerator and denominator; an area without any applicable
scored question is "not assessed" (None), never 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple

from questionnaire import rules
from questionnaire.models import Question
from scoring.grid import GridSpec, Level, QuestionRule

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


class AreaOutcome(NamedTuple):
    """Σ contributions and Σ weights of an area, kept as integer multiples of 1 / `scale`.

    Every contribution of a grid is a multiple of one common 1 / scale (see `ScoringPlan`), so
    summing integers is exact and far cheaper than summing fractions, which reduce on every
    addition; `earned`, `possible` and `score` give the exact fractions back. A named tuple:
    a batch creates tens of thousands of them.
    """

    scaled_earned: int
    scaled_possible: int
    scale: int
    questions: tuple[int, ...]

    @property
    def earned(self) -> Fraction:
        return Fraction(self.scaled_earned, self.scale)

    @property
    def possible(self) -> Fraction:
        return Fraction(self.scaled_possible, self.scale)

    @property
    def score(self) -> Fraction | None:
        # 100 × earned / possible: the common scale cancels out.
        if not self.scaled_possible:
            return None
        return Fraction(100 * self.scaled_earned, self.scaled_possible)


@dataclass(frozen=True)
class ScoreResult:
    questions: Mapping[int, QuestionOutcome]
    subdimensions: Mapping[str, AreaOutcome]
    cells: Mapping[tuple[str, str], AreaOutcome]
    dimensions: Mapping[str, AreaOutcome]
    index: Fraction | None
    level: Level | None


class ScoringPlan:
    """One grid applied to one questionnaire, prepared once to score many responses.

    What does not depend on the answers is worked out here: which questions feed which area,
    the conditions, and the common denominator of all contributions. What depends on few
    distinct answers is remembered: a question's outcome per answer value (a cohort gives the
    same few answers to a single-choice question). Results are exactly those of the method;
    only the work is shared.
    """

    def __init__(self, *, grid: GridSpec, layout: Layout, questions: Sequence[Question]) -> None:
        by_number = {question.number: question for question in questions}
        self.grid = grid
        self.layout = layout
        # (number, rule, question id, the question if conditional) in question order, the
        # order of the result's mappings.
        self._scored = [
            (
                number,
                rule,
                by_number[number].id,
                by_number[number] if by_number[number].condition_question_id else None,
            )
            for number, rule in sorted(grid.rules.items())
        ]
        self.scale = _common_scale(grid)
        self._areas: list[tuple[str, Any, list[int]]] = []
        positions = self._position = {number: i for i, (number, *_rest) in enumerate(self._scored)}
        for code in layout.subdimensions:
            members = [positions[n] for n, r, *_ in self._scored if r.subdimension == code]
            self._areas.append(("subdimensions", code, members))
        for dimension, constraint in layout.cells:
            members = [
                positions[n]
                for n, r, *_ in self._scored
                if r.dimension == dimension and r.constraint == constraint
            ]
            self._areas.append(("cells", (dimension, constraint), members))
        for dimension in layout.dimensions:
            members = [positions[n] for n, r, *_ in self._scored if r.dimension == dimension]
            self._areas.append(("dimensions", dimension, members))
        self._weights = [_scaled(rule.weight, self.scale) for _n, rule, *_ in self._scored]
        self._factors = [rule.weight * self.scale / rule.maximum for _n, rule, *_ in self._scored]
        self._areas = [
            (group, key, [(i, self._weights[i], self._scored[i][0]) for i in members])
            for group, key, members in self._areas
        ]
        # The areas in the order of `area_sums`: (result group, code) each.
        self.areas = [(group, key) for group, key, _members in self._areas]
        self._area_positions = [[i for i, *_ in members] for _g, _k, members in self._areas]
        # A question's contribution c and weight w (0 and 0 when it does not apply) are summed
        # as one integer w × pack + c: one sum per area instead of two. Raw points lie in
        # [0, maximum], so 0 ≤ c ≤ w (checked in `_new_outcome`) and every sum of contributions
        # stays below the pack, which splits it back exactly.
        self._pack = 1 + sum(self._weights)
        # Per scored question: its outcome by answer key (`_found`).
        self._outcomes: list[dict[Any, tuple[QuestionOutcome, int | None, int]]] = [
            {} for _ in self._scored
        ]

    def _found(self, values: Mapping[int, Any]) -> list[tuple[QuestionOutcome, int | None, int]]:
        """Each scored question's (outcome, scaled contribution or None, packed), in order."""
        found_all = []
        for (number, rule, question_id, conditional), cache in zip(
            self._scored, self._outcomes, strict=True
        ):
            value = values.get(question_id)
            # The key: whether the question applies, then the answer, from which the status
            # follows. Most answers are option codes (or None): they are their own key, which
            # no other key equals (`_hashable` gives tuples).
            if conditional is not None and not rules.is_applicable(conditional, values):
                key = _NOT_APPLICABLE
            elif value is None or value.__class__ is str:
                key = value
            else:
                key = _hashable(value)
            found = cache.get(key)
            if found is None:
                if key is _NOT_APPLICABLE:
                    status, value = NOT_APPLICABLE, None
                elif _is_unanswered(value):
                    status, value = UNANSWERED, None
                else:
                    status = SCORED
                found = self._new_outcome(number, rule, status, value)
                if key is not _UNHASHABLE:
                    cache[key] = found
            found_all.append(found)
        return found_all

    def area_sums(
        self, values: Mapping[int, Any]
    ) -> tuple[list[tuple[int, int]], Fraction | None, Level | None]:
        """What is stored of one response, without the rest of `score`'s result: each area's
        (scaled earned, scaled possible) in `areas` order, the index and the level. The
        figures are `score`'s; a rescore, which stores only these, is spared its objects."""
        packed = [found[2] for found in self._found(values)]
        pack = self._pack
        sums = [
            divmod(sum([packed[i] for i in positions]), pack) for positions in self._area_positions
        ]
        # divmod gives (possible, earned); dimensions are the last areas.
        dimensions = zip(self.layout.dimensions, sums[-len(self.layout.dimensions) :], strict=True)
        index, level = self._index(
            (code, earned, possible) for code, (possible, earned) in dimensions
        )
        return [(earned, possible) for possible, earned in sums], index, level

    def score(self, values: Mapping[int, Any]) -> ScoreResult:
        """Score one response. `values` maps question ids to stored answer values."""
        outcomes: dict[int, QuestionOutcome] = {}
        scaled: list[int | None] = []  # scaled contribution; None when it does not apply
        for found in self._found(values):
            outcomes[found[0].number] = found[0]
            scaled.append(found[1])

        scale = self.scale
        found_areas: dict[str, dict] = {"subdimensions": {}, "cells": {}, "dimensions": {}}
        for group, key, members in self._areas:
            earned = possible = 0
            counted = []
            for i, weight, number in members:
                contribution = scaled[i]
                if contribution is not None:
                    earned += contribution
                    possible += weight
                    counted.append(number)
            found_areas[group][key] = AreaOutcome(earned, possible, scale, tuple(counted))
        found = found_areas

        dimensions = found["dimensions"]
        index, level = self._index(
            (code, area.scaled_earned, area.scaled_possible) for code, area in dimensions.items()
        )
        return ScoreResult(
            questions=outcomes,
            subdimensions=found["subdimensions"],
            cells=found["cells"],
            dimensions=dimensions,
            index=index,
            level=level,
        )

    def _new_outcome(
        self, number: int, rule: QuestionRule, status: str, value: Any
    ) -> tuple[QuestionOutcome, int | None, int]:
        if status == NOT_APPLICABLE:
            points = None
        elif status == UNANSWERED:
            points = Fraction(0)
        else:
            points = rule.raw_points(value)
        outcome = QuestionOutcome(number, status, points, rule.maximum, rule.weight)
        # A question that does not apply leaves numerator and denominator: no contribution.
        if points is None:
            return outcome, None, 0
        position = self._position[number]
        # weight × p / m × scale, with weight × scale / m worked out once per question.
        scaled = _scaled(points * self._factors[position], 1)
        weight = self._weights[position]
        if not 0 <= scaled <= weight:  # the packed sums of `area_sums` would be wrong
            raise ArithmeticError(f"Q{number}: contribution {outcome.earned} not in [0, weight]")
        return outcome, scaled, weight * self._pack + scaled

    def _index(
        self, dimensions: Iterable[tuple[str, int, int]]
    ) -> tuple[Fraction | None, Level | None]:
        """From each dimension's (code, scaled earned, scaled possible)."""
        # Σ w × 100 × earned / possible over the assessed dimensions, over Σ w: put over one
        # denominator with integers, then a single (reducing) fraction.
        numerator, denominator, total = 0, 1, Fraction(0)
        for code, earned, possible in dimensions:
            if not possible:
                continue
            weight = self.grid.dimension_weights[code]
            term_numerator = weight.numerator * 100 * earned
            term_denominator = weight.denominator * possible
            numerator = numerator * term_denominator + term_numerator * denominator
            denominator *= term_denominator
            total += weight
        if not total:
            return None, None
        index = Fraction(numerator * total.denominator, denominator * total.numerator)
        return index, self.grid.level_for(index)


def score_answers(
    *,
    grid: GridSpec,
    layout: Layout,
    questions: Sequence[Question],
    values: Mapping[int, Any],
) -> ScoreResult:
    """Score one response. `values` maps question ids to stored answer values.

    To score many responses with one grid, build a `ScoringPlan` once and call its `score`.
    """
    return ScoringPlan(grid=grid, layout=layout, questions=questions).score(values)


def _common_scale(grid: GridSpec) -> int:
    """A denominator that every contribution weight × p / m and every weight is a multiple of.

    Raw points are option, band or capped points, their sums, or whole numbers: multiples of
    1 / L, L the lowest common multiple of the rule's point denominators. So weight × p / m is a
    multiple of 1 / (denominator of weight / m × L).
    """
    scale = 1
    for rule in grid.rules.values():
        denominators = [p.denominator for p in rule.points.values()]
        denominators += [p.denominator for _start, p in rule.bands]
        points_scale = math.lcm(rule.maximum.denominator, *denominators)
        scale = math.lcm(
            scale, (rule.weight / rule.maximum).denominator * points_scale, rule.weight.denominator
        )
    return scale


def _scaled(value: Fraction, scale: int) -> int:
    scaled = value * scale
    if scaled.denominator != 1:  # the scale's reasoning above no longer holds: fail loudly
        raise ArithmeticError(f"{value} is not a multiple of 1/{scale}")
    return scaled.numerator


_UNHASHABLE = object()
_NOT_APPLICABLE = object()


def _hashable(value: Any) -> Any:
    """A key equal for equal answer values (JSON: code, list of codes, number, {row: code})."""
    if isinstance(value, list):
        value = tuple(value)
    elif isinstance(value, dict):
        value = tuple(sorted(value.items()))
    try:
        hash(value)
    except TypeError:
        return _UNHASHABLE
    # 1, 1.0 and True are equal keys in a dict but may not score alike: keep the type apart.
    return (type(value), value)


def _is_unanswered(value: Any) -> bool:
    """A stored value that holds no answer (a response's missing questions read as None)."""
    return value is None or value in ("", [], {})


def to_decimal(value: Fraction, places: int) -> Decimal:
    """Round an exact result for storage and display (half up: 62.125 → 62.13)."""
    return ratio_to_decimal(value.numerator, value.denominator, places)


@lru_cache(maxsize=65_536)
def ratio_to_decimal(numerator: int, denominator: int, places: int) -> Decimal:
    """numerator / denominator rounded as `to_decimal` rounds it, from integers.

    Decimal division is correctly rounded (to the context's 28 digits), so the result depends
    only on the ratio, not on whether it is reduced. Cached: a cohort's areas share few ratios.
    """
    exact = Decimal(numerator) / Decimal(denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
