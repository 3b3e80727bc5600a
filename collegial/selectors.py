"""Reads of the collegial assessment: who rates what, each rater's state, the synthesis, and
what the team learns from its own disagreement.

Individual answers leave this module only towards their own rater (`rating_state`) and, once
the synthesis is open, towards the CPTS's coordinators (`synthesis_of`, `disagreement_of`).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import TEAM_ROLES, User
from accounts.scoping import can_lead_collegial_assessment, can_rate, cpts_coordinated_by
from collegial.models import CollegialAssessment, Rating, RatingAnswer
from questionnaire import rules
from questionnaire.models import Answer, Question, Response
from questionnaire.presentation import answer_label
from questionnaire.selectors import (
    ResponseState,
    Section,
    questions_of,
    response_state,
    state_of_answers,
)
from scoring.arithmetic import Layout, score_answers
from scoring.models import ScoringGrid


def team_responses(user: User) -> QuerySet[Response]:
    """Responses of the CPTS whose team the user belongs to."""
    return Response.objects.filter(cpts__in=cpts_coordinated_by(user)).select_related(
        "campaign__questionnaire", "cpts__department__region"
    )


def get_led_response(user: User, pk: int) -> Response:
    """A response of a CPTS the user coordinates (the mode and synthesis pages); else 404."""
    if not can_lead_collegial_assessment(user):
        return get_object_or_404(Response.objects.none(), pk=pk)
    return get_object_or_404(team_responses(user), pk=pk)


def get_led_assessment(user: User, pk: int) -> CollegialAssessment:
    response = get_led_response(user, pk)
    return get_object_or_404(
        CollegialAssessment.objects.select_related("response"), response=response
    )


def get_own_rating(user: User, pk: int) -> Rating:
    """The user's own rating of response `pk`: only an invited rater of the CPTS's team has
    one; anybody else gets 404."""
    queryset = Rating.objects.none()
    if can_rate(user):
        queryset = Rating.objects.filter(
            rater=user, assessment__response__in=team_responses(user)
        ).select_related(
            "assessment__response__campaign__questionnaire",
            "assessment__response__cpts__department__region",
        )
    return get_object_or_404(queryset, assessment__response_id=pk)


def rating_of(user: User, response: Response) -> Rating | None:
    return Rating.objects.filter(rater=user, assessment__response=response).first()


def assessment_of(response: Response) -> CollegialAssessment | None:
    return CollegialAssessment.objects.filter(response=response).first()


def rater_candidates(response: Response) -> QuerySet[User]:
    """Who may rate a response: the active members and coordinators of its CPTS."""
    return User.objects.filter(
        memberships__cpts=response.cpts, role__in=TEAM_ROLES, is_active=True
    ).order_by("last_name", "first_name", "username")


def ratings_of(assessment: CollegialAssessment) -> list[Rating]:
    return list(assessment.ratings.select_related("rater").order_by("invited_at", "pk"))


def rating_answers(rating: Rating) -> dict[int, RatingAnswer]:
    return {a.question_id: a for a in rating.answers.all()}


def rating_state(rating: Rating) -> ResponseState:
    """The rater's own answers laid out like the response's: sections, applicability, progress."""
    return state_of_answers(rating.assessment.response, rating_answers(rating))


def rating_editable(rating: Rating) -> str:
    """Why the rating cannot be changed now ("" when it can)."""
    response = rating.assessment.response
    if response.status != Response.Status.DRAFT:
        return "La réponse de la CPTS a été soumise : les évaluations individuelles sont closes."
    if not response.campaign.is_open():
        return "La campagne est close : les évaluations ne sont plus modifiables."
    if rating.assessment.synthesis_is_open():
        return "La synthèse est ouverte : les évaluations individuelles sont closes."
    if rating.finished_at:
        return "Vous avez terminé votre évaluation."
    return ""


def display_name(user: User) -> str:
    return user.get_full_name() or user.username


# --- The synthesis ---------------------------------------------------------------------


@dataclass
class Opinion:
    """One distinct answer given by some raters."""

    value: Any
    other_text: str
    label: str
    raters: list[str]

    @property
    def count(self) -> int:
        return len(self.raters)


@dataclass
class QuestionSynthesis:
    question: Question
    opinions: list[Opinion]  # most frequent first; "no answer" is an opinion with value None
    rater_count: int
    divergent: bool
    unanimous: Opinion | None  # every rater gave this answer
    median: int | None = None  # number questions within the tolerance, not identical
    official: Answer | None = None

    @property
    def agreement(self) -> int:
        """Share (%) of raters who gave the most frequent answer."""
        top = max((o.count for o in self.opinions), default=0)
        return round(100 * top / self.rater_count) if self.rater_count else 0

    @property
    def answered(self) -> bool:
        return any(o.value is not None for o in self.opinions)

    @property
    def official_label(self) -> str:
        if self.official is None:
            return ""
        return answer_label(self.question, self.official.value, self.official.other_text)

    @property
    def spread(self) -> int | None:
        numbers = [o.value for o in self.opinions if isinstance(o.value, int)]
        return max(numbers) - min(numbers) if self.question.type == "number" and numbers else None


@dataclass
class SectionSynthesis:
    section: Section
    questions: list[QuestionSynthesis]

    @property
    def divergent(self) -> list[QuestionSynthesis]:
        return [q for q in self.questions if q.divergent]


@dataclass
class Synthesis:
    assessment: CollegialAssessment
    raters: list[str]
    sections: list[SectionSynthesis] = field(default_factory=list)

    @property
    def questions(self) -> list[QuestionSynthesis]:
        return [q for s in self.sections for q in s.questions]

    @property
    def divergent(self) -> list[QuestionSynthesis]:
        return [q for q in self.questions if q.divergent]

    @property
    def unanimous_to_keep(self) -> list[QuestionSynthesis]:
        """Unanimous questions whose official answer is not that answer yet."""
        return [
            q
            for q in self.questions
            if q.unanimous is not None
            and q.unanimous.value is not None
            and not _same(q.official, q.unanimous)
        ]


def _key(value: Any, other_text: str) -> str:
    if isinstance(value, list):
        value = sorted(value)
    return json.dumps([value, other_text], sort_keys=True)


def _same(answer: Answer | None, opinion: Opinion) -> bool:
    return answer is not None and _key(answer.value, answer.other_text) == _key(
        opinion.value, opinion.other_text
    )


def number_divergent(numbers: list[int]) -> bool:
    """Numbers diverge when they spread by more than COLLEGIAL_NUMBER_SPREAD (20 %) of their
    median, and by more than 1: 80 and 90 professionals agree, 3 and 12 do not."""
    spread = max(numbers) - min(numbers)
    return spread > max(1, settings.COLLEGIAL_NUMBER_SPREAD * statistics.median(numbers))


def question_synthesis(
    question: Question, given: list[tuple[str, RatingAnswer | None, bool]]
) -> QuestionSynthesis:
    """`given`: per finished rater, (name, their answer, whether the question applies to them
    by their own answers). A rater who left it blank, or for whom it does not apply, counts as
    the opinion "no answer"."""
    opinions: dict[str, Opinion] = {}
    for name, answer, applicable in given:
        if answer is None or not applicable:
            key, value, other, label = "", None, "", "Sans réponse ou sans objet"
        else:
            value, other = answer.value, answer.other_text
            key, label = _key(value, other), answer_label(question, value, other)
        opinion = opinions.setdefault(key, Opinion(value, other, label, []))
        opinion.raters.append(name)
    ordered = sorted(opinions.values(), key=lambda o: (-o.count, o.value is None, o.label))
    unanimous = ordered[0] if len(ordered) == 1 and ordered[0].value is not None else None
    median = None
    numbers = [v for o in ordered for v in [o.value] * o.count if isinstance(o.value, int)]
    if question.type == Question.Type.NUMBER and unanimous is None and numbers:
        complete = all(o.value is not None for o in ordered)
        divergent = not complete or number_divergent(numbers)
        if not divergent:
            median = round(statistics.median(numbers))
    else:
        # Nobody answered (a question that applies to none of the raters) is no divergence.
        divergent = len(ordered) > 1
    return QuestionSynthesis(
        question=question,
        opinions=ordered,
        rater_count=len(given),
        divergent=divergent,
        unanimous=unanimous,
        median=median,
    )


def finished_ratings(assessment: CollegialAssessment) -> list[tuple[Rating, dict]]:
    """The finished ratings and their answers, in invitation order (two queries)."""
    ratings = list(
        assessment.ratings.filter(finished_at__isnull=False)
        .select_related("rater")
        .order_by("invited_at", "pk")
    )
    answers: dict[int, dict[int, RatingAnswer]] = {r.pk: {} for r in ratings}
    for answer in RatingAnswer.objects.filter(rating__in=ratings):
        answers[answer.rating_id][answer.question_id] = answer
    return [(r, answers[r.pk]) for r in ratings]


def synthesis_of(assessment: CollegialAssessment) -> Synthesis:
    """Per section and question, the finished raters' answers side by side."""
    response = assessment.response
    state = response_state(response)
    ratings = finished_ratings(assessment)
    names = [display_name(rating.rater) for rating, _ in ratings]
    values = [{qid: a.value for qid, a in answers.items()} for _, answers in ratings]
    synthesis = Synthesis(assessment, names)
    for section in state.sections:
        items = []
        for question in section.questions:
            given = [
                (
                    name,
                    answers.get(question.id),
                    rules.is_applicable(question, rater_values),
                )
                for name, (_, answers), rater_values in zip(names, ratings, values, strict=True)
            ]
            item = question_synthesis(question, given)
            item.official = state.answers.get(question.id)
            items.append(item)
        synthesis.sections.append(SectionSynthesis(section, items))
    return synthesis


