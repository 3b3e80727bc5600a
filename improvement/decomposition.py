"""Why the score moved: the change between two responses split into per-question contributions.

Pure over the scoring arithmetic. The answers of the earlier response are turned into the later
one's one question at a time, in question order, under the earlier grid; each step's change of
an area is that question's contribution. Then, on the later answers, the earlier grid becomes
the later one a question's rule at a time, and last its dimension weights and levels: those
steps are the grid's contributions. The steps telescope, so the contributions add up exactly to
the change (exact fractions). A question's contribution depends on the order only when answers
or rules interact (a condition question, or areas whose denominators change).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from questionnaire.models import Question
from scoring.arithmetic import ScoreResult, ScoringPlan
from scoring.grid import QuestionRule

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
    question: Question | None  # None: the grid's dimension weights and levels
    changes: Mapping[tuple, Fraction | None]  # None where an area is not assessed on a side


@dataclass(frozen=True)
class Decomposition:
    keys: tuple[tuple, ...]
    before: Mapping[tuple, Fraction | None]
    after: Mapping[tuple, Fraction | None]
    answer_steps: tuple[Step, ...]
    grid_steps: tuple[Step, ...]

    def change(self, key: tuple) -> Fraction | None:
        if self.before[key] is None or self.after[key] is None:
            return None
        return self.after[key] - self.before[key]

    def answers_part(self, key: tuple) -> Fraction | None:
        return _total(step.changes[key] for step in self.answer_steps)

    def grid_part(self, key: tuple) -> Fraction | None:
        return _total(step.changes[key] for step in self.grid_steps)


def _total(parts) -> Fraction | None:
    parts = list(parts)
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
    the grid did not change; both of the same questionnaire); values map question ids to stored
    answer values."""
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
    grid_steps = []
    by_number = {q.number: q for q in questions}
    before_grid, after_grid = before_plan.grid, after_plan.grid
    rules = dict(before_grid.rules)
    for number in sorted(set(before_grid.rules) | set(after_grid.rules)):
        old, new = before_grid.rules.get(number), after_grid.rules.get(number)
        if _scoring_fields(old) == _scoring_fields(new):
            continue
        if new is None:
            rules.pop(number)
        else:
            rules[number] = new
        hybrid = replace(before_grid, rules=dict(rules))
        following = ScoringPlan(grid=hybrid, layout=before_plan.layout, questions=questions)
        following_result = following.score(after_values)
        grid_steps.append(Step(by_number[number], _changes(keys, result, following_result)))
        result = following_result
    final = after_plan.score(after_values)
    grid_steps.append(Step(None, _changes(keys, result, final)))
    end = {key: area_value(final, key) for key in keys}
    return Decomposition(keys, start, end, tuple(steps), tuple(grid_steps))


def _scoring_fields(rule: QuestionRule | None) -> tuple | None:
    """What of a rule changes scores (not its rationale)."""
    if rule is None:
        return None
    return (rule.weight, rule.rule, dict(rule.points), rule.maximum, rule.bands, rule.minus)


def _changes(
    keys: Sequence[tuple], before: ScoreResult, after: ScoreResult
) -> dict[tuple, Fraction | None]:
    changes: dict[tuple, Fraction | None] = {}
    for key in keys:
        old, new = area_value(before, key), area_value(after, key)
        changes[key] = None if old is None or new is None else new - old
    return changes
