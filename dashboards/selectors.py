"""Reads for the territory dashboards: the CPTS a user may see, their scores for a campaign,
and the aggregates drawn from them.

Everything starts from `accounts.scoping.cpts_visible_to`. Aggregates follow the small-cell
rule: a group of fewer than SMALL_CELL_MINIMUM CPTS is reported with its size only, never its
values, so that no single CPTS can be read from a "median". Each page costs a fixed number of
queries, whatever the number of CPTS: per-CPTS values come from subqueries or one bulk read.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Avg,
    CharField,
    Count,
    DateTimeField,
    DecimalField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import User
from accounts.scoping import cpts_visible_to
from questionnaire.models import Campaign, ConstraintType, Dimension, Response, SubDimension
from scoring.models import (
    AreaScore,
    ResponseScore,
    ScoringGrid,
    cell_key,
    dimension_key,
    subdimension_key,
)
from scoring.selectors import SMALL_CELL_MINIMUM, latest_grids, peer_medians
from territories.models import Cpts, TerritoryIndicator

NO_RESPONSE = "none"
CENT = Decimal("0.01")


def campaigns() -> QuerySet[Campaign]:
    # Without their questionnaire: its definition is tens of kilobytes of JSON per campaign,
    # and the dashboards need only its id.
    return Campaign.objects.order_by("-year", "-opens_on")


def dimensions_of(campaign: Campaign) -> list[Dimension]:
    return list(Dimension.objects.filter(version=campaign.questionnaire_id).order_by("position"))


def dimension_field(dimension: Dimension) -> str:
    return f"dimension_{dimension.position}"


# The CPTS pickers' search ("CPTS à suivre", "CPTS à comparer"): a few letters of the name, or
# the CPTS's code; a page of matches, never the whole scope.
SEARCH_MIN_LENGTH = 2
SEARCH_LIMIT = 20


def cpts_matching(cpts: QuerySet[Cpts], term: str, *, limit: int = SEARCH_LIMIT) -> list[Cpts]:
    """The CPTS of `cpts` (a scoped queryset) whose name contains `term`, or whose code is it."""
    term = term.strip()
    if len(term) < SEARCH_MIN_LENGTH:
        return []
    found = cpts.filter(Q(name__icontains=term) | Q(code__iexact=term))
    return list(found.order_by("name", "pk")[:limit])


# --- Overview table ------------------------------------------------------------------------


def cpts_with_scores(
    user: User, campaign: Campaign, grid: ScoringGrid | None, dimensions: list[Dimension]
) -> QuerySet[Cpts]:
    """The CPTS in the user's scope, each with its response to the campaign and its scores
    under the grid (None when it has not submitted or is not scored yet).

    Each subquery finds at most one row (one response per CPTS and campaign, one score per
    grid, one area per dimension), so none is ordered: the models' default orderings would
    join campaigns, CPTS and grids into every subquery of every row."""
    response = Response.objects.filter(cpts=OuterRef("pk"), campaign=campaign).order_by()
    score = ResponseScore.objects.filter(
        response__cpts=OuterRef("pk"),
        response__campaign=campaign,
        response__status=Response.Status.SUBMITTED,
        grid=grid,
    ).order_by()
    area = AreaScore.objects.filter(
        score__response__cpts=OuterRef("pk"),
        score__response__campaign=campaign,
        score__response__status=Response.Status.SUBMITTED,
        score__grid=grid,
        kind=AreaScore.Kind.DIMENSION,
    ).order_by()
    score_field = DecimalField(max_digits=5, decimal_places=2)
    return cpts_visible_to(user).annotate(
        response_id=Subquery(response.values("pk")[:1]),
        response_status=Coalesce(
            Subquery(response.values("status")[:1]), Value(NO_RESPONSE), output_field=CharField()
        ),
        submitted_at=Subquery(response.values("submitted_at")[:1], output_field=DateTimeField()),
        score_index=Subquery(score.values("index")[:1], output_field=score_field),
        score_level=Subquery(score.values("level")[:1], output_field=CharField()),
        **{
            dimension_field(dimension): Subquery(
                area.filter(dimension=dimension).values("value")[:1], output_field=score_field
            )
            for dimension in dimensions
        },
    )


# --- Aggregates under the small-cell rule ------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    """Quartiles of a group's values, or only its size when the group is too small to show."""

    label: str
    count: int
    minimum: Decimal | None = None
    q1: Decimal | None = None
    median: Decimal | None = None
    q3: Decimal | None = None
    maximum: Decimal | None = None

    @property
    def shown(self) -> bool:
        return self.count >= SMALL_CELL_MINIMUM


