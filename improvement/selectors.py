"""Reads for the pistes, plan and evolution pages.

Views hand these a response they obtained through `accounts.scoping`; what a role may read of a
plan is decided there too (`plan_readable_by`, …), never here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q

from accounts.models import User
from accounts.scoping import responses_visible_to
from improvement.decomposition import INDEX, Decomposition, decompose
from improvement.levers import Lever, find_levers
from improvement.library import Library, Suggestion
from improvement.models import Action, ActionPlan, PlanReview, RecommendationLibrary
from questionnaire import rules
from questionnaire.models import ConstraintType, Question, Response, SubDimension
from questionnaire.presentation import answer_label
from questionnaire.selectors import answers_by_response, questions_of
from scoring import selectors as scoring_selectors
from scoring.arithmetic import Layout, ScoringPlan, to_decimal
from scoring.models import AreaScore, ScoringGrid

# --- Scoring a response from its answers, as the scoring services do ------------------------


@dataclass(frozen=True)
class Scorer:
    """One grid applied to one questionnaire, with the questions it reads."""

    grid: ScoringGrid
    plan: ScoringPlan
    questions: list[Question]

    @classmethod
    def for_grid(cls, grid: ScoringGrid) -> Scorer:
        questions = questions_of(grid.questionnaire)
        layout = Layout.from_definition(grid.questionnaire.definition)
        return cls(grid, ScoringPlan(grid=grid.spec, layout=layout, questions=questions), questions)


def answer_values(response: Response) -> dict[int, Any]:
    """The response's stored answer values by question id (shared values: never changed)."""
    values, _texts = answers_by_response([response.pk])
    return values.get(response.pk, {})


def latest_library(grid: ScoringGrid) -> RecommendationLibrary | None:
    return RecommendationLibrary.objects.filter(grid=grid).first()


def library_spec(library: RecommendationLibrary | None) -> Library | None:
    return Library.from_data(library.definition) if library else None


# --- Pistes -----------------------------------------------------------------------------------


@dataclass
class Piste:
    lever: Lever
    current_text: str
    suggested_text: str
    subdimension: tuple[Decimal | None, Decimal | None]
    cell: tuple[Decimal | None, Decimal | None]
    index: tuple[Decimal | None, Decimal | None]

    @property
    def question(self) -> Question:
        return self.lever.question

    @property
    def index_rise(self) -> Decimal:
        return _rise(self.index)

    @property
    def subdimension_rise(self) -> Decimal:
        return _rise(self.subdimension)

    @property
    def cell_rise(self) -> Decimal:
        return _rise(self.cell)


@dataclass
class SubdimensionPistes:
    subdimension: SubDimension
    score: Decimal | None
    band_label: str
    band_text: str
    source: str
    pistes: list[Piste]
    suggestions: list[Suggestion]


@dataclass
class CellPistes:
    dimension_label: str
    constraint_label: str
    score: Decimal | None
    subdimensions: list[SubdimensionPistes]


@dataclass
class Pistes:
    grid: ScoringGrid
    library: RecommendationLibrary | None
    cells: list[CellPistes]
    situational: list[tuple[Question, str]]
    index: Decimal | None

    @property
    def count(self) -> int:
        return sum(len(s.pistes) for c in self.cells for s in c.subdimensions)


