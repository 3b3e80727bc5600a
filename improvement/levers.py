"""Pistes de progression: for each lever question, an answer that would earn more, and the rise.

Pure over the scoring arithmetic: the rise is the difference between `ScoringPlan.score` of the
response's answers and of the same answers with one of them replaced, so a piste always agrees
with the explanation page and with rescoring the response after that change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from questionnaire import rules
from questionnaire.models import Option, Question
from scoring.arithmetic import SCORED, UNANSWERED, ScoreResult, ScoringPlan
from scoring.grid import QuestionRule


@dataclass(frozen=True)
class Lever:
    question: Question
    rule: QuestionRule
    current: Any
    suggested: Any
    added: tuple[Option, ...]  # options to check in addition (multiple choice)
    before: ScoreResult
    after: ScoreResult

    @property
    def points(self) -> Fraction:
        return self.before.questions[self.question.number].points or Fraction(0)

    @property
    def suggested_points(self) -> Fraction:
        return self.after.questions[self.question.number].points or Fraction(0)

    def rise(self, group: str, key: Any) -> tuple[Fraction | None, Fraction | None]:
        """(before, after) of one area: group is subdimensions, cells or dimensions."""
        return (
            getattr(self.before, group)[key].score,
            getattr(self.after, group)[key].score,
        )

    @property
    def index(self) -> tuple[Fraction | None, Fraction | None]:
        return self.before.index, self.after.index


def find_levers(
    *,
    plan: ScoringPlan,
    questions: Sequence[Question],
    values: Mapping[int, Any],
    situational: Mapping[int, str],
) -> list[Lever]:
    """Every scored question that applies, earned less than its maximum and is not situational,
    with the nearest answer that earns the maximum and the scores it would give."""
    before = plan.score(values)
    by_number = {q.number: q for q in questions}
    levers = []
    for number, rule in sorted(plan.grid.rules.items()):
        outcome = before.questions[number]
        if number in situational or outcome.status not in (SCORED, UNANSWERED):
            continue
        if outcome.points is not None and outcome.points >= rule.maximum:
            continue
        question = by_number[number]
        current = values.get(question.pk)
        suggested = better_answer(question, rule, current)
        if suggested is None:
            continue
        after = plan.score({**values, question.pk: suggested})
        if after.questions[number].points <= (outcome.points or 0):
            continue
        chosen = set(current) if isinstance(current, list) else set()
        added = tuple(
            o
            for o in rules.choices(question)
            if isinstance(suggested, list) and o.code in suggested and o.code not in chosen
        )
        levers.append(Lever(question, rule, current, suggested, added, before, after))
    return levers


def better_answer(question: Question, rule: QuestionRule, current: Any) -> Any:
    """The answer nearest to `current` that earns the question's maximum, cleaned by the
    questionnaire's rules; None when there is none (an "Autre" option is never suggested: it
    needs the CPTS's own words)."""
    options = [o for o in rules.choices(question) if not o.requires_text]
    if rule.rule == "option_points":
        best = max(rule.points.values())
        value: Any = next(o.code for o in options if rule.points.get(o.code) == best)
    elif rule.rule in ("options_sum", "options_best"):
        value = _more_options(options, rule, current)
    elif rule.rule == "number_bands":
        top = max(points for _start, points in rule.bands)
        value = int(next(start for start, points in rule.bands if points == top))
    elif rule.rule == "distinct_options":
        value = _more_distinct(question, options, rule, current)
    else:
        return None
    if value is None:
        return None
    try:
        cleaned, _other = rules.clean_answer(question, value, "")
    except rules.AnswerInvalid:
        return None
    return cleaned


def _more_options(options: list[Option], rule: QuestionRule, current: Any) -> list[str] | None:
    exclusive = {o.code for o in options if o.exclusive}
    chosen = [code for code in (current or []) if code not in exclusive]
    candidates = sorted(
        (o for o in options if o.code not in chosen and not o.exclusive),
        key=lambda o: -rule.points.get(o.code, 0),
    )
    for option in candidates:
        if rule.raw_points(chosen) >= rule.maximum:
            break
        if rule.points.get(option.code, 0) > 0:
            chosen = [*chosen, option.code]
    return chosen if rule.raw_points(chosen) >= rule.maximum else None


def _more_distinct(
    question: Question, options: list[Option], rule: QuestionRule, current: Any
) -> dict[str, str] | None:
    """A bureau table with more distinct professions: duplicated or empty roles take
    professions not yet on the bureau, in the questionnaire's order."""
    table = dict(current or {})
    target = int(rule.minus + rule.maximum)
    unused = [o.code for o in options if o.code not in set(table.values())]
    seen: set[str] = set()
    for row in rules.rows(question):
        if len(set(table.values()) - {""}) >= target or not unused:
            break
        profession = table.get(row.code)
        if profession and profession not in seen:
            seen.add(profession)
            continue
        table[row.code] = unused.pop(0)
        seen.add(table[row.code])
    return table if len(set(table.values())) > len(set((current or {}).values())) else None