# --- What the team learns from its disagreement (results page, team only) ---------------


@dataclass
class SubdimensionDisagreement:
    label: str
    questions: int  # questions at least one rater answered
    divergent: int
    agreed: Fraction | None
    individual: list[Fraction]  # each finished rating's score, assessed ones only

    @property
    def share(self) -> int:
        return round(100 * self.divergent / self.questions) if self.questions else 0

    @property
    def low(self) -> Fraction | None:
        return min(self.individual) if self.individual else None

    @property
    def high(self) -> Fraction | None:
        return max(self.individual) if self.individual else None


@dataclass
class Disagreement:
    rater_count: int
    subdimensions: list[SubdimensionDisagreement]
    agreed_index: Fraction | None
    individual_indexes: list[Fraction]

    @property
    def index_low(self) -> Fraction | None:
        return min(self.individual_indexes) if self.individual_indexes else None

    @property
    def index_high(self) -> Fraction | None:
        return max(self.individual_indexes) if self.individual_indexes else None

    @property
    def mean_gap(self) -> Fraction | None:
        """Mean distance, in index points, between an individual index and the agreed one."""
        if self.agreed_index is None or not self.individual_indexes:
            return None
        gaps = [abs(i - self.agreed_index) for i in self.individual_indexes]
        return sum(gaps, Fraction(0)) / len(gaps)

    @property
    def topic(self) -> SubdimensionDisagreement | None:
        """The sub-dimension the team disagreed most on: highest share of divergent questions,
        then widest spread of individual scores."""
        candidates = [s for s in self.subdimensions if s.divergent]
        if not candidates:
            return None
        return max(
            candidates,
            key=lambda s: (
                Fraction(s.divergent, s.questions),
                (s.high - s.low) if s.individual else 0,
            ),
        )


