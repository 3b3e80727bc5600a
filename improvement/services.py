"""Writes for the improvement app: load a recommendations version, write and share plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from improvement.library import LibraryError, read_library_file, validate_library
from improvement.models import Action, ActionPlan, PlanReview, RecommendationLibrary
from improvement.selectors import latest_library, library_spec
from mailing.services import absolute_url, message_send
from questionnaire.definition import checksum
from questionnaire.models import Response, SubDimension
from scoring.models import ScoringGrid

DEFAULT_LIBRARY_PATH = Path(__file__).resolve().parent / "recommendations" / "miller-2022-v1.yaml"


class LibraryFrozen(Exception):
    """Actions were picked from this version: it may not change any more."""


class PlanError(Exception):
    """A plan change that cannot be made; the message is for the user."""


@dataclass(frozen=True)
class LibraryLoadResult:
    library: RecommendationLibrary
    outcome: str  # "created", "updated" or "unchanged"


@transaction.atomic
def library_load(*, path: str | Path = DEFAULT_LIBRARY_PATH) -> LibraryLoadResult:
    """Validate a recommendations file against its (loaded) grid and questionnaire; store it."""
    data = read_library_file(path)
    grid = ScoringGrid.objects.select_related("questionnaire").filter(code=data.get("grid")).first()
    if grid is None:
        raise LibraryError(
            [
                f"Grille « {data.get('grid')} » inconnue : chargez-la d'abord "
                "(python manage.py load_scoring_grid)."
            ]
        )
    validate_library(data, grid.questionnaire.definition, grid.definition)
    digest = checksum(data)
    library = RecommendationLibrary.objects.filter(code=data["version"]).first()
    if library is not None and library.checksum == digest:
        return LibraryLoadResult(library, "unchanged")
    if library is not None:
        if Action.objects.filter(library=library).exists():
            raise LibraryFrozen(
                f"Les recommandations « {library.code} » ont déjà servi à des plans d'action : "
                "elles ne peuvent plus être modifiées. Publiez le changement dans un nouveau "
                "fichier, avec une nouvelle version."
            )
        outcome = "updated"
    else:
        library = RecommendationLibrary(code=data["version"])
        outcome = "created"
    library.grid = grid
    library.title = data["title"]
    library.checksum = digest
    library.definition = data
    library.loaded_at = timezone.now()
    library.save()
    return LibraryLoadResult(library, outcome)


def _plan_for(response: Response) -> ActionPlan:
    plan, _created = ActionPlan.objects.get_or_create(response=response)
    return plan


@transaction.atomic
def plan_suggestions_add(
    *, response: Response, grid: ScoringGrid, keys: list[str], user: User
) -> list[Action]:
    """Add the library's suggestions (by key) to the response's plan; a key already in the
    plan is not added twice."""
    library = latest_library(grid)
    spec = library_spec(library)
    if spec is None:
        raise PlanError("Aucune recommandation n'est chargée pour cette grille.")
    suggestions = spec.suggestions_by_key()
    unknown = [key for key in keys if key not in suggestions]
    if unknown or not keys:
        raise PlanError("Suggestion inconnue : rechargez la page.")
    plan = _plan_for(response)
    present = set(plan.actions.values_list("suggestion_key", flat=True))
    subdimensions = {
        s.code: s for s in SubDimension.objects.filter(dimension__version=grid.questionnaire_id)
    }
    added = []
    for key in dict.fromkeys(keys):
        if key in present:
            continue
        suggestion = suggestions[key]
        action = Action(
            plan=plan,
            subdimension=subdimensions[suggestion.subdimension],
            title=suggestion.title[:300],
            means=suggestion.detail,
            library=library,
            suggestion_key=key,
            created_by=user,
        )
        action._history_user = user
        action.save()
        added.append(action)
    return added


@dataclass(frozen=True)
class ActionFields:
    subdimension: SubDimension
    title: str
    owner_name: str = ""
    due_on: dt.date | None = None
    means: str = ""
    indicator: str = ""
    status: str = Action.Status.TODO
    notes: str = ""


@transaction.atomic
def action_create(*, response: Response, fields: ActionFields, user: User) -> Action:
    if fields.subdimension.dimension.version_id != response.campaign.questionnaire_id:
        raise PlanError("Cette sous-dimension n'appartient pas à ce questionnaire.")
    action = Action(plan=_plan_for(response), created_by=user)
    return _write(action, fields, user)


@transaction.atomic
def action_update(*, action: Action, fields: ActionFields, user: User) -> Action:
    locked = Action.objects.select_for_update().get(pk=action.pk)
    return _write(locked, fields, user)


def _write(action: Action, fields: ActionFields, user: User) -> Action:
    for name, value in fields.__dict__.items():
        setattr(action, name, value)
    action._history_user = user
    action.save()
    return action


@transaction.atomic
def plan_share(*, response: Response, shared: bool, user: User) -> ActionPlan:
    plan = ActionPlan.objects.select_for_update().filter(pk=_plan_for(response).pk).get()
    if plan.shared_with_territory != shared:
        plan.shared_with_territory = shared
        plan.shared_changed_at = timezone.now()
        plan._history_user = user
        plan.save()
    return plan


@transaction.atomic
def plan_review(
    *, plan: ActionPlan, next_response: Response, statuses: dict[int, str], user: User
) -> PlanReview:
    """Record where the previous plan stands as the team starts its next response: each
    action's status, then the review itself, so that the question is asked once."""
    valid = set(Action.Status.values)
    if any(status not in valid for status in statuses.values()):
        raise PlanError("Statut inconnu.")
    for action in plan.actions.select_for_update().filter(pk__in=statuses):
        if action.status != statuses[action.pk]:
            action.status = statuses[action.pk]
            action._history_user = user
            action.save()
    review, _created = PlanReview.objects.get_or_create(
        plan=plan, next_response=next_response, defaults={"reviewed_by": user}
    )
    return review


