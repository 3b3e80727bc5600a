"""How the questionnaire is shown: answers as French text (review page, conflicts, history,
explanation pages) and what the section template needs for each question (current value,
options, state)."""

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from questionnaire import rules
from questionnaire.models import Dimension, Question
from questionnaire.postdata import field_name, read_answer
from questionnaire.selectors import ResponseState, Section


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
    carried_from: str = ""  # the campaign a taken-over, unconfirmed value comes from

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
        carried = state.carried.get(question.id) if answer is None else None
        if posted is not None and question.id in errors:
            value, other = read_answer(question, posted)
        else:
            shown = answer or carried
            value = shown.value if shown else None
            other = shown.other_text if shown else ""
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
                carried_from=carried.source.campaign.name if carried else "",
            )
        )
    return fields


@dataclass(frozen=True)
class ReviewRow:
    question: Question
    applicable: bool
    label: str | None  # the answer as French text; None when unanswered


def answers_by_dimension(
    state: ResponseState,
) -> dict[Dimension, list[tuple[Section, list[ReviewRow]]]]:
    """Every question of the response with its answer as text, by dimension then section: the
    review page and the report's appendix."""
    dimensions: dict[Dimension, list[tuple[Section, list[ReviewRow]]]] = {}
    for section in state.sections:
        rows = []
        for question in section.questions:
            answer = state.answers.get(question.id)
            rows.append(
                ReviewRow(
                    question=question,
                    applicable=question.id in state.applicable_ids,
                    label=(
                        answer_label(question, answer.value, answer.other_text)
                        if answer is not None
                        else None
                    ),
                )
            )
        dimensions.setdefault(section.subdimension.dimension, []).append((section, rows))
    return dimensions
