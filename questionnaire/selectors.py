"""Reads for the questionnaire pages: structure, answers, progress, the coordinator's overview."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, TextField
from django.db.models.functions import Cast

from accounts.models import User
from accounts.scoping import cpts_visible_to, responses_visible_to
from questionnaire import rules
from questionnaire.models import (
    Answer,
    Campaign,
    CarriedAnswer,
    Option,
    Question,
    QuestionnaireVersion,
    Response,
    SubDimension,
)
from territories.models import Cpts


@dataclass
class Section:
    subdimension: SubDimension
    questions: list[Question]
    applicable: int = 0
    answered: int = 0

    @property
    def code(self) -> str:
        return self.subdimension.code

    @property
    def complete(self) -> bool:
        return self.answered == self.applicable


@dataclass
class ResponseState:
    """Everything the questionnaire pages show about one response, computed in a few queries."""

    response: Response
    sections: list[Section]
    answers: dict[int, Answer]
    applicable_ids: set[int] = field(default_factory=set)
    # Taken over from the previous campaign, not yet confirmed: never counted as answered.
    carried: dict[int, CarriedAnswer] = field(default_factory=dict)

    @property
    def carried_waiting(self) -> list[CarriedAnswer]:
        return [c for qid, c in self.carried.items() if qid in self.applicable_ids]

    @property
    def applicable(self) -> int:
        return len(self.applicable_ids)

    @property
    def answered(self) -> int:
        return sum(1 for qid in self.applicable_ids if qid in self.answers)

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.applicable) if self.applicable else 0

    @property
    def missing(self) -> list[tuple[Section, Question]]:
        return [
            (section, question)
            for section in self.sections
            for question in section.questions
            if question.id in self.applicable_ids and question.id not in self.answers
        ]

    def section(self, code: str) -> Section | None:
        return next((s for s in self.sections if s.code == code), None)

    def neighbours(self, section: Section) -> tuple[Section | None, Section | None]:
        index = self.sections.index(section)
        previous = self.sections[index - 1] if index > 0 else None
        following = self.sections[index + 1] if index + 1 < len(self.sections) else None
        return previous, following


def questions_of(version: QuestionnaireVersion) -> list[Question]:
    return list(
        version.questions.select_related("subdimension__dimension", "condition_question")
        .prefetch_related(Prefetch("options", queryset=Option.objects.order_by("kind", "position")))
        .order_by("number")
    )


def response_state(response: Response) -> ResponseState:
    answers = {
        a.question_id: a
        for a in Answer.objects.filter(response=response).select_related("updated_by")
    }
    carried = {
        c.question_id: c
        for c in CarriedAnswer.objects.filter(response=response).select_related("source__campaign")
    }
    return state_of_answers(response, answers, carried)


def state_of_answers(
    response: Response, answers: dict[int, Any], carried: dict[int, CarriedAnswer] | None = None
) -> ResponseState:
    """Sections, applicability and progress for a set of answers to the response's
    questionnaire, keyed by question id: the response's own answers, or any other set shaped
    like them (`value`, `other_text`, `revision`), such as a collegial rater's."""
    questions = questions_of(response.campaign.questionnaire)
    values = {qid: a.value for qid, a in answers.items()}
    sections: dict[int, Section] = {}
    applicable_ids: set[int] = set()
    for question in questions:
        section = sections.setdefault(question.subdimension_id, Section(question.subdimension, []))
        section.questions.append(question)
        if rules.is_applicable(question, values):
            applicable_ids.add(question.id)
            section.applicable += 1
            section.answered += question.id in answers
    return ResponseState(response, list(sections.values()), answers, applicable_ids, carried or {})


def previous_response(cpts: Cpts, campaign: Campaign) -> Response | None:
    """The CPTS's latest submitted response to an earlier campaign of the same questionnaire
    version: what "Reprendre mes réponses de la campagne précédente" starts from."""
    return (
        Response.objects.filter(
            cpts=cpts,
            status=Response.Status.SUBMITTED,
            campaign__questionnaire_id=campaign.questionnaire_id,
            campaign__year__lt=campaign.year,
        )
        .select_related("campaign")
        .order_by("-campaign__year", "-submitted_at")
        .first()
    )


@dataclass(frozen=True)
class ResponseProgress:
    answered: int
    applicable: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.applicable) if self.applicable else 0


def progress_of(questions: Iterable[Question], values: Mapping[int, Any]) -> ResponseProgress:
    """The counts `response_state` gives, from the questions' conditions and the answers'
    values (by question id) only."""
    applicable = [q.id for q in questions if rules.is_applicable(q, values)]
    return ResponseProgress(
        answered=sum(1 for qid in applicable if qid in values), applicable=len(applicable)
    )


def response_progress(response: Response) -> ResponseProgress:
    """The counts `response_state` gives, without building the questionnaire's structure
    (options, sections). The autosave computes the same counts from the answers it already
    read under the response's lock (`services.answer_autosave`)."""
    return responses_progress({response.pk: response.campaign.questionnaire_id})[response.pk]


