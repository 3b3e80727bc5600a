"""Reads for exports: which responses an export holds, which filters a user may pick, and jobs.

Every response read starts from `accounts.scoping`; only the command line (run by someone with
shell access to the database) passes `user=None` for the national scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from accounts.scoping import responses_visible_to
from exports.models import ExportJob
from exports.spec import STATUS_SUBMITTED, ExportError, ExportSpec
from questionnaire.models import Campaign, Response
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
