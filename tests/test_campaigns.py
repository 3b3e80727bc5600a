"""The campaign console: life cycle, participants (the denominator), the funnel, and who sees it."""

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from campaigns import selectors, services
from campaigns.models import Participant
from questionnaire.models import Campaign, Question, QuestionnaireVersion, Response
from territories.models import Region
from tests.factories import ResponseFactory

TODAY = dt.date(2026, 10, 1)


@pytest.fixture
def draft(questionnaire):
    return services.campaign_create(
        name="Campagne 2027",
        slug="campagne-2027",
        year=2027,
        questionnaire=questionnaire,
        opens_on=TODAY + dt.timedelta(days=10),
        closes_on=TODAY + dt.timedelta(days=70),
    )


# --- Life cycle ------------------------------------------------------------------------------


def test_a_campaign_goes_from_draft_to_archived_and_refuses_other_moves(draft):
    assert draft.status == Campaign.Status.DRAFT and not draft.is_open(TODAY)
    with pytest.raises(services.CampaignError, match="ouverte peut être close"):
        services.campaign_close(campaign=draft, today=TODAY)

    opened = services.campaign_open(campaign=draft, today=TODAY)
    assert opened.status == Campaign.Status.OPEN
    assert opened.opens_on == TODAY  # opened early: the date says so
    assert opened.is_open(TODAY)
    with pytest.raises(services.CampaignError, match="brouillon peut être modifiée"):
        services.campaign_update(campaign=opened, name="Autre nom")
    with pytest.raises(services.CampaignError, match="close peut être archivée"):
        services.campaign_archive(campaign=opened)

    closed = services.campaign_close(campaign=opened, today=TODAY + dt.timedelta(days=5))
    assert closed.status == Campaign.Status.CLOSED
    assert closed.closes_on == TODAY + dt.timedelta(days=5)
    assert not closed.is_open(TODAY + dt.timedelta(days=3))  # closed by hand: closed at once

    assert services.campaign_archive(campaign=closed).status == Campaign.Status.ARCHIVED


def test_the_calendar_opens_and_closes_campaigns_on_their_dates_once(draft):
    assert services.campaigns_follow_calendar(today=TODAY) == {"opened": 0, "closed": 0}
    opening_day = draft.opens_on
    assert services.campaigns_follow_calendar(today=opening_day) == {"opened": 1, "closed": 0}
    assert services.campaigns_follow_calendar(today=opening_day) == {"opened": 0, "closed": 0}
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.OPEN

    after = draft.closes_on + dt.timedelta(days=1)
    assert services.campaigns_follow_calendar(today=after) == {"opened": 0, "closed": 1}
    assert services.campaigns_follow_calendar(today=after) == {"opened": 0, "closed": 0}
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.CLOSED


def test_a_closed_campaign_takes_no_answer_even_within_its_dates(
    client, users, campaign, territory
):
    response = ResponseFactory(campaign=campaign, cpts=territory["paris_1"])
    question = Question.objects.get(version=campaign.questionnaire, number=4)
    services.campaign_close(campaign=campaign)
    client.force_login(users["coordinator"])
    saved = client.post(
        reverse("questionnaire:autosave", args=[response.pk]),
        {"question": question.pk, f"q{question.pk}": "total", f"q{question.pk}-revision": "0"},
    )
    assert saved.status_code == 409
    assert "close" in saved.json()["error"]
    assert not response.answers.exists()


# --- Participants ----------------------------------------------------------------------------


def test_participants_by_rule_are_added_once(campaign, territory):
    added = services.participants_add(campaign=campaign, stages=["fonctionnement"])
    assert added == len(territory)
    assert services.participants_add(campaign=campaign) == 0
    assert campaign.participants.count() == len(territory)


def test_participants_by_region(campaign, territory):
    idf = Region.objects.get(code="11")
    assert services.participants_add(campaign=campaign, region_ids=[idf.pk]) == 3
    assert not campaign.participants.filter(cpts=territory["lyon"]).exists()


