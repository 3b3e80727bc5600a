from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.views.decorators.http import require_GET, require_POST

from accounts.access import gate
from accounts.scoping import (
    can_fill_questionnaires,
    can_manage_campaigns,
    can_manage_team,
    can_read_responses,
    can_submit,
    cpts_coordinated_by,
    get_response_for_user,
    responses_editable_by,
)
from questionnaire import extensions, selectors, services
from questionnaire.models import Answer, Campaign, Question, Response
from questionnaire.postdata import read_answer, read_identifier, read_revision
from questionnaire.presentation import answer_label, answers_by_dimension, section_fields
from questionnaire.rules import AnswerInvalid


@gate(can_fill_questionnaires)
@require_GET
def my_cpts(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "questionnaire/my_cpts.html",
        {
            "overview": selectors.coordinator_overview(request.user),
            "can_manage_team": can_manage_team(request.user),
        },
    )


@gate(can_fill_questionnaires)
@require_POST
def start(request: HttpRequest, campaign_slug: str, cpts_pk: int) -> HttpResponse:
    cpts = get_object_or_404(cpts_coordinated_by(request.user), pk=cpts_pk)
    campaign = get_object_or_404(Campaign, slug=campaign_slug)
    try:
        response = services.response_start(
            cpts=cpts,
            campaign=campaign,
            user=request.user,
            carry_over=request.POST.get("reprendre") == "1",
        )
    except services.ResponseNotEditable as error:
        messages.error(request, str(error))
        return redirect("questionnaire:my_cpts")
    if url := extensions.first_screen(request.user, response):
        return redirect(url)
    state = selectors.response_state(response)
    first_open = next((s for s in state.sections if not s.complete), state.sections[0])
    return redirect("questionnaire:section", pk=response.pk, code=first_open.code)


