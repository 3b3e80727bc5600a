"""What the section template needs for each question: current value, options, state."""

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from questionnaire import rules
from questionnaire.forms import field_name, read_answer
from questionnaire.models import Question
from questionnaire.selectors import ResponseState, Section


@dataclass
class OptionField:
    code: str
    label: str
    checked: bool
    exclusive: bool = False
    requires_text: bool = False


@dataclass
class QuestionField:
    question: Question
    name: str
    applicable: bool
    revision: int
    value: Any
    other_text: str
    error: str
    options: list[OptionField]
    rows: list[tuple[str, str, str]]  # code, label, selected profession

    @property
    def needs_other_text(self) -> bool:
        return any(o.requires_text for o in self.options)

    @property
    def condition_values(self) -> str:
        return ",".join(self.question.condition_values)


def section_fields(
    section: Section, state: ResponseState, posted: QueryDict | None, errors: dict[int, str]
) -> list[QuestionField]:
    fields = []
    for question in section.questions:
        answer = state.answers.get(question.id)
        if posted is not None and question.id in errors:
            value, other = read_answer(question, posted)
        else:
            value = answer.value if answer else None
            other = answer.other_text if answer else ""
        selected = value if isinstance(value, list) else [value]
        fields.append(
            QuestionField(
                question=question,
                name=field_name(question),
                applicable=question.id in state.applicable_ids,
                revision=answer.revision if answer else 0,
                value="" if value is None else value,
                other_text=other,
                error=errors.get(question.id, ""),
                options=[
                    OptionField(o.code, o.label, o.code in selected, o.exclusive, o.requires_text)
                    for o in rules.choices(question)
                ],
                rows=[
                    (
                        row.code,
                        row.label,
                        (value or {}).get(row.code, "") if isinstance(value, dict) else "",
                    )
                    for row in rules.rows(question)
                ],
            )
        )
    return fields
