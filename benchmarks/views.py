"""The bench's bare baselines, served only under `cpts_portal.settings_bench`.

`bare_save` is what an autosave costs with nothing but the framework and one UPDATE. It is
served by the same gunicorn, through the same middleware (sessions, CSRF, security headers), and
takes the same form fields as the autosave view, so that the ratio of the two latencies isolates
what the autosave adds: scoping, the row lock, validation, history and the progress it returns.

`bare_overview` is the territory overview's visible content (the table's first page, the
response rate, the charts' tables and data) from one SQL statement through a plain template,
requested by the same test client through the same middleware and login: the ratio isolates
what the real page adds (scoping, filters, django-tables2, crispy forms, Plotly, the ORM).
"""

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from dashboards.forms import STATUS_CHOICES
from dashboards.views import TABLE_PAGE_SIZE
from questionnaire.models import ConstraintType
from scoring.selectors import SMALL_CELL_MINIMUM
from territories.models import Cpts


@require_POST
def bare_save(request: HttpRequest, pk: int) -> JsonResponse:
    question_id = int(request.POST["question"])
    value = request.POST.get(f"q{question_id}", "")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE questionnaire_answer SET value = to_jsonb(%s::text), "
            "revision = revision + 1, updated_at = now() "
            "WHERE response_id = %s AND question_id = %s RETURNING revision",
            [value, pk, question_id],
        )
        row = cursor.fetchone()
    if row is None:
        return JsonResponse({"status": "missing"}, status=404)
    return JsonResponse({"status": "saved", "revision": row[0]})


# --- The overview's baseline ------------------------------------------------------------------

# Everything the overview page shows for one campaign, over the CPTS of one region, in one
# statement: the table's first page (sorted by name, as the page is by default), the response
# rate, the quartiles by department, by stage and by campaign and the matrix means, with the
# small-cell rule applied in SQL. One row per item: (kind, position, payload as JSON).
BARE_OVERVIEW_SQL = """
WITH campaign AS (
    SELECT id, name, questionnaire_id FROM questionnaire_campaign WHERE slug = %(campaign)s
), grids AS (
    SELECT DISTINCT ON (questionnaire_id) id, questionnaire_id, definition
    FROM scoring_scoringgrid ORDER BY questionnaire_id, loaded_at DESC, id DESC
), scope AS (
    SELECT c.id, c.name, c.stage, d.code AS department_code, d.name AS department_name
    FROM territories_cpts c JOIN territories_department d ON d.id = c.department_id
    WHERE d.region_id = %(region)s
), answered AS (
    SELECT scope.*, r.id AS response_id, coalesce(r.status, 'none') AS status,
           (p.id IS NOT NULL AND p.excluded_at IS NULL) AS participates
    FROM scope
    LEFT JOIN questionnaire_response r
        ON r.cpts_id = scope.id AND r.campaign_id = (SELECT id FROM campaign)
    LEFT JOIN campaigns_participant p
        ON p.cpts_id = scope.id AND p.campaign_id = (SELECT id FROM campaign)
), scored AS (
    SELECT s.id, s.index, s.level, r.campaign_id, r.cpts_id, scope.stage, scope.department_code,
           scope.department_name
    FROM scoring_responsescore s
    JOIN questionnaire_response r ON r.id = s.response_id
    JOIN scope ON scope.id = r.cpts_id
    WHERE r.status = 'submitted' AND s.grid_id IN (SELECT id FROM grids)
), current AS (
    SELECT * FROM scored WHERE campaign_id = (SELECT id FROM campaign) AND index IS NOT NULL
)
SELECT 'campaign', 0, json_build_array(name) FROM campaign
UNION ALL
(SELECT 'dimension', position, json_build_array(id, label) FROM questionnaire_dimension
 WHERE version_id = (SELECT questionnaire_id FROM campaign))
UNION ALL
(SELECT 'row', row_number() OVER (ORDER BY a.name, a.id),
        json_build_array(a.id, a.name, a.department_name, a.department_code, a.stage, a.status,
                         a.response_id, s.index, level.label,
                         (SELECT json_object_agg(dimension_id, value) FROM scoring_areascore
                          WHERE score_id = s.id AND kind = 'dimension'))
 FROM answered a
 LEFT JOIN current s ON s.cpts_id = a.id
 LEFT JOIN LATERAL (
     SELECT l->>'label' AS label
     FROM grids g, jsonb_array_elements(g.definition->'levels') l
     WHERE g.questionnaire_id = (SELECT questionnaire_id FROM campaign) AND l->>'code' = s.level
 ) level ON true
 ORDER BY a.name, a.id LIMIT %(rows)s)
UNION ALL
SELECT 'rate', 0, json_build_array(
    count(*), count(*) FILTER (WHERE status = 'submitted'), count(*) FILTER (WHERE participates),
    count(*) FILTER (WHERE participates AND status = 'submitted'))
FROM answered
UNION ALL
(SELECT 'department', row_number() OVER (ORDER BY department_code),
        json_build_array(department_name || ' (' || department_code || ')', count(*),
            CASE WHEN count(*) >= %(minimum)s THEN percentile_cont(ARRAY[0, 0.25, 0.5, 0.75, 1])
                 WITHIN GROUP (ORDER BY index) END)
 FROM current GROUP BY department_code, department_name)
UNION ALL
SELECT 'stage', 0, json_build_array(stage, count(*),
    CASE WHEN count(*) >= %(minimum)s THEN percentile_cont(ARRAY[0, 0.25, 0.5, 0.75, 1])
         WITHIN GROUP (ORDER BY index) END)
FROM current GROUP BY stage
UNION ALL
SELECT 'cell', 0, json_build_array(a.dimension_id, a.constraint, count(*),
    CASE WHEN count(*) >= %(minimum)s THEN round(avg(a.value), 2) END)
FROM scoring_areascore a JOIN current ON current.id = a.score_id
WHERE a.kind = 'cell' AND a.value IS NOT NULL
GROUP BY a.dimension_id, a.constraint
UNION ALL
(SELECT 'evolution', row_number() OVER (ORDER BY c.year, c.opens_on),
        json_build_array(c.name, count(s.index),
            CASE WHEN count(s.index) >= %(minimum)s THEN percentile_cont(ARRAY[0.25, 0.5, 0.75])
                 WITHIN GROUP (ORDER BY s.index) END)
 FROM questionnaire_campaign c LEFT JOIN scored s ON s.campaign_id = c.id
 WHERE c.questionnaire_id IN (SELECT questionnaire_id FROM grids)
 GROUP BY c.id)
ORDER BY 1, 2
"""


