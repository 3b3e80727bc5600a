"""Writes for scoring: load a grid version, store the scores of responses.

Scores exist only for submitted responses: scoring a draft (a response reopened since) removes
its scores under that grid. Scoring is an idempotent upsert: when the stored scores already
equal the computed ones nothing is written, so a rescore with an unchanged grid changes nothing.

Responses are scored in batches (one transaction, a few statements each: lock, read, compare,
write); scoring one response on submission is a batch of one, so both share one computation.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from cpts_portal import bulk
from questionnaire.definition import checksum
from questionnaire.models import (
    Dimension,
    QuestionnaireVersion,
    Response,
    SubDimension,
)
from questionnaire.selectors import answers_by_response, questions_of
from scoring import selectors
from scoring.arithmetic import Layout, ScoringPlan, ratio_to_decimal, to_decimal
from scoring.grid import GridError, read_grid_file, validate_grid
from scoring.models import AreaScore, ResponseScore, ScoringGrid

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


# Responses scored per transaction by a rescore: large enough that reads and writes are a few
# statements per batch, small enough that locks and memory stay modest.
BATCH_SIZE = 500

AREA_FIELDS = ("earned", "possible", "value")
AREA_COLUMNS = ("score_id", "kind", "dimension_id", "constraint", "subdimension_id", *AREA_FIELDS)


@dataclass(frozen=True)
class _Context:
    """What scoring many responses with one grid shares: read once, then used by every batch."""

    grid: ScoringGrid
    plan: ScoringPlan
    read_question_ids: list[int]  # the answers scoring reads: scored and condition questions
    stored_keys: list[tuple]  # each area's stored key (kind, dimension, …), in `plan.areas` order
    copy_keys: list[str]  # the same keys in COPY's text format

    @classmethod
    def build(cls, grid: ScoringGrid) -> _Context:
        questionnaire = grid.questionnaire
        spec = grid.spec
        questions = questions_of(questionnaire)
        by_number = {q.number: q for q in questions}
        scored = [by_number[number] for number in spec.rules]
        read = {q.pk for q in scored} | {
            q.condition_question_id for q in scored if q.condition_question_id
        }
        dimensions = {d.code: d.pk for d in Dimension.objects.filter(version=questionnaire)}
        subdimensions = SubDimension.objects.filter(dimension__version=questionnaire)
        layout = Layout.from_definition(questionnaire.definition)
        # Plain strings: COPY writes them as they are.
        sub, cell, dim = (str(kind.value) for kind in AreaScore.Kind)
        keys = {
            "subdimensions": {
                s.code: (sub, s.dimension_id, s.constraint, s.pk) for s in subdimensions
            },
            "cells": {(d, c): (cell, dimensions[d], c, None) for d, c in layout.cells},
            "dimensions": {d: (dim, dimensions[d], "", None) for d in layout.dimensions},
        }
        plan = selectors.scoring_plan(grid, questions)
        stored_keys = [keys[group][code] for group, code in plan.areas]
        return cls(
            grid=grid,
            plan=plan,
            read_question_ids=sorted(read),
            stored_keys=stored_keys,
            copy_keys=["\t".join(map(bulk.copy_text, key)) for key in stored_keys],
        )


def response_score(*, response: Response, grid: ScoringGrid) -> ScoreOutcome:
    """Compute the response's scores under the grid and store them if they changed.

    A batch of one: the submission's task and a rescore share one computation and one write.
    """
    return _batch_score([response.pk], _Context.build(grid))[response.pk]


def responses_score(
    *, response_ids: Iterable[int], grid: ScoringGrid, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Score several responses with one grid, `batch_size` per transaction; returns how many
    were created, updated, …"""
    context = _Context.build(grid)
    ids = list(dict.fromkeys(response_ids))
    counts: Counter[str] = Counter()
    for start in range(0, len(ids), batch_size):
        outcomes = _batch_score(ids[start : start + batch_size], context)
        counts.update(outcome.outcome for outcome in outcomes.values())
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