def _write(tmp_path, text):
    path = tmp_path / "participants.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_participants_is_all_or_nothing_with_a_message_per_bad_line(
    campaign, territory, tmp_path, capsys
):
    paris, lyon = territory["paris_1"], territory["lyon"]
    bad = _write(
        tmp_path,
        f"cpts_code;email\n{paris.code};a.martin@example.org\nINCONNUE;\n"
        f"{lyon.code};pas-une-adresse\n{paris.code};a.martin@example.org\n",
    )
    with pytest.raises(CommandError, match="3 ligne"):
        call_command("import_participants", bad, campaign=campaign.slug)
    errors = capsys.readouterr().err
    assert "Ligne 3 : CPTS inconnue « INCONNUE »" in errors
    assert "Ligne 4 : adresse e-mail invalide" in errors
    assert "Ligne 5 : déjà présente ligne 2" in errors
    assert not Participant.objects.exists()

    good = _write(tmp_path, f"cpts_code,email\n{paris.code},A.Martin@example.org\n{lyon.code},\n")
    call_command("import_participants", good, campaign=campaign.slug, dry_run=True)
    assert not Participant.objects.exists()
    call_command("import_participants", good, campaign=campaign.slug)
    call_command("import_participants", good, campaign=campaign.slug)  # changes nothing
    participants = {p.cpts_id: p for p in campaign.participants.all()}
    assert set(participants) == {paris.pk, lyon.pk}
    assert [c.email for c in participants[paris.pk].contacts.all()] == ["a.martin@example.org"]
    assert not participants[lyon.pk].contacts.exists()  # reached through its coordinators


def test_import_participants_refuses_a_file_without_the_header(campaign, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_participants", _write(tmp_path, "code\nX\n"), campaign=campaign.slug)
    with pytest.raises(CommandError, match="Campagne inconnue"):
        call_command("import_participants", _write(tmp_path, "cpts_code\n"), campaign="nope")


def test_the_response_rate_divides_by_the_participants_in_scope(client, users, campaign, territory):
    ResponseFactory(
        campaign=campaign,
        cpts=territory["paris_1"],
        status=Response.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    client.force_login(users["ars"])
    url = reverse("dashboards:overview")
    # Without a participant list: the CPTS shown (3 in Île-de-France), and the page says so.
    page = client.get(url, {"campagne": campaign.slug})
    assert (page.context["rate"].submitted, page.context["rate"].total) == (1, 3)
    assert "CPTS affichées" in page.content.decode()

    services.participants_add(campaign=campaign)
    paris_2 = campaign.participants.get(cpts=territory["paris_2"])
    services.participant_exclude(participant=paris_2, reason="CPTS fusionnée")
    page = client.get(url, {"campagne": campaign.slug})
    rate = page.context["rate"]
    assert (rate.submitted, rate.total, rate.of_participants) == (1, 2, True)
    assert "CPTS participantes" in page.content.decode()


def test_an_exclusion_needs_a_reason(campaign, territory):
    services.participants_add(campaign=campaign)
    participant = campaign.participants.first()
    with pytest.raises(services.CampaignError, match="motif"):
        services.participant_exclude(participant=participant, reason="  ")
    participant.refresh_from_db()
    assert not participant.excluded


# --- Funnel and tracking ---------------------------------------------------------------------


def test_the_funnel_counts_each_stage_and_leaves_excluded_participants_out(
    campaign, territory, users
):
    services.participants_add(campaign=campaign)
    Participant.objects.filter(cpts=territory["paris_1"]).update(invited_at=timezone.now())
    ResponseFactory(campaign=campaign, cpts=territory["paris_1"])
    ResponseFactory(
        campaign=campaign,
        cpts=territory["saint_denis"],
        status=Response.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    services.participant_exclude(
        participant=campaign.participants.get(cpts=territory["lyon"]), reason="Dissoute"
    )
    states = selectors.participant_states(campaign, users["fcpts"])
    total = selectors.funnel(states, "region")[-1]
    assert total.label == "Total"
    assert total.counts == {
        "participants": 3,
        "invited": 1,
        "opened": 2,
        "started": 2,
        "submitted": 1,
    }
    by_department = {row.label: row.counts for row in selectors.funnel(states, "department")}
    assert by_department["Paris (75)"]["participants"] == 2


def test_territory_staff_follow_their_territory_read_only(client, users, campaign, territory):
    services.participants_add(campaign=campaign)
    client.force_login(users["cpam"])
    tracking = client.get(reverse("campaigns:tracking", args=[campaign.slug]))
    assert tracking.status_code == 200
    body = tracking.content.decode()
    assert "CPTS Paris Un" in body and "CPTS Saint-Denis" not in body
    assert "Exclure" not in body
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("campaigns:tracking_csv", args=[campaign.slug])).content.decode()
            )
        )
    )
    assert rows[0][:2] == ["cpts_code", "cpts_name"]
    assert {row[1] for row in rows[1:]} == {"CPTS Paris Un", "CPTS Paris Deux"}
    funnel_csv = client.get(
        reverse("campaigns:tracking_csv", args=[campaign.slug]), {"par": "department"}
    ).content.decode()
    assert list(csv.reader(io.StringIO(funnel_csv))) == [
        ["department", "participants", "invited", "opened", "started", "submitted"],
        ["Paris (75)", "2", "0", "0", "0", "0"],
        ["Total", "2", "0", "0", "0", "0"],
    ]
    bad_grouping = reverse("campaigns:tracking_csv", args=[campaign.slug])
    assert client.get(bad_grouping, {"par": "x"}).status_code == 404
    for name in ("campaigns:list", "campaigns:create"):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("campaigns:detail", args=[campaign.slug])).status_code == 403