# --- Reminders of the plan's due dates ---------------------------------------------------------

# To a plan's coordinators, 14 days before an open action's due date and 7 days after it passed,
# through the mailing app: one message per event key, so a beat task run twice, or a missed day
# caught up, never sends twice; a changed due date is a new event.
REMINDER_BEFORE_DAYS = 14
REMINDER_AFTER_DAYS = 7


def plan_reminders_send(*, today: dt.date) -> int:
    """Queue the reminders due on `today` (and any missed since); returns how many were new."""
    open_statuses = [Action.Status.TODO, Action.Status.DOING]
    actions = (
        Action.objects.filter(status__in=open_statuses, due_on__isnull=False)
        .filter(due_on__lte=today + dt.timedelta(days=REMINDER_BEFORE_DAYS))
        .select_related("plan__response__cpts", "plan__response__campaign")
    )
    sent = 0
    for action in actions:
        if today < action.due_on:
            moment = "avant"
        elif today >= action.due_on + dt.timedelta(days=REMINDER_AFTER_DAYS):
            moment = "apres"
        else:
            continue
        response = action.plan.response
        coordinators = Membership.objects.filter(
            cpts_id=response.cpts_id, user__role=User.Role.COORDINATOR, user__is_active=True
        ).select_related("user")
        for membership in coordinators:
            user = membership.user
            message = message_send(
                key=f"plan-reminder:{action.pk}:{moment}:{action.due_on.isoformat()}:{user.pk}",
                to=user.email,
                template="plan_reminder",
                context={
                    "user_name": user.get_full_name() or user.username,
                    "cpts_name": response.cpts.name,
                    "action_title": action.title,
                    "owner_name": action.owner_name,
                    "due_on": action.due_on,
                    "status": action.get_status_display(),
                    "overdue": moment == "apres",
                    "plan_url": absolute_url(
                        reverse("improvement:plan", kwargs={"pk": response.pk})
                    ),
                },
            )
            sent += message is not None
    return sent