# A reconciliation run scores at most this many responses (a few seconds of work); a larger
# backlog is taken over the next runs, or by `rescore`.
RECONCILE_LIMIT = 4 * BATCH_SIZE


def scores_reconcile(*, limit: int = RECONCILE_LIMIT) -> dict[str, int]:
    """Repair what a lost or unfinished scoring task left: idempotent, run by beat.

    - a submitted response without scores under its questionnaire's latest grid is scored;
    - a draft (reopened) that still carries scores under any grid loses them.

    Returns the count of each outcome. A response scored meanwhile by its own task is found
    unchanged (both lock the response row), so nothing is ever written twice.
    """
    totals: Counter[str] = Counter()
    budget = limit
    for questionnaire in _questionnaires():
        grid = selectors.latest_grid(questionnaire)
        missing = list(
            Response.objects.filter(
                campaign__questionnaire=questionnaire, status=Response.Status.SUBMITTED
            )
            .exclude(scores__grid=grid)
            .order_by("pk")
            .values_list("pk", flat=True)[:budget]
        )
        if missing:
            totals.update(responses_score(response_ids=missing, grid=grid))
            budget -= len(missing)
        if budget <= 0:
            break
    stale = ResponseScore.objects.filter(response__status=Response.Status.DRAFT).select_related(
        "grid__questionnaire"
    )
    by_grid: dict[int, list[int]] = defaultdict(list)
    grids: dict[int, ScoringGrid] = {}
    for score in stale[:limit]:
        by_grid[score.grid_id].append(score.response_id)
        grids[score.grid_id] = score.grid
    for grid_id, response_ids in by_grid.items():
        totals.update(responses_score(response_ids=response_ids, grid=grids[grid_id]))
    if totals:
        logger.info("Scores reconciled: %s", dict(totals))
    return dict(totals)


def _questionnaires() -> list[QuestionnaireVersion]:
    return list(QuestionnaireVersion.objects.filter(scoring_grids__isnull=False).distinct())