def responses_progress(versions: dict[int, int]) -> dict[int, ResponseProgress]:
    """`response_progress` of several responses ({response_id: questionnaire version id}) in
    two queries however many they are: their versions' questions, then their answers."""
    questions: dict[int, list[Question]] = {version_id: [] for version_id in versions.values()}
    for question in Question.objects.filter(version_id__in=questions).only(
        "id", "version_id", "condition_question_id", "condition_values"
    ):
        questions[question.version_id].append(question)
    values: dict[int, dict[int, Any]] = {response_id: {} for response_id in versions}
    for response_id, question_id, value in (
        Answer.objects.filter(response_id__in=versions)
        .order_by()
        .values_list("response_id", "question_id", "value")
    ):
        values[response_id][question_id] = value
    return {
        response_id: progress_of(questions[version_id], values[response_id])
        for response_id, version_id in versions.items()
    }


# version id → ((checksum, loaded_at), its questions by id). See `version_questions`.
_VERSION_QUESTIONS: dict[int, tuple[tuple[str, dt.datetime], dict[int, Question]]] = {}


def version_questions(version: QuestionnaireVersion) -> dict[int, Question]:
    """The version's questions by id, in number order, with their options (ordered as the
    rules read them) and condition question: what validating one answer and counting progress
    need, read once per process.

    Safe to keep: a version that has responses never changes (`questionnaire_load` raises
    QuestionnaireFrozen), and reloading one that has none replaces its questions and its
    checksum, so the stamp no longer matches; `loaded_at` tells apart two versions that reuse
    an id and a checksum (a test database flushed with its sequences). The instances are
    shared by every request of the process: callers must not change them."""
    stamp = (version.checksum, version.loaded_at)
    cached = _VERSION_QUESTIONS.get(version.pk)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    questions = {
        question.pk: question
        for question in version.questions.select_related("condition_question")
        .prefetch_related(Prefetch("options", queryset=Option.objects.order_by("kind", "position")))
        .order_by("number")
    }
    _VERSION_QUESTIONS[version.pk] = (stamp, questions)
    return questions


ValuesById = dict[int, Any]  # question_id: value
TextsById = dict[int, str]  # question_id: "Autre" text, when there is one


def answers_by_response(
    response_ids: list[int], *, question_ids: list[int] | None = None
) -> tuple[dict[int, ValuesById], dict[int, TextsById]]:
    """These responses' answers (to `question_ids` only, when given) in one query:
    ({response_id: {question_id: value}}, {response_id: {question_id: other_text}} for the
    non-empty texts only); a response without answers is absent. Answer's default ordering is
    dropped: it joins the questions only to sort. Exports and scoring read answers in bulk
    through it.

    Why it is shaped so: each pass over a chunk's answers in Python costs about as much as
    the query, so this is the only one; JSONField decodes once per answer, here each distinct
    JSON text of the chunk is decoded once (most answers are one of a few option codes), so
    equal answers share one value, which callers must not change; and no object is kept per
    answer (a tuple each made the cyclic garbage collector double the time).
    """
    values: dict[int, ValuesById] = {}
    texts: dict[int, TextsById] = {}
    if not response_ids:
        return values, texts
    found = Answer.objects.filter(response_id__in=response_ids)
    if question_ids is not None:
        found = found.filter(question_id__in=question_ids)
    rows = found.order_by().values_list(
        "response_id", "question_id", Cast("value", TextField()), "other_text"
    )
    decoded: dict[str, Any] = {}
    for response_id, question_id, text, other_text in rows:
        try:
            value = decoded[text]
        except KeyError:
            value = decoded[text] = json.loads(text)
        answers = values.get(response_id)
        if answers is None:
            answers = values[response_id] = {}
        answers[question_id] = value
        if other_text:
            texts.setdefault(response_id, {})[question_id] = other_text
    return values, texts


@dataclass
class CampaignEntry:
    campaign: Campaign
    response: Response | None
    state: ResponseState | None
    # For a campaign not started yet: the earlier response its answers may be taken from.
    previous: Response | None = None

    @property
    def status(self) -> str:
        if self.response is None:
            return "not_started"
        return self.response.status


def coordinator_overview(user: User) -> list[tuple[Cpts, list[CampaignEntry], list[Response]]]:
    """Per CPTS of the user: open campaigns with their state, and past submitted responses."""
    open_campaigns = list(Campaign.objects.open_on().select_related("questionnaire"))
    responses = {
        (r.cpts_id, r.campaign_id): r
        for r in responses_visible_to(user).filter(campaign__in=open_campaigns)
    }
    past = list(
        responses_visible_to(user)
        .filter(status=Response.Status.SUBMITTED)
        .exclude(campaign__in=open_campaigns)
        .order_by("-campaign__year")
    )
    overview = []
    for cpts in cpts_visible_to(user).order_by("name"):
        entries = []
        for campaign in open_campaigns:
            response = responses.get((cpts.id, campaign.id))
            state = response_state(response) if response else None
            previous = previous_response(cpts, campaign) if response is None else None
            entries.append(CampaignEntry(campaign, response, state, previous))
        overview.append((cpts, entries, [r for r in past if r.cpts_id == cpts.id]))
    return overview
