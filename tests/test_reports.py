"""The maturity report as a PDF: its content, who may get it, its cache and its fetcher."""

import http.server
import io
import re
import threading
import zipfile
from datetime import timedelta
from decimal import Decimal

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from PIL import Image

from accounts.models import User
from exports import jobs
from exports.models import ExportJob
from questionnaire.models import Answer, Response
from questionnaire.presentation import answer_label
from reports import charts, pdf, selectors, services, tasks
from reports.fetcher import StaticFilesOnly
from reports.models import Report
from scoring import services as scoring_services
from scoring.models import ResponseScore
from scoring.services import grid_load
from territories.reference import ensure_reference_territories
from tests.factories import CampaignFactory, CptsFactory, UserFactory
from tests.helpers import GRID_PATH, MIXED, make_response

FREE_TEXT = "Signalements des pharmacies\nDeuxième ligne : les infirmiers libéraux"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def renders(monkeypatch):
    """Counts WeasyPrint renderings (the real renderer runs)."""
    calls = []
    real = pdf.render

    def counting(html):
        calls.append(html)
        return real(html)

    monkeypatch.setattr(pdf, "render", counting)
    return calls


def submitted(campaign, grid, cpts, answers=None):
    response = make_response(campaign, answers or MIXED, cpts=cpts)
    scoring_services.response_score(response=response, grid=grid)
    return response


@pytest.fixture
def paris_response(campaign, grid, territory):
    answers = {**MIXED, "q32": (MIXED["q32"][0], FREE_TEXT)}
    return submitted(campaign, grid, territory["paris_1"], answers)


