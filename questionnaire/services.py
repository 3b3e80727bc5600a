from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import Membership, User
from accounts.scoping import responses_editable_by
from cpts_portal.queueing import send_after_commit
from questionnaire import rules
from questionnaire.definition import DEFAULT_TEXT_MAX_LENGTH, checksum, read_definition
from questionnaire.models import (
    Answer,
    Campaign,
    CarriedAnswer,
    Dimension,
    Option,
    Question,
    QuestionnaireVersion,
    Response,
    SubDimension,
)
from questionnaire.rules import AnswerInvalid, clean_answer, is_applicable, require_applicable
from questionnaire.selectors import ResponseProgress, progress_of, version_questions
from scoring.tasks import score_response
from territories.models import Cpts


class QuestionnaireFrozen(Exception):
    """The version already has responses: it may not change any more."""


@dataclass(frozen=True)
class LoadResult:
    version: QuestionnaireVersion
    outcome: str  # "created", "updated" or "unchanged"


@transaction.atomic
def questionnaire_load(*, path: str | Path) -> LoadResult:
    definition = read_definition(path)
    digest = checksum(definition)
    version = QuestionnaireVersion.objects.filter(code=definition["version"]).first()
    if version is not None and version.checksum == digest:
        return LoadResult(version, "unchanged")
    if version is not None:
        if Response.objects.filter(campaign__questionnaire=version).exists():
            raise QuestionnaireFrozen(
                f"La version « {version.code} » a déjà des réponses : elle ne peut plus être "
                "modifiée. Publiez le changement dans un nouveau fichier, avec une nouvelle "
                "version."
            )
        version.questions.update(condition_question=None)
        version.questions.all().delete()
        version.dimensions.all().delete()
        outcome = "updated"
    else:
        version = QuestionnaireVersion(code=definition["version"])
        outcome = "created"
    version.title = definition["title"]
    version.source = definition.get("source", "")
    version.checksum = digest
    version.definition = definition
    version.save()
    _write_structure(version, definition)
    return LoadResult(version, outcome)


def _write_structure(version: QuestionnaireVersion, definition: dict) -> None:
    subdimensions: dict[str, SubDimension] = {}
    for d_position, dimension_data in enumerate(definition["dimensions"], start=1):
        dimension = Dimension.objects.create(
            version=version,
            code=dimension_data["code"],
            label=dimension_data["label"],
            position=d_position,
        )
        for s_position, sub in enumerate(dimension_data["subdimensions"], start=1):
            subdimensions[sub["code"]] = SubDimension.objects.create(
                dimension=dimension,
                code=sub["code"],
                label=sub["label"],
                constraint=sub["constraint"],
                position=s_position,
            )

    questions: dict[int, Question] = {}
    for data in definition["questions"]:
        questions[data["number"]] = Question.objects.create(
            version=version,
            subdimension=subdimensions[data["subdimension"]],
            number=data["number"],
            variable=data["variable"],
            type=data["type"],
            text=data["text"].strip(),
            help_text=data.get("help", ""),
            min_value=data.get("min"),
            max_value=data.get("max"),
            max_length=data.get("max_length", DEFAULT_TEXT_MAX_LENGTH),
        )
        options = [
            _option(questions[data["number"]], Option.Kind.CHOICE, position, option)
            for position, option in enumerate(data.get("options") or [], start=1)
        ] + [
            _option(questions[data["number"]], Option.Kind.ROW, position, row)
            for position, row in enumerate(data.get("rows") or [], start=1)
        ]
        Option.objects.bulk_create(options)

    for data in definition["questions"]:
        if condition := data.get("condition"):
            question = questions[data["number"]]
            question.condition_question = questions[condition["question"]]
            question.condition_values = list(condition["in"])
            question.save(update_fields=["condition_question", "condition_values"])


def _option(question: Question, kind: str, position: int, data: dict) -> Option:
    return Option(
        question=question,
        kind=kind,
        code=data["code"],
        label=data["label"],
        position=position,
        exclusive=bool(data.get("exclusive")),
        requires_text=bool(data.get("other")),
        added=bool(data.get("added")),
    )


# --- Responses and answers -------------------------------------------------------------


class ResponseNotEditable(Exception):
    """The response is submitted or its campaign is closed; the message is for the user."""


class ResponseIncomplete(Exception):
    def __init__(self, missing: int):
        self.missing = missing
        super().__init__(
            f"Il reste {missing} question(s) sans réponse : complétez-les avant de soumettre."
        )


class CarriedAnswersUnconfirmed(ResponseIncomplete):
    def __init__(self, waiting: int):
        self.missing = waiting
        Exception.__init__(
            self,
            f"{waiting} réponse(s) reprise(s) de la campagne précédente restent à confirmer : "
            "confirmez-les ou modifiez-les avant de soumettre.",
        )


