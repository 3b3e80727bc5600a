"""Reads for scoring: which grid applies, which responses to score, and the results pages.

Views hand these selectors a response they obtained through `accounts.scoping`; the only read
that crosses a user's scope is the peer median (`peer_medians`), an aggregate shown from
SMALL_CELL_MINIMUM other CPTS so that no single CPTS can be read from it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from accounts.scoping import responses_visible_to
from questionnaire import rules
from questionnaire.models import (
    Answer,
    ConstraintType,
    Dimension,
    Question,
    QuestionnaireVersion,
    Response,
    SubDimension,
)
from questionnaire.presentation import answer_label
from questionnaire.selectors import answers_by_response, questions_of
from scoring.arithmetic import (
    Layout,
    QuestionOutcome,
    ScoringPlan,
    to_decimal,
)
from scoring.grid import Level, QuestionRule
from scoring.models import (
    AreaScore,
    ResponseScore,
    ScoringGrid,
    area_key,
    cell_key,
    dimension_key,
    subdimension_key,
)

# The small-cell rule, for every aggregate the portal shows (peer medians here, the
# dashboards' means, quartiles and medians): it needs at least this many CPTS.
SMALL_CELL_MINIMUM = 5


# --- Grids and the responses they score ----------------------------------------------------


def latest_grid(questionnaire: QuestionnaireVersion) -> ScoringGrid | None:
    """The grid version scored on submission and shown by default: the last one loaded."""
    return ScoringGrid.objects.filter(questionnaire=questionnaire).first()


def latest_grids() -> dict[int, ScoringGrid]:
    """`latest_grid` of every questionnaire version that has a grid, by version id, in one query."""
    grids: dict[int, ScoringGrid] = {}
    for grid in ScoringGrid.objects.order_by("loaded_at", "id"):
        grids[grid.questionnaire_id] = grid
    return grids


def grid_for(questionnaire: QuestionnaireVersion, code: str | None = None) -> ScoringGrid | None:
    if code:
        return ScoringGrid.objects.filter(questionnaire=questionnaire, code=code).first()
    return latest_grid(questionnaire)


def grids_with_scores(response: Response) -> QuerySet[ScoringGrid]:
    return ScoringGrid.objects.filter(scores__response=response)


def response_ids_to_score(grid: ScoringGrid) -> list[int]:
    """Submitted responses of the grid's questionnaire, and any response already scored by it
    (a reopened response loses its scores when rescored)."""
    return list(
        Response.objects.filter(
            Q(campaign__questionnaire=grid.questionnaire_id, status=Response.Status.SUBMITTED)
            | Q(scores__grid=grid)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )


def stored_score(response: Response, grid: ScoringGrid) -> ResponseScore | None:
    return (
        ResponseScore.objects.filter(response=response, grid=grid)
        .select_related("grid__questionnaire")
        .prefetch_related(
            Prefetch(
                "areas",
                AreaScore.objects.select_related("dimension", "subdimension__dimension"),
            ),
        )
        .first()
    )


# A worker scores batch after batch, and submission after submission, with the same grid:
# its plan, with the outcomes it has remembered, is kept between them. The key holds what the
# plan is built from (grid and questionnaire contents, question ids), so a grid corrected
# before use, or another database, never gets a stale plan.
_PLANS: dict[tuple, ScoringPlan] = {}
_PLANS_KEPT = 4


def scoring_plan(grid: ScoringGrid, questions: list[Question]) -> ScoringPlan:
    """The grid's plan over `questions` (`questions_of` its questionnaire), built once."""
    questionnaire = grid.questionnaire
    key = (
        grid.checksum,
        questionnaire.code,
        questionnaire.checksum,
        tuple((q.pk, q.number, q.condition_question_id) for q in questions),
    )
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) >= _PLANS_KEPT:
            _PLANS.pop(next(iter(_PLANS)))
        layout = Layout.from_definition(questionnaire.definition)
        plan = _PLANS[key] = ScoringPlan(grid=grid.spec, layout=layout, questions=questions)
    return plan


