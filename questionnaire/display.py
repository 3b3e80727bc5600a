"""Answers as French text, for the review page, conflicts and the history."""

from typing import Any

from questionnaire import rules
from questionnaire.models import Question


def answer_label(question: Question, value: Any, other_text: str = "") -> str:
    if value is None:
        return "—"
    labels = {o.code: o.label for o in rules.choices(question)}
    if question.type == Question.Type.SINGLE_CHOICE:
        text = labels.get(value, value)
    elif question.type == Question.Type.MULTIPLE_CHOICE:
        text = " ; ".join(labels.get(code, code) for code in value)
    elif question.type == Question.Type.ROLE_TABLE:
        rows = {o.code: o.label for o in rules.rows(question)}
        text = " ; ".join(f"{rows.get(r, r)} : {labels.get(p, p)}" for r, p in value.items())
    elif question.type == Question.Type.MONTH_YEAR and isinstance(value, str) and "-" in value:
        year, month = value.split("-", 1)
        text = f"{month}/{year}"
    else:
        text = str(value)
    return f"{text} (précision : {other_text})" if other_text else text
