from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import gate
from accounts.scoping import get_response_for_user
from questionnaire.models import Response
from scoring import charts, extensions, selectors
from scoring.models import ScoringGrid


@gate()
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    rows = selectors.scored_responses_visible_to(request.user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "scoring/index.html", {"page": page})


@gate()
@require_GET
def results(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_response_for_user(request.user, pk)
    grid = grid_from_query(request, response)
    data = None
    if grid is not None and response.status == Response.Status.SUBMITTED:
        data = selectors.results_for(user=request.user, response=response, grid=grid)
    context = {
        "response": response,
        "grid": grid,
        "results": data,
        "grid_query": bool(request.GET.get("grille")),
        "peer_minimum": selectors.SMALL_CELL_MINIMUM,
    }
    if data is not None:
        dimension_labels = {row.dimension.code: row.dimension.label for row in data.matrix}
        context["figures"] = {
            "matrix": charts.matrix_figure(data.matrix, data.constraints),
            "radar": charts.radar_figure(data.subdimensions, with_median=data.peers.shown),
            "evolution": (
                charts.evolution_figure(data.history, dimension_labels)
                if len(data.history) > 1
                else None
            ),
        }
        context["dimension_labels"] = dimension_labels
        context["other_grids"] = selectors.grids_with_scores(response).exclude(pk=grid.pk)
        context["panels"] = extensions.results_panels(request, response, grid)
    return render(request, "scoring/results.html", context)


@gate()
@require_GET
def explanation(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_response_for_user(request.user, pk)
    grid = grid_from_query(request, response)
    data = None
    if grid is not None and response.status == Response.Status.SUBMITTED:
        data = selectors.explanation_for(response=response, grid=grid)
    return render(
        request,
        "scoring/explanation.html",
        {
            "response": response,
            "grid": grid,
            "explanation": data,
            "grid_query": bool(request.GET.get("grille")),
        },
    )


def grid_from_query(request: HttpRequest, response: Response) -> ScoringGrid | None:
    """The grid asked for with ?grille=<version>, else the latest one of the questionnaire."""
    code = request.GET.get("grille")
    grid = selectors.grid_for(response.campaign.questionnaire, code)
    if code and grid is None:
        raise Http404
    return grid
