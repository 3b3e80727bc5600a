from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import gate
from accounts.scoping import (
    can_plan,
    can_read_plans,
    can_share_plans,
    can_view_plan_counts,
    get_plan_response_for_user,
    get_response_for_user,
    plan_responses_editable_by,
    responses_editable_by,
)
from improvement import charts, selectors, services
from improvement.forms import ActionForm
from improvement.models import Action
from questionnaire import selectors as questionnaire_selectors
from questionnaire.models import Response
from scoring import selectors as scoring_selectors
from scoring.views import grid_from_query

# The Île-de-France pilot of the maturity matrix found that plans covering the whole matrix
# stall: the plan page nudges towards this many open actions at most.
PRIORITY_LIMIT = 3


@gate()
@require_GET
def pistes(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_response_for_user(request.user, pk)
    grid = grid_from_query(request, response)
    data = None
    if grid is not None and response.status == Response.Status.SUBMITTED:
        data = selectors.pistes_for(response=response, grid=grid)
    editable = _plan_context(request, response)
    return render(
        request,
        "improvement/pistes.html",
        {"response": response, "grid": grid, "pistes": data, **editable},
    )


def _plan_context(request: HttpRequest, response: Response) -> dict:
    """Whether the user may add to this response's plan, and the suggestions already in it."""
    can_edit = plan_responses_editable_by(request.user).filter(pk=response.pk).exists()
    plan = selectors.plan_of(response) if can_edit else None
    keys = set(plan.actions.values_list("suggestion_key", flat=True)) if plan else set()
    return {"can_edit": can_edit, "planned_keys": keys}


@gate(can_read_plans)
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    write = request.method == "POST"
    response = get_plan_response_for_user(request.user, pk, write=write)
    can_edit = can_plan(request.user)
    questionnaire_id = response.campaign.questionnaire_id
    form = ActionForm(
        request.POST if write else None, questionnaire_id=questionnaire_id, prefix="nouvelle"
    )
    if write and form.is_valid():
        try:
            services.action_create(response=response, fields=form.fields_value(), user=request.user)
        except services.PlanError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Action ajoutée au plan.")
            return redirect("improvement:plan", pk=pk)
    current_plan = selectors.plan_of(response)
    actions = selectors.plan_actions(current_plan)
    open_count = sum(1 for a in actions if a.is_open)
    return render(
        request,
        "improvement/plan.html",
        {
            "response": response,
            "plan": current_plan,
            "actions": actions,
            "action_forms": [
                (a, ActionForm.for_action(a, questionnaire_id=questionnaire_id)) for a in actions
            ]
            if can_edit
            else [],
            "form": form,
            "can_edit": can_edit,
            "can_share": can_share_plans(request.user),
            "open_count": open_count,
            "too_many": open_count > PRIORITY_LIMIT,
            "priority_limit": PRIORITY_LIMIT,
        },
        status=400 if write else 200,
    )


@gate(can_plan)
@require_POST
def plan_add_suggestions(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_plan_response_for_user(request.user, pk, write=True)
    grid = grid_from_query(request, response)
    if grid is None:
        raise Http404
    try:
        added = services.plan_suggestions_add(
            response=response, grid=grid, keys=request.POST.getlist("suggestion"), user=request.user
        )
    except services.PlanError as error:
        messages.error(request, str(error))
        return redirect("improvement:pistes", pk=pk)
    messages.success(
        request,
        f"{len(added)} action(s) ajoutée(s) au plan : donnez à chacune un responsable et une "
        "échéance.",
    )
    return redirect("improvement:plan", pk=pk)


@gate(can_plan)
@require_POST
def action_update(request: HttpRequest, pk: int, action_pk: int) -> HttpResponse:
    response = get_plan_response_for_user(request.user, pk, write=True)
    action = get_object_or_404(Action, pk=action_pk, plan__response=response)
    form = ActionForm(
        request.POST,
        questionnaire_id=response.campaign.questionnaire_id,
        prefix=f"action-{action.pk}",
    )
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label} : {' '.join(found)}" for name, found in form.errors.items()
        )
        messages.error(request, f"Action non modifiée. {errors}")
        return redirect("improvement:plan", pk=pk)
    services.action_update(action=action, fields=form.fields_value(), user=request.user)
    messages.success(request, "Action enregistrée.")
    return redirect("improvement:plan", pk=pk)


@gate(can_share_plans)
@require_POST
def plan_share(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_plan_response_for_user(request.user, pk, write=True)
    shared = request.POST.get("partage") == "oui"
    services.plan_share(response=response, shared=shared, user=request.user)
    messages.success(
        request,
        "Plan partagé en lecture avec votre ARS et votre CPAM."
        if shared
        else "Plan de nouveau privé : seule votre équipe le voit.",
    )
    return redirect("improvement:plan", pk=pk)


@gate(can_plan)
def plan_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the previous plan stands, asked when the team starts its next response."""
    response = get_object_or_404(responses_editable_by(request.user), pk=pk)
    previous = selectors.plan_needs_review(response)
    if previous is None:
        return _first_section(response)
    actions = selectors.plan_actions(previous)
    if request.method == "POST":
        statuses = {}
        if "passer" not in request.POST:
            for action in actions:
                value = request.POST.get(f"statut-{action.pk}")
                if value is not None:
                    statuses[action.pk] = value
        try:
            services.plan_review(
                plan=previous, next_response=response, statuses=statuses, user=request.user
            )
        except services.PlanError as error:
            messages.error(request, str(error))
        else:
            return _first_section(response)
    return render(
        request,
        "improvement/plan_review.html",
        {
            "response": response,
            "previous": previous,
            "actions": actions,
            "statuses": Action.Status.choices,
        },
    )


def _first_section(response: Response) -> HttpResponse:
    state = questionnaire_selectors.response_state(response)
    first_open = next((s for s in state.sections if not s.complete), state.sections[0])
    return redirect("questionnaire:section", pk=response.pk, code=first_open.code)


@gate(can_view_plan_counts)
@require_GET
def plan_counts(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "improvement/plan_counts.html",
        {
            "counts": selectors.national_action_counts(),
            "statuses": Action.Status.choices,
            "minimum": scoring_selectors.SMALL_CELL_MINIMUM,
        },
    )


@gate()
@require_GET
def evolution(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_response_for_user(request.user, pk)
    comparison = selectors.evolution_for(
        user=request.user,
        response=response,
        other_pk=request.GET.get("comparer"),
        before_grid=request.GET.get("grille_avant"),
        after_grid=request.GET.get("grille_apres"),
        zone=request.GET.get("zone"),
    )
    if comparison is None:
        raise Http404
    context = {"response": response, "comparison": comparison}
    if comparison.decomposition is not None:
        context["figure"] = charts.waterfall_figure(comparison)
    return render(request, "improvement/evolution.html", context)