@dataclass(frozen=True)
class QuestionPoints:
    """A scored question's figures, rounded as the explanation page shows them.

    Not stored (a rescore would write 35 rows per response for one page): recomputed from the
    response's answers with the grid's plan, the computation the stored areas come from. Answers
    change only in a draft (a reopened response loses its scores) and a grid with scores is
    frozen, so both agree.
    """

    status: str  # SCORED, UNANSWERED or NOT_APPLICABLE (scoring.arithmetic)
    points: Decimal | None
    max_points: Decimal
    weight: Decimal

    @classmethod
    def of(cls, outcome: QuestionOutcome) -> QuestionPoints:
        return cls(
            status=outcome.status,
            points=to_decimal(outcome.points, 4) if outcome.points is not None else None,
            max_points=to_decimal(outcome.maximum, 4),
            weight=to_decimal(outcome.weight, 4),
        )

    @property
    def earned(self) -> Decimal:
        # From the rounded figures, as the page shows them next to it.
        if self.points is None:
            return Decimal(0)
        return self.weight * self.points / self.max_points


def question_points(
    score: ResponseScore,
    *,
    questions: list[Question] | None = None,
    values: dict[int, Any] | None = None,
) -> dict[int, QuestionPoints]:
    """Every scored question of the score's grid, by number, from the response's answers
    (`values` by question id, read here unless given; `questions`: `questions_of` the grid's
    questionnaire, read here unless given)."""
    grid = score.grid
    if questions is None:
        questions = questions_of(grid.questionnaire)
    if values is None:
        found, _texts = answers_by_response([score.response_id])
        values = found.get(score.response_id, {})
    result = scoring_plan(grid, questions).score(values)
    return {number: QuestionPoints.of(outcome) for number, outcome in result.questions.items()}


# --- Results page ----------------------------------------------------------------------------


@dataclass
class MatrixCell:
    dimension: Dimension
    constraint: str
    constraint_label: str
    value: Decimal | None
    median: Decimal | None = None

    @property
    def anchor(self) -> str:
        return f"case-{self.dimension.code}-{self.constraint}"


@dataclass
class MatrixRow:
    dimension: Dimension
    cells: list[MatrixCell]
    value: Decimal | None
    median: Decimal | None = None


@dataclass
class SubdimensionPoint:
    subdimension: SubDimension
    value: Decimal | None
    median: Decimal | None = None


@dataclass
class HistoryPoint:
    response: Response
    index: Decimal | None
    level_label: str
    dimensions: dict[str, Decimal | None]  # by dimension code, in the questionnaire's order

    @property
    def dimension_values(self) -> list[Decimal | None]:
        return list(self.dimensions.values())


@dataclass
class Peers:
    count: int
    index: Decimal | None = None
    areas: dict[tuple, Decimal] = field(default_factory=dict)

    @property
    def shown(self) -> bool:
        return self.count >= SMALL_CELL_MINIMUM


@dataclass
class Results:
    score: ResponseScore
    constraints: list[tuple[str, str]]
    matrix: list[MatrixRow]
    subdimensions: list[SubdimensionPoint]
    peers: Peers
    history: list[HistoryPoint]


def results_for(*, user: User, response: Response, grid: ScoringGrid) -> Results | None:
    score = stored_score(response, grid)
    if score is None:
        return None
    peers = peer_medians(response=response, grid=grid)
    areas = _areas_by_key(score)
    constraints = list(ConstraintType.choices)
    dimensions = list(Dimension.objects.filter(version=grid.questionnaire_id))
    matrix = []
    for dimension in dimensions:
        cells = [
            MatrixCell(
                dimension=dimension,
                constraint=code,
                constraint_label=str(label),
                value=areas[cell_key(dimension.code, code)].value,
                median=peers.areas.get(cell_key(dimension.code, code)),
            )
            for code, label in constraints
        ]
        key = dimension_key(dimension.code)
        matrix.append(MatrixRow(dimension, cells, areas[key].value, peers.areas.get(key)))
    subdimensions = [
        SubdimensionPoint(
            area.subdimension,
            area.value,
            peers.areas.get(subdimension_key(area.subdimension.code)),
        )
        for area in sorted(
            (a for a in score.areas.all() if a.kind == AreaScore.Kind.SUBDIMENSION),
            key=lambda a: (a.dimension.position, a.subdimension.position),
        )
    ]
    return Results(
        score=score,
        constraints=constraints,
        matrix=matrix,
        subdimensions=subdimensions,
        peers=peers,
        history=score_history(user=user, response=response, grid=grid),
    )