class AnswerConflict(Exception):
    """Someone saved this answer since the page was loaded; nothing was written."""

    def __init__(self, current: Answer | None, question: Question):
        self.current = current
        self.question = question
        super().__init__("Cette réponse a été modifiée par quelqu'un d'autre entre-temps.")


def clears_answer(value: Any) -> bool:
    """An empty value from the page (nothing chosen, typed or picked in any row) removes the
    answer."""
    if value is None or value == "" or value == [] or value == {}:
        return True
    return isinstance(value, dict) and not any(value.values())


@transaction.atomic
def response_start(
    *, cpts: Cpts, campaign: Campaign, user: User, carry_over: bool = False
) -> Response:
    """The CPTS's response to the campaign, created if needed. With `carry_over`, a new
    response starts from the answers of the CPTS's latest submitted response on the same
    questionnaire version, each to be confirmed (`CarriedAnswer`)."""
    from questionnaire.selectors import previous_response

    if not campaign.is_open():
        raise ResponseNotEditable("Cette campagne n'est pas ouverte.")
    response, created = Response.objects.get_or_create(cpts=cpts, campaign=campaign)
    source = previous_response(cpts, campaign) if created and carry_over else None
    if source is not None:
        CarriedAnswer.objects.bulk_create(
            CarriedAnswer(
                response=response,
                question_id=answer.question_id,
                source=source,
                value=answer.value,
                other_text=answer.other_text,
            )
            for answer in source.answers.all()
        )
    return response


@transaction.atomic
def carried_confirm(*, response: Response, questions: list[Question], user: User) -> int:
    """Confirm the taken-over answers of these questions as they are: each becomes a real
    answer through `answer_save` (the rules check it again). One to a question that does not
    apply (given the answers so far) is left waiting, as it would be refused, and never blocks
    submission. Returns how many were confirmed."""
    _lock_editable(Response.objects.filter(pk=response.pk))
    waiting = CarriedAnswer.objects.filter(response=response, question__in=questions)
    confirmed = 0
    for carried in waiting.select_related("question").order_by("question__number"):
        if not is_applicable(carried.question, _condition_values(response, carried.question)):
            continue
        answer_save(
            response=response,
            question=carried.question,
            value=carried.value,
            other_text=carried.other_text,
            expected_revision=0,
            user=user,
        )
        confirmed += 1
    return confirmed


class ResponseOutOfReach(Exception):
    """Not a draft the user may edit (outside their scope, submitted, or absent): the same
    answer for each, so that nothing tells them apart."""

    def __init__(self) -> None:
        super().__init__("Cette réponse n'est pas modifiable.")


def _lock_editable(responses: QuerySet[Response], *, question_id: int | None = None) -> Response:
    """Lock the response row, the one of `responses` (ResponseOutOfReach if there is none):
    saves of one response are serialised, never interleaved. The same query reads the
    campaign and the questionnaire version's cache stamp and, for `question_id`, whether a
    taken-over answer to that question waits (`carried_waiting`).

    The campaign row is locked too: closing a campaign (`campaigns.services.campaign_close`
    locks it) waits for the saves under way, and no save starts while it closes.
    `carried_waiting` may be read before the lock is granted, which is safe: taken-over
    answers are only ever created with their response, in its transaction, then deleted, so a
    stale read can only say one waits that is gone (the DELETE then removes nothing), never
    miss one."""
    queryset = (
        responses.select_related(None)
        .select_related("campaign__questionnaire")
        .defer("campaign__questionnaire__definition", "campaign__questionnaire__source")
    )
    if question_id is not None:
        waiting = CarriedAnswer.objects.filter(response=OuterRef("pk"), question_id=question_id)
        queryset = queryset.annotate(carried_waiting=Exists(waiting))
    locked = queryset.select_for_update(of=("self", "campaign")).order_by().first()
    if locked is None:
        raise ResponseOutOfReach
    if locked.status != Response.Status.DRAFT:
        raise ResponseNotEditable("Cette réponse a été soumise : elle n'est plus modifiable.")
    if not locked.campaign.is_open():
        raise ResponseNotEditable("La campagne est close : les réponses ne sont plus modifiables.")
    return locked