@login_required
@require_GET
def bare_overview(request: HttpRequest) -> HttpResponse:
    """The territory overview's content for the user's region, from one SQL statement, through a
    template that draws it plainly: what `measure_overview` compares the real page with."""
    found: dict[str, list] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            BARE_OVERVIEW_SQL,
            {
                "campaign": request.GET.get("campagne", ""),
                "region": request.user.region_id,
                "rows": TABLE_PAGE_SIZE,
                "minimum": SMALL_CELL_MINIMUM,
            },
        )
        for kind, _position, payload in cursor.fetchall():
            found[kind].append(payload)
    dimensions = found["dimension"]
    stages, statuses = dict(Cpts.Stage.choices), dict(STATUS_CHOICES)
    rows = [
        {
            "pk": pk,
            "name": name,
            "department": f"{department} ({code})",
            "stage": stages.get(stage, stage),
            "status": statuses.get(status, status),
            "response": response,
            "index": index,
            "level": level,
            "dimensions": [(areas or {}).get(str(d[0])) for d in dimensions],
        }
        for pk, name, department, code, stage, status, response, index, level, areas in found["row"]
    ]
    total, submitted, participants, participants_submitted = found["rate"][0]
    by_stage = {stage: (count, q) for stage, count, q in found["stage"]}
    cells = {(d, c): (count, mean) for d, c, count, mean in found["cell"]}
    matrix = [
        (label, [cells.get((pk, code), (0, None)) for code, _label in ConstraintType.choices])
        for pk, label in dimensions
    ]
    charts = {
        "departements": found["department"],
        "stades": [
            (str(label), *by_stage.get(code, (0, None))) for code, label in Cpts.Stage.choices
        ],
        "matrice": [(label, [mean for _count, mean in row]) for label, row in matrix],
        "evolution": found["evolution"],
    }
    return render(
        request,
        "benchmarks/bare_overview.html",
        {
            "campaign": found["campaign"][0][0],
            "dimensions": [label for _pk, label in dimensions],
            "constraints": [str(label) for _code, label in ConstraintType.choices],
            "rows": rows,
            "rate": (participants_submitted, participants) if participants else (submitted, total),
            "total": total,
            "matrix": matrix,
            "charts": charts,
        },
    )
