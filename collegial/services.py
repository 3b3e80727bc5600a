"""Writes of the collegial assessment. The official answers are only ever written by
`questionnaire.services.answer_save` (rules, revisions, history), with the consensus note."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone

from accounts.models import User
from collegial import selectors
from collegial.models import CollegialAssessment, Rating, RatingAnswer
from mailing.models import SentMessage
from mailing.services import absolute_url, message_send
from questionnaire import services as questionnaire_services
from questionnaire.models import Question, Response
from questionnaire.rules import AnswerInvalid, clean_answer


class CollegialError(Exception):
    """A refused change; the message is for the user (French)."""


def _lock_draft(response: Response) -> Response:
    locked = Response.objects.select_for_update().select_related("campaign").get(pk=response.pk)
    if locked.status != Response.Status.DRAFT:
        raise CollegialError("Cette réponse a été soumise : son mode ne peut plus changer.")
    if not locked.campaign.is_open():
        raise CollegialError("La campagne est close.")
    return locked


@transaction.atomic
def mode_set(
    *, response: Response, user: User, collegial: bool, synthesis_opens_on: dt.date | None
) -> CollegialAssessment | None:
    """Answer the response directly (the default) or collegially, synthesis opening on a date.

    Back to direct is refused once a rater has answered anything: their work would be lost."""
    _lock_draft(response)
    assessment = selectors.assessment_of(response)
    if not collegial:
        if assessment is None:
            return None
        if RatingAnswer.objects.filter(rating__assessment=assessment).exists():
            raise CollegialError(
                "Des évaluateur·rices ont déjà répondu : la réponse reste en mode collégial."
            )
        assessment.delete()
        return None
    if synthesis_opens_on is None:
        raise CollegialError("Indiquez la date d'ouverture de la synthèse.")
    if synthesis_opens_on < timezone.localdate() and (
        assessment is None or assessment.synthesis_opens_on != synthesis_opens_on
    ):
        raise CollegialError("La date d'ouverture de la synthèse ne peut pas être passée.")
    if assessment is None:
        assessment = CollegialAssessment(response=response, created_by=user)
    assessment.synthesis_opens_on = synthesis_opens_on
    assessment.save()
    return assessment


@transaction.atomic
def raters_invite(
    *, assessment: CollegialAssessment, raters: list[User], invited_by: User
) -> list[Rating]:
    """Invite members and coordinators of the CPTS to rate alone; each gets one e-mail."""
    _lock_draft(assessment.response)
    allowed = set(selectors.rater_candidates(assessment.response).values_list("pk", flat=True))
    if any(user.pk not in allowed for user in raters):
        raise CollegialError("Seuls les membres et coordinateur·rices de la CPTS peuvent évaluer.")
    created = []
    for user in raters:
        rating, new = Rating.objects.get_or_create(
            assessment=assessment, rater=user, defaults={"invited_by": invited_by}
        )
        if new:
            created.append(rating)
        _mail(rating, "collegial_invitation", f"collegial-invitation:{assessment.pk}:{user.pk}")
    return created


def _mail(rating: Rating, template: str, key: str) -> SentMessage | None:
    assessment = rating.assessment
    response = assessment.response
    return message_send(
        key=key,
        to=rating.rater.email,
        template=template,
        context={
            "user_name": selectors.display_name(rating.rater),
            "invited_by": selectors.display_name(rating.invited_by) if rating.invited_by else "",
            "cpts_name": response.cpts.name,
            "campaign_name": response.campaign.name,
            "synthesis_date": formats.date_format(assessment.synthesis_opens_on, "j F Y"),
            "rating_url": absolute_url(reverse("collegial:rating", args=[response.pk])),
            "retention_days": settings.COLLEGIAL_RATING_RETENTION_DAYS,
        },
    )


@transaction.atomic
def synthesis_open_now(*, assessment: CollegialAssessment, user: User) -> CollegialAssessment:
    _lock_draft(assessment.response)
    today = timezone.localdate()
    if assessment.synthesis_opens_on > today:
        assessment.synthesis_opens_on = today
        assessment.save(update_fields=["synthesis_opens_on"])
    return assessment


def _lock_rating(rating: Rating) -> Rating:
    locked = (
        Rating.objects.select_for_update(of=("self",))
        .select_related("assessment__response__campaign")
        .get(pk=rating.pk)
    )
    if reason := selectors.rating_editable(locked):
        raise CollegialError(reason)
    return locked


@transaction.atomic
def rating_answer_save(
    *, rating: Rating, question: Question, value: Any, other_text: str, expected_revision: int
) -> RatingAnswer | None:
    """A rater's answer, checked by the questionnaire's own rules; an empty value removes it.
    Each rater writes only their own rating, so a revision mismatch only comes from the same
    rater in two tabs: refused as for the response."""
    locked = _lock_rating(rating)
    if question.version_id != locked.assessment.response.campaign.questionnaire_id:
        raise AnswerInvalid("Cette question n'appartient pas à ce questionnaire.")
    current = RatingAnswer.objects.filter(rating=locked, question=question).first()
    current_revision = current.revision if current else 0
    if questionnaire_services.clears_answer(value):
        if current is not None:
            if expected_revision != current_revision:
                raise CollegialError("Cette réponse a été modifiée dans une autre fenêtre.")
            current.delete()
        return None
    cleaned, other = clean_answer(question, value, other_text)
    if current is not None and (current.value, current.other_text) == (cleaned, other):
        return current
    if expected_revision != current_revision:
        raise CollegialError("Cette réponse a été modifiée dans une autre fenêtre.")
    answer = current or RatingAnswer(rating=locked, question=question, revision=0)
    answer.value, answer.other_text = cleaned, other
    answer.revision += 1
    answer.save()
    return answer


@transaction.atomic
def rating_finish(*, rating: Rating) -> Rating:
    """The "J'ai terminé" button: only with every applicable question answered."""
    locked = _lock_rating(rating)
    missing = len(selectors.rating_state(locked).missing)
    if missing:
        raise CollegialError(
            f"Il reste {missing} question(s) sans réponse : complétez-les avant de terminer."
        )
    locked.finished_at = timezone.now()
    locked.save(update_fields=["finished_at"])
    return locked


@transaction.atomic
def rating_resume(*, rating: Rating) -> Rating:
    """Change one's mind before the synthesis opens."""
    locked = Rating.objects.select_for_update(of=("self",)).get(pk=rating.pk)
    locked.finished_at = None
    if reason := selectors.rating_editable(locked):
        raise CollegialError(reason)
    locked.save(update_fields=["finished_at"])
    return locked