@transaction.atomic
def answer_save(
    *,
    response: Response,
    question: Question,
    value: Any,
    other_text: str,
    expected_revision: int,
    user: User,
    change_reason: str = "",
) -> Answer | None:
    """Validate and store one answer; an empty value removes it. Returns the stored answer.

    `change_reason` is kept with the change in the answer's history (e.g. the collegial
    synthesis' "consensus du <date>, n évaluateurs").

    Optimistic concurrency: `expected_revision` is the revision the user's page showed
    (0 for no answer). If it changed since, AnswerConflict is raised and nothing is written,
    unless the new value equals the stored one (nothing would be lost).
    """
    locked = _lock_editable(Response.objects.filter(pk=response.pk), question_id=question.pk)
    if question.version_id != locked.campaign.questionnaire_id:
        raise AnswerInvalid("Cette question n'appartient pas à ce questionnaire.")
    answer, _ = _answer_write(
        locked, question, value, other_text, expected_revision, user, change_reason
    )
    return answer


@dataclass(frozen=True)
class Autosaved:
    answer: Answer | None
    progress: ResponseProgress


# (value, "Autre" text, expected revision) read from the request for the question.
AnswerReader = Callable[[Question], tuple[Any, str, int]]


@transaction.atomic
def answer_autosave(
    *, user: User, response_id: int, question_id: int, read: AnswerReader
) -> Autosaved:
    """`answer_save` for one request of the autosave, and the response's progress after it.

    One query checks the scope (`responses_editable_by`), locks the response and reads the
    campaign; the question comes from the per-process cache of its version
    (`selectors.version_questions`); `read` parses the request for that question (it may
    raise AnswerInvalid). The progress is counted from the answers read under the lock with
    the change applied: what `selectors.response_progress` returns once this commits, without
    reading anything again.

    Raises ResponseOutOfReach, AnswerInvalid (also for a question of another questionnaire:
    "Question inconnue."), ResponseNotEditable or AnswerConflict."""
    locked = _lock_editable(
        responses_editable_by(user).filter(pk=response_id), question_id=question_id
    )
    questions = version_questions(locked.campaign.questionnaire)
    question = questions.get(question_id)
    if question is None:
        raise AnswerInvalid("Question inconnue.")
    value, other_text, expected_revision = read(question)
    answer, values = _answer_write(locked, question, value, other_text, expected_revision, user)
    return Autosaved(answer, progress_of(questions.values(), values))


def _answer_write(
    locked: Response,
    question: Question,
    value: Any,
    other_text: str,
    expected_revision: int,
    user: User,
    change_reason: str = "",
) -> tuple[Answer | None, dict[int, Any]]:
    """The write of `answer_save` on a response `_lock_editable` locked for the question.
    Returns the stored answer and every answer's value (by question id) once it is written.

    One query reads all the response's answers: this question's (for the revision check),
    the one its condition depends on, and the rest for the progress. Under the lock none of
    them can change before the commit."""
    answers = {a.question_id: a for a in Answer.objects.filter(response=locked).order_by()}
    values = {question_id: a.value for question_id, a in answers.items()}
    current = answers.get(question.pk)
    current_revision = current.revision if current else 0

    if clears_answer(value):
        if current is None:
            return None, values
        if expected_revision != current_revision:
            raise AnswerConflict(current, question)
        current._history_user = user
        current._change_reason = change_reason[:100] or None
        current.delete()
        del values[question.pk]
        return None, values

    cleaned, other = clean_answer(question, value, other_text)
    # Whatever the team writes, a taken-over answer to this question has been reviewed.
    if locked.carried_waiting:
        CarriedAnswer.objects.filter(response=locked, question=question).delete()
    if current is not None and (current.value, current.other_text) == (cleaned, other):
        return current, values
    require_applicable(question, values)
    if expected_revision != current_revision:
        raise AnswerConflict(current, question)
    if current is None:
        answer = Answer(response=locked, question=question, revision=1)
    else:
        answer = current
        answer.revision += 1
    answer.value, answer.other_text, answer.updated_by = cleaned, other, user
    answer._history_user = user
    answer._change_reason = change_reason[:100] or None
    answer.save()
    values[question.pk] = cleaned
    return answer, values


def _condition_values(response: Response, question: Question) -> dict[int, Any]:
    """The stored answer that decides whether `question` applies ({} for an unconditional one)."""
    if question.condition_question_id is None:
        return {}
    return dict(
        Answer.objects.filter(
            response=response, question_id=question.condition_question_id
        ).values_list("question_id", "value")
    )


@transaction.atomic
def response_submit(*, response: Response, user: User) -> Response:
    from questionnaire.selectors import response_state

    locked = _lock_editable(Response.objects.filter(pk=response.pk))
    state = response_state(locked)
    if waiting := state.carried_waiting:
        raise CarriedAnswersUnconfirmed(len(waiting))
    missing = len(state.missing)
    if missing:
        raise ResponseIncomplete(missing)
    # Taken-over answers to questions that no longer apply were never confirmed: drop them.
    locked.carried.all().delete()
    locked.status = Response.Status.SUBMITTED
    locked.submitted_at = timezone.now()
    locked.submitted_by = user
    membership = Membership.objects.filter(user=user, cpts_id=locked.cpts_id).first()
    locked.submitted_by_function = membership.function if membership else ""
    locked._history_user = user
    locked._change_reason = "Soumission"
    locked.save()
    send_after_commit(score_response, locked.pk)
    return locked


