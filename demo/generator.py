"""Plausible answers to the questionnaire, drawn from a seeded random generator.

The demo data and the bench's synthetic cohort both draw their answers here, so every answer
they hold passes the rules a user's answer passes. More advanced stages answer more maturely,
and a CPTS's answers improve a little from one campaign to the next.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from questionnaire import rules
from questionnaire.models import Question
from territories.models import Cpts

STAGE_PROPENSITY = {
    Cpts.Stage.RUNNING: 0.7,
    Cpts.Stage.ENGINEERING: 0.5,
    Cpts.Stage.FORMALISING: 0.35,
    Cpts.Stage.DECLARED: 0.2,
}


def demo_answers(
    cpts: Cpts, year: int, questions: list[Question], rng: random.Random
) -> dict[int, tuple[Any, str]]:
    """Answers for every applicable question, {question id: (value, other text)}, cleaned by
    the same rules as user input. `questions` in questionnaire order (conditions come after
    the question they depend on); `rng` seeded by the caller for repeatable draws."""
    propensity = min(
        0.95, STAGE_PROPENSITY[cpts.stage] + 0.06 * (year - 2024) + rng.uniform(-0.1, 0.1)
    )
    stages = set(Cpts.Stage.values)
    values: dict[int, tuple[Any, str]] = {}
    for question in questions:
        if not rules.is_applicable(question, {k: v for k, (v, _) in values.items()}):
            continue
        raw = _raw_answer(question, cpts, propensity, stages, rng)
        other = "Précision saisie pour la démonstration"
        values[question.id] = rules.clean_answer(question, raw, other)
    return values


def _raw_answer(question, cpts, propensity, stages, rng) -> Any:
    options = rules.choices(question)
    codes = [o.code for o in options]
    if question.type == Question.Type.SINGLE_CHOICE:
        if set(codes) == stages:
            return cpts.stage  # the question that asks the CPTS's stage
        # Options run from the most to the least mature in most scales of this questionnaire;
        # the draw leans towards the first ones as the propensity grows.
        index = min(
            len(codes) - 1,
            int(rng.betavariate(1 + 3 * (1 - propensity), 1 + 3 * propensity) * len(codes)),
        )
        return codes[index]
    if question.type == Question.Type.MULTIPLE_CHOICE:
        plain = [o.code for o in options if not o.exclusive]
        exclusive = [o.code for o in options if o.exclusive]
        if exclusive and rng.random() > propensity + 0.2:
            return [exclusive[0]]
        picked = [code for code in plain if rng.random() < propensity]
        return picked or [rng.choice(plain)]
    if question.type == Question.Type.NUMBER:
        high = min(question.max_value, max(question.min_value + 1, 40))
        return rng.randint(question.min_value, high)
    if question.type == Question.Type.MONTH_YEAR:
        created = cpts.created_on or dt.date(2020, 1, 1)
        return f"{created.year:04d}-{created.month:02d}"
    if question.type == Question.Type.ROLE_TABLE:
        row_codes = [o.code for o in rules.rows(question)]
        return {row: rng.choice(codes[:9]) for row in row_codes if rng.random() < 0.85} or {
            row_codes[0]: codes[1]
        }
    return "Réponse de démonstration"
