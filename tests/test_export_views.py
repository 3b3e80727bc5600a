"""The export page, background exports with their retention, the export_cohort command, and
flat memory: the query count does not grow with the cohort."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from exports import jobs, writers
from exports.models import RETENTION, ExportJob
from exports.spec import ExportSpec
from questionnaire.models import Response
from tests.factories import CptsFactory
from tests.helpers import MIXED, SLUG, export, make_response

URL = reverse("exports:index")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(content.removeprefix("\ufeff"), newline="")))


def _post(client, **data):
    form = {"campaigns": [SLUG], "format": "wide", "status": "submitted", "values": "codes"}
    return client.post(URL, {**form, **data})


# --- access and scope -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "no_role"])
def test_coordinators_and_users_without_role_have_no_export_page(client, users, cohort, role):
    client.force_login(users[role])
    assert client.get(URL).status_code == 403
    assert _post(client).status_code == 403
    home = client.get(reverse("home"))
    assert URL not in home.content.decode()


def test_anonymous_users_are_sent_to_login(client, cohort):
    response = client.get(URL)
    assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_the_page_lists_only_the_territory_the_user_may_pick(client, users, cohort):
    client.force_login(users["ars"])
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/exports/"' in html  # navigation entry
    regions = [choice[0] for choice in page.context["form"].fields["region"].choices]
    assert [str(value) for value in regions] == ["", "11"]


def test_an_ars_officers_export_holds_only_their_region(client, users, cohort, territory):
    client.force_login(users["ars"])
    response = _post(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    rows = _rows(response)
    assert rows[0][:2] == ["campaign", "cpts_code"]
    assert sorted(row[1] for row in rows[1:]) == sorted(
        [territory["paris_1"].code, territory["saint_denis"].code]
    )
    assert {row[4] for row in rows[1:]} == {"11"}


def test_a_cpam_agent_cannot_pick_another_department(client, users, cohort):
    client.force_login(users["cpam"])
    response = _post(client, department="93")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_fcpts_gets_every_format_as_a_download(client, users, cohort):
    client.force_login(users["fcpts"])
    headers = {
        "wide": "campaign,cpts_code,cpts_name",
        "long": "campaign,cpts_code,question,variable,option_code,value",
        "scores": "campaign,cpts_code,cpts_name",
        "codebook": "question,variable,dimension",
    }
    for fmt, start in headers.items():
        response = _post(client, format=fmt)
        content = b"".join(response.streaming_content).decode("utf-8")
        assert content.startswith(start), fmt
        expected = export(ExportSpec(campaigns=(SLUG,), format=fmt), users["fcpts"])
        assert content == expected, fmt
    excel = _post(client, format="scores", excel="on", values="labels")
    content = b"".join(excel.streaming_content)
    assert content.startswith("\ufeffcampaign;".encode())
    assert b"Structuration" in content


@pytest.mark.parametrize(
    "data, message",
    [
        ({"format": "xls"}, "Sélectionnez un choix valide"),
        ({"campaigns": ["nulle-part"]}, "Sélectionnez un choix valide"),
        ({"campaigns": []}, "Ce champ est obligatoire"),
        ({"status": "tout"}, "Sélectionnez un choix valide"),
        ({"region": "99"}, "Sélectionnez un choix valide"),
    ],
)
def test_bad_choices_give_a_french_message(client, users, cohort, data, message):
    client.force_login(users["fcpts"])
    response = _post(client, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ExportJob.objects.exists()


def test_campaigns_of_two_questionnaire_versions_are_refused(client, users, cohort):
    campaign, _ = cohort
    from questionnaire.models import Campaign, QuestionnaireVersion

    other_version = QuestionnaireVersion.objects.create(
        code="autre-version", title="Autre", checksum="x", definition={}
    )
    Campaign.objects.create(
        name="Autre",
        slug="autre",
        year=2027,
        questionnaire=other_version,
        opens_on=campaign.opens_on,
        closes_on=campaign.closes_on,
    )
    client.force_login(users["fcpts"])
    response = _post(client, campaigns=[SLUG, "autre"])
    assert "versions différentes du questionnaire" in response.content.decode()


# --- background exports -----------------------------------------------------------------------


def test_a_large_export_runs_in_the_background_for_its_requester_only(
    client, users, cohort, settings, django_capture_on_commit_callbacks
):
    settings.EXPORTS_STREAM_MAX_RESPONSES = 1
    client.force_login(users["fcpts"])
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, format="long")
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("exports:job", args=[job.pk])
    assert (job.status, job.total, job.done, job.percent) == ("done", 3, 3, 100)
    assert job.requested_by == users["fcpts"]
    assert abs(job.expires_at - timezone.now() - RETENTION).total_seconds() < 60

    page = client.get(reverse("exports:job", args=[job.pk]))
    assert b"<progress" in page.content
    state = client.get(reverse("exports:job_status", args=[job.pk])).json()
    assert state["status"] == "done" and state["percent"] == 100
    assert state["download_url"] == reverse("exports:job_download", args=[job.pk])
    download = client.get(state["download_url"])
    content = b"".join(download.streaming_content).decode("utf-8")
    assert content == export(ExportSpec(campaigns=(SLUG,), format="long"), users["fcpts"])
    listing = client.get(URL).content.decode()
    assert job.filename in listing

    # Someone else, even national staff, gets 404 for every URL of this file.
    other = users["ars"]
    client.force_login(other)
    for name in ("exports:job", "exports:job_status", "exports:job_download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.get(reverse("exports:job", args=[job.pk + 100])).status_code == 404


def test_a_background_export_is_prepared_once_by_the_page_and_once_by_the_worker(
    client, users, cohort, settings, django_capture_on_commit_callbacks, monkeypatch
):
    """The page checks the request once (it was three times: the page, the job's start and
    the worker); the worker, in its own process, reads it again from the job's parameters."""
    settings.EXPORTS_STREAM_MAX_RESPONSES = 1
    calls: list[str] = []
    for module, where in ((writers, "page"), (jobs, "worker")):
        original = module.export_prepare
        monkeypatch.setattr(
            module,
            "export_prepare",
            lambda *, _original=original, _where=where, **kwargs: (
                calls.append(_where) or _original(**kwargs)
            ),
        )
    client.force_login(users["fcpts"])
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, format="wide").status_code == 302
    assert ExportJob.objects.get().status == ExportJob.Status.DONE
    assert calls == ["page", "worker"]


