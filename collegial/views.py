"""Collegial assessment pages. The rater's section pages are the questionnaire's own template
(`questionnaire/section.html`, `static/js/questionnaire.js`) pointed at the rating's URLs."""

import dataclasses

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from accounts.access import gate
from accounts.scoping import can_lead_collegial_assessment, can_rate
from collegial import selectors, services
from questionnaire.models import Question, Response
from questionnaire.postdata import read_answer, read_revision
from questionnaire.presentation import answer_label, section_fields
from questionnaire.rules import AnswerInvalid
from questionnaire.services import AnswerConflict, ResponseNotEditable
from questionnaire.views import section_page

WRITE_ERRORS = (
    services.CollegialError,
    AnswerInvalid,
    AnswerConflict,
    ResponseNotEditable,
)


@gate(can_lead_collegial_assessment)
def setup(request: HttpRequest, pk: int) -> HttpResponse:
    """The mode of the response, the synthesis date, the raters and who has finished."""
    response = selectors.get_led_response(request.user, pk)
    if request.method == "POST":
        _setup_post(request, response)
        return redirect("collegial:setup", pk=pk)
    assessment = selectors.assessment_of(response)
    ratings = selectors.ratings_of(assessment) if assessment else []
    invited = {r.rater_id for r in ratings}
    return render(
        request,
        "collegial/setup.html",
        {
            "response": response,
            "assessment": assessment,
            "ratings": ratings,
            "candidates": [u for u in selectors.rater_candidates(response) if u.pk not in invited],
            "editable": response.status == Response.Status.DRAFT and response.campaign.is_open(),
            "own_rating": next((r for r in ratings if r.rater_id == request.user.pk), None),
            "retention_days": settings.COLLEGIAL_RATING_RETENTION_DAYS,
        },
    )


def _setup_post(request: HttpRequest, response: Response) -> None:
    action = request.POST.get("action")
    try:
        if action == "mode":
            collegial = request.POST.get("mode") == "collegial"
            raw = request.POST.get("synthesis_opens_on", "")
            try:
                day = parse_date(raw) if raw else None
            except ValueError:
                day = None
            if collegial and raw and day is None:
                raise services.CollegialError("Date invalide : utilisez le format AAAA-MM-JJ.")
            services.mode_set(
                response=response, user=request.user, collegial=collegial, synthesis_opens_on=day
            )
            messages.success(
                request,
                "Mode collégial enregistré." if collegial else "Mode direct enregistré.",
            )
        elif action == "inviter":
            assessment = _assessment_or_404(response)
            ids = [int(v) for v in request.POST.getlist("raters") if v.isdigit()]
            raters = list(selectors.rater_candidates(response).filter(pk__in=ids))
            if not raters:
                raise services.CollegialError("Choisissez au moins une personne à inviter.")
            created = services.raters_invite(
                assessment=assessment, raters=raters, invited_by=request.user
            )
            messages.success(request, f"{len(created)} évaluateur·rice(s) invité·e(s) par e-mail.")
        else:
            messages.error(request, "Action inconnue.")
    except services.CollegialError as error:
        messages.error(request, str(error))


def _assessment_or_404(response: Response):
    assessment = selectors.assessment_of(response)
    if assessment is None:
        raise Http404
    return assessment


