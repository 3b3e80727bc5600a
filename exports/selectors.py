"""Reads for exports: which responses an export holds, which filters a user may pick, and jobs.

Every response read starts from `accounts.scoping`; only the command line (run by someone with
shell access to the database) passes `user=None` for the national scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db.models import (
    Aggregate,
    F,
    Func,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from accounts.scoping import responses_visible_to
from exports.models import ExportJob
from exports.spec import STATUS_SUBMITTED, ExportError, ExportSpec
from questionnaire.models import Answer, Campaign, Response
from scoring.models import AreaScore, ResponseScore, ScoringGrid


def export_campaigns(spec: ExportSpec) -> list[Campaign]:
    """The spec's campaigns, which must exist and share one questionnaire version (the columns
    of an export are that version's questions)."""
    campaigns = list(
        Campaign.objects.filter(slug__in=spec.campaigns).select_related("questionnaire")
    )
    unknown = sorted(set(spec.campaigns) - {c.slug for c in campaigns})
    if unknown:
        raise ExportError("Campagne inconnue : " + ", ".join(f"« {s} »" for s in unknown) + ".")
    if len({c.questionnaire_id for c in campaigns}) > 1:
        raise ExportError(
            "Ces campagnes utilisent des versions différentes du questionnaire : "
            "exportez-les séparément."
        )
    return sorted(campaigns, key=lambda c: (c.year, c.slug))


def export_responses(*, user: User | None, spec: ExportSpec) -> QuerySet[Response]:
    """The responses of an export, in a stable order (campaign, then CPTS code)."""
    responses = (
        Response.objects.select_related("campaign", "cpts__department__region")
        if user is None
        else responses_visible_to(user)
    )
    responses = responses.filter(campaign__slug__in=spec.campaigns)
    if spec.region:
        responses = responses.filter(cpts__department__region__code=spec.region)
    if spec.department:
        responses = responses.filter(cpts__department__code=spec.department)
    if spec.stage:
        responses = responses.filter(cpts__stage=spec.stage)
    if spec.status == STATUS_SUBMITTED:
        responses = responses.filter(status=Response.Status.SUBMITTED)
    return responses.order_by("campaign__year", "campaign__slug", "cpts__code")


# The identity columns of an export row, read as plain tuples (pk first): building model
# instances for them and for their answers was most of an export's time.
RESPONSE_COLUMNS = (
    "pk",
    "campaign__slug",
    "cpts__code",
    "cpts__name",
    "cpts__department__code",
    "cpts__department__region__code",
    "cpts__stage",
    "status",
    "submitted_at",
)
ResponseRow = tuple[Any, ...]


def response_chunks(responses: QuerySet[Response], size: int) -> Iterator[list[ResponseRow]]:
    """The responses' RESPONSE_COLUMNS in lists of `size`, from one server-side cursor, so
    that memory does not grow with the cohort and each list's answers take one query."""
    rows = responses.values_list(*RESPONSE_COLUMNS).iterator(chunk_size=size)
    while chunk := list(islice(rows, size)):
        yield chunk


class _JsonAgg(Aggregate):
    function = "json_agg"
    output_field = JSONField()


def _json_pair(first: str, second: str) -> Func:
    return Func(F(first), F(second), function="json_build_array", output_field=JSONField())


def pivoted_response_rows(responses: QuerySet[Response], size: int) -> Iterator[ResponseRow]:
    """PostgreSQL only: each response's RESPONSE_COLUMNS followed by all its answers as one
    JSON text, `[[[question_id, value], …], [[question_id, other_text], …] or null]` (the
    texts: non-empty ones only), or None for a response without answers; streamed from one
    server-side cursor in batches of `size`.

    The pivot is done in SQL because, at scale, reading one row per answer and turning each
    into Python values was most of an export's time; one JSON text per response is decoded
    by the json module's C code in one call."""
    pivot = (
        Answer.objects.filter(response=OuterRef("pk"))
        .order_by()
        .values("response")
        .annotate(
            pivot=Cast(
                Func(
                    _JsonAgg(_json_pair("question_id", "value")),
                    _JsonAgg(_json_pair("question_id", "other_text"), filter=~Q(other_text="")),
                    function="json_build_array",
                    output_field=JSONField(),
                ),
                TextField(),
            )
        )
        .values("pivot")
    )
    return (
        responses.annotate(answers_pivot=Subquery(pivot, output_field=TextField()))
        .values_list(*RESPONSE_COLUMNS, "answers_pivot")
        .iterator(chunk_size=size)
    )


def score_rows(
    response_ids: list[int], grid: ScoringGrid
) -> list[tuple[int, int, Decimal | None, str]]:
    """(score_id, response_id, index, level) of these responses' scores under `grid`."""
    return list(
        ResponseScore.objects.filter(grid=grid, response_id__in=response_ids)
        .order_by()
        .values_list("pk", "response_id", "index", "level")
    )


def area_rows(
    score_ids: list[int],
) -> list[tuple[int, str, str, str, str | None, Decimal | None]]:
    """(score_id, kind, dimension code, constraint, subdimension code, value) of these
    scores' areas, unordered."""
    return list(
        AreaScore.objects.filter(score_id__in=score_ids)
        .order_by()
        .values_list(
            "score_id", "kind", "dimension__code", "constraint", "subdimension__code", "value"
        )
    )


def export_jobs_of(user: User) -> QuerySet[ExportJob]:
    """The user's own export files that have not expired yet."""
    return ExportJob.objects.filter(requested_by=user, expires_at__gt=timezone.now())


def get_export_job_for_user(user: User, pk: int) -> ExportJob:
    # Someone else's file and an expired one both answer 404, like a missing one.
    return get_object_or_404(export_jobs_of(user), pk=pk)
