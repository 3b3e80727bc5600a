"""The questionnaire's layout in an export's columns, shared by the writers and the importer.

A question's columns (`QuestionLayout.wide_columns`), how an answer fills them
(`wide_filler`, `long_cells`) and the identity columns of a response row, in one place, so
that what the long format writes is what `exports.importer` reads back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from cpts_portal.spreadsheet import Cell
from exports.selectors import ResponseRow
from questionnaire import rules
from questionnaire.models import Option, Question, Response
from territories.models import Cpts

IDENTITY_HEADER = [
    "campaign",
    "cpts_code",
    "cpts_name",
    "department",
    "region",
    "stage",
    "status",
    "submitted_at",
]
LONG_HEADER = ["campaign", "cpts_code", "question", "variable", "option_code", "value"]
OTHER_TEXT_SUFFIX = "_other_text"


@dataclass
class QuestionLayout:
    question: Question
    choices: list[Option]
    rows: list[Option]
    by_code: dict[str, Option] = field(init=False)
    row_codes: set[str] = field(init=False)
    has_other: bool = field(init=False)

    def __post_init__(self) -> None:
        self.by_code = {o.code: o for o in self.choices}
        self.row_codes = {o.code for o in self.rows}
        self.has_other = any(o.requires_text for o in self.choices)

    @property
    def variable(self) -> str:
        return self.question.variable

    @property
    def type(self) -> str:
        return self.question.type

    def names(self, labels: bool) -> dict[str, str]:
        """What a choice code is written as: its label with `labels`, else the code itself
        (an empty map, read with `.get(code, code)`)."""
        return {o.code: o.label for o in self.choices} if labels else {}

    def wide_columns(self) -> list[str]:
        if self.type == Question.Type.MULTIPLE_CHOICE:
            columns = [f"{self.variable}__{o.code}" for o in self.choices]
        elif self.type == Question.Type.ROLE_TABLE:
            columns = [f"{self.variable}__{o.code}" for o in self.rows]
        else:
            columns = [self.variable]
        if self.has_other:
            columns.append(self.variable + OTHER_TEXT_SUFFIX)
        return columns

    def wide_filler(self, labels: bool) -> Callable[[Any, str], list[Cell]]:
        """The cells of an answer (value, other_text) in this question's wide columns.

        Built once per export: everything that does not depend on the answer (codes, labels,
        the question's type) is looked up here rather than once per cell."""
        names = self.names(labels)
        fill: Callable[[Any, str], list[Cell]]
        if self.type == Question.Type.MULTIPLE_CHOICE:
            codes = [o.code for o in self.choices]

            def fill(value: Any, other_text: str) -> list[Cell]:
                return [1 if code in value else 0 for code in codes]

        elif self.type == Question.Type.ROLE_TABLE:
            rows = [o.code for o in self.rows]

            def fill(value: Any, other_text: str) -> list[Cell]:
                return [
                    names.get(value[row], value[row]) if value.get(row) else None for row in rows
                ]

        elif self.type == Question.Type.SINGLE_CHOICE and labels:

            def fill(value: Any, other_text: str) -> list[Cell]:
                return [names.get(value, value)]

        else:

            def fill(value: Any, other_text: str) -> list[Cell]:
                return [value]

        if not self.has_other:
            return fill

        def fill_with_other(value: Any, other_text: str) -> list[Cell]:
            cells = fill(value, other_text)
            cells.append(other_text or None)
            return cells

        return fill_with_other

    def long_cells(
        self, value: Any, other_text: str, names: dict[str, str]
    ) -> Iterator[tuple[str, Cell]]:
        """(option_code, value) pairs: a chosen option is 1 (or its label), an "Autre" option
        carries its text; a role-table row carries its profession; open questions one value.
        `names` is `self.names(labels)`."""
        if self.question.is_choice:
            for code in value if isinstance(value, list) else [value]:
                option = self.by_code[code]
                if option.requires_text:
                    yield code, other_text
                else:
                    yield code, names.get(code, 1)
        elif self.type == Question.Type.ROLE_TABLE:
            # In the table's order: PostgreSQL's jsonb does not keep the keys' order.
            for row in self.rows:
                if value.get(row.code):
                    profession = value[row.code]
                    yield row.code, names.get(profession, profession)
        else:
            yield "", value


def layouts(questions: list[Question]) -> list[QuestionLayout]:
    return [QuestionLayout(q, rules.choices(q), rules.rows(q)) for q in questions]


def identity_cells(labels: bool) -> Callable[[ResponseRow], list[Cell]]:
    """The 8 identity cells of a response row (`selectors.RESPONSE_COLUMNS`)."""
    # As get_FOO_display() writes them, looked up once rather than once per row.
    stages = {k: str(v) for k, v in Cpts._meta.get_field("stage").flatchoices} if labels else {}
    statuses = (
        {k: str(v) for k, v in Response._meta.get_field("status").flatchoices} if labels else {}
    )
    localtime = timezone.localtime

    def cells(row: ResponseRow) -> list[Cell]:
        _, campaign, code, name, department, region, stage, status, submitted_at = row
        return [
            campaign,
            code,
            name,
            department,
            region,
            stages.get(stage, stage),
            statuses.get(status, status),
            localtime(submitted_at).isoformat(timespec="seconds") if submitted_at else None,
        ]

    return cells
