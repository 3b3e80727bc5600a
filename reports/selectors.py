"""Reads for the reports: what a report shows, which reports are cached, what a bundle holds.

A report shows what the results page shows (`scoring.selectors.results_for`, with its peer
medians under the small-cell rule), plus the other CPTS's interquartile band per campaign, the
grid's method and every answer. Views hand in a response obtained through `accounts.scoping`.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.scoping import plan_responses_readable_by, responses_visible_to
from exports.models import ExportJob
from improvement.models import Action
from improvement.selectors import Piste, SubdimensionPistes, pistes_for, plan_actions, plan_of
from questionnaire.models import Campaign, Dimension, Response
from questionnaire.presentation import ReviewRow, answers_by_dimension
from questionnaire.selectors import Section, response_state
from reports.charts import EvolutionPoint
from reports.models import BUNDLE_KIND, Report
from scoring import selectors as scoring_selectors
from scoring.models import ResponseScore, ScoringGrid
from scoring.selectors import HistoryPoint, Results, SubdimensionPoint
from territories.models import Department, Region

# How many sub-dimensions the report names as strengths, and as weaknesses.
HIGHLIGHTS = 3
# How many pistes de progression it lists (the weakest areas' first; the portal has them all).
PISTES_SHOWN = 3
CENT = Decimal("0.01")


@dataclass
class ReportData:
    response: Response
    grid: ScoringGrid
    results: Results
    strengths: list[SubdimensionPoint]
    weaknesses: list[SubdimensionPoint]
    evolution: list[tuple[HistoryPoint, EvolutionPoint]]
    appendix: dict[Dimension, list[tuple[Section, list[ReviewRow]]]]
    peer_minimum: int
    pistes: list[tuple[SubdimensionPistes, Piste]]
    pistes_total: int
    # The action plan's actions, for a reader who may see it (the CPTS's team, or its ARS and
    # CPAM when the plan is shared with them); empty for anyone else. Without actions, every
    # reader gets the same report (and the same cached file).
    plan_actions: list[Action]

    @property
    def dimension_labels(self) -> dict[str, str]:
        return {row.dimension.code: row.dimension.label for row in self.results.matrix}

    @property
    def evolution_points(self) -> list[EvolutionPoint]:
        return [point for _history, point in self.evolution]

    @property
    def not_assessed(self) -> list[SubdimensionPoint]:
        return [p for p in self.results.subdimensions if p.value is None]


def report_grid(response: Response) -> ScoringGrid | None:
    """A report uses the grid the results page shows by default: the latest loaded."""
    return scoring_selectors.latest_grid(response.campaign.questionnaire)


def report_data(*, user: User, response: Response, grid: ScoringGrid) -> ReportData | None:
    """Everything a report shows, or None when the response has no scores under the grid."""
    if response.status != Response.Status.SUBMITTED:
        return None
    results = scoring_selectors.results_for(user=user, response=response, grid=grid)
    if results is None:
        return None
    assessed = sorted(
        (p for p in results.subdimensions if p.value is not None),
        key=lambda p: -p.value,
    )  # stable: equal scores keep the questionnaire's order
    strengths = assessed[:HIGHLIGHTS]
    weaknesses = [p for p in reversed(assessed[-HIGHLIGHTS:]) if p not in strengths]
    bands = _peer_index_quartiles(response=response, grid=grid, history=results.history)
    pistes = [
        (area, piste)
        for cell in pistes_for(response=response, grid=grid).cells
        for area in cell.subdimensions
        for piste in area.pistes
    ]
    evolution = [
        (
            point,
            EvolutionPoint(
                campaign=point.response.campaign.name,
                index=point.index,
                **bands.get(point.response.campaign_id, {}),
            ),
        )
        for point in results.history
    ]
    return ReportData(
        response=response,
        grid=grid,
        results=results,
        strengths=strengths,
        weaknesses=weaknesses,
        evolution=evolution,
        appendix=answers_by_dimension(response_state(response)),
        peer_minimum=scoring_selectors.SMALL_CELL_MINIMUM,
        pistes=pistes[:PISTES_SHOWN],
        pistes_total=len(pistes),
        plan_actions=(
            plan_actions(plan_of(response))
            if plan_responses_readable_by(user).filter(pk=response.pk).exists()
            else []
        ),
    )


def _peer_index_quartiles(
    *, response: Response, grid: ScoringGrid, history: list[HistoryPoint]
) -> dict[int, dict[str, Decimal]]:
    """Per campaign of the CPTS's history: Q1, median and Q3 of the other CPTS's overall
    indexes under the same grid, for campaigns with at least SMALL_CELL_MINIMUM of them."""
    campaign_ids = [point.response.campaign_id for point in history]
    rows = (
        ResponseScore.objects.filter(
            grid=grid,
            response__campaign_id__in=campaign_ids,
            response__status=Response.Status.SUBMITTED,
            index__isnull=False,
        )
        .exclude(response__cpts_id=response.cpts_id)
        .values_list("response__campaign_id", "index")
    )
    values: dict[int, list[Decimal]] = {}
    for campaign_id, index in rows:
        values.setdefault(campaign_id, []).append(index)
    bands = {}
    for campaign_id, found in values.items():
        if len(found) < scoring_selectors.SMALL_CELL_MINIMUM:
            continue
        q1, _median, q3 = statistics.quantiles(found, n=4, method="inclusive")
        bands[campaign_id] = {
            "q1": _rounded(q1),
            "median": _rounded(statistics.median(found)),
            "q3": _rounded(q3),
        }
    return bands


def _rounded(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def cached_report(key: str) -> Report | None:
    return Report.objects.filter(key=key).first()


def previous_reports(report: Report) -> QuerySet[Report]:
    """Older renderings of the same response and grid, which the new one replaces."""
    return Report.objects.filter(response_id=report.response_id, grid_id=report.grid_id).exclude(
        pk=report.pk
    )


# --- Bundles -----------------------------------------------------------------------------


def bundle_responses(
    *,
    user: User,
    campaign: Campaign,
    region: Region | None = None,
    department: Department | None = None,
    stage: str = "",
) -> QuerySet[Response]:
    """The submitted responses of a campaign in the user's scope (and filters), one report
    each, in CPTS code order."""
    responses = responses_visible_to(user).filter(
        campaign=campaign, status=Response.Status.SUBMITTED
    )
    if region is not None:
        responses = responses.filter(cpts__department__region=region)
    if department is not None:
        responses = responses.filter(cpts__department=department)
    if stage:
        responses = responses.filter(cpts__stage=stage)
    return responses.select_related("campaign__questionnaire").order_by("cpts__code")


def bundle_jobs_of(user: User) -> QuerySet[ExportJob]:
    """The user's report bundles that have not expired (exports' jobs of the bundle kind)."""
    return ExportJob.objects.filter(
        requested_by=user, expires_at__gt=timezone.now(), parameters__kind=BUNDLE_KIND
    )
