from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from accounts.access import gate
from accounts.scoping import can_view_dashboards, cpts_visible_to, get_cpts_for_user
from campaigns.selectors import response_rate
from cpts_portal.spreadsheet import csv_lines
from dashboards import cache, charts, selectors
from dashboards.forms import CompareForm, CptsFilter, OverviewForm, out_of_scope
from dashboards.tables import OverviewTable
from questionnaire.models import Campaign, ConstraintType, Dimension
from scoring.models import ScoringGrid
from scoring.selectors import SMALL_CELL_MINIMUM
from territories.models import Cpts

TABLE_PAGE_SIZE = 50


@dataclass
class TerritoryQuery:
    form: OverviewForm
    campaign: Campaign
    campaigns: list[Campaign]
    grids: dict[int, ScoringGrid]
    grid: ScoringGrid | None
    dimensions: list[Dimension]
    filterset: CptsFilter
    followed: list[Cpts]

    @property
    def level_labels(self) -> dict[str, str]:
        return self.grid.level_labels if self.grid else {}


def _territory_query(request: HttpRequest) -> TerritoryQuery | None:
    """The campaign, filters and followed CPTS asked for; None when there is no campaign yet.

    A campaign that does not exist, or a territory or CPTS outside the user's scope, is a 404:
    such a URL was not offered to this user."""
    form = OverviewForm(request.GET, cpts=cpts_visible_to(request.user))
    form.is_valid()
    if out_of_scope(form, ("campagne", "suivre")):
        raise Http404
    campaigns = form.campaigns
    campaign = form.cleaned_data.get("campagne") or next(iter(campaigns), None)
    if campaign is None:
        return None
    grids = selectors.latest_grids()
    grid = grids.get(campaign.questionnaire_id)
    dimensions = selectors.dimensions_of(campaign)
    levels = list(grid.level_labels.items()) if grid else []
    filterset = CptsFilter(
        request.GET,
        queryset=selectors.cpts_with_scores(request.user, campaign, grid, dimensions),
        user=request.user,
        levels=levels,
    )
    if not filterset.is_valid() and out_of_scope(filterset.form, CptsFilter.TERRITORY_FIELDS):
        raise Http404
    return TerritoryQuery(
        form=form,
        campaign=campaign,
        campaigns=campaigns,
        grids=grids,
        grid=grid,
        dimensions=dimensions,
        filterset=filterset,
        followed=list(form.cleaned_data.get("suivre", [])),
    )


def _overview_charts(query: TerritoryQuery) -> list[charts.Chart]:
    return cache.overview_charts(
        cpts=query.filterset.qs,
        campaign=query.campaign,
        campaigns=query.campaigns,
        grids=query.grids,
        dimensions=query.dimensions,
        followed=query.followed,
    )


@gate(can_view_dashboards)
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    query = _territory_query(request)
    if query is None:
        return render(request, "dashboards/overview.html", {"query": None})
    table = OverviewTable(
        query.filterset.qs, dimensions=query.dimensions, levels=query.level_labels
    )
    RequestConfig(request, paginate={"per_page": TABLE_PAGE_SIZE}).configure(table)
    return render(
        request,
        "dashboards/overview.html",
        {
            "query": query,
            "table": table,
            # Over the CPTS's ids: the table's per-CPTS subqueries would be computed for nothing.
            "rate": response_rate(
                Cpts.objects.filter(pk__in=query.filterset.qs.values("pk")), query.campaign
            ),
            "charts": _overview_charts(query),
            "minimum": SMALL_CELL_MINIMUM,
        },
    )


@gate(can_view_dashboards)
@require_GET
def chart_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The data of one overview chart, for the same campaign and filters as the page."""
    query = _territory_query(request)
    if query is None:
        raise Http404
    chart = next((c for c in _overview_charts(query) if c.slug == slug), None)
    if chart is None:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{chart.slug}-{query.campaign.slug}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.writelines(csv_lines([chart.table.columns, *chart.table.rows]))
    return response


@gate(can_view_dashboards)
@require_GET
def cpts_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cpts = get_cpts_for_user(request.user, pk)
    profile = selectors.cpts_profile(cpts)
    matrices = [
        (result, charts.result_matrix_figure(result))
        for result in profile.results
        if result.score is not None
    ]
    radar = charts.region_radar_figure(profile.radar, cpts) if profile.radar else None
    return render(
        request,
        "dashboards/cpts.html",
        {
            "profile": profile,
            "cpts": cpts,
            "dimensions": profile.results[-1].dimensions if profile.results else [],
            "matrices": matrices,
            "radar_figure": radar,
            "constraints": ConstraintType.choices,
            "minimum": SMALL_CELL_MINIMUM,
        },
    )


@gate(can_view_dashboards)
@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    scope = cpts_visible_to(request.user)
    form = CompareForm(request.GET or None, cpts=scope)
    context: dict = {"form": form, "constraints": ConstraintType.choices}
    if form.is_bound and out_of_scope(form, ("campagne", "cpts")):
        raise Http404
    if form.is_bound and form.is_valid() and not form.searching:
        campaign = form.cleaned_data["campagne"]
        chosen = list(form.cleaned_data["cpts"])
        results = selectors.campaign_results(cpts=chosen, campaign=campaign)
        pairs = [(cpts, results[cpts.pk]) for cpts in chosen]
        subdimensions = selectors.subdimensions_of(campaign)
        context.update(
            campaign=campaign,
            pairs=pairs,
            dimensions=[
                (d, [r.dimension_value(d) for _cpts, r in pairs])
                for d in selectors.dimensions_of(campaign)
            ],
            subdimensions=[
                (s, [r.subdimension_value(s) for _cpts, r in pairs]) for s in subdimensions
            ],
            matrices=[
                (cpts, result, charts.result_matrix_figure(result, height=280))
                for cpts, result in pairs
                if result.score is not None
            ],
            radar_figure=(
                charts.compare_radar_figure(
                    subdimensions, [(c, r) for c, r in pairs if r.score is not None]
                )
                if any(r.score is not None for _c, r in pairs)
                else None
            ),
        )
    return render(request, "dashboards/compare.html", context)


@gate(can_view_dashboards)
@require_GET
def cpts_search(request: HttpRequest) -> JsonResponse:
    """The CPTS pickers' search as the user types (static/js/cpts_picker.js): matches in scope."""
    matches = selectors.cpts_matching(cpts_visible_to(request.user), request.GET.get("q", "")[:100])
    return JsonResponse(
        {
            "results": [
                {"id": c.pk, "name": c.name, "department": c.department.code} for c in matches
            ]
        }
    )