@gate(can_fill_questionnaires)
def section(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    response = get_response_for_user(request.user, pk, write=True)
    return section_page(
        request,
        pk=pk,
        code=code,
        load_state=lambda: selectors.response_state(response),
        save=lambda current, state: _save_section(request, response, current, state),
        section_url_name="questionnaire:section",
        review_url_name="questionnaire:review",
        context={"response": response},
    )


def section_page(
    request: HttpRequest,
    *,
    pk: int,
    code: str,
    load_state: Callable[[], selectors.ResponseState],
    save: Callable[[selectors.Section, selectors.ResponseState], dict[int, str]],
    section_url_name: str,
    review_url_name: str,
    context: dict,
) -> HttpResponse:
    """One section's page, for the official response and for a rater's own answers alike:
    show it, or save it and go to the previous or next section, or to the review, as asked.

    A section with refused answers is shown again (400) with the refusals, the valid answers
    kept."""
    state = load_state()
    current = state.section(code)
    if current is None:
        raise Http404
    errors: dict[int, str] = {}
    if request.method == "POST":
        errors = save(current, state)
        if not errors:
            previous, following = state.neighbours(current)
            if "precedent" in request.POST and previous:
                return redirect(section_url_name, pk=pk, code=previous.code)
            if following and "suivant" in request.POST:
                return redirect(section_url_name, pk=pk, code=following.code)
            return redirect(review_url_name, pk=pk)
        state = load_state()
        current = state.section(code)
    previous, following = state.neighbours(current)
    return render(
        request,
        "questionnaire/section.html",
        {
            **context,
            "state": state,
            "section": current,
            "previous": previous,
            "following": following,
            "fields": section_fields(current, state, request.POST if errors else None, errors),
            "section_carried": sum(q.id in state.carried for q in current.questions),
            "error_count": len(errors),
        },
        status=400 if errors else 200,
    )


@gate(can_fill_questionnaires)
@require_POST
def confirm_carried(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    """Confirm, as they are, the answers of one section taken over from the previous campaign."""
    response = get_response_for_user(request.user, pk, write=True)
    current = selectors.response_state(response).section(code)
    if current is None:
        raise Http404
    try:
        confirmed = services.carried_confirm(
            response=response, questions=current.questions, user=request.user
        )
    except (AnswerInvalid, services.AnswerConflict, services.ResponseNotEditable) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{confirmed} réponse(s) reprise(s) confirmée(s).")
    return redirect("questionnaire:section", pk=pk, code=code)


def _save_section(request, response, current, state) -> dict[int, str]:
    """Save every question of the section; valid answers are kept even if others fail."""
    errors: dict[int, str] = {}
    for question in current.questions:
        value, other = read_answer(question, request.POST)
        try:
            revision = read_revision(question, request.POST)
            services.answer_save(
                response=response,
                question=question,
                value=value,
                other_text=other,
                expected_revision=revision,
                user=request.user,
            )
        except (AnswerInvalid, services.AnswerConflict) as error:
            errors[question.id] = str(error)
        except services.ResponseNotEditable as error:
            messages.error(request, str(error))
            break
    return errors


@gate(can_fill_questionnaires)
@require_POST
def autosave(request: HttpRequest, pk: int) -> JsonResponse:
    def read(question: Question) -> tuple[Any, str, int]:
        value, other = read_answer(question, request.POST)
        return value, other, read_revision(question, request.POST)

    try:
        saved = services.answer_autosave(
            user=request.user,
            response_id=pk,
            question_id=read_identifier(request.POST.get("question")) or 0,
            read=read,
        )
    except services.ResponseOutOfReach as error:
        return JsonResponse({"status": "locked", "error": str(error)}, status=404)
    except AnswerInvalid as error:
        return JsonResponse({"status": "invalid", "error": str(error)}, status=400)
    except services.ResponseNotEditable as error:
        return JsonResponse({"status": "locked", "error": str(error)}, status=409)
    except services.AnswerConflict as conflict:
        return JsonResponse(_conflict_payload(conflict.question, conflict.current), status=409)
    return JsonResponse(
        {
            "status": "saved",
            "revision": saved.answer.revision if saved.answer else 0,
            "answered": saved.progress.answered,
            "applicable": saved.progress.applicable,
            "percent": saved.progress.percent,
        }
    )


def _conflict_payload(question: Question, current: Answer | None) -> dict:
    who, when, label = "un autre membre", "", "aucune réponse (effacée)"
    if current is not None:
        if current.updated_by is not None:
            who = current.updated_by.display_name
        when = formats.date_format(current.updated_at.astimezone(), "j F Y à H:i")
        label = answer_label(question, current.value, current.other_text)
    return {
        "status": "conflict",
        "error": (
            f"Cette réponse a été modifiée par {who}{' le ' + when if when else ''} : "
            f"« {label} ». Votre saisie n'a pas été enregistrée ; vérifiez puis modifiez "
            "si besoin."
        ),
        "revision": current.revision if current else 0,
        "value": current.value if current else None,
        "other_text": current.other_text if current else "",
    }


@gate(can_read_responses)
@require_GET
def review(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_response_for_user(request.user, pk)
    state = selectors.response_state(response)
    editable = responses_editable_by(request.user).filter(pk=pk).exists()
    return render(
        request,
        "questionnaire/review.html",
        {
            "response": response,
            "state": state,
            "dimensions": answers_by_dimension(state),
            "editable": editable,
            "can_submit": editable and can_submit(request.user),
            "can_manage": can_manage_campaigns(request.user),
        },
    )


@gate(can_submit)
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_response_for_user(request.user, pk, write=True)
    try:
        services.response_submit(response=response, user=request.user)
    except (services.ResponseIncomplete, services.ResponseNotEditable) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Merci ! Votre questionnaire a été soumis.")
    return redirect("questionnaire:review", pk=pk)


@gate(can_manage_campaigns)
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_response_for_user(request.user, pk)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, "Indiquez le motif de la réouverture.")
        return redirect("questionnaire:review", pk=pk)
    try:
        services.response_reopen(response=response, user=request.user, reason=reason)
    except services.ResponseNotEditable as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "La réponse a été rouverte ; la réouverture est enregistrée.")
    return redirect("questionnaire:review", pk=pk)


@gate(can_manage_campaigns)
@require_GET
def history(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_response_for_user(request.user, pk)
    questions = {q.id: q for q in selectors.questions_of(response.campaign.questionnaire)}
    answer_changes = [
        (
            record,
            questions[record.question_id],
            answer_label(questions[record.question_id], record.value, record.other_text),
        )
        for record in Answer.history.filter(response_id=pk)
        .select_related("history_user")
        .order_by("-history_date")
    ]
    status_changes = (
        Response.history.filter(id=pk).select_related("history_user").order_by("-history_date")
    )
    return render(
        request,
        "questionnaire/history.html",
        {
            "response": response,
            "answer_changes": answer_changes,
            "status_changes": status_changes,
            "review_url": reverse("questionnaire:review", args=[pk]),
        },
    )