@transaction.atomic
def _batch_score(response_ids: Sequence[int], context: _Context) -> dict[int, ScoreOutcome]:
    """Score a batch in one transaction: a few reads, the arithmetic, a few bulk writes.

    Each response gets the outcome it had when scored alone: created, updated (its rows
    rewritten), unchanged (nothing written), deleted (a draft loses its scores) or skipped
    (a draft without scores, or a response deleted meanwhile).
    """
    grid = context.grid
    # Locking the batch's response rows (only them) serialises a submission's task and a
    # concurrent rescore of the same response, so neither writes scores the other has not
    # seen (one score per response and grid). Rows are locked in id order so that two
    # batches never wait for each other in a cycle.
    locked = list(
        Response.objects.select_for_update(of=("self",))
        .filter(pk__in=response_ids)
        .order_by("pk")
        .values_list("pk", "status", "campaign__questionnaire_id")
    )
    for pk, _status, questionnaire_id in locked:
        if questionnaire_id != grid.questionnaire_id:
            raise ValueError(
                f"Grid {grid.code} scores questionnaire {grid.questionnaire_id}, "
                f"not the one of response {pk}."
            )
    existing = {
        score.response_id: score
        for score in ResponseScore.objects.filter(grid=grid, response_id__in=response_ids)
    }
    stored = _stored_rows(list(existing.values()))
    submitted = [pk for pk, status, _ in locked if status == Response.Status.SUBMITTED]
    answers, _texts = answers_by_response(submitted, question_ids=context.read_question_ids)

    now = timezone.now()
    outcomes = {pk: ScoreOutcome(None, SKIPPED) for pk in response_ids}  # deleted meanwhile
    removed: list[ResponseScore] = []
    created: list[ResponseScore] = []
    updated: list[ResponseScore] = []
    written: list[tuple[ResponseScore, dict]] = []
    for pk, status, _questionnaire_id in locked:
        score = existing.get(pk)
        if status != Response.Status.SUBMITTED:
            if score is not None:
                removed.append(score)
                outcomes[pk] = ScoreOutcome(None, DELETED)
            continue
        header, areas = _rows(answers.get(pk, {}), context)
        if score is not None and stored[score.pk] == (header, areas):
            outcomes[pk] = ScoreOutcome(score, UNCHANGED)
            continue
        if score is None:
            score = ResponseScore(response_id=pk, grid=grid)
            created.append(score)
            outcomes[pk] = ScoreOutcome(score, CREATED)
        else:
            updated.append(score)
            outcomes[pk] = ScoreOutcome(score, UPDATED)
        score.index, score.level = header
        score.computed_at = now
        written.append((score, areas))

    if removed:
        ResponseScore.objects.filter(pk__in=[score.pk for score in removed]).delete()
        for score in removed:
            logger.info(
                "Scores of draft response %s under %s removed", score.response_id, grid.code
            )
    if updated:
        # Rewritten rather than matched row by row: an update is the rare case.
        ids = [score.pk for score in updated]
        AreaScore.objects.filter(score_id__in=ids).delete()
        ResponseScore.objects.bulk_update(updated, ["index", "level", "computed_at"])
    if created:
        ResponseScore.objects.bulk_create(created)  # sets their ids (RETURNING)
    if bulk.copy_supported():
        # An area's row is its score id, then text rendered once: its key's, its figures'.
        keys = context.copy_keys
        bulk.rows_copy_text(
            AreaScore,
            AREA_COLUMNS,
            (
                f"{score.pk}\t{key}\t{fields.text}\n"
                for score, areas in written
                for key, fields in zip(keys, areas.values(), strict=True)
            ),
        )
    else:
        bulk.rows_insert(
            AreaScore,
            AREA_COLUMNS,
            (
                (score.pk, *key, *fields)
                for score, areas in written
                for key, fields in areas.items()
            ),
        )
    return outcomes


def _rows(values: dict[int, Any], context: _Context) -> tuple[tuple, dict]:
    """The stored form of a response's result, rounded as the columns round it, for writing and
    comparing.

    Only the response's and its areas' figures: a question's points are recomputed from the
    answers where they are shown (`selectors.question_points`), not stored."""
    sums, index, level = context.plan.area_sums(values)
    header = (to_decimal(index, 2) if index is not None else None, level.code if level else "")
    scale = context.plan.scale
    return header, dict(
        zip(context.stored_keys, [_area_fields(e, p, scale) for e, p in sums], strict=True)
    )


class _AreaFields(tuple):
    """An area's stored (earned, possible, value), equal to the tuple read back from its row,
    with `text`: the same in COPY's text format."""

    text: str


@lru_cache(maxsize=65_536)
def _area_fields(earned: int, possible: int, scale: int) -> _AreaFields:
    """An area's stored figures from its scaled integers. Cached: a cohort's areas share few
    pairs (the common scale is small), so most areas cost one lookup."""
    fields = _AreaFields(
        (
            ratio_to_decimal(earned, scale, 4),
            ratio_to_decimal(possible, scale, 4),
            ratio_to_decimal(100 * earned, possible, 2) if possible else None,
        )
    )
    fields.text = "\t".join(map(bulk.copy_text, fields))
    return fields


def _stored_rows(scores: list[ResponseScore]) -> dict[int, tuple[tuple, dict]]:
    """The stored form of these scores, by score id, as `_rows` gives it: one read in all."""
    if not scores:
        return {}
    ids = [score.pk for score in scores]
    areas: dict[int, dict] = defaultdict(dict)
    for score_id, *row in AreaScore.objects.filter(score_id__in=ids).values_list(*AREA_COLUMNS):
        areas[score_id][tuple(row[:4])] = tuple(row[4:])
    return {score.pk: ((score.index, score.level), areas[score.pk]) for score in scores}