def test_a_draft_campaign_is_invisible_to_territory_staff(client, users, draft):
    client.force_login(users["ars"])
    assert client.get(reverse("campaigns:tracking", args=[draft.slug])).status_code == 404


# --- Pages of the console --------------------------------------------------------------------


def test_the_federation_creates_edits_and_opens_a_campaign_from_its_pages(
    client, users, questionnaire
):
    client.force_login(users["fcpts"])
    form = {
        "name": "Campagne 2028",
        "slug": "campagne-2028",
        "year": 2028,
        "questionnaire": questionnaire.pk,
        "opens_on": "2028-09-01",
        "closes_on": "2028-08-01",
    }
    refused = client.post(reverse("campaigns:create"), form)
    assert refused.status_code == 200
    assert "La clôture doit suivre" in refused.content.decode()
    assert "Constraint" not in refused.content.decode()
    assert not Campaign.objects.filter(slug="campagne-2028").exists()

    created = client.post(reverse("campaigns:create"), {**form, "closes_on": "2028-12-15"})
    assert created.status_code == 302
    campaign = Campaign.objects.get(slug="campagne-2028")
    assert campaign.status == Campaign.Status.DRAFT

    edit_url = reverse("campaigns:edit", args=[campaign.slug])
    client.post(edit_url, {**form, "name": "Campagne nationale 2028", "closes_on": "2028-12-20"})
    campaign.refresh_from_db()
    assert (campaign.name, campaign.closes_on) == ("Campagne nationale 2028", dt.date(2028, 12, 20))

    client.post(reverse("campaigns:transition", args=[campaign.slug, "ouvrir"]))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.OPEN
    assert client.get(edit_url).status_code == 302  # an open campaign is no longer edited
    listing = client.get(reverse("campaigns:list")).content.decode()
    assert "Campagne nationale 2028" in listing and "Ouverte" in listing
    assert (
        client.post(reverse("campaigns:transition", args=[campaign.slug, "x"])).status_code == 404
    )


def test_a_bad_participant_file_on_the_page_names_its_line_and_changes_nothing(
    client, users, campaign, territory
):
    client.force_login(users["fcpts"])
    url = reverse("campaigns:participants_import", args=[campaign.slug])
    upload = SimpleUploadedFile("p.csv", b"cpts_code,email\nINCONNUE,\n")
    page = client.post(url, {"file": upload})
    assert page.status_code == 400
    assert "Ligne 2 : CPTS inconnue" in page.content.decode()
    assert not Participant.objects.exists()
    binary = SimpleUploadedFile("p.csv", b"\xff\xfe\x00bad")
    assert "UTF-8" in client.post(url, {"file": binary}).content.decode()


def test_a_finished_campaign_keeps_its_participant_list(campaign, territory):
    services.campaign_close(campaign=campaign)
    campaign.refresh_from_db()
    with pytest.raises(services.CampaignError, match="figée"):
        services.participants_add(campaign=campaign)


def test_opening_freezes_the_scoring_grid(draft, grid):
    assert draft.grid_code == ""
    opened = services.campaign_open(campaign=draft, today=TODAY)
    assert opened.grid_code == grid.code
    with pytest.raises(services.CampaignError):
        services.campaign_update(campaign=opened, grid_code="")


def test_a_grid_of_another_questionnaire_is_refused(client, users, questionnaire, grid):
    other = QuestionnaireVersion.objects.create(
        code="autre", title="Autre", checksum="x", definition={}
    )
    client.force_login(users["fcpts"])
    page = client.post(
        reverse("campaigns:create"),
        {
            "name": "Autre",
            "slug": "autre",
            "year": 2027,
            "questionnaire": other.pk,
            "grid_code": grid.code,
            "opens_on": "2027-09-01",
            "closes_on": "2027-12-01",
        },
    )
    assert "ne note pas cette version" in page.content.decode()
    assert not Campaign.objects.filter(slug="autre").exists()
