"""What this app adds to the questionnaire and results pages, through their extension points."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from accounts import scoping
from accounts.models import User
from improvement import selectors
from questionnaire import extensions as questionnaire_extensions
from questionnaire.models import Response
from scoring import extensions as scoring_extensions
from scoring.models import ScoringGrid


def plan_review_screen(user: User, response: Response) -> str | None:
    """ "Où en êtes-vous de votre plan ?" before the first section of the next campaign."""
    if not scoping.can_plan(user) or selectors.plan_needs_review(response) is None:
        return None
    return reverse("improvement:plan_review", kwargs={"pk": response.pk})


def results_panel(request: HttpRequest, response: Response, grid: ScoringGrid) -> SafeString:
    readable = scoping.plan_responses_readable_by(request.user)
    previous = selectors.previous_plan(response)
    follow_up = []
    if previous is not None and readable.filter(pk=previous.response_id).exists():
        follow_up = selectors.plan_follow_up(previous, response, grid)
    return render_to_string(
        "improvement/_results_panel.html",
        {
            "response": response,
            "grid": grid,
            "can_plan": scoping.plan_responses_editable_by(request.user)
            .filter(pk=response.pk)
            .exists(),
            "plan_readable": readable.filter(pk=response.pk).exists(),
            "follow_up": follow_up,
            "previous_plan": previous,
            "has_earlier": selectors.earlier_response(request.user, response) is not None,
        },
        request=request,
    )


def register() -> None:
    questionnaire_extensions.register_first_screen(plan_review_screen)
    scoring_extensions.register_results_panel(results_panel)
