"""Why the score moved: the change between two responses split into per-question contributions.

Pure over the scoring arithmetic. The answers of the earlier response are turned into the later
one's one question at a time, in question order, under the earlier grid; each step's change of
an area is that question's contribution. Then the later answers are rescored with the later
grid: that step is the grid's contribution. The steps telescope, so the contributions add up
exactly to the change (exact fractions). A question's contribution depends on the order only
when answers interact (a condition question, or areas whose denominators change).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from questionnaire.models import Question
from scoring.arithmetic import ScoreResult, ScoringPlan

INDEX = ("index",)


def area_keys(result: ScoreResult) -> list[tuple]:
    """The index, each dimension and each matrix cell, in display order."""
    return (
        [INDEX]
        + [("dimension", code) for code in result.dimensions]
        + [("cell", dimension, constraint) for dimension, constraint in result.cells]
    )


def area_value(result: ScoreResult, key: tuple) -> Fraction | None:
    if key == INDEX:
        return result.index
    if key[0] == "dimension":
        return result.dimensions[key[1]].score
    return result.cells[(key[1], key[2])].score


@dataclass(frozen=True)
class Step:
    question: Question | None  # None: the change of grid version
    changes: Mapping[tuple, Fraction | None]  # None where an area is not assessed on a side


@dataclass(frozen=True)
class Decomposition:
    keys: tuple[tuple, ...]
    before: Mapping[tuple, Fraction | None]
    after: Mapping[tuple, Fraction | None]
    answer_steps: tuple[Step, ...]
    grid_step: Step

    def change(self, key: tuple) -> Fraction | None:
        if self.before[key] is None or self.after[key] is None:
            return None
        return self.after[key] - self.before[key]

    def answers_part(self, key: tuple) -> Fraction | None:
        parts = [step.changes[key] for step in self.answer_steps]
        return None if None in parts else sum(parts, Fraction(0))


def decompose(
    *,
    questions: Sequence[Question],
    before_plan: ScoringPlan,
    after_plan: ScoringPlan,
    before_values: Mapping[int, Any],
    after_values: Mapping[int, Any],
) -> Decomposition:
    """`before_plan`/`after_plan`: the grids the two responses are read with (the same one when
    the grid did not change); values map question ids to stored answer values."""
    current = dict(before_values)
    result = before_plan.score(current)
    keys = tuple(area_keys(result))
    start = {key: area_value(result, key) for key in keys}
    steps = []
    for question in sorted(questions, key=lambda q: q.number):
        old, new = current.get(question.pk), after_values.get(question.pk)
        if old == new:
            continue
        if new is None:
            current.pop(question.pk, None)
        else:
            current[question.pk] = new
        following = before_plan.score(current)
        steps.append(Step(question, _changes(keys, result, following)))
        result = following
    final = after_plan.score(after_values)
    grid_step = Step(None, _changes(keys, result, final))
    end = {key: area_value(final, key) for key in keys}
    return Decomposition(keys, start, end, tuple(steps), grid_step)


def _changes(
    keys: Sequence[tuple], before: ScoreResult, after: ScoreResult
) -> dict[tuple, Fraction | None]:
    changes: dict[tuple, Fraction | None] = {}
    for key in keys:
        old, new = area_value(before, key), area_value(after, key)
        changes[key] = None if old is None or new is None else new - old
    return changes
