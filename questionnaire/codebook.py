"""The codebook: one row per question option, the key to every export's columns and codes."""

from collections.abc import Iterator

from questionnaire.models import Option, Question, QuestionnaireVersion
from questionnaire.selectors import questions_of

CODEBOOK_HEADER = [
    "question",
    "variable",
    "dimension",
    "subdimension",
    "constraint",
    "type",
    "text",
    "option_code",
    "option_label",
    "exclusive",
    "condition",
]


def condition_label(question: Question) -> str:
    if question.condition_question is None:
        return ""
    return f"{question.condition_question.variable}=" + "|".join(question.condition_values)


def codebook_rows(version: QuestionnaireVersion) -> Iterator[list[str]]:
    """Role-table rows come first (their variable's parts), then the options they take."""
    for question in questions_of(version):
        common = [
            str(question.number),
            question.variable,
            question.subdimension.dimension.code,
            question.subdimension.code,
            question.subdimension.constraint,
            question.type,
            question.text,
        ]
        options = sorted(
            question.options.all(), key=lambda o: (o.kind != Option.Kind.ROW, o.position)
        )
        condition = condition_label(question)
        if not options:
            yield [*common, "", "", "", condition]
        for option in options:
            yield [
                *common,
                option.code,
                option.label,
                "1" if option.exclusive else "0",
                condition,
            ]