@transaction.atomic
def response_reopen(*, response: Response, user: User, reason: str) -> Response:
    """FCPTS reopens a submitted response; the reason is kept in the response's history."""
    locked = Response.objects.select_for_update().get(pk=response.pk)
    if locked.status != Response.Status.SUBMITTED:
        raise ResponseNotEditable("Seule une réponse soumise peut être rouverte.")
    locked.status = Response.Status.DRAFT
    locked.submitted_at = None
    locked.submitted_by = None
    locked.submitted_by_function = ""
    locked._history_user = user
    locked._change_reason = f"Réouverture : {reason}"[:100]
    locked.save()
    # Scoring a draft removes its scores: a reopened response shows none until resubmitted.
    send_after_commit(score_response, locked.pk)
    return locked


# --- Responses from a file --------------------------------------------------------------

AnswerInput = tuple[Any, str]  # (value, "Autre" text) as answer_save takes them


class ResponseInvalid(Exception):
    """Answers that cannot make a submitted response; nothing was written.

    `invalid`: question id → the rules' French message. Only when every answer passes them
    are `not_applicable` (answered questions whose condition is not met, with the message of
    `rules.require_applicable`, the rule autosave applies too) and `missing` (questions that
    apply but have no answer) looked for."""

    def __init__(
        self,
        *,
        invalid: dict[int, str] | None = None,
        not_applicable: dict[Question, str] | None = None,
        missing: list[Question] | None = None,
    ):
        self.invalid = invalid or {}
        self.not_applicable = not_applicable or {}
        self.missing = missing or []
        super().__init__("Ces réponses ne respectent pas les règles du questionnaire.")


def response_answers_check(
    *, questions: Sequence[Question], answers: Mapping[int, AnswerInput]
) -> dict[int, AnswerInput]:
    """The cleaned answers (question id → (value, other text)) of a complete response, or
    ResponseInvalid. `questions` are the version's (`selectors.questions_of`), `answers` are
    by question id.

    The rules are `questionnaire.rules`' own, as for an answer saved from the browser: each
    answer through `clean_answer`, conditions through `require_applicable`; a submitted response
    answers every question that applies and none that does not."""
    by_id = {question.pk: question for question in questions}
    cleaned: dict[int, AnswerInput] = {}
    invalid: dict[int, str] = {}
    for question_id, (value, other_text) in answers.items():
        try:
            cleaned[question_id] = clean_answer(by_id[question_id], value, other_text)
        except AnswerInvalid as error:
            invalid[question_id] = str(error)
    if invalid:
        raise ResponseInvalid(invalid=invalid)
    values = {question_id: value for question_id, (value, _) in cleaned.items()}
    not_applicable: dict[Question, str] = {}
    for question_id in cleaned:
        try:
            rules.require_applicable(by_id[question_id], values)
        except AnswerInvalid as error:
            not_applicable[by_id[question_id]] = str(error)
    missing = [
        question
        for question in questions
        if question.pk not in values and rules.is_applicable(question, values)
    ]
    if not_applicable or missing:
        raise ResponseInvalid(not_applicable=not_applicable, missing=missing)
    return cleaned


@transaction.atomic
def response_import(
    *,
    campaign: Campaign,
    cpts_id: int,
    questions: Sequence[Question],
    answers: Mapping[int, AnswerInput],
    submitted_at: dt.datetime,
) -> Response:
    """Store a response read from a file (`import_responses`) as submitted, with its answers.

    The answers are checked by `response_answers_check` (raises ResponseInvalid); a CPTS that
    already has a response to the campaign raises ResponseNotEditable. The caller scores it."""
    cleaned = response_answers_check(questions=questions, answers=answers)
    if Response.objects.filter(campaign=campaign, cpts_id=cpts_id).exists():
        raise ResponseNotEditable("Cette CPTS a déjà une réponse à cette campagne.")
    response = Response(
        campaign=campaign,
        cpts_id=cpts_id,
        status=Response.Status.SUBMITTED,
        submitted_at=submitted_at,
    )
    response._change_reason = "Import"
    response.save()
    for question_id, (value, other_text) in cleaned.items():
        Answer(
            response=response, question_id=question_id, value=value, other_text=other_text
        ).save()
    return response