def consensus_note(assessment: CollegialAssessment) -> str:
    day = formats.date_format(timezone.localdate(), "j F Y")
    return f"consensus du {day}, {assessment.rater_count} évaluateurs"


def _require_open_synthesis(assessment: CollegialAssessment) -> None:
    if not assessment.synthesis_is_open():
        raise CollegialError("La synthèse n'est pas encore ouverte.")


def consensus_keep(
    *,
    assessment: CollegialAssessment,
    question: Question,
    value: Any,
    other_text: str,
    expected_revision: int,
    user: User,
):
    """Write one official answer agreed at the synthesis (a rater's answer or any other)."""
    _require_open_synthesis(assessment)
    return questionnaire_services.answer_save(
        response=assessment.response,
        question=question,
        value=value,
        other_text=other_text,
        expected_revision=expected_revision,
        user=user,
        change_reason=consensus_note(assessment),
    )


@transaction.atomic
def consensus_keep_unanimous(*, assessment: CollegialAssessment, user: User) -> int:
    """The "Retenir les réponses unanimes" button: every question all raters answered alike
    becomes the official answer at once (all or nothing). Returns how many were written."""
    _require_open_synthesis(assessment)
    synthesis = selectors.synthesis_of(assessment)
    kept = synthesis.unanimous_to_keep
    for item in kept:
        consensus_keep(
            assessment=assessment,
            question=item.question,
            value=item.unanimous.value,
            other_text=item.unanimous.other_text,
            expected_revision=item.official.revision if item.official else 0,
            user=user,
        )
    return len(kept)


def reminders_send_due(*, today: dt.date | None = None) -> int:
    """Remind raters who have not finished, COLLEGIAL_REMINDER_DAYS_BEFORE days (or fewer)
    before the synthesis opens. Once per rater and synthesis date (message key): running it
    again, or on several workers, sends nothing more."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=settings.COLLEGIAL_REMINDER_DAYS_BEFORE)
    due = Rating.objects.filter(
        finished_at__isnull=True,
        assessment__synthesis_opens_on__gt=today,
        assessment__synthesis_opens_on__lte=horizon,
        assessment__response__status=Response.Status.DRAFT,
    ).select_related("assessment__response__cpts", "assessment__response__campaign", "rater")
    sent = 0
    for rating in due:
        if not rating.assessment.response.campaign.is_open(today):
            continue
        key = (
            f"collegial-reminder:{rating.assessment_id}:{rating.rater_id}:"
            f"{rating.assessment.synthesis_opens_on.isoformat()}"
        )
        sent += _mail(rating, "collegial_reminder", key) is not None
    return sent


@transaction.atomic
def ratings_delete_expired(*, now: dt.datetime | None = None) -> int:
    """Delete the individual ratings of responses submitted more than
    COLLEGIAL_RATING_RETENTION_DAYS ago; the number of raters is kept. Returns how many
    assessments were purged."""
    limit = (now or timezone.now()) - dt.timedelta(days=settings.COLLEGIAL_RATING_RETENTION_DAYS)
    expired = CollegialAssessment.objects.select_for_update().filter(
        ratings_deleted_at__isnull=True,
        response__status=Response.Status.SUBMITTED,
        response__submitted_at__lte=limit,
    )
    purged = 0
    for assessment in expired:
        assessment.deleted_rater_count = assessment.rater_count
        assessment.ratings.all().delete()
        assessment.ratings_deleted_at = timezone.now()
        assessment.save(update_fields=["deleted_rater_count", "ratings_deleted_at"])
        purged += 1
    return purged