@gate(can_lead_collegial_assessment)
@require_POST
def synthesis_open(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = selectors.get_led_assessment(request.user, pk)
    try:
        services.synthesis_open_now(assessment=assessment, user=request.user)
    except services.CollegialError as error:
        messages.error(request, str(error))
        return redirect("collegial:setup", pk=pk)
    return redirect("collegial:synthesis", pk=pk)


# --- Individual rating ---------------------------------------------------------------


@gate(can_rate)
@require_GET
def rating(request: HttpRequest, pk: int) -> HttpResponse:
    """The rater's review of their own answers, and "J'ai terminé"."""
    own = selectors.get_own_rating(request.user, pk)
    state = selectors.rating_state(own)
    dimensions: dict = {}
    for current in state.sections:
        rows = [
            (
                question,
                question.id in state.applicable_ids,
                answer_label(
                    question,
                    state.answers[question.id].value,
                    state.answers[question.id].other_text,
                )
                if question.id in state.answers
                else None,
            )
            for question in current.questions
        ]
        dimensions.setdefault(current.subdimension.dimension, []).append((current, rows))
    return render(
        request,
        "collegial/rating.html",
        {
            "rating": own,
            "response": own.assessment.response,
            "assessment": own.assessment,
            "state": state,
            "dimensions": dimensions,
            "locked_reason": selectors.rating_editable(own),
            "retention_days": settings.COLLEGIAL_RATING_RETENTION_DAYS,
        },
    )


@gate(can_rate)
def rating_section(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    own = selectors.get_own_rating(request.user, pk)
    if selectors.rating_editable(own):
        return redirect("collegial:rating", pk=pk)
    return section_page(
        request,
        pk=pk,
        code=code,
        load_state=lambda: selectors.rating_state(own),
        save=lambda current, _state: _save_rating_section(request, own, current),
        section_url_name="collegial:rating_section",
        review_url_name="collegial:rating",
        context={
            "response": own.assessment.response,
            "section_url_name": "collegial:rating_section",
            "review_url_name": "collegial:rating",
            "autosave_url_name": "collegial:rating_autosave",
            # The autosave client keeps unacknowledged answers in the browser under this key:
            # never the official response's, or a rater's answer could reach it.
            "autosave_key": f"rating-{own.pk}",
            "review_label": "Relire mon évaluation",
            "section_notice": (
                "Mon évaluation individuelle : vos réponses ne sont vues de personne d'autre "
                "avant l'ouverture de la synthèse."
            ),
        },
    )


def _save_rating_section(request, own, current) -> dict[int, str]:
    errors: dict[int, str] = {}
    for question in current.questions:
        value, other = read_answer(question, request.POST)
        try:
            services.rating_answer_save(
                rating=own,
                question=question,
                value=value,
                other_text=other,
                expected_revision=read_revision(question, request.POST),
            )
        except AnswerInvalid as error:
            errors[question.id] = str(error)
        except services.CollegialError as error:
            messages.error(request, str(error))
            break
    return errors


@gate(can_rate)
@require_POST
def rating_autosave(request: HttpRequest, pk: int) -> JsonResponse:
    """Same request and answer as the response's autosave, so questionnaire.js serves both."""
    own = selectors.get_own_rating(request.user, pk)
    question_id = request.POST.get("question", "")
    question = (
        Question.objects.filter(
            pk=int(question_id) if question_id.isdigit() else 0,
            version_id=own.assessment.response.campaign.questionnaire_id,
        )
        .prefetch_related("options")
        .first()
    )
    if question is None:
        return JsonResponse({"status": "invalid", "error": "Question inconnue."}, status=400)
    value, other = read_answer(question, request.POST)
    try:
        answer = services.rating_answer_save(
            rating=own,
            question=question,
            value=value,
            other_text=other,
            expected_revision=read_revision(question, request.POST),
        )
    except AnswerInvalid as error:
        return JsonResponse({"status": "invalid", "error": str(error)}, status=400)
    except services.CollegialError as error:
        return JsonResponse({"status": "locked", "error": str(error)}, status=409)
    state = selectors.rating_state(own)
    return JsonResponse(
        {
            "status": "saved",
            "revision": answer.revision if answer else 0,
            "answered": state.answered,
            "applicable": state.applicable,
            "percent": state.percent,
        }
    )


@gate(can_rate)
@require_POST
def rating_finish(request: HttpRequest, pk: int) -> HttpResponse:
    own = selectors.get_own_rating(request.user, pk)
    try:
        services.rating_finish(rating=own)
    except services.CollegialError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Merci ! Votre évaluation est terminée.")
    return redirect("collegial:rating", pk=pk)


@gate(can_rate)
@require_POST
def rating_resume(request: HttpRequest, pk: int) -> HttpResponse:
    own = selectors.get_own_rating(request.user, pk)
    try:
        services.rating_resume(rating=own)
    except services.CollegialError as error:
        messages.error(request, str(error))
    return redirect("collegial:rating", pk=pk)


# --- Synthesis -----------------------------------------------------------------------


@gate(can_lead_collegial_assessment)
@require_GET
def synthesis(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = selectors.get_led_assessment(request.user, pk)
    response = assessment.response
    context = {
        "assessment": assessment,
        "response": response,
        "ratings": selectors.ratings_of(assessment),
        "only_divergent": request.GET.get("divergences") == "1",
        "show_names": request.GET.get("noms") == "1",
    }
    if assessment.synthesis_is_open():
        data = selectors.synthesis_of(assessment)
        state = selectors.response_state(response)
        context["synthesis"] = data
        context["editable"] = (
            response.status == Response.Status.DRAFT and response.campaign.is_open()
        )
        # The "any other value" field of each question: the questionnaire's own field.
        # Shown whatever the official answers make applicable: the team decides.
        context["fields"] = {
            f.question.id: dataclasses.replace(f, applicable=True)
            for section in state.sections
            for f in section_fields(section, state, None, {})
        }
        context["spread_percent"] = round(100 * settings.COLLEGIAL_NUMBER_SPREAD)
    return render(request, "collegial/synthesis.html", context)


@gate(can_lead_collegial_assessment)
@require_POST
def synthesis_keep(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Retenir cette réponse" button (or another value): one official answer, with the
    consensus note in its history."""
    assessment = selectors.get_led_assessment(request.user, pk)
    question_id = request.POST.get("question", "")
    question = get_object_or_404(
        Question.objects.prefetch_related("options"),
        pk=int(question_id) if question_id.isdigit() else 0,
        version_id=assessment.response.campaign.questionnaire_id,
    )
    value, other = read_answer(question, request.POST)
    try:
        services.consensus_keep(
            assessment=assessment,
            question=question,
            value=value,
            other_text=other,
            expected_revision=read_revision(question, request.POST),
            user=request.user,
        )
    except WRITE_ERRORS as error:
        messages.error(request, f"Q{question.number} : {error}")
    else:
        messages.success(request, f"Q{question.number} : réponse retenue.")
    return redirect(_synthesis_url(request, pk, question))


def _synthesis_url(request: HttpRequest, pk: int, question: Question | None = None) -> str:
    url = reverse("collegial:synthesis", args=[pk])
    if request.POST.get("divergences") == "1":
        url += "?divergences=1"
    return url + (f"#synthese-q{question.number}" if question else "")


@gate(can_lead_collegial_assessment)
@require_POST
def synthesis_keep_unanimous(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = selectors.get_led_assessment(request.user, pk)
    try:
        kept = services.consensus_keep_unanimous(assessment=assessment, user=request.user)
    except WRITE_ERRORS as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{kept} réponse(s) unanime(s) retenue(s).")
    return redirect(_synthesis_url(request, pk))


@gate(can_lead_collegial_assessment)
@require_GET
def agenda(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable agenda of the team meeting: only the divergent questions."""
    assessment = selectors.get_led_assessment(request.user, pk)
    data = selectors.synthesis_of(assessment) if assessment.synthesis_is_open() else None
    return render(
        request,
        "collegial/agenda.html",
        {
            "assessment": assessment,
            "response": assessment.response,
            "synthesis": data,
            "today": timezone.localdate(),
        },
    )