def pistes_for(*, response: Response, grid: ScoringGrid) -> Pistes:
    """Per matrix cell and sub-dimension, weakest first: the levers and the library's advice."""
    scorer = Scorer.for_grid(grid)
    library_row = latest_library(grid)
    library = library_spec(library_row)
    situational = dict(library.situational) if library else {}
    values = answer_values(response)
    levers = find_levers(
        plan=scorer.plan, questions=scorer.questions, values=values, situational=situational
    )
    result = scorer.plan.score(values)
    by_subdimension: dict[str, list[Piste]] = defaultdict(list)
    for lever in levers:
        rule = lever.rule
        by_subdimension[rule.subdimension].append(
            Piste(
                lever=lever,
                current_text=answer_label(lever.question, lever.current),
                suggested_text=answer_label(lever.question, lever.suggested),
                subdimension=_pair(lever.rise("subdimensions", rule.subdimension)),
                cell=_pair(lever.rise("cells", (rule.dimension, rule.constraint))),
                index=_pair(lever.index),
            )
        )
    subdimensions = SubDimension.objects.filter(
        dimension__version=grid.questionnaire_id
    ).select_related("dimension")
    constraint_labels = dict(ConstraintType.choices)
    # Answers by question number, for the questions that apply (a suggestion about a question
    # that does not apply to this CPTS is not shown).
    applicable = {
        q.number: values.get(q.pk) for q in scorer.questions if rules.is_applicable(q, values)
    }
    cells: dict[tuple[str, str], CellPistes] = {}
    for sub in subdimensions:
        key = (sub.dimension.code, sub.constraint)
        cell = cells.setdefault(
            key,
            CellPistes(
                sub.dimension.label,
                str(constraint_labels[sub.constraint]),
                _decimal(result.cells[key].score),
                [],
            ),
        )
        score = result.subdimensions[sub.code].score
        advice = library.subdimensions.get(sub.code) if library else None
        band = library.band_for(score) if library else None
        pistes = sorted(by_subdimension[sub.code], key=lambda p: -p.index_rise)
        suggestions = [
            s
            for s in (advice.suggestions if advice else ())
            if (s.question is None and score is not None and score < 100)
            or (s.question in applicable and s.applies(applicable[s.question]))
        ]
        if score is None or (not pistes and not suggestions):
            continue
        cell.subdimensions.append(
            SubdimensionPistes(
                subdimension=sub,
                score=_decimal(score),
                band_label=band.label if band else "",
                band_text=advice.band_texts.get(band.code, "") if advice and band else "",
                source=advice.source if advice else "",
                pistes=pistes,
                suggestions=suggestions,
            )
        )
    ordered = sorted(
        (c for c in cells.values() if c.subdimensions),
        key=lambda c: (c.score is None, c.score or 0),
    )
    for cell in ordered:
        cell.subdimensions.sort(key=lambda s: s.score or 0)
    by_number = {q.number: q for q in scorer.questions}
    excluded = {**grid.spec.excluded, **situational}
    return Pistes(
        grid=grid,
        library=library_row,
        cells=ordered,
        situational=[(by_number[n], reason) for n, reason in sorted(excluded.items())],
        index=_decimal(result.index),
    )


def _pair(pair: tuple[Fraction | None, Fraction | None]) -> tuple[Decimal | None, Decimal | None]:
    return _decimal(pair[0]), _decimal(pair[1])


def _decimal(value: Fraction | None) -> Decimal | None:
    return to_decimal(value, 2) if value is not None else None


def _rise(pair: tuple[Decimal | None, Decimal | None]) -> Decimal:
    before, after = pair
    if before is None or after is None:
        return Decimal(0)
    return after - before


# --- Plans ------------------------------------------------------------------------------------


def plan_of(response: Response) -> ActionPlan | None:
    return ActionPlan.objects.filter(response=response).first()


def plan_actions(plan: ActionPlan | None) -> list[Action]:
    if plan is None:
        return []
    return list(plan.actions.select_related("subdimension__dimension"))


def previous_plan(response: Response) -> ActionPlan | None:
    """The plan written after the CPTS's latest submitted response before this one's campaign."""
    campaign = response.campaign
    earlier = (
        Response.objects.filter(cpts_id=response.cpts_id, status=Response.Status.SUBMITTED)
        .filter(
            Q(campaign__year__lt=campaign.year)
            | Q(campaign__year=campaign.year, campaign__opens_on__lt=campaign.opens_on)
        )
        .order_by("-campaign__year", "-campaign__opens_on")
    )
    return ActionPlan.objects.filter(response__in=earlier[:1]).first()


def plan_needs_review(response: Response) -> ActionPlan | None:
    plan = previous_plan(response)
    if plan is None or not plan.actions.exists():
        return None
    if PlanReview.objects.filter(plan=plan, next_response=response).exists():
        return None
    return plan


