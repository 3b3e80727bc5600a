"""Reading one question's answer out of a posted form.

The section form (without JavaScript) and the autosave request (one question's fieldset)
post the same field names, so one reader serves both:
`q<id>` value(s) · `q<id>-other` the "Autre" text · `q<id>-<row>` a role-table cell ·
`q<id>-revision` the revision the page showed.
"""

import re
from typing import Any

from django.http import QueryDict

from questionnaire import rules
from questionnaire.models import Question

# Ids and revisions are ASCII digits, a few of them: `str.isdigit()` also accepts "²" or "١",
# which `int()` refuses or reads, and a long enough string exceeds Python's integer limit.
IDENTIFIER = re.compile(r"[0-9]{1,18}", re.ASCII)


def read_identifier(raw: Any) -> int | None:
    """The integer a form field holds, or None when it is not a plain, reasonable number."""
    if isinstance(raw, str) and IDENTIFIER.fullmatch(raw):
        return int(raw)
    return None


def field_name(question: Question, suffix: str = "") -> str:
    return f"q{question.id}-{suffix}" if suffix else f"q{question.id}"


def read_answer(question: Question, data: QueryDict) -> tuple[Any, str]:
    name = field_name(question)
    if question.type == Question.Type.MULTIPLE_CHOICE:
        value: Any = data.getlist(name)
    elif question.type == Question.Type.ROLE_TABLE:
        value = {
            row.code: data.get(field_name(question, row.code), "") for row in rules.rows(question)
        }
    else:
        value = data.get(name, "")
        if question.type == Question.Type.NUMBER and isinstance(value, str):
            value = value.strip()
    return value, data.get(field_name(question, "other"), "")


def read_revision(question: Question, data: QueryDict) -> int:
    """The revision the page showed (0: no answer yet); AnswerInvalid if it is unreadable."""
    revision = read_identifier(data.get(field_name(question, "revision"), "0"))
    if revision is None:
        raise rules.AnswerInvalid("Formulaire illisible : rechargez la page, puis réessayez.")
    return revision