def peer_medians(*, response: Response, grid: ScoringGrid, region_id: int | None = None) -> Peers:
    """Medians over the other CPTS that submitted the same campaign, scored by the same grid
    (only those of the region `region_id`, when given: the dashboards' CPTS page).

    Under the small-cell rule: nothing but the count from fewer than SMALL_CELL_MINIMUM peers,
    and no median for an area assessed for fewer than that many of them (an area of
    conditional questions only can be assessed for a few peers: as identifying as a small
    group)."""
    peers = ResponseScore.objects.filter(
        grid=grid,
        response__campaign_id=response.campaign_id,
        response__status=Response.Status.SUBMITTED,
    ).exclude(response__cpts_id=response.cpts_id)
    if region_id is not None:
        peers = peers.filter(response__cpts__department__region_id=region_id)
    count = peers.count()
    if count < SMALL_CELL_MINIMUM:
        return Peers(count=count)
    values: dict[tuple, list[Decimal]] = defaultdict(list)
    rows = AreaScore.objects.filter(score__in=peers, value__isnull=False).values_list(
        "kind", "dimension__code", "constraint", "subdimension__code", "value"
    )
    for kind, dimension, constraint, subdimension, value in rows:
        values[area_key(kind, dimension, constraint, subdimension)].append(value)
    indexes = [v for v in peers.values_list("index", flat=True) if v is not None]
    return Peers(
        count=count,
        index=_median(indexes),
        areas={
            key: _median(found) for key, found in values.items() if len(found) >= SMALL_CELL_MINIMUM
        },
    )


def score_history(*, user: User, response: Response, grid: ScoringGrid) -> list[HistoryPoint]:
    """The CPTS's submitted responses scored by this grid, oldest campaign first."""
    scores = (
        ResponseScore.objects.filter(
            grid=grid,
            response__in=responses_visible_to(user).filter(
                cpts_id=response.cpts_id, status=Response.Status.SUBMITTED
            ),
        )
        .select_related("response__campaign", "grid__questionnaire")
        .prefetch_related(
            Prefetch(
                "areas",
                AreaScore.objects.filter(kind=AreaScore.Kind.DIMENSION).select_related("dimension"),
                to_attr="dimension_areas",
            )
        )
        .order_by("response__campaign__year", "response__campaign__opens_on")
    )
    return [
        HistoryPoint(
            response=score.response,
            index=score.index,
            level_label=score.level_label,
            dimensions={
                a.dimension.code: a.value
                for a in sorted(score.dimension_areas, key=lambda a: a.dimension.position)
            },
        )
        for score in scores
    ]


# --- Explanation page ----------------------------------------------------------------------


@dataclass
class ExplainedQuestion:
    question: Question
    rule: QuestionRule
    stored: QuestionPoints
    answer_text: str
    scale: list[tuple[str, Decimal]]  # every option with its points, for option rules


@dataclass
class ExplainedSubdimension:
    area: AreaScore
    questions: list[ExplainedQuestion]


@dataclass
class ExplainedCell:
    area: AreaScore
    constraint_label: str
    subdimensions: list[ExplainedSubdimension]
    has_scored_questions: bool

    @property
    def anchor(self) -> str:
        return f"case-{self.area.dimension.code}-{self.area.constraint}"


@dataclass
class ExplainedDimension:
    area: AreaScore
    weight: Decimal
    cells: list[ExplainedCell]

    @property
    def weighted(self) -> Decimal | None:
        return self.weight * self.area.value if self.area.value is not None else None


@dataclass
class Explanation:
    score: ResponseScore
    dimensions: list[ExplainedDimension]
    excluded: list[tuple[Question, str, str]]  # question, reason, answer as text
    weight_total: Decimal
    levels: list[tuple[Level, Decimal]]

    @property
    def weighted_total(self) -> Decimal:
        return sum((d.weighted for d in self.dimensions if d.weighted is not None), Decimal(0))


