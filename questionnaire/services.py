from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from questionnaire.definition import DEFAULT_TEXT_MAX_LENGTH, checksum, read_definition
from questionnaire.models import (
    Dimension,
    Option,
    Question,
    QuestionnaireVersion,
    Response,
    SubDimension,
)


class QuestionnaireFrozen(Exception):
    """The version already has responses: it may not change any more."""


@dataclass(frozen=True)
class LoadResult:
    version: QuestionnaireVersion
    outcome: str  # "created", "updated" or "unchanged"


@transaction.atomic
def questionnaire_load(*, path: str | Path) -> LoadResult:
    definition = read_definition(path)
    digest = checksum(definition)
    version = QuestionnaireVersion.objects.filter(code=definition["version"]).first()
    if version is not None and version.checksum == digest:
        return LoadResult(version, "unchanged")
    if version is not None:
        if Response.objects.filter(campaign__questionnaire=version).exists():
            raise QuestionnaireFrozen(
                f"La version « {version.code} » a déjà des réponses : elle ne peut plus être "
                "modifiée. Publiez le changement dans un nouveau fichier, avec une nouvelle "
                "version."
            )
        version.questions.update(condition_question=None)
        version.questions.all().delete()
        version.dimensions.all().delete()
        outcome = "updated"
    else:
        version = QuestionnaireVersion(code=definition["version"])
        outcome = "created"
    version.title = definition["title"]
    version.source = definition.get("source", "")
    version.checksum = digest
    version.definition = definition
    version.save()
    _write_structure(version, definition)
    return LoadResult(version, outcome)


def _write_structure(version: QuestionnaireVersion, definition: dict) -> None:
    subdimensions: dict[str, SubDimension] = {}
    for d_position, dimension_data in enumerate(definition["dimensions"], start=1):
        dimension = Dimension.objects.create(
            version=version,
            code=dimension_data["code"],
            label=dimension_data["label"],
            position=d_position,
        )
        for s_position, sub in enumerate(dimension_data["subdimensions"], start=1):
            subdimensions[sub["code"]] = SubDimension.objects.create(
                dimension=dimension,
                code=sub["code"],
                label=sub["label"],
                constraint=sub["constraint"],
                position=s_position,
            )

    questions: dict[int, Question] = {}
    for data in definition["questions"]:
        questions[data["number"]] = Question.objects.create(
            version=version,
            subdimension=subdimensions[data["subdimension"]],
            number=data["number"],
            variable=data["variable"],
            type=data["type"],
            text=data["text"].strip(),
            help_text=data.get("help", ""),
            min_value=data.get("min"),
            max_value=data.get("max"),
            max_length=data.get("max_length", DEFAULT_TEXT_MAX_LENGTH),
        )
        options = [
            _option(questions[data["number"]], Option.Kind.CHOICE, position, option)
            for position, option in enumerate(data.get("options") or [], start=1)
        ] + [
            _option(questions[data["number"]], Option.Kind.ROW, position, row)
            for position, row in enumerate(data.get("rows") or [], start=1)
        ]
        Option.objects.bulk_create(options)

    for data in definition["questions"]:
        if condition := data.get("condition"):
            question = questions[data["number"]]
            question.condition_question = questions[condition["question"]]
            question.condition_values = list(condition["in"])
            question.save(update_fields=["condition_question", "condition_values"])


def _option(question: Question, kind: str, position: int, data: dict) -> Option:
    return Option(
        question=question,
        kind=kind,
        code=data["code"],
        label=data["label"],
        position=position,
        exclusive=bool(data.get("exclusive")),
        requires_text=bool(data.get("other")),
        added=bool(data.get("added")),
    )
