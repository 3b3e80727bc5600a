"""Everything the portal holds on one user ("Télécharger mes données", GDPR art. 15 and 20).

It sits after every app that holds something written by or sent to a user (answers,
individual ratings, plan actions, export files, e-mails) and reads them; none reads it.
"""

from typing import Any

from django.utils import timezone

from accounts.models import User
from accounts.selectors import has_second_factor, recovery_codes_left
from collegial.models import Rating
from exports.models import ExportJob
from improvement.models import Action
from mailing.models import SentMessage
from questionnaire.models import Answer, Response
from questionnaire.presentation import answer_label

HISTORY_ACTIONS = {"+": "création", "~": "modification", "-": "suppression"}


def _response_fields(response: Response) -> dict[str, Any]:
    return {
        "response_id": response.pk,
        "campaign": response.campaign.slug,
        "cpts_code": response.cpts.code,
        "cpts_name": response.cpts.name,
    }


def personal_data(user: User) -> dict[str, Any]:
    """Everything the portal holds on `user` that is about them or was written by them
    ("Télécharger mes données"): the account, its memberships, the responses they submitted,
    the answers they last changed, every history row they are the author of, their individual
    ratings, the plan actions they wrote, the files they asked for and the e-mails sent to
    them (subject and date: a body may hold a sign-in link, a secret)."""
    answers = (
        Answer.objects.filter(updated_by=user)
        .select_related("question", "response__campaign", "response__cpts")
        .prefetch_related("question__options")
        .order_by("response_id", "question__number")
    )
    answer_history = (
        Answer.history.filter(history_user=user)
        .select_related("question", "response__campaign", "response__cpts")
        .prefetch_related("question__options")
        .order_by("history_date", "history_id")
    )
    response_history = (
        Response.history.filter(history_user=user)
        .select_related("campaign", "cpts")
        .order_by("history_date", "history_id")
    )
    ratings = (
        Rating.objects.filter(rater=user)
        .select_related("assessment__response__campaign", "assessment__response__cpts")
        .prefetch_related("answers__question__options")
        .order_by("invited_at", "pk")
    )
    actions = (
        Action.objects.filter(created_by=user)
        .select_related("plan__response__campaign", "plan__response__cpts", "subdimension")
        .order_by("created_at", "pk")
    )
    # An account without an address (some territory staff) was never sent anything.
    messages = (
        SentMessage.objects.filter(to__iexact=user.email).order_by("created_at", "pk")
        if user.email
        else SentMessage.objects.none()
    )
    submitted = (
        Response.objects.filter(submitted_by=user)
        .select_related("campaign", "cpts")
        .order_by("submitted_at")
    )
    return {
        "generated_at": timezone.now(),
        "account": {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "role": user.role,
            "role_label": user.get_role_display(),
            "region": user.region.name if user.region_id else None,
            "department": user.department.name if user.department_id else None,
            "is_active": user.is_active,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "second_factor": {
                "totp_app": has_second_factor(user),
                "recovery_codes_left": recovery_codes_left(user),
            },
        },
        "memberships": [
            {
                "cpts_code": membership.cpts.code,
                "cpts_name": membership.cpts.name,
                "since": membership.created_at,
            }
            for membership in user.memberships.select_related("cpts").order_by("cpts__code")
        ],
        "responses_submitted": [
            {**_response_fields(response), "submitted_at": response.submitted_at}
            for response in submitted
        ],
        "answers": [
            {
                **_response_fields(answer.response),
                "question": answer.question.number,
                "question_text": answer.question.text,
                "value": answer.value,
                "other_text": answer.other_text,
                "label": answer_label(answer.question, answer.value, answer.other_text),
                "revision": answer.revision,
                "updated_at": answer.updated_at,
            }
            for answer in answers
        ],
        "answer_history": [
            {
                **_response_fields(record.response),
                "date": record.history_date,
                "action": HISTORY_ACTIONS[record.history_type],
                "question": record.question.number,
                "value": record.value,
                "other_text": record.other_text,
                "label": answer_label(record.question, record.value, record.other_text),
            }
            for record in answer_history
        ],
        "response_history": [
            {
                **_response_fields(record),
                "date": record.history_date,
                "action": HISTORY_ACTIONS[record.history_type],
                "status": record.status,
                "reason": record.history_change_reason or "",
            }
            for record in response_history
        ],
        "ratings": [
            {
                **_response_fields(rating.assessment.response),
                "invited_at": rating.invited_at,
                "finished_at": rating.finished_at,
                "answers": [
                    {
                        "question": answer.question.number,
                        "value": answer.value,
                        "other_text": answer.other_text,
                        "label": answer_label(answer.question, answer.value, answer.other_text),
                    }
                    for answer in sorted(rating.answers.all(), key=lambda a: a.question.number)
                ],
            }
            for rating in ratings
        ],
        "plan_actions": [
            {
                **_response_fields(action.plan.response),
                "title": action.title,
                "subdimension": action.subdimension.code if action.subdimension_id else None,
                "owner_name": action.owner_name,
                "due_on": action.due_on,
                "status": action.status,
                "means": action.means,
                "indicator": action.indicator,
                "notes": action.notes,
                "created_at": action.created_at,
            }
            for action in actions
        ],
        "export_files": [
            {
                "filename": job.filename,
                "parameters": job.parameters,
                "status": job.status,
                "created_at": job.created_at,
                "expires_at": job.expires_at,
            }
            for job in ExportJob.objects.filter(requested_by=user).order_by("created_at", "pk")
        ],
        "emails_received": [
            {
                "date": message.sent_at or message.created_at,
                "subject": message.subject,
                "template": message.template,
                "status": message.status,
            }
            for message in messages
        ],
    }