def distribution(label: str, values: list[Decimal]) -> Distribution:
    if len(values) < SMALL_CELL_MINIMUM:
        return Distribution(label=label, count=len(values))
    q1, _median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Distribution(
        label=label,
        count=len(values),
        minimum=min(values),
        q1=_rounded(q1),
        median=_rounded(statistics.median(values)),
        q3=_rounded(q3),
        maximum=max(values),
    )


@dataclass(frozen=True)
class MeanCell:
    dimension: Dimension
    constraint: str
    constraint_label: str
    count: int
    mean: Decimal | None  # None when fewer than SMALL_CELL_MINIMUM CPTS are assessed

    @property
    def shown(self) -> bool:
        return self.count >= SMALL_CELL_MINIMUM


@dataclass(frozen=True)
class EvolutionPoint:
    campaign: Campaign
    distribution: Distribution
    followed: dict[int, Decimal | None]  # overall index of each followed CPTS, by CPTS id


@dataclass
class TerritoryAggregates:
    matrix: list[list[MeanCell]]  # one row per dimension, one cell per constraint type
    by_department: list[Distribution]
    by_stage: list[Distribution]
    evolution: list[EvolutionPoint]
    followed: list[Cpts]


def territory_aggregates(
    *,
    cpts: QuerySet[Cpts],
    campaign: Campaign,
    campaigns: list[Campaign],
    grids: dict[int, ScoringGrid],
    dimensions: list[Dimension],
    followed: list[Cpts],
) -> TerritoryAggregates:
    """The overview's charts, over the CPTS of `cpts` (the user's scope, filtered); `campaigns`
    (every one) and `grids` (`latest_grids()`) are read once by the caller. Two queries: every
    campaign's overall indexes (the evolution, and this campaign's spread by department and by
    stage), and the matrix."""
    grid = grids.get(campaign.questionnaire_id)
    submitted = ResponseScore.objects.filter(
        response__cpts__in=cpts.values("pk"),
        response__status=Response.Status.SUBMITTED,
        grid__in=[g.pk for g in grids.values()],
    )
    rows = submitted.order_by("response__cpts__department__code").values_list(
        "response__campaign_id",
        "response__cpts_id",
        "response__cpts__department__code",
        "response__cpts__department__name",
        "response__cpts__stage",
        "index",
    )
    by_department: dict[str, list[Decimal]] = defaultdict(list)
    by_stage: dict[str, list[Decimal]] = defaultdict(list)
    by_campaign: dict[int, list[Decimal]] = defaultdict(list)
    of_followed: dict[int, dict[int, Decimal | None]] = defaultdict(dict)
    followed_ids = {c.pk for c in followed}
    # A campaign's scores are all under its questionnaire's grid: this campaign's rows are
    # those of `grid`.
    for campaign_id, cpts_id, code, name, stage, index in rows:
        if cpts_id in followed_ids:
            of_followed[campaign_id][cpts_id] = index
        if index is None:
            continue
        by_campaign[campaign_id].append(index)
        if campaign_id == campaign.pk:
            by_department[f"{name} ({code})"].append(index)
            by_stage[stage].append(index)
    return TerritoryAggregates(
        matrix=_mean_matrix(cpts, campaign, grid, dimensions),
        by_department=[distribution(label, values) for label, values in by_department.items()],
        by_stage=[
            distribution(str(label), by_stage.get(stage, [])) for stage, label in Cpts.Stage.choices
        ],
        evolution=[
            EvolutionPoint(
                campaign=c,
                distribution=distribution(c.name, by_campaign[c.pk]),
                followed=of_followed[c.pk],
            )
            for c in sorted(campaigns, key=lambda c: (c.year, c.opens_on))
            if c.questionnaire_id in grids
        ],
        followed=followed,
    )


