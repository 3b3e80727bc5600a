"""Writes for scoring: load a grid version, store the scores of responses.

Scores exist only for submitted responses: scoring a draft (a response reopened since) removes
its scores under that grid. Scoring is an idempotent upsert: when the stored scores already
equal the computed ones nothing is written, so a rescore with an unchanged grid changes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from questionnaire.definition import checksum
from questionnaire.models import (
    Answer,
    Dimension,
    Question,
    QuestionnaireVersion,
    Response,
    SubDimension,
)
from scoring import selectors
from scoring.arithmetic import Layout, ScoreResult, score_answers, to_decimal
from scoring.grid import GridError, GridSpec, read_grid_file, validate_grid
from scoring.models import AreaScore, QuestionScore, ResponseScore, ScoringGrid

logger = logging.getLogger(__name__)

DEFAULT_GRID_PATH = Path(__file__).resolve().parent / "grids" / "miller-2022-v1.yaml"

CREATED, UPDATED, UNCHANGED, DELETED, SKIPPED = (
    "created",
    "updated",
    "unchanged",
    "deleted",
    "skipped",
)


class GridFrozen(Exception):
    """The grid version already has stored scores: it may not change any more."""


@dataclass(frozen=True)
class GridLoadResult:
    grid: ScoringGrid
    outcome: str  # "created", "updated" or "unchanged"


@transaction.atomic
def grid_load(*, path: str | Path = DEFAULT_GRID_PATH) -> GridLoadResult:
    """Validate a grid file against its (loaded) questionnaire version and store it."""
    data = read_grid_file(path)
    questionnaire = QuestionnaireVersion.objects.filter(code=data.get("questionnaire")).first()
    if questionnaire is None:
        raise GridError(
            [
                f"Questionnaire « {data.get('questionnaire')} » inconnu : chargez-le d'abord "
                "(python manage.py load_questionnaire)."
            ]
        )
    validate_grid(data, questionnaire.definition)
    digest = checksum(data)
    grid = ScoringGrid.objects.filter(code=data["version"]).first()
    if grid is not None and grid.checksum == digest:
        return GridLoadResult(grid, "unchanged")
    if grid is not None:
        if grid.scores.exists():
            raise GridFrozen(
                f"La grille « {grid.code} » a déjà servi à calculer des scores : elle ne peut "
                "plus être modifiée. Publiez le changement dans un nouveau fichier, avec une "
                "nouvelle version, puis lancez « rescore --grid <version> »."
            )
        outcome = "updated"
    else:
        grid = ScoringGrid(code=data["version"])
        outcome = "created"
    grid.questionnaire = questionnaire
    grid.title = data["title"]
    grid.checksum = digest
    grid.definition = data
    grid.loaded_at = timezone.now()
    grid.save()
    return GridLoadResult(grid, outcome)


@dataclass(frozen=True)
class ScoreOutcome:
    score: ResponseScore | None
    outcome: str  # created, updated, unchanged, deleted (draft) or skipped (draft)


@dataclass(frozen=True)
class _Context:
    """What scoring many responses with one grid shares: read once per batch."""

    grid: ScoringGrid
    spec: GridSpec
    layout: Layout
    questions: list[Question]
    dimensions: dict[str, Dimension]
    subdimensions: dict[str, SubDimension]

    @classmethod
    def build(cls, grid: ScoringGrid) -> _Context:
        questionnaire = grid.questionnaire
        return cls(
            grid=grid,
            spec=grid.spec,
            layout=Layout.from_definition(questionnaire.definition),
            questions=selectors.scoring_questions(questionnaire),
            dimensions={d.code: d for d in Dimension.objects.filter(version=questionnaire)},
            subdimensions={
                s.code: s for s in SubDimension.objects.filter(dimension__version=questionnaire)
            },
        )


def response_score(*, response: Response, grid: ScoringGrid) -> ScoreOutcome:
    """Compute the response's scores under the grid and store them if they changed."""
    return _response_score(response.pk, _Context.build(grid))


def responses_score(*, response_ids: Iterable[int], grid: ScoringGrid) -> dict[str, int]:
    """Score several responses with one grid; returns how many were created, updated, …"""
    context = _Context.build(grid)
    counts = Counter(_response_score(pk, context).outcome for pk in response_ids)
    return dict(counts)


def score_all_submitted(*, grid: ScoringGrid | None = None) -> dict[str, int]:
    """Score every submitted response of the grid's questionnaire, in this process.

    Without a grid: the latest grid of each questionnaire version that has one.
    """
    grids = [grid] if grid else [g for q in _questionnaires() if (g := selectors.latest_grid(q))]
    totals: Counter[str] = Counter()
    for each in grids:
        totals.update(
            responses_score(response_ids=selectors.response_ids_to_score(each), grid=each)
        )
    return dict(totals)