def disagreement_of(assessment: CollegialAssessment, grid: ScoringGrid) -> Disagreement | None:
    """Each finished rating scored in memory with the grid of the agreed scores (same code:
    `scoring.arithmetic`); nothing is stored. None once the ratings are deleted."""
    ratings = finished_ratings(assessment)
    if not ratings:
        return None
    response = assessment.response
    questionnaire = response.campaign.questionnaire
    questions = questions_of(questionnaire)
    layout = Layout.from_definition(questionnaire.definition)

    def score(values: dict[int, Any]):
        return score_answers(grid=grid.spec, layout=layout, questions=questions, values=values)

    agreed = score(dict(response.answers.values_list("question_id", "value")))
    individual = [score({qid: a.value for qid, a in answers.items()}) for _, answers in ratings]
    synthesis = synthesis_of(assessment)
    subdimensions = []
    for part in synthesis.sections:
        code = part.section.code
        answered = [q for q in part.questions if q.answered]
        subdimensions.append(
            SubdimensionDisagreement(
                label=part.section.subdimension.label,
                questions=len(answered),
                divergent=sum(q.divergent for q in answered),
                agreed=agreed.subdimensions[code].score if code in agreed.subdimensions else None,
                individual=[
                    r.subdimensions[code].score
                    for r in individual
                    if code in r.subdimensions and r.subdimensions[code].score is not None
                ],
            )
        )
    return Disagreement(
        rater_count=len(ratings),
        subdimensions=subdimensions,
        agreed_index=agreed.index,
        individual_indexes=[r.index for r in individual if r.index is not None],
    )