def _mean_matrix(
    cpts: QuerySet[Cpts],
    campaign: Campaign,
    grid: ScoringGrid | None,
    dimensions: list[Dimension],
) -> list[list[MeanCell]]:
    # No ordering: AreaScore's default one is dropped from a grouped query, but the joins it
    # needs (dimension, grid, campaign, CPTS) stayed and made the planner scan every cell of
    # every campaign, four times slower on the bench (EXPLAIN ANALYZE).
    rows = (
        AreaScore.objects.filter(
            score__grid=grid,
            score__response__campaign=campaign,
            score__response__status=Response.Status.SUBMITTED,
            score__response__cpts__in=cpts.values("pk"),
            kind=AreaScore.Kind.CELL,
            value__isnull=False,
        )
        .order_by()
        .values("dimension_id", "constraint")
        .annotate(count=Count("pk"), mean=Avg("value"))
    )
    found = {(row["dimension_id"], row["constraint"]): row for row in rows}
    matrix = []
    for dimension in dimensions:
        cells = []
        for constraint, label in ConstraintType.choices:
            row = found.get((dimension.pk, constraint), {"count": 0, "mean": None})
            shown = row["count"] >= SMALL_CELL_MINIMUM
            cells.append(
                MeanCell(
                    dimension=dimension,
                    constraint=constraint,
                    constraint_label=str(label),
                    count=row["count"],
                    mean=_rounded(row["mean"]) if shown else None,
                )
            )
        matrix.append(cells)
    return matrix


def territory_version() -> tuple:
    """A fingerprint of what the territory charts are drawn from, in one cheap query: it changes
    when a score is written, rewritten (a new `computed_at`) or deleted, when a response is
    saved (submitted, reopened) and when a CPTS is created or edited (its history).

    Read by `dashboards.cache`, so that scoring, which must not know the dashboards, needs
    nothing to invalidate them: a score written in bulk or by COPY changes it as well."""
    scores = ResponseScore._meta.db_table
    responses = Response._meta.db_table
    history = Cpts.history.model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM {scores}), (SELECT max(id) FROM {scores}), "
            f"(SELECT max(computed_at) FROM {scores}), "
            f"(SELECT count(*) FROM {responses} WHERE status = %s), "
            f"(SELECT max(updated_at) FROM {responses}), "
            f"(SELECT max(history_id) FROM {history})",
            [Response.Status.SUBMITTED],
        )
        return tuple(cursor.fetchone())


# --- One CPTS across its campaigns ------------------------------------------------------------


@dataclass
class CampaignResult:
    campaign: Campaign
    response: Response | None
    score: ResponseScore | None
    dimensions: list[Dimension]
    areas: dict[tuple, Decimal | None] = field(default_factory=dict)

    def dimension_value(self, dimension: Dimension) -> Decimal | None:
        return self.areas.get(dimension_key(dimension.code))

    def cell_value(self, dimension: Dimension, constraint: str) -> Decimal | None:
        return self.areas.get(cell_key(dimension.code, constraint))

    def subdimension_value(self, subdimension: SubDimension) -> Decimal | None:
        return self.areas.get(subdimension_key(subdimension.code))

    @property
    def dimension_values(self) -> list[Decimal | None]:
        return [self.dimension_value(d) for d in self.dimensions]

    @property
    def matrix_rows(self) -> list[tuple[Dimension, list[Decimal | None]]]:
        return [
            (d, [self.cell_value(d, code) for code, _label in ConstraintType.choices])
            for d in self.dimensions
        ]


@dataclass
class YearRow:
    year: int
    indicator: TerritoryIndicator | None
    results: list[CampaignResult]


@dataclass
class RadarComparison:
    result: CampaignResult
    subdimensions: list[SubDimension]
    values: list[Decimal | None]
    medians: list[Decimal | None]
    peer_count: int

    @property
    def median_shown(self) -> bool:
        return self.peer_count >= SMALL_CELL_MINIMUM

    @property
    def rows(self) -> list[tuple[SubDimension, Decimal | None, Decimal | None]]:
        return list(zip(self.subdimensions, self.values, self.medians, strict=True))


