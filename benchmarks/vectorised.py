"""The rescore measure's baseline: the same scores, computed for all responses at once.

Raw points come out of SQL (one query per kind of rule, JSON answers unnested in PostgreSQL),
the rest is array arithmetic in numpy: contributions, sums over each area by a membership
matrix, the weighted index and the level. Floats, where scoring.arithmetic is exact: results
agree with the stored scores within their rounding (0.005), which `compare_with_stored` checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import connection

from questionnaire.models import Question, Response
from scoring.arithmetic import Layout
from scoring.models import ScoringGrid

OPTION_RULES = ("option_points", "options_sum", "options_best")
# Stored scores are rounded to 2 places (half up); a float may sit on either side of it.
TOLERANCE = 0.005 + 1e-6

_AS_ARRAY = (
    "CASE WHEN jsonb_typeof(a.value) = 'array' THEN a.value ELSE jsonb_build_array(a.value) END"
)
_FROM = (
    "FROM questionnaire_answer a JOIN questionnaire_response r ON r.id = a.response_id "
    "JOIN questionnaire_campaign c ON c.id = r.campaign_id"
)
_WHERE = "WHERE c.questionnaire_id = %s AND r.status = 'submitted'"
_SUBMITTED = f"{_FROM} {_WHERE}"


@dataclass(frozen=True)
class VectorScores:
    response_ids: np.ndarray  # sorted
    area_keys: list[tuple]  # (kind, dimension code, constraint, subdimension code)
    areas: np.ndarray  # responses × areas, NaN = not assessed
    index: np.ndarray  # NaN = not assessed
    level: list[str]


def scores_vectorised(grid: ScoringGrid) -> VectorScores:
    spec = grid.spec
    definition = grid.questionnaire.definition
    layout = Layout.from_definition(definition)
    questionnaire_id = grid.questionnaire_id
    questions = {
        q.number: q
        for q in Question.objects.filter(version_id=questionnaire_id).select_related(
            "condition_question"
        )
    }
    rules = [rule for _, rule in sorted(spec.rules.items())]
    ids = np.array([questions[r.number].pk for r in rules])
    column = {int(qid): j for j, qid in enumerate(ids)}
    response_ids = np.array(
        Response.objects.filter(
            campaign__questionnaire_id=questionnaire_id, status=Response.Status.SUBMITTED
        )
        .order_by("pk")
        .values_list("pk", flat=True),
        dtype=np.int64,
    )
    n, q = len(response_ids), len(rules)
    points = np.zeros((n, q))  # unanswered: 0 points

    def place(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        data = np.array(rows, dtype=np.float64).reshape(-1, 3)
        return (
            np.searchsorted(response_ids, data[:, 0].astype(np.int64)),
            np.array([column[int(c)] for c in data[:, 1]], dtype=np.int64),
            data[:, 2],
        )

    with connection.cursor() as cursor:
        # Option rules: sum and best of the points of the chosen option(s).
        option_rules = [r for r in rules if r.rule in OPTION_RULES]
        table = [
            (int(questions[r.number].pk), code, float(p))
            for r in option_rules
            for code, p in r.points.items()
        ]
        cursor.execute(
            "WITH p(question_id, code, points) AS "
            "(SELECT * FROM unnest(%s::bigint[], %s::text[], %s::float8[])) "
            "SELECT a.response_id, a.question_id, SUM(p.points), MAX(p.points) "
            f"{_FROM} CROSS JOIN LATERAL jsonb_array_elements_text({_AS_ARRAY}) e(code) "
            f"JOIN p ON p.question_id = a.question_id AND p.code = e.code {_WHERE} "
            "GROUP BY a.response_id, a.question_id",
            [[t[0] for t in table], [t[1] for t in table], [t[2] for t in table], questionnaire_id],
        )
        rows = cursor.fetchall()
        if rows:
            best = {int(questions[r.number].pk) for r in option_rules if r.rule == "options_best"}
            chosen = [(rid, qid, most if qid in best else total) for rid, qid, total, most in rows]
            i, j, v = place(chosen)
            points[i, j] = v

        # Number bands: the points of the last band whose start is at most the answer.
        for rule in (r for r in rules if r.rule == "number_bands"):
            cursor.execute(
                f"SELECT a.response_id, a.question_id, (a.value #>> '{{}}')::float8 {_SUBMITTED} "
                "AND a.question_id = %s",
                [questionnaire_id, int(questions[rule.number].pk)],
            )
            i, j, v = place(cursor.fetchall())
            starts = np.array([float(s) for s, _ in rule.bands])
            band_points = np.array([float(p) for _, p in rule.bands])
            band = np.searchsorted(starts, v, side="right") - 1
            points[i, j] = np.where(band >= 0, band_points[np.maximum(band, 0)], 0.0)

        # Role table: distinct options chosen across the rows, minus `minus`, capped.
        for rule in (r for r in rules if r.rule == "distinct_options"):
            cursor.execute(
                "SELECT a.response_id, a.question_id, "
                "(SELECT count(DISTINCT e.value) FROM jsonb_each_text(a.value) e "
                f"WHERE e.value <> '') {_SUBMITTED} AND a.question_id = %s",
                [questionnaire_id, int(questions[rule.number].pk)],
            )
            i, j, v = place(cursor.fetchall())
            points[i, j] = np.clip(v - rule.minus, 0, float(rule.maximum))

        # Conditional questions apply only when their condition question has a listed answer.
        applies = np.ones((n, q), dtype=bool)
        for j, rule in enumerate(rules):
            question = questions[rule.number]
            if question.condition_question_id is None:
                continue
            cursor.execute(
                f"SELECT DISTINCT a.response_id {_SUBMITTED} AND a.question_id = %s AND EXISTS "
                f"(SELECT 1 FROM jsonb_array_elements_text({_AS_ARRAY}) e(code) "
                "WHERE e.code = ANY(%s))",
                [questionnaire_id, question.condition_question_id, list(question.condition_values)],
            )
            matching = np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
            applies[:, j] = np.isin(response_ids, matching)

    maximum = np.array([float(r.maximum) for r in rules])
    weight = np.array([float(r.weight) for r in rules])
    capped = np.minimum(points, maximum)  # options_sum is capped at its maximum
    earned = np.where(applies, weight * capped / maximum, 0.0)
    possible = np.where(applies, weight, 0.0)

    area_keys: list[tuple] = []
    membership: list[np.ndarray] = []
    dimension_of = {s: d["code"] for d in definition["dimensions"] for s in _subs(d)}
    constraint_of = {
        s["code"]: s["constraint"] for d in definition["dimensions"] for s in d["subdimensions"]
    }
    for code in layout.subdimensions:
        area_keys.append(("subdimension", dimension_of[code], constraint_of[code], code))
        membership.append(np.array([r.subdimension == code for r in rules]))
    for dimension, constraint in layout.cells:
        area_keys.append(("cell", dimension, constraint, None))
        membership.append(
            np.array([r.dimension == dimension and r.constraint == constraint for r in rules])
        )
    for dimension in layout.dimensions:
        area_keys.append(("dimension", dimension, "", None))
        membership.append(np.array([r.dimension == dimension for r in rules]))
    matrix = np.stack(membership, axis=1).astype(np.float64)  # questions × areas

    area_earned, area_possible = earned @ matrix, possible @ matrix
    with np.errstate(invalid="ignore", divide="ignore"):
        areas = np.where(area_possible > 0, 100 * area_earned / area_possible, np.nan)
        dimensions = areas[:, -len(layout.dimensions) :]
        dimension_weight = np.array([float(spec.dimension_weights[d]) for d in layout.dimensions])
        assessed = ~np.isnan(dimensions)
        total_weight = (assessed * dimension_weight).sum(axis=1)
        index = np.where(
            total_weight > 0,
            np.where(assessed, dimensions, 0.0) @ dimension_weight / total_weight,
            np.nan,
        )
    minimums = np.array([float(level.minimum) for level in spec.levels])
    # A float a hair below an exact threshold (50 as 49.9999…) must reach it, as Fraction does.
    rank = np.searchsorted(minimums, np.nan_to_num(index, nan=-1.0) + 1e-9, side="right") - 1
    level = [spec.levels[k].code if not np.isnan(x) else "" for k, x in zip(rank, index)]  # noqa: B905
    return VectorScores(response_ids, area_keys, areas, index, level)


def _subs(dimension: dict) -> list[str]:
    return [s["code"] for s in dimension["subdimensions"]]


@dataclass(frozen=True)
class Agreement:
    responses: int
    agreeing: int
    first_difference: str


def compare_with_stored(scores: VectorScores, grid: ScoringGrid) -> Agreement:
    """How many responses have every stored figure (index, level, areas) equal to the arrays'."""
    row = {int(rid): i for i, rid in enumerate(scores.response_ids)}
    column = {key: j for j, key in enumerate(scores.area_keys)}
    stored_areas = np.full(scores.areas.shape, np.nan)
    stored_index = np.full(scores.index.shape, np.nan)
    stored_level = [""] * len(row)
    seen = np.zeros(len(row), dtype=bool)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.response_id, s.index, s.level FROM scoring_responsescore s "
            "WHERE s.grid_id = %s",
            [grid.pk],
        )
        for response_id, index, level in cursor.fetchall():
            if response_id in row:
                i = row[response_id]
                seen[i] = True
                stored_index[i] = float(index) if index is not None else np.nan
                stored_level[i] = level
        cursor.execute(
            "SELECT s.response_id, a.kind, d.code, a.constraint, sd.code, a.value "
            "FROM scoring_areascore a JOIN scoring_responsescore s ON s.id = a.score_id "
            "JOIN questionnaire_dimension d ON d.id = a.dimension_id "
            "LEFT JOIN questionnaire_subdimension sd ON sd.id = a.subdimension_id "
            "WHERE s.grid_id = %s",
            [grid.pk],
        )
        for response_id, kind, dimension, constraint, sub, value in cursor.fetchall():
            if response_id in row:
                stored_areas[row[response_id], column[(kind, dimension, constraint, sub)]] = (
                    float(value) if value is not None else np.nan
                )

    def same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= TOLERANCE)

    ok = seen & same(scores.index, stored_index) & same(scores.areas, stored_areas).all(axis=1)
    ok &= np.array([a == b for a, b in zip(scores.level, stored_level, strict=True)], dtype=bool)
    first = ""
    if not ok.all():
        i = int(np.argmin(ok))
        first = (
            f"response {scores.response_ids[i]}: index {scores.index[i]:.4f} vs "
            f"{stored_index[i]:.4f}, level {scores.level[i]!r} vs {stored_level[i]!r}"
        )
    return Agreement(len(row), int(ok.sum()), first)
