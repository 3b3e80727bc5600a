"""Reads for exports: which responses an export holds, which filters a user may pick, and jobs.

Every response read starts from `accounts.scoping`; only the command line (run by someone with
shell access to the database) passes `user=None` for the national scope.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from accounts.scoping import cpts_visible_to, responses_visible_to
from exports.models import ExportJob
from exports.spec import STATUS_SUBMITTED, ExportError, ExportSpec
from questionnaire.models import Answer, Campaign, Question, QuestionnaireVersion, Response
from scoring.models import AreaScore, ResponseScore, ScoringGrid
from territories.models import Department, Region


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


def with_answers(responses: QuerySet[Response]) -> QuerySet[Response]:
    return responses.prefetch_related(
        Prefetch(
            "answers", Answer.objects.only("response_id", "question_id", "value", "other_text")
        )
    )


def with_scores(responses: QuerySet[Response], grid: ScoringGrid) -> QuerySet[Response]:
    scores = ResponseScore.objects.filter(grid=grid).prefetch_related(
        Prefetch("areas", AreaScore.objects.select_related("dimension", "subdimension"))
    )
    return responses.prefetch_related(Prefetch("scores", scores, to_attr="grid_scores"))


def export_questions(version: QuestionnaireVersion) -> list[Question]:
    return list(
        version.questions.select_related("condition_question")
        .prefetch_related("options")
        .order_by("number")
    )


def export_grid(version: QuestionnaireVersion, code: str = "") -> ScoringGrid:
    grids = ScoringGrid.objects.filter(questionnaire=version)
    grid = grids.filter(code=code).first() if code else grids.first()
    if grid is None:
        raise ExportError(
            f"Grille de score inconnue : « {code} »."
            if code
            else f"Aucune grille de score n'est chargée pour le questionnaire « {version.code} »."
        )
    return grid


def regions_for_export(user: User) -> QuerySet[Region]:
    return Region.objects.filter(departments__cpts__in=cpts_visible_to(user)).distinct()


def departments_for_export(user: User) -> QuerySet[Department]:
    return Department.objects.filter(cpts__in=cpts_visible_to(user)).distinct()


def export_jobs_of(user: User) -> QuerySet[ExportJob]:
    """The user's own export files that have not expired yet."""
    return ExportJob.objects.filter(requested_by=user, expires_at__gt=timezone.now())


def get_export_job_for_user(user: User, pk: int) -> ExportJob:
    # Someone else's file and an expired one both answer 404, like a missing one.
    return get_object_or_404(export_jobs_of(user), pk=pk)
