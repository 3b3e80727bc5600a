"""A batched rescore stores exactly what scoring each response on its own stores.

The same starting state (created, updated, unchanged, deleted and skipped cases in one batch)
is scored one response at a time, then rolled back and scored in batches; both must leave the
same rows, rounded values included. Run once per write path: COPY (PostgreSQL with psycopg 3)
and bulk_create (every database).
"""

from collections import Counter

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cpts_portal import bulk
from questionnaire.models import Answer, Response
from scoring import services
from scoring.models import AreaScore, ResponseScore
from tests.helpers import MINIMAL, MIXED, make_response


@pytest.fixture(params=["copy", "bulk_create"])
def write_path(request, monkeypatch):
    """Which way rows are written; counts the COPY statements to prove which one ran."""
    copies = []
    for name in ("rows_copy", "rows_copy_text"):
        original = getattr(bulk, name)
        monkeypatch.setattr(
            bulk, name, lambda *args, original=original: copies.append(args[0]) or original(*args)
        )
    if request.param == "copy":
        if not bulk.copy_supported():
            pytest.skip("COPY needs PostgreSQL with psycopg 3")
    else:
        monkeypatch.setattr(bulk, "copy_supported", lambda: False)
    return request.param, copies


def stored() -> dict:
    """Every stored figure by response, without row ids or timestamps."""
    found = {}
    for score in ResponseScore.objects.all():
        found[score.response_id] = (
            score.grid_id,
            score.index,
            score.level,
            sorted(
                AreaScore.objects.filter(score=score).values_list(
                    "kind",
                    "dimension_id",
                    "constraint",
                    "subdimension_id",
                    "earned",
                    "possible",
                    "value",
                ),
                key=repr,
            ),
        )
    return found


def _one_by_one(ids: list[int], grid) -> tuple[Counter, dict]:
    """Score each response alone, note the outcomes and rows, and leave nothing behind."""
    with transaction.atomic():
        outcomes = Counter(
            services.response_score(response=Response.objects.get(pk=pk), grid=grid).outcome
            for pk in ids
        )
        rows = stored()
        transaction.set_rollback(True)
    return outcomes, rows


def test_a_batched_rescore_stores_what_scoring_one_by_one_stores(campaign, grid, write_path):
    path, copies = write_path
    changed = make_response(campaign, MIXED)  # scored, then one answer changes: updated
    kept = make_response(campaign, MINIMAL)  # declared CPTS, Q26–27 do not apply: unchanged
    reopened = make_response(campaign, MIXED)  # scored, then reopened: loses its scores
    for response in (changed, kept, reopened):
        services.response_score(response=response, grid=grid)
    Answer.objects.filter(response=changed, question__number=38).update(value="oui")
    Response.objects.filter(pk=reopened.pk).update(status="draft", submitted_at=None)
    # Never scored: a nearly blank submitted response (unanswered questions count 0 and
    # whole areas are not assessed), another full one, and a draft.
    blank = make_response(campaign, {"q02": "ingenierie"})
    new = make_response(campaign, MIXED | {"q30": "tres_faible"})
    draft = make_response(campaign, {"q02": "fonctionnement"}, submitted=False)
    ids = [r.pk for r in (changed, kept, reopened, blank, new, draft)]

    outcomes, expected = _one_by_one(ids, grid)
    assert outcomes == {"created": 2, "updated": 1, "unchanged": 1, "deleted": 1, "skipped": 1}
    copies.clear()

    counts = services.responses_score(response_ids=ids, grid=grid, batch_size=4)

    assert counts == dict(outcomes)
    assert stored() == expected
    assert set(expected) == {changed.pk, kept.pk, blank.pk, new.pk}
    # Not-assessed areas are stored as such (NULL), not as 0.
    assert any(row[-1] is None for row in expected[blank.pk][3])
    assert (path == "copy") == bool(copies)
    # Scoring the same responses again finds nothing to write.
    before = list(ResponseScore.objects.order_by("pk").values_list("pk", "computed_at"))
    again = services.responses_score(response_ids=ids, grid=grid)
    assert again == {"unchanged": 4, "skipped": 2}
    assert list(ResponseScore.objects.order_by("pk").values_list("pk", "computed_at")) == before


def test_a_response_deleted_before_its_batch_is_skipped(campaign, grid):
    response = make_response(campaign, MIXED)
    gone = make_response(campaign, MIXED)
    gone_pk = gone.pk
    gone.delete()
    counts = services.responses_score(response_ids=[gone_pk, response.pk], grid=grid)
    assert counts == {"skipped": 1, "created": 1}


def test_the_batch_locks_its_response_rows(campaign, grid):
    """The guarantee against duplicates under a concurrent submission: the batch's response
    rows are locked (FOR UPDATE OF the response table only), in id order, before any read."""
    responses = [make_response(campaign, MIXED) for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        services.responses_score(response_ids=[r.pk for r in responses], grid=grid)
    sql = [q["sql"] for q in queries.captured_queries]
    batch = next(i for i, q in enumerate(sql) if '"questionnaire_response"."status"' in q)
    assert all("questionnaire_answer" not in q for q in sql[:batch])
    assert "ORDER BY" in sql[batch]
    if connection.features.has_select_for_update_of:
        assert sql[batch].endswith('FOR UPDATE OF "questionnaire_response"')