@dataclass
class CptsProfile:
    cpts: Cpts
    results: list[CampaignResult]  # oldest campaign first
    years: list[YearRow]
    radar: RadarComparison | None


def cpts_profile(cpts: Cpts) -> CptsProfile:
    """`cpts` comes from `accounts.scoping.get_cpts_for_user`."""
    grids = latest_grids()
    all_campaigns = list(campaigns().order_by("year", "opens_on"))
    results = _results_for(cpts_ids=[cpts.pk], campaigns=all_campaigns, grids=grids)[cpts.pk]
    indicators = {i.year: i for i in TerritoryIndicator.objects.filter(cpts=cpts)}
    years = sorted(set(indicators) | {c.year for c in all_campaigns})
    year_rows = [
        YearRow(year, indicators.get(year), [r for r in results if r.campaign.year == year])
        for year in years
    ]
    scored = [r for r in results if r.score is not None]
    radar = _radar_against_region(cpts, scored[-1], grids) if scored else None
    return CptsProfile(cpts=cpts, results=results, years=year_rows, radar=radar)


def campaign_results(*, cpts: list[Cpts], campaign: Campaign) -> dict[int, CampaignResult]:
    """One campaign's results for a few CPTS (the compare page), by CPTS id."""
    results = _results_for(
        cpts_ids=[c.pk for c in cpts], campaigns=[campaign], grids=latest_grids()
    )
    return {cpts_id: found[0] for cpts_id, found in results.items()}


def subdimensions_of(campaign: Campaign) -> list[SubDimension]:
    return list(
        SubDimension.objects.filter(dimension__version=campaign.questionnaire_id)
        .select_related("dimension")
        .order_by("dimension__position", "position")
    )


def _results_for(
    *, cpts_ids: list[int], campaigns: list[Campaign], grids: dict[int, ScoringGrid]
) -> dict[int, list[CampaignResult]]:
    responses = {
        (r.cpts_id, r.campaign_id): r
        for r in Response.objects.filter(cpts_id__in=cpts_ids, campaign__in=campaigns)
        .select_related("campaign")
        .prefetch_related(
            Prefetch(
                "scores",
                ResponseScore.objects.filter(grid__in=[g.pk for g in grids.values()])
                .select_related("grid")
                .prefetch_related(
                    Prefetch(
                        "areas",
                        AreaScore.objects.select_related("dimension", "subdimension"),
                    )
                ),
            )
        )
    }
    dimensions: dict[int, list[Dimension]] = defaultdict(list)
    for dimension in Dimension.objects.filter(
        version__in={c.questionnaire_id for c in campaigns}
    ).order_by("position"):
        dimensions[dimension.version_id].append(dimension)
    results: dict[int, list[CampaignResult]] = {}
    for cpts_id in cpts_ids:
        results[cpts_id] = []
        for campaign in campaigns:
            response = responses.get((cpts_id, campaign.pk))
            score = None
            if response is not None and response.status == Response.Status.SUBMITTED:
                grid = grids.get(campaign.questionnaire_id)
                score = next((s for s in response.scores.all() if s.grid == grid), None)
            result = CampaignResult(
                campaign, response, score, dimensions[campaign.questionnaire_id]
            )
            if score is not None:
                result.areas = {a.key: a.value for a in score.areas.all()}
            results[cpts_id].append(result)
    return results


def _radar_against_region(
    cpts: Cpts, result: CampaignResult, grids: dict[int, ScoringGrid]
) -> RadarComparison:
    """The CPTS's sub-dimensions against the median of the other CPTS of its region."""
    subdimensions = subdimensions_of(result.campaign)
    assert result.response is not None  # a scored result has its response
    peers = peer_medians(
        response=result.response,
        grid=grids[result.campaign.questionnaire_id],
        region_id=cpts.department.region_id,
    )
    return RadarComparison(
        result=result,
        subdimensions=subdimensions,
        values=[result.subdimension_value(s) for s in subdimensions],
        medians=[peers.areas.get(subdimension_key(s.code)) for s in subdimensions],
        peer_count=peers.count,
    )


def _rounded(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT)
