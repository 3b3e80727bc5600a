"""Storing scores: idempotent upsert, drafts, Celery tasks (eager here), `rescore` on demo data."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from questionnaire.models import Answer, Response
from questionnaire.services import response_submit
from scoring import selectors, services, tasks
from scoring.models import AreaScore, ResponseScore, ScoringGrid
from tests.factories import CptsFactory, UserFactory
from tests.helpers import MIXED, grid_version_2, make_response


def snapshot(grid=None) -> dict:
    """Stored figures with row ids and timestamps: equal snapshots mean nothing was written."""
    scores = ResponseScore.objects.filter(**({"grid": grid} if grid else {}))
    return {
        "scores": sorted(
            scores.values_list("pk", "response", "grid", "index", "level", "computed_at")
        ),
        "areas": sorted(
            AreaScore.objects.filter(score__in=scores).values_list(
                "pk", "score", "kind", "dimension", "constraint", "subdimension", "value"
            )
        ),
    }


def test_scores_are_stored_per_area_and_response(campaign, grid):
    response = make_response(campaign, MIXED)
    score = services.response_score(response=response, grid=grid).score
    # 19 sub-dimensions + 9 matrix cells + 3 dimensions; the 35 scored questions' points are
    # recomputed from the answers, not stored.
    assert len(selectors.question_points(score)) == 35
    counts = {kind: score.areas.filter(kind=kind).count() for kind in AreaScore.Kind.values}
    assert counts == {"subdimension": 19, "cell": 9, "dimension": 3}
    assert score.level_label == "Structuration"


def test_scoring_again_writes_nothing_and_a_changed_answer_updates(campaign, grid):
    response = make_response(campaign, MIXED)
    services.response_score(response=response, grid=grid)
    before = snapshot()
    assert services.response_score(response=response, grid=grid).outcome == "unchanged"
    assert snapshot() == before

    Answer.objects.filter(response=response, question__number=38).update(value="oui")
    outcome = services.response_score(response=response, grid=grid)
    assert outcome.outcome == "updated"
    plan = outcome.score.areas.get(kind=AreaScore.Kind.SUBDIMENSION, subdimension__code="plan_sse")
    assert plan.value == 100
    assert ResponseScore.objects.count() == 1


def test_drafts_are_not_scored_and_a_reopened_response_loses_its_scores(campaign, grid):
    draft = make_response(campaign, {"q02": "ingenierie"}, submitted=False)
    assert services.response_score(response=draft, grid=grid).outcome == "skipped"
    assert not ResponseScore.objects.exists()

    response = make_response(campaign, MIXED)
    services.response_score(response=response, grid=grid)
    Response.objects.filter(pk=response.pk).update(status="draft", submitted_at=None)
    assert response.pk in selectors.response_ids_to_score(grid)
    assert services.response_score(response=response, grid=grid).outcome == "deleted"
    assert not ResponseScore.objects.exists()


def test_submitting_a_response_scores_it(campaign, grid, django_capture_on_commit_callbacks):
    cpts = CptsFactory()
    coordinator = UserFactory(role=User.Role.COORDINATOR, cpts=[cpts])
    response = make_response(campaign, MIXED, cpts=cpts, submitted=False)
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(response=response, user=coordinator)
    score = ResponseScore.objects.get(response=response, grid=grid)
    assert (score.index, score.level) == (Decimal("64.50"), "structuration")


def test_score_response_task(campaign, grid):
    response = make_response(campaign, MIXED)
    assert tasks.score_response.delay(response.pk).get() == "created"
    assert tasks.score_response.delay(response.pk, grid.code).get() == "unchanged"
    assert tasks.score_response.delay(10**9).get() == "missing"


def test_score_response_task_without_a_grid(campaign):
    response = make_response(campaign, MIXED)
    assert tasks.score_response.delay(response.pk).get() == "no_grid"
    assert not ResponseScore.objects.exists()


def test_the_latest_loaded_grid_is_the_default(questionnaire, grid, tmp_path):
    assert selectors.latest_grid(questionnaire) == grid
    second = services.grid_load(path=grid_version_2(tmp_path)).grid
    assert selectors.latest_grid(questionnaire) == second
    assert selectors.grid_for(questionnaire, grid.code) == grid


# --- rescore on the demo data ----------------------------------------------------------------


@pytest.fixture
def demo(questionnaire, grid, settings):
    settings.DEBUG = True
    call_command("load_demo_data", password="mot-de-passe-demo", verbosity=0)  # scores too
    return grid


def test_demo_responses_are_all_scored(demo):
    submitted = Response.objects.filter(status=Response.Status.SUBMITTED)
    assert services.score_all_submitted() == {"unchanged": submitted.count()}
    assert submitted.count() > 60
    assert ResponseScore.objects.filter(grid=demo).count() == submitted.count()
    assert not ResponseScore.objects.filter(response__status=Response.Status.DRAFT).exists()
    # Answers differ, so do scores and levels.
    assert ResponseScore.objects.values("index").distinct().count() > 30
    assert ResponseScore.objects.values("level").distinct().count() >= 3


def test_rescore_with_an_unchanged_grid_changes_nothing(demo, capsys):
    before = snapshot()
    call_command("rescore", grid=demo.code, batch_size=25)
    out = capsys.readouterr().out
    total = ResponseScore.objects.count()
    assert f"{total} réponses en 4 lot(s)" in out
    assert "lot 4/4" in out
    assert f"Terminé : 0 créés, 0 mis à jour, {total} inchangés." in out
    assert snapshot() == before


def test_rescore_finds_the_one_response_whose_answers_changed(demo, capsys):
    response = ResponseScore.objects.filter(response__answers__question__number=30).first()
    answer = Answer.objects.get(response=response.response, question__number=30)
    answer.value = "tres_faible" if answer.value != "tres_faible" else "tres_importante"
    answer.save()
    call_command("rescore", grid=demo.code)
    total = ResponseScore.objects.count()
    assert f"Terminé : 0 créés, 1 mis à jour, {total - 1} inchangés." in capsys.readouterr().out


def test_rescore_with_a_new_grid_version_updates_every_response(demo, tmp_path, capsys):
    v1 = snapshot(demo)
    call_command("load_scoring_grid", str(grid_version_2(tmp_path)))
    v2 = ScoringGrid.objects.get(code="miller-2022-v2")
    call_command("rescore", grid=v2.code)
    submitted = Response.objects.filter(status=Response.Status.SUBMITTED).count()
    out = capsys.readouterr().out
    assert f"Terminé : {submitted} créés, 0 mis à jour, 0 inchangés." in out
    # Every submitted response now has scores under v2, computed with Q2's new weight …
    assert ResponseScore.objects.filter(grid=v2).count() == submitted
    weights = {
        selectors.question_points(score)[2].weight
        for score in ResponseScore.objects.filter(grid=v2).select_related("grid__questionnaire")
    }
    assert weights == {1}
    changed = sum(
        1
        for old, new in zip(
            ResponseScore.objects.filter(grid=demo).order_by("response"),
            ResponseScore.objects.filter(grid=v2).order_by("response"),
            strict=True,
        )
        if old.index != new.index
    )
    assert changed > submitted * 0.8
    # … v1's scores stay as they were, and v2 is what the pages show from now on.
    assert snapshot(demo) == v1
    assert selectors.latest_grid(demo.questionnaire) == v2


def test_rescore_refuses_an_unknown_grid(questionnaire):
    with pytest.raises(CommandError, match="Grille « v9 » inconnue"):
        call_command("rescore", grid="v9")


def test_a_dimension_that_scores_name_cannot_be_deleted(cohort):
    """The area rows' dimension keys have no database constraint (rescore speed): Django's
    PROTECT is what keeps them pointing at something."""
    from django.db.models import ProtectedError

    from questionnaire.models import SubDimension

    area = AreaScore.objects.filter(kind=AreaScore.Kind.SUBDIMENSION).select_related(
        "subdimension"
    )[0]
    with pytest.raises(ProtectedError) as refused:
        SubDimension.objects.filter(pk=area.subdimension_id).delete()
    assert any(isinstance(o, AreaScore) for o in refused.value.protected_objects)
    assert SubDimension.objects.filter(pk=area.subdimension_id).exists()