def _questionnaires() -> list[QuestionnaireVersion]:
    return list(QuestionnaireVersion.objects.filter(scoring_grids__isnull=False).distinct())


@transaction.atomic
def _response_score(response_id: int, context: _Context) -> ScoreOutcome:
    # Locking the response row (only it) serialises a submission's task and a concurrent
    # rescore of the same response.
    response = (
        Response.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .get(pk=response_id)
    )
    grid = context.grid
    if response.campaign.questionnaire_id != grid.questionnaire_id:
        raise ValueError(
            f"Grid {grid.code} scores questionnaire {grid.questionnaire_id}, "
            f"not the one of response {response.pk}."
        )
    existing = ResponseScore.objects.filter(response=response, grid=grid).first()
    if response.status != Response.Status.SUBMITTED:
        if existing is None:
            return ScoreOutcome(None, SKIPPED)
        existing.delete()
        logger.info("Scores of draft response %s under %s removed", response.pk, grid.code)
        return ScoreOutcome(None, DELETED)

    values = dict(Answer.objects.filter(response=response).values_list("question_id", "value"))
    result = score_answers(
        grid=context.spec, layout=context.layout, questions=context.questions, values=values
    )
    header, questions, areas = _rows(result, context)
    if existing is not None and _stored_rows(existing) == (header, questions, areas):
        return ScoreOutcome(existing, UNCHANGED)

    if existing is None:
        score = ResponseScore(response=response, grid=grid)
        outcome = CREATED
    else:
        score = existing
        score.questions.all().delete()
        score.areas.all().delete()
        outcome = UPDATED
    score.index, score.level = header
    score.computed_at = timezone.now()
    score.save()
    QuestionScore.objects.bulk_create(
        QuestionScore(score=score, question_id=question_id, **fields)
        for question_id, fields in _as_fields(questions, QUESTION_FIELDS)
    )
    AreaScore.objects.bulk_create(
        AreaScore(
            score=score,
            kind=kind,
            dimension_id=dimension_id,
            constraint=constraint,
            subdimension_id=subdimension_id,
            **fields,
        )
        for (kind, dimension_id, constraint, subdimension_id), fields in _as_fields(
            areas, AREA_FIELDS
        )
    )
    return ScoreOutcome(score, outcome)


QUESTION_FIELDS = ("status", "points", "max_points", "weight")
AREA_FIELDS = ("earned", "possible", "value")


def _rows(result: ScoreResult, context: _Context) -> tuple[tuple, dict, dict]:
    """The stored form of a result, rounded as the columns round it, for writing and comparing."""
    header = (
        to_decimal(result.index, 2) if result.index is not None else None,
        result.level.code if result.level else "",
    )
    question_ids = {q.number: q.pk for q in context.questions}
    questions = {
        question_ids[number]: (
            outcome.status,
            to_decimal(outcome.points, 4) if outcome.points is not None else None,
            to_decimal(outcome.maximum, 4),
            to_decimal(outcome.weight, 4),
        )
        for number, outcome in result.questions.items()
    }
    areas: dict[tuple, tuple] = {}

    def add(key: tuple, area) -> None:
        value = area.score
        areas[key] = (
            to_decimal(area.earned, 4),
            to_decimal(area.possible, 4),
            to_decimal(value, 2) if value is not None else None,
        )

    for code, area in result.subdimensions.items():
        sub = context.subdimensions[code]
        add((AreaScore.Kind.SUBDIMENSION, sub.dimension_id, sub.constraint, sub.pk), area)
    for (dimension, constraint), area in result.cells.items():
        add((AreaScore.Kind.CELL, context.dimensions[dimension].pk, constraint, None), area)
    for dimension, area in result.dimensions.items():
        add((AreaScore.Kind.DIMENSION, context.dimensions[dimension].pk, "", None), area)
    return header, questions, areas


def _stored_rows(score: ResponseScore) -> tuple[tuple, dict, dict]:
    questions = {
        question_id: tuple(rest)
        for question_id, *rest in score.questions.values_list("question_id", *QUESTION_FIELDS)
    }
    areas = {
        (kind, dimension_id, constraint, subdimension_id): tuple(rest)
        for kind, dimension_id, constraint, subdimension_id, *rest in score.areas.values_list(
            "kind", "dimension_id", "constraint", "subdimension_id", *AREA_FIELDS
        )
    }
    return (score.index, score.level), questions, areas


def _as_fields(rows: dict, names: tuple[str, ...]):
    for key, values in rows.items():
        yield key, dict(zip(names, values, strict=True))