@dataclass
class FollowedAction:
    action: Action
    before: Decimal | None
    after: Decimal | None

    @property
    def change(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


def plan_follow_up(plan: ActionPlan, response: Response, grid: ScoringGrid) -> list[FollowedAction]:
    """A previous plan's actions, each beside the change of its sub-dimension's score from the
    plan's response to this one, both under the grid shown."""
    actions = plan_actions(plan)
    if not actions:
        return []
    scores = {
        (area.score.response_id, area.subdimension.code): area.value
        for area in AreaScore.objects.filter(
            score__grid=grid,
            score__response__in=[plan.response_id, response.pk],
            kind=AreaScore.Kind.SUBDIMENSION,
        ).select_related("subdimension", "score")
    }
    return [
        FollowedAction(
            action,
            scores.get((plan.response_id, action.subdimension.code)),
            scores.get((response.pk, action.subdimension.code)),
        )
        for action in actions
    ]


@dataclass
class NationalCount:
    subdimension: SubDimension
    actions: int
    cpts: int
    shown: bool
    by_status: dict[str, int]


def national_action_counts() -> list[NationalCount]:
    """Actions per sub-dimension across every CPTS, for the federation: counts only, and only
    for sub-dimensions where at least SMALL_CELL_MINIMUM CPTS have actions."""
    rows = (
        Action.objects.values("subdimension")
        .annotate(
            actions=Count("pk"),
            cpts=Count("plan__response__cpts", distinct=True),
            **{
                f"status_{code}": Count("pk", filter=Q(status=code))
                for code in Action.Status.values
            },
        )
        .order_by()
    )
    found = {row["subdimension"]: row for row in rows}
    counts = []
    for sub in SubDimension.objects.filter(pk__in=found).select_related("dimension"):
        row = found[sub.pk]
        shown = row["cpts"] >= scoring_selectors.SMALL_CELL_MINIMUM
        counts.append(
            NationalCount(
                subdimension=sub,
                actions=row["actions"] if shown else 0,
                cpts=row["cpts"],
                shown=shown,
                by_status={
                    code: row[f"status_{code}"] if shown else 0 for code in Action.Status.values
                },
            )
        )
    return counts


def submitted_responses_of(user: User, response: Response) -> list[Response]:
    """The CPTS's other submitted responses the user may see, oldest campaign first."""
    return list(
        responses_visible_to(user)
        .filter(cpts_id=response.cpts_id, status=Response.Status.SUBMITTED)
        .order_by("campaign__year", "campaign__opens_on")
    )


def earlier_response(user: User, response: Response) -> Response | None:
    """The CPTS's submitted response just before this one, among those the user may see."""
    found = submitted_responses_of(user, response)
    ids = [r.pk for r in found]
    if response.pk not in ids or ids.index(response.pk) == 0:
        return None
    return found[ids.index(response.pk) - 1]


# --- Why the score moved ----------------------------------------------------------------------


@dataclass
class AreaRow:
    key: tuple
    label: str
    before: Decimal | None
    after: Decimal | None
    change: Decimal | None
    answers: Decimal | None
    grid: Decimal | None

    @property
    def code(self) -> str:
        return ":".join(self.key)


@dataclass
class ContributionRow:
    question: Question | None  # None: the grid's dimension weights and levels
    before_text: str
    after_text: str
    contribution: Fraction
    from_grid: bool = False

    @property
    def label(self) -> str:
        if not self.from_grid:
            return f"Q{self.question.number}"
        return f"Q{self.question.number} (grille)" if self.question else "Grille (poids)"

    @property
    def value(self) -> Decimal:
        return to_decimal(self.contribution, 2)


@dataclass
class Comparison:
    response: Response
    before: Response | None = None
    after: Response | None = None
    before_grid: ScoringGrid | None = None
    after_grid: ScoringGrid | None = None
    choices: list[Response] = field(default_factory=list)
    grids: list[ScoringGrid] = field(default_factory=list)
    decomposition: Decomposition | None = None
    reason: str = ""
    areas: list[AreaRow] = field(default_factory=list)
    zone: AreaRow | None = None
    rows: list[ContributionRow] = field(default_factory=list)


def evolution_for(
    *,
    user: User,
    response: Response,
    other_pk: str | None,
    before_grid: str | None,
    after_grid: str | None,
    zone: str | None,
) -> Comparison | None:
    """The change between this response and another of the CPTS (default: the previous one),
    split per question; None when a parameter names something outside the user's choices."""
    comparison = Comparison(response=response)
    if response.status != Response.Status.SUBMITTED:
        comparison.reason = "Cette réponse n'est pas soumise : elle n'a pas de score."
        return comparison
    responses = submitted_responses_of(user, response)
    comparison.choices = [r for r in responses if r.pk != response.pk]
    if other_pk:
        other = next((r for r in comparison.choices if str(r.pk) == other_pk), None)
        if other is None:
            return None
    else:
        other = earlier_response(user, response) or next(iter(comparison.choices[-1:]), None)
    if other is None:
        comparison.reason = "La CPTS n'a pas d'autre réponse soumise à comparer."
        return comparison
    ordered = sorted([response, other], key=lambda r: (r.campaign.year, r.campaign.opens_on))
    comparison.before, comparison.after = ordered
    questionnaire = response.campaign.questionnaire
    if other.campaign.questionnaire_id != questionnaire.pk:
        comparison.reason = (
            "Les deux réponses portent sur des versions différentes du questionnaire : "
            "elles ne se comparent pas question par question."
        )
        return comparison
    comparison.grids = list(ScoringGrid.objects.filter(questionnaire=questionnaire))
    by_code = {g.code: g for g in comparison.grids}
    if (before_grid and before_grid not in by_code) or (after_grid and after_grid not in by_code):
        return None
    latest = scoring_selectors.latest_grid(questionnaire)
    if latest is None:
        comparison.reason = "Aucune grille de score n'est chargée."
        return comparison
    first_scored = (
        ScoringGrid.objects.filter(scores__response=comparison.before)
        .order_by("scores__computed_at")
        .first()
    )
    comparison.before_grid = by_code.get(before_grid) or first_scored or latest
    comparison.after_grid = by_code.get(after_grid) or latest
    before_scorer = Scorer.for_grid(comparison.before_grid)
    after_scorer = (
        before_scorer
        if comparison.after_grid == comparison.before_grid
        else Scorer.for_grid(comparison.after_grid)
    )
    before_values = answer_values(comparison.before)
    after_values = answer_values(comparison.after)
    result = decompose(
        questions=before_scorer.questions,
        before_plan=before_scorer.plan,
        after_plan=after_scorer.plan,
        before_values=before_values,
        after_values=after_values,
    )
    comparison.decomposition = result
    labels = _area_labels(questionnaire)
    comparison.areas = [
        AreaRow(
            key=key,
            label=labels[key],
            before=_decimal(result.before[key]),
            after=_decimal(result.after[key]),
            change=_decimal(result.change(key)),
            answers=_decimal(result.answers_part(key)),
            grid=_decimal(result.grid_part(key)),
        )
        for key in result.keys
    ]
    comparison.zone = next((a for a in comparison.areas if a.code == zone), comparison.areas[0])
    if zone and comparison.zone.code != zone:
        return None
    key = comparison.zone.key
    if result.answers_part(key) is not None and result.grid_part(key) is not None:
        comparison.rows = [
            ContributionRow(
                step.question,
                answer_label(step.question, before_values.get(step.question.pk)),
                answer_label(step.question, after_values.get(step.question.pk)),
                step.changes[key],
            )
            for step in result.answer_steps
            if step.changes[key]
        ] + [
            ContributionRow(
                step.question,
                comparison.before_grid.code,
                comparison.after_grid.code,
                step.changes[key],
                from_grid=True,
            )
            for step in result.grid_steps
            if step.changes[key]
        ]
    return comparison


def _area_labels(questionnaire) -> dict[tuple, str]:
    constraint_labels = dict(ConstraintType.choices)
    labels: dict[tuple, str] = {INDEX: "Indice global"}
    for dimension in questionnaire.dimensions.all():
        labels[("dimension", dimension.code)] = dimension.label
        for code, label in constraint_labels.items():
            labels[("cell", dimension.code, code)] = f"{dimension.label} × {label}"
    return labels
