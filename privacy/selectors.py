"""Everything the portal holds on one user ("Télécharger mes données", GDPR art. 15 and 20).

Below `questionnaire` in the dependency order: it reads the account and the answers.
"""

from typing import Any

from django.utils import timezone

from accounts.models import User
from accounts.selectors import has_second_factor, recovery_codes_left
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
    the answers they last changed and every history row they are the author of."""
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
    }
