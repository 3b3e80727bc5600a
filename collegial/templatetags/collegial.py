"""Collegial assessment on the questionnaire's and the results' pages, one line each:
`{% collegial_status response %}` (the mention "évaluation collégiale, n évaluateurs" for every
reader, the team's links) and `{% collegial_disagreement response grid %}` (team only)."""

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join

from accounts.scoping import can_lead_collegial_assessment
from collegial import selectors
from questionnaire.models import Question
from questionnaire.postdata import field_name

register = template.Library()


def _on_team(user, response) -> bool:
    return selectors.team_responses(user).filter(pk=response.pk).exists()


@register.inclusion_tag("collegial/_status.html", takes_context=True)
def collegial_status(context, response) -> dict:
    user = context["request"].user
    assessment = selectors.assessment_of(response) if response is not None else None
    on_team = response is not None and _on_team(user, response)
    return {
        "response": response,
        "assessment": assessment,
        "rater_count": assessment.rater_count if assessment else 0,
        "on_team": on_team,
        "leads": on_team and can_lead_collegial_assessment(user),
        "rating": selectors.rating_of(user, response) if on_team and assessment else None,
    }


@register.inclusion_tag("collegial/_disagreement.html", takes_context=True)
def collegial_disagreement(context, response, grid) -> dict:
    """Never outside the team; nothing for a direct response or once ratings are deleted."""
    user = context["request"].user
    assessment = selectors.assessment_of(response)
    if assessment is None or grid is None or not _on_team(user, response):
        return {"disagreement": None, "assessment": None}
    return {
        "assessment": assessment,
        "disagreement": selectors.disagreement_of(assessment, grid),
    }


@register.simple_tag
def keep_inputs(question: Question, value: Any, other_text: str = ""):
    """Hidden fields posting `value` as the section form would (`questionnaire.postdata`)."""
    if question.type == Question.Type.ROLE_TABLE:
        pairs = [(field_name(question, row), code) for row, code in (value or {}).items()]
    elif isinstance(value, list):
        pairs = [(field_name(question), code) for code in value]
    else:
        pairs = [(field_name(question), value)]
    if other_text:
        pairs.append((field_name(question, "other"), other_text))
    return format_html_join(
        "", '<input type="hidden" name="{}" value="{}">', ((n, v) for n, v in pairs)
    )


@register.filter
def field_of(fields: dict, question_id: int):
    return fields.get(question_id)


@register.filter
def score1(value) -> str:
    """A score (a fraction) with one decimal, French style; "—" when not assessed."""
    if value is None:
        return "—"
    return format_html("{}", f"{float(value):.1f}".replace(".", ","))