def explanation_for(*, response: Response, grid: ScoringGrid) -> Explanation | None:
    """Matrix cell → sub-dimensions → questions → answer → points, from the stored scores
    (the questions' points recomputed from the answers: `question_points`)."""
    score = stored_score(response, grid)
    if score is None:
        return None
    spec = grid.spec
    answers = {a.question_id: a for a in Answer.objects.filter(response=response)}
    questions = {q.number: q for q in questions_of(grid.questionnaire)}
    points = question_points(
        score,
        questions=list(questions.values()),
        values={question_id: a.value for question_id, a in answers.items()},
    )
    areas = _areas_by_key(score)
    by_subdimension: dict[str, list[ExplainedQuestion]] = defaultdict(list)
    for number, rule in sorted(spec.rules.items()):
        stored = points[number]
        question = questions[number]
        labels = {o.code: o.label for o in rules.choices(question)}
        by_subdimension[rule.subdimension].append(
            ExplainedQuestion(
                question=question,
                rule=rule,
                stored=stored,
                answer_text=_answer_text(question, answers.get(question.pk)),
                scale=[(labels[code], to_decimal(p, 4)) for code, p in rule.points.items()],
            )
        )
    subdimensions = list(
        SubDimension.objects.filter(dimension__version=grid.questionnaire_id).select_related(
            "dimension"
        )
    )
    dimensions = []
    for dimension in Dimension.objects.filter(version=grid.questionnaire_id):
        cells = []
        for code, label in ConstraintType.choices:
            subs = [s for s in subdimensions if s.dimension_id == dimension.pk]
            explained = [
                ExplainedSubdimension(areas[subdimension_key(s.code)], by_subdimension[s.code])
                for s in subs
                if s.constraint == code
            ]
            cells.append(
                ExplainedCell(
                    area=areas[cell_key(dimension.code, code)],
                    constraint_label=str(label),
                    subdimensions=explained,
                    has_scored_questions=any(e.questions for e in explained),
                )
            )
        dimensions.append(
            ExplainedDimension(
                area=areas[dimension_key(dimension.code)],
                weight=to_decimal(spec.dimension_weights[dimension.code], 4),
                cells=cells,
            )
        )
    excluded = []
    for number, reason in sorted(spec.excluded.items()):
        question = questions[number]
        excluded.append((question, reason, _answer_text(question, answers.get(question.pk))))
    weight_total = sum((d.weight for d in dimensions if d.area.value is not None), Decimal(0))
    levels = [(level, to_decimal(level.minimum, 2)) for level in spec.levels]
    return Explanation(score, dimensions, excluded, weight_total, levels)


def _answer_text(question: Question, answer: Answer | None) -> str:
    if answer is None:
        return ""
    return answer_label(question, answer.value, answer.other_text)


# --- Index of results --------------------------------------------------------------------


def scored_responses_visible_to(user: User) -> list[tuple[Response, ResponseScore | None]]:
    """Submitted responses the user may see, each with its score under the latest grid."""
    latest = latest_grids()
    responses = (
        responses_visible_to(user)
        .filter(status=Response.Status.SUBMITTED)
        .prefetch_related(Prefetch("scores", ResponseScore.objects.select_related("grid")))
        .order_by("-campaign__year", "cpts__name")
    )
    rows = []
    for response in responses:
        grid = latest.get(response.campaign.questionnaire_id)
        score = next((s for s in response.scores.all() if grid and s.grid_id == grid.pk), None)
        rows.append((response, score))
    return rows


# --- helpers ---------------------------------------------------------------------------------


def _areas_by_key(score: ResponseScore) -> dict[tuple, AreaScore]:
    return {area.key: area for area in score.areas.all()}


def _median(values: list[Decimal]) -> Decimal | None:
    """None from fewer than SMALL_CELL_MINIMUM values (the small-cell rule)."""
    if len(values) < SMALL_CELL_MINIMUM:
        return None
    return Decimal(statistics.median(values)).quantize(Decimal("0.01"))