def pdf_text(content: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """Whitespace as single spaces; a line broken after a hyphen joined again."""
    return re.sub(r"-\s+", "-", re.sub(r"\s+", " ", text)).strip()


def get_pdf(client, response, django_capture_on_commit_callbacks):
    """The report as a user gets it. A test runs in a transaction that never commits, so the
    rendering queued by the first request runs when the block ends (as it would at commit);
    the browser's reload then gets the PDF. (Without a test transaction the first request
    renders and answers the PDF: test_eager_celery_renders_within_the_request.)"""
    url = reverse("reports:pdf", args=[response.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(url)
    return client.get(url) if first.status_code == 202 else first


def test_the_report_holds_the_name_the_index_and_every_answer(
    client, users, paris_response, django_capture_on_commit_callbacks
):
    client.force_login(users["coordinator"])
    answer = get_pdf(client, paris_response, django_capture_on_commit_callbacks)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert "rapport-" in answer["Content-Disposition"]
    reader, text = pdf_text(b"".join(answer.streaming_content))
    assert 6 <= len(reader.pages) <= 8
    words = flat(text)
    score = ResponseScore.objects.get(response=paris_response)
    assert "CPTS Paris Un" in words
    assert number_format(score.index, 2) in words
    assert score.level_label in words
    for title in (
        "Synthèse",
        "Matrice des contraintes",
        "Sous-dimensions",
        "Points forts",
        "Évolution",
        "Méthode de calcul",
        "Annexe : toutes les réponses",
    ):
        assert title in words, title
    # The grid's method, as published.
    assert "Chaque question notée reçoit des points bruts" in words
    # Every answer, as the review page words it; the free text keeps its line break.
    answers = Answer.objects.filter(response=paris_response).select_related("question")
    assert answers.count() == len(MIXED)
    for found in answers:
        label = flat(answer_label(found.question, found.value, found.other_text))
        assert label in words, (found.question.number, label)
    assert "pharmacies\nDeuxième ligne : les infirmiers" in text
    # Fewer than 5 other CPTS answered: no median.
    assert "Médiane des autres CPTS non affichée" in words


def test_the_report_is_a_tagged_pdf_with_embedded_dejavu_fonts(
    client, users, paris_response, django_capture_on_commit_callbacks
):
    client.force_login(users["coordinator"])
    answer = get_pdf(client, paris_response, django_capture_on_commit_callbacks)
    reader = pypdf.PdfReader(io.BytesIO(b"".join(answer.streaming_content)))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) is True
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "fr"
    assert "Rapport de maturité — CPTS Paris Un" in reader.metadata.title
    # PDF/UA identification in the XMP metadata.
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            fonts[str(font["/BaseFont"])] = "/FontFile2" in descriptor
    assert fonts and all(fonts.values()), fonts
    assert all("DejaVu" in name for name in fonts), fonts
    # Each chart is a figure whose alternative text is its SVG title.
    structure = root["/StructTreeRoot"].get_object()
    figures = _structure_elements(structure, "/Figure")
    assert len(figures) == 2  # matrix and radar; one campaign has no evolution chart
    assert all("tableau qui suit" in str(f["/Alt"]) for f in figures)


def _structure_elements(node, kind: str) -> list:
    found = []
    kids = node.get("/K")
    if kids is None:
        return found
    for kid in kids if isinstance(kids, list) else [kids]:
        kid = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(kid, dict):
            if kid.get("/S") == kind:
                found.append(kid)
            found += _structure_elements(kid, kind)
    return found


def test_the_peer_median_shows_from_five_other_cpts(
    client, users, campaign, grid, territory, paris_response, django_capture_on_commit_callbacks
):
    for _ in range(5):
        submitted(campaign, grid, CptsFactory())
    client.force_login(users["coordinator"])
    answer = get_pdf(client, paris_response, django_capture_on_commit_callbacks)
    _reader, text = pdf_text(b"".join(answer.streaming_content))
    words = flat(text)
    assert "Médiane des 5 autres CPTS de la campagne" in words
    assert "Médiane des autres CPTS non affichée" not in words


def test_who_may_get_a_report(client, users, campaign, grid, territory):
    reports = {key: submitted(campaign, grid, cpts) for key, cpts in territory.items()}
    url = reverse("reports:pdf", args=[reports["saint_denis"].pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for role, expected in [
        ("coordinator", 404),  # not one of their CPTS
        ("cpam", 404),  # Paris only
        ("no_role", 404),
        ("ars", 202),  # Île-de-France: rendered in the background (not committed here)
        ("fcpts", 202),
    ]:
        client.force_login(users[role])
        assert client.get(url).status_code == expected, role
    client.force_login(users["ars"])
    lyon = reverse("reports:pdf", args=[reports["lyon"].pk])
    assert client.get(lyon).status_code == 404
    assert client.get(reverse("reports:pdf", args=[999999])).status_code == 404


def test_a_draft_has_no_report_and_says_why(client, users, campaign, grid, territory):
    draft = make_response(campaign, {"q01": "2019-02"}, cpts=territory["paris_1"], submitted=False)
    client.force_login(users["coordinator"])
    answer = client.get(reverse("reports:pdf", args=[draft.pk]))
    assert answer.status_code == 404
    assert "Cette réponse n'est pas soumise" in answer.content.decode()
    assert not Report.objects.exists()


def test_an_unchanged_report_is_served_without_rendering_again(
    client,
    users,
    campaign,
    grid,
    territory,
    paris_response,
    renders,
    django_capture_on_commit_callbacks,
):
    client.force_login(users["coordinator"])
    first = b"".join(get_pdf(client, paris_response, django_capture_on_commit_callbacks))
    assert len(renders) == 1
    report = Report.objects.get()
    assert report.status == Report.Status.DONE and report.html == "" and report.pages >= 6

    # Another user of the same scope, same inputs: the stored PDF, no rendering.
    client.force_login(users["fcpts"])
    second = b"".join(get_pdf(client, paris_response, django_capture_on_commit_callbacks))
    assert second == first
    assert len(renders) == 1
    assert Report.objects.get().rendered_at == report.rendered_at

    # An input changes (the CPTS is renamed): a new rendering replaces the old one.
    paris = territory["paris_1"]
    paris.name = "CPTS Paris Un Centre"
    paris.save()
    third = get_pdf(client, paris_response, django_capture_on_commit_callbacks)
    assert len(renders) == 2
    _reader, text = pdf_text(b"".join(third.streaming_content))
    assert "CPTS Paris Un Centre" in text
    assert list(Report.objects.values_list("status", flat=True)) == ["done"]
    assert Report.objects.get().key != report.key


def test_a_report_being_rendered_shows_a_waiting_page_then_the_pdf(
    client, users, paris_response, renders
):
    """With a real worker, the request only queues the rendering (here the commit never
    happens, so nothing runs); the page says so and reloads itself."""
    client.force_login(users["coordinator"])
    url = reverse("reports:pdf", args=[paris_response.pk])
    waiting = client.get(url)
    assert waiting.status_code == 202
    body = waiting.content.decode()
    assert "Rapport en préparation" in body
    assert '<meta http-equiv="refresh" content="3">' in body
    assert renders == []
    # A second request while it is pending queues nothing more and renders nothing.
    assert client.get(url).status_code == 202
    report = Report.objects.get()
    assert tasks.render_report(report.pk) == "done"
    assert len(renders) == 1
    ready = client.get(url)
    assert ready.status_code == 200 and ready["Content-Type"] == "application/pdf"
    assert len(renders) == 1


def test_a_failed_rendering_says_so_and_can_be_retried(
    client, users, paris_response, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(html):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(pdf, "render", broken)
    client.force_login(users["coordinator"])
    failed = get_pdf(client, paris_response, django_capture_on_commit_callbacks)
    assert failed.status_code == 200
    assert "pas pu être préparé" in failed.content.decode()
    assert Report.objects.get().status == Report.Status.FAILED
    url = reverse("reports:pdf", args=[paris_response.pk])
    assert f'href="{url}?reessayer=1"' in failed.content.decode()
    # Reloading does not loop on a failing rendering: it says so again.
    assert "pas pu être préparé" in client.get(url).content.decode()
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(url + "?reessayer=1").status_code == 202
    assert client.get(url)["Content-Type"] == "application/pdf"


@pytest.mark.django_db(transaction=True)
def test_eager_celery_renders_within_the_request(client, questionnaire, renders):
    """`make run` (no REDIS_URL: Celery eager): the task runs on commit, inside the request,
    through the same code path as with a worker, and the first answer is the PDF."""
    ensure_reference_territories()  # transactional tests start from a flushed database
    grid = grid_load(path=GRID_PATH).grid
    response = submitted(CampaignFactory(questionnaire=questionnaire), grid, CptsFactory())
    client.force_login(UserFactory(role=User.Role.FCPTS))
    answer = client.get(reverse("reports:pdf", args=[response.pk]))
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert len(renders) == 1


def test_results_and_cpts_pages_offer_the_report(client, users, territory, paris_response):
    client.force_login(users["coordinator"])
    url = reverse("reports:pdf", args=[paris_response.pk])
    page = client.get(reverse("scoring:results", args=[paris_response.pk])).content.decode()
    assert f'href="{url}"' in page and "Télécharger le rapport (PDF)" in page
    client.force_login(users["ars"])
    page = client.get(reverse("dashboards:cpts", args=[territory["paris_1"].pk])).content.decode()
    assert f'href="{url}"' in page and "Télécharger le rapport (PDF)" in page


# --- The fetcher ------------------------------------------------------------------------------


@pytest.fixture
def web_server():
    """A real HTTP server on a free port that records every request it gets."""
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file:///static/../../../etc/passwd",
        "file:///static/%2e%2e/%2e%2e/etc/passwd",
        "file://localhost/etc/passwd",
        "file:///static/",
        "file:///static/css/nothing-here.css",
        "https://example.org/static/css/report.css",
        "data:text/plain,hello",
        "ftp://127.0.0.1/static/css/report.css",
    ],
)
def test_the_fetcher_refuses_anything_but_static_files(url):
    with pytest.raises(pdf.URLRefused):
        StaticFilesOnly().fetch(url)


def test_the_fetcher_refuses_network_urls_without_connecting(web_server):
    base, requests = web_server
    with pytest.raises(pdf.URLRefused):
        StaticFilesOnly().fetch(f"{base}/static/css/report.css")
    assert requests == []


def test_the_fetcher_serves_the_project_static_files():
    response = StaticFilesOnly().fetch("file:///static/css/report.css")
    assert b"@page" in response.read() and response.content_type == "text/css"


def test_a_document_asking_for_files_and_urls_gets_none_of_them(web_server, settings, tmp_path):
    """Even HTML that escaped Django's escaping cannot make WeasyPrint read a file or call
    the network: the fetcher refuses, and only the static image is embedded."""
    static = tmp_path / "static"
    static.mkdir()
    Image.new("RGB", (4, 4), "red").save(static / "pixel.png")
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, static]
    outside = tmp_path / "outside.png"
    Image.new("RGB", (4, 4), "blue").save(outside)
    base, requests = web_server
    html = (
        f'<html lang="fr"><head><title>t</title><link rel="stylesheet" href="{base}/a.css">'
        '</head><body><p>texte</p><img src="/static/pixel.png" alt="autorisée">'
        f'<img src="file://{outside}" alt="hors static">'
        f'<img src="/static/../{outside.name}" alt="hors static">'
        '<img src="file:///etc/passwd" alt="a">'
        f'<img src="{base}/b.png" alt="b"><img src="/etc/hostname" alt="c">'
        '<svg xmlns="http://www.w3.org/2000/svg"><title>s</title>'
        f'<image href="{base}/c.png" width="10" height="10"/></svg></body></html>'
    )
    rendered = pdf.render(html)
    assert requests == []
    reader = pypdf.PdfReader(io.BytesIO(rendered.pdf))
    images = [image for page in reader.pages for image in _images(page["/Resources"])]
    assert len(images) == 1 and (images[0]["/Width"], images[0]["/Height"]) == (4, 4)
    assert "root:" not in reader.pages[0].extract_text()


def _images(resources) -> list:
    """Image XObjects of these resources, also inside form XObjects (an SVG is one)."""
    found = []
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Image":
            found.append(xobject)
        elif "/Resources" in xobject:
            found += _images(xobject["/Resources"])
    return found


def test_a_cpts_name_with_markup_and_urls_is_printed_as_text(
    client, users, campaign, grid, web_server, django_capture_on_commit_callbacks
):
    base, requests = web_server
    name = f'CPTS <img src="file:///etc/passwd"> {base}/pixel.png'
    cpts = CptsFactory(name=name)
    response = submitted(
        campaign, grid, cpts, {**MIXED, "q32": (MIXED["q32"][0], f"<img src='{base}/x'>")}
    )
    client.force_login(users["fcpts"])
    answer = get_pdf(client, response, django_capture_on_commit_callbacks)
    _reader, text = pdf_text(b"".join(answer.streaming_content))
    assert name in flat(text)  # the footer line holds it whole
    compact = re.sub(r"\s", "", text)  # the answer column wraps the URL
    assert re.sub(r"\s", "", f"(précision : <img src='{base}/x'>)") in compact
    assert requests == []
    assert "root:x:0:0" not in text


# --- The charts -------------------------------------------------------------------------------


def test_the_matrix_chart_has_values_hatches_and_a_description(users, paris_response, grid):
    data = selectors.report_data(user=users["fcpts"], response=paris_response, grid=grid)
    svg = str(charts.matrix_svg(data.results.matrix, data.results.constraints))
    assert svg.startswith("<svg") and "<title>Matrice des contraintes" in svg and "<desc>" in svg
    not_assessed = [c for row in data.results.matrix for c in row.cells if c.value is None]
    assessed = [c for row in data.results.matrix for c in row.cells if c.value is not None]
    assert not_assessed and assessed
    assert svg.count('fill="url(#hatch-matrix)"') == len(not_assessed) + 1  # + the legend
    for cell in assessed:
        assert f">{number_format(cell.value, 2)}</text>" in svg


def test_chart_labels_are_escaped():
    point = charts.EvolutionPoint(campaign='<script>alert("x")</script>', index=Decimal("50"))
    svg = str(charts.evolution_svg([point, point]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_the_evolution_chart_draws_the_band_only_where_peers_are_enough():
    shown = charts.EvolutionPoint(
        "2024", Decimal("40"), Decimal("30"), Decimal("45"), Decimal("60")
    )
    masked = charts.EvolutionPoint("2025", Decimal("55"))
    svg = str(charts.evolution_svg([shown, shown, masked]))
    assert svg.count("<polygon") == 1 and "1er–3e quartile" in svg
    assert "médiane 45,00" in svg.replace("autres CPTS : médiane", "médiane")
    svg = str(charts.evolution_svg([masked, masked]))
    assert "<polygon" not in svg and "quartile" not in svg


def test_the_evolution_has_the_peers_quartiles_under_the_small_cell_rule(
    users, questionnaire, grid, territory
):
    early = CampaignFactory(questionnaire=questionnaire, year=2025)
    late = CampaignFactory(questionnaire=questionnaire, year=2026)
    paris = territory["paris_1"]
    submitted(early, grid, paris)
    response = submitted(late, grid, paris)
    for _ in range(5):
        submitted(early, grid, CptsFactory())
    data = selectors.report_data(user=users["coordinator"], response=response, grid=grid)
    (_h1, first), (_h2, second) = data.evolution
    assert first.band_shown and first.q1 <= first.median <= first.q3
    assert not second.band_shown  # no other CPTS answered the later campaign


# --- Bundles ----------------------------------------------------------------------------------


def test_the_bundle_page_counts_the_reports_of_the_scope(client, users, campaign, grid, territory):
    for cpts in territory.values():
        submitted(campaign, grid, cpts)
    url = reverse("reports:bundle") + f"?campagne={campaign.slug}"
    expectations = {"ars": 3, "cpam": 2, "fcpts": 4}
    for role, count in expectations.items():
        client.force_login(users[role])
        page = client.get(url)
        assert page.status_code == 200
        assert re.search(rf'id="bundle-count">{count} CPTS', page.content.decode()), role
    client.force_login(users["coordinator"])
    assert client.get(url).status_code == 403
    client.force_login(users["cpam"])
    lyon_department = territory["lyon"].department
    assert client.get(url + f"&departement={lyon_department.pk}").status_code == 404
    assert client.get(reverse("reports:bundle") + "?campagne=nope").status_code == 404
    client.force_login(users["fcpts"])
    page = client.get(url + f"&departement={lyon_department.pk}")
    assert 'id="bundle-count">1 CPTS' in page.content.decode()
    bad = client.get(url + "&stade=nope")
    assert bad.status_code == 400 and "Sélectionnez un choix valide" in bad.content.decode()


def test_a_bundle_is_a_zip_of_the_reports_for_its_requester_only(
    client, users, campaign, grid, territory, renders, django_capture_on_commit_callbacks
):
    for cpts in territory.values():
        submitted(campaign, grid, cpts)
    make_response(campaign, {"q01": "2019-02"}, cpts=CptsFactory(), submitted=False)
    client.force_login(users["ars"])
    url = reverse("reports:bundle") + f"?campagne={campaign.slug}"
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url)
    job = ExportJob.objects.get()
    assert answer.status_code == 302 and answer.url == reverse("exports:job", args=[job.pk])
    assert job.parameters["kind"] == "reports.bundle"
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 3, 3)
    assert job.filename == f"rapports-{campaign.slug}.zip"
    download = client.get(reverse("exports:job_download", args=[job.pk]))
    assert download["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = sorted(archive.namelist())
    assert len(names) == 4 and "sommaire.txt" in names
    texts = [pdf_text(archive.read(n))[1] for n in names if n.endswith(".pdf")]
    assert sorted(t.split("\n")[0] for t in texts)  # each opens
    for cpts in ("CPTS Paris Un", "CPTS Paris Deux", "CPTS Saint-Denis"):
        assert sum(cpts in flat(t) for t in texts) == 1, cpts
    assert len(renders) == 3
    # The reports rendered for the bundle are the cache of the single downloads.
    client.force_login(users["coordinator"])
    paris = Response.objects.get(cpts=territory["paris_1"])
    assert get_pdf(client, paris, django_capture_on_commit_callbacks).status_code == 200
    assert len(renders) == 3
    # Someone else, even with the same scope, never gets the file.
    other_ars = UserFactory(role=User.Role.ARS, region=users["ars"].region)
    client.force_login(other_ars)
    assert client.get(reverse("exports:job_download", args=[job.pk])).status_code == 404
    assert client.get(reverse("exports:job", args=[job.pk])).status_code == 404


def test_write_bundle_lists_responses_without_scores(users, campaign, grid, territory):
    scored = submitted(campaign, grid, territory["paris_1"])
    unscored = make_response(campaign, MIXED, cpts=territory["paris_2"])
    handle = io.BytesIO()
    names = services.write_bundle(handle, responses=[scored, unscored], user=users["fcpts"])
    archive = zipfile.ZipFile(handle)
    assert names == [n for n in archive.namelist() if n.endswith(".pdf")] and len(names) == 1
    summary = archive.read("sommaire.txt").decode()
    assert "CPTS Paris Deux : pas encore de score" in summary


def test_the_exports_reconciler_builds_a_lost_bundle_with_its_own_task(
    users, campaign, grid, territory
):
    """A bundle whose message was lost (Redis down at commit) is an exports job like any
    other: the reconciler queues it again, with the task the job names."""
    submitted(campaign, grid, territory["paris_1"])
    scope = services.BundleScope(campaign=campaign)
    job = ExportJob.objects.create(
        requested_by=users["fcpts"], parameters=scope.to_json(), filename=scope.filename
    )
    counts = jobs.export_jobs_reconcile(now=timezone.now() + timedelta(hours=1))
    job.refresh_from_db()
    assert counts["requeued"] == 1 and job.status == ExportJob.Status.DONE
    with job.file.open("rb") as handle:
        names = zipfile.ZipFile(handle).namelist()
    assert len([n for n in names if n.endswith(".pdf")]) == 1


def test_the_report_lists_the_pistes_and_the_plan_for_those_who_may_see_it(
    client, users, paris_response, django_capture_on_commit_callbacks
):
    from improvement.models import Action, ActionPlan
    from questionnaire.models import SubDimension

    plan = ActionPlan.objects.create(response=paris_response)
    Action.objects.create(
        plan=plan,
        subdimension=SubDimension.objects.filter(
            dimension__version=paris_response.campaign.questionnaire
        ).first(),
        title="Rédiger le plan de réponse aux situations sanitaires exceptionnelles",
        owner_name="Dr Martin",
    )
    client.force_login(users["coordinator"])
    team = flat(
        pdf_text(
            b"".join(
                get_pdf(
                    client, paris_response, django_capture_on_commit_callbacks
                ).streaming_content
            )
        )[1]
    )
    assert "Pistes de progression" in team and "Réponse qui rapporterait plus" in team
    assert "Rédiger le plan de réponse aux situations sanitaires exceptionnelles" in team

    client.force_login(users["ars"])  # the plan is not shared with the region
    territory = flat(
        pdf_text(
            b"".join(
                get_pdf(
                    client, paris_response, django_capture_on_commit_callbacks
                ).streaming_content
            )
        )[1]
    )
    assert "Pistes de progression" in territory
    assert "Dr Martin" not in territory and "Plan d’action" not in territory

    ActionPlan.objects.filter(pk=plan.pk).update(shared_with_territory=True)
    shared = flat(
        pdf_text(
            b"".join(
                get_pdf(
                    client, paris_response, django_capture_on_commit_callbacks
                ).streaming_content
            )
        )[1]
    )
    assert "Dr Martin" in shared