def test_a_background_export_reports_progress_and_failures(cohort, users):
    progress: list[int] = []
    count = writers.write_export(
        io.StringIO(),
        spec=ExportSpec(campaigns=(SLUG,), format="wide"),
        user=users["fcpts"],
        progress=progress.append,
    )
    assert count == 3 and progress[-1] == 3
    job = ExportJob.objects.create(
        requested_by=users["fcpts"],
        parameters=ExportSpec(campaigns=(SLUG,), format="scores", grid="v0").to_json(),
        filename="x.csv",
    )
    jobs.export_job_run(job=job)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "Grille de score inconnue : « v0 »."
    assert not job.file


def test_expired_files_are_purged_and_answer_404(client, users, cohort, tmp_path):
    job = ExportJob.objects.create(
        requested_by=users["fcpts"],
        parameters=ExportSpec(campaigns=(SLUG,), format="wide").to_json(),
        filename="cohorte.csv",
    )
    jobs.export_job_run(job=job)
    path = job.file.path
    client.force_login(users["fcpts"])
    assert client.get(reverse("exports:job_download", args=[job.pk])).status_code == 200

    job.expires_at = timezone.now() - timezone.timedelta(seconds=1)
    job.save()
    assert client.get(reverse("exports:job_download", args=[job.pk])).status_code == 404
    fresh = ExportJob.objects.create(
        requested_by=users["fcpts"], parameters=job.parameters, filename="recent.csv"
    )
    assert jobs.export_jobs_purge() == 1
    assert not ExportJob.objects.filter(pk=job.pk).exists()
    assert ExportJob.objects.filter(pk=fresh.pk).exists()
    import os

    assert not os.path.exists(path)


# --- command line -----------------------------------------------------------------------------


def test_export_cohort_command(cohort, territory, tmp_path):
    output = tmp_path / "wide.csv"
    out = io.StringIO()
    call_command(
        "export_cohort",
        campaign=[SLUG],
        format="wide",
        region="11",
        output=str(output),
        stdout=out,
    )
    assert "2 réponse(s) exportée(s)" in out.getvalue()
    text = output.read_bytes().decode("utf-8")
    assert text == export(ExportSpec(campaigns=(SLUG,), format="wide", region="11"))
    call_command(
        "export_cohort", "--campaign", SLUG, "--format", "scores", "--excel", "--output",
        str(output),
    )  # fmt: skip
    assert output.read_bytes().startswith("\ufeffcampaign;".encode())
    with pytest.raises(CommandError, match="Campagne inconnue : « nulle-part »"):
        call_command("export_cohort", campaign=["nulle-part"], format="long", output=str(output))
    with pytest.raises(CommandError):
        call_command("export_cohort", campaign=[SLUG], format="xls", output=str(output))


# --- flat memory ------------------------------------------------------------------------------


def _queries(spec: ExportSpec) -> int:
    with CaptureQueriesContext(connection) as captured:
        export(spec)
    return len(captured)


@pytest.mark.parametrize("fmt", ["wide", "long", "scores"])
def test_queries_do_not_grow_with_the_cohort(cohort, grid, fmt):
    from scoring.services import score_all_submitted

    campaign, _ = cohort
    spec = ExportSpec(campaigns=(SLUG,), format=fmt)
    small = _queries(spec)
    for _ in range(5):
        make_response(campaign, MIXED, cpts=CptsFactory())
    score_all_submitted(grid=grid)
    assert Response.objects.filter(campaign=campaign).count() == 9
    assert _queries(spec) == small


@pytest.mark.parametrize("fmt", ["wide", "long", "scores"])
def test_chunks_of_any_size_give_the_same_file_with_the_same_queries_each(cohort, fmt, monkeypatch):
    campaign, _ = cohort
    make_response(campaign, {}, cpts=CptsFactory(), submitted=False)  # a draft, no answer yet
    specs = [
        ExportSpec(campaigns=(SLUG,), format=fmt, status=status, labels=labels, excel=labels)
        for status in ("submitted", "all")
        for labels in (False, True)
    ]
    whole = [export(spec) for spec in specs]
    one_chunk = _queries(specs[0])

    monkeypatch.setattr(writers, "CHUNK_SIZE", 2)
    monkeypatch.setattr(writers, "PIVOT_CHUNK_SIZE", 2)
    assert [export(spec) for spec in specs] == whole
    # 3 submitted responses: 2 chunks, the second read like the first (scores and their
    # areas). On PostgreSQL the answers come with the responses from the cursor (whose
    # batches are not queries).
    assert _queries(specs[0]) == one_chunk + (2 if fmt == "scores" else 0)


def test_beat_purges_expired_exports_with_a_registered_task(settings):
    from cpts_portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-exports"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert entry["schedule"] <= 24 * 3600  # a file never outlives its 7 days by more than a day
