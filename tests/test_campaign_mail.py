"""Invitations and reminders through a real SMTP server (aiosmtpd), on a frozen clock
(time-machine): once per contact, only to those the rule targets at send time."""

import datetime as dt
import os
import threading
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from campaigns import services
from campaigns.models import CampaignMessage, ParticipantContact, ReminderRule
from campaigns.tasks import send_due_reminders
from cpts_portal.celery import app as celery_app
from mailing.models import SentMessage
from questionnaire.models import Campaign, Response
from questionnaire.selectors import response_progress
from territories.reference import ensure_reference_territories
from tests.broker import wait_until
from tests.celery_worker import celery_worker
from tests.factories import CampaignFactory, CptsFactory, ResponseFactory, UserFactory
from tests.helpers import make_response
from tests.smtp import REFUSED_DOMAIN, first_link, smtp_server, text_of

PARIS = ZoneInfo("Europe/Paris")
OPENS, CLOSES = dt.date(2026, 9, 1), dt.date(2026, 12, 15)


def at(day: dt.date, hour: int = 10):
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS), tick=False)


@pytest.fixture
def open_campaign(questionnaire, territory, users):
    """An open campaign asking the four CPTS of the territory fixture. Paris Un and Lyon are
    reached through their coordinator, Paris Deux through two chosen contacts, Saint-Denis
    through one."""
    User.objects.filter(pk=users["coordinator"].pk).update(email="Coord@Example.org")
    users["coordinator"].refresh_from_db()
    with at(OPENS):
        campaign = CampaignFactory(
            questionnaire=questionnaire, opens_on=OPENS, closes_on=CLOSES, status="open"
        )
        services.participants_add(campaign=campaign)
    for key, emails in {
        "paris_2": ["a@example.org", "b@example.org"],
        "saint_denis": ["c@example.org"],
    }.items():
        participant = campaign.participants.get(cpts=territory[key])
        for email in emails:
            ParticipantContact.objects.create(participant=participant, email=email)
    return campaign


def rule(campaign, **fields):
    return ReminderRule.objects.create(
        campaign=campaign,
        **{
            "audience": ReminderRule.Audience.NOT_STARTED,
            "anchor": ReminderRule.Anchor.AFTER_OPENING,
            "days": 10,
            "max_sends": 2,
            "min_days_between": 7,
            "subject": "Relance {campagne}",
            "body": "Bonjour {cpts}, clôture le {cloture} ({avancement}). {inconnu}",
            **fields,
        },
    )


def received(smtp) -> list[str]:
    return sorted(m["To"] for m in smtp.mailbox.messages)


def test_invitations_reach_every_contact_once(open_campaign, users, smtp, committed):
    coordinator = users["coordinator"].email.lower()
    with committed():
        sent = services.invitations_send(campaign=open_campaign)
    assert sorted(item.email for item in sent) == sorted(
        [coordinator, coordinator, "a@example.org", "b@example.org", "c@example.org"]
    )
    smtp.mailbox.wait_for("c@example.org")
    smtp.mailbox.wait_for(coordinator, count=2)
    with committed():
        assert services.invitations_send(campaign=open_campaign) == []  # nobody twice
    assert len(smtp.mailbox.messages) == 5
    [invitation] = smtp.mailbox.to("a@example.org")
    assert "CPTS Paris Deux" in invitation["Subject"]
    assert "15 décembre 2026" in text_of(invitation)
    assert open_campaign.participants.filter(invited_at__isnull=True).count() == 0


def test_a_never_activated_account_gets_its_activation_link_first(
    open_campaign, territory, smtp, committed
):
    newcomer = UserFactory(role=User.Role.COORDINATOR, email="nouvelle@example.org")
    newcomer.set_unusable_password()
    newcomer.save()
    newcomer.memberships.create(cpts=territory["saint_denis"])
    ParticipantContact.objects.create(
        participant=open_campaign.participants.get(cpts=territory["saint_denis"]),
        email="nouvelle@example.org",
    )
    with committed():
        services.invitations_send(campaign=open_campaign)
    messages = smtp.mailbox.wait_for("nouvelle@example.org", count=2)
    assert [m["Subject"].split()[0] for m in messages][0] != messages[1]["Subject"].split()[0]
    assert any("/activer/" in text_of(m) or "activ" in text_of(m).lower() for m in messages)


def test_a_reminder_fires_on_its_day_for_not_started_cpts_only(
    open_campaign, territory, users, smtp, committed
):
    rule(open_campaign)
    ResponseFactory(campaign=open_campaign, cpts=territory["paris_1"])  # started
    with at(dt.date(2026, 9, 10)), committed():
        assert services.reminders_send_due() == []  # day 9: not yet
    with at(dt.date(2026, 9, 11)), committed():
        sent = services.reminders_send_due()
    # Paris Un started; its coordinator is Lyon's too, and Lyon has not started.
    assert sorted((i.participant.cpts.name, i.email) for i in sent) == sorted(
        [
            ("CPTS Lyon", users["coordinator"].email.lower()),
            ("CPTS Paris Deux", "a@example.org"),
            ("CPTS Paris Deux", "b@example.org"),
            ("CPTS Saint-Denis", "c@example.org"),
        ]
    )
    smtp.mailbox.wait_for("c@example.org")
    [message] = smtp.mailbox.to("c@example.org")
    assert message["Subject"].strip() == f"Relance {open_campaign.name}"
    body = text_of(message)
    assert "Bonjour CPTS Saint-Denis, clôture le 15 décembre 2026 (0 %)." in body
    assert "{inconnu}" in body  # an unknown placeholder is left as typed, never evaluated
    with (
        at(
            dt.date(
                2026,
                9,
                11,
            ),
            18,
        ),
        committed(),
    ):
        assert services.reminders_send_due() == []  # same day again: nothing


def test_a_cpts_that_submits_between_two_runs_gets_nothing_more(
    open_campaign, territory, smtp, committed
):
    rule(open_campaign, audience=ReminderRule.Audience.NOT_STARTED)
    with at(dt.date(2026, 9, 11)), committed():
        first = {i.email for i in services.reminders_send_due()}
    assert "c@example.org" in first
    ResponseFactory(
        campaign=open_campaign,
        cpts=territory["saint_denis"],
        status=Response.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    with at(dt.date(2026, 9, 15)), committed():
        assert services.reminders_send_due() == []  # fewer than 7 days since the first
    with at(dt.date(2026, 9, 18)), committed():
        second = services.reminders_send_due()
    assert "c@example.org" not in {i.email for i in second}
    assert {i.sequence for i in second} == {2}
    with at(dt.date(2026, 9, 30)), committed():
        assert services.reminders_send_due() == []  # at most two sends
    assert len(smtp.mailbox.to("c@example.org")) == 1


def test_an_unsubscribed_contact_gets_nothing_more(client, open_campaign, smtp, committed):
    rule(open_campaign, max_sends=3)
    with at(dt.date(2026, 9, 11)), committed():
        services.reminders_send_due()
    [message] = smtp.mailbox.wait_for("a@example.org")
    link = first_link(message, "desinscription")
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert "Ne plus envoyer de relances à a@example.org" in page.content.decode()
    assert not open_campaign.unsubscriptions.exists()  # a GET (a mail scanner) changes nothing
    client.post("/" + path)
    assert list(open_campaign.unsubscriptions.values_list("email", flat=True)) == ["a@example.org"]
    with at(dt.date(2026, 9, 18)), committed():
        emails = {i.email for i in services.reminders_send_due()}
    assert "a@example.org" not in emails and "b@example.org" in emails
    forged = client.get(reverse("campaigns:unsubscribe", args=["pas-un-jeton"]))
    assert forged.status_code == 400 and "pas valide" in forged.content.decode()


def test_a_refused_address_is_shown_on_the_campaign_page(
    client, open_campaign, territory, users, smtp, committed
):
    ParticipantContact.objects.create(
        participant=open_campaign.participants.get(cpts=territory["saint_denis"]),
        email=f"inconnu@{REFUSED_DOMAIN}",
    )
    with committed():
        services.invitations_send(campaign=open_campaign)
    assert SentMessage.objects.get(to=f"inconnu@{REFUSED_DOMAIN}").status == "refused"
    client.force_login(users["fcpts"])
    page = client.get(reverse("campaigns:detail", args=[open_campaign.slug])).content.decode()
    assert f"Non distribué : inconnu@{REFUSED_DOMAIN}" in page


def test_two_runs_at_once_send_each_message_once(
    reference_territories, questionnaire, territory, users, smtp
):
    User.objects.filter(pk=users["coordinator"].pk).update(email="coord@example.org")
    with at(OPENS):
        campaign = CampaignFactory(
            questionnaire=questionnaire, opens_on=OPENS, closes_on=CLOSES, status="open"
        )
        services.participants_add(campaign=campaign)
    rule(campaign)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run():
        try:
            barrier.wait()
            with at(dt.date(2026, 9, 11)):
                results.append(len(services.reminders_send_due()))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Paris Un and Lyon share a coordinator (one address per CPTS), the other two have none.
    assert sum(results) == 2
    assert CampaignMessage.objects.filter(rule__isnull=False).count() == 2
    assert SentMessage.objects.count() == 2


def test_rule_form_refuses_unknown_placeholders(client, users, open_campaign):
    client.force_login(users["fcpts"])
    page = client.post(
        reverse("campaigns:reminder_add", args=[open_campaign.slug]),
        {
            "audience": "not_started",
            "days": 3,
            "anchor": "before_closing",
            "max_sends": 1,
            "min_days_between": 7,
            "subject": "Relance",
            "body": "Bonjour {cpts.__class__} {lien}",
        },
    )
    assert page.status_code == 400
    assert "Inconnu(s)" in page.content.decode()
    assert not open_campaign.reminder_rules.exists()


def test_send_due_reminders_after_the_demo_data_reminds_the_cpts_not_started(
    questionnaire, grid, capsys
):
    call_command("load_demo_data", force=True)
    campaign = Campaign.objects.get(status=Campaign.Status.OPEN)
    call_command("send_due_reminders", dry_run=True)
    out = capsys.readouterr().out
    not_started = set(
        campaign.participants.exclude(cpts__responses__campaign=campaign).values_list(
            "cpts__code", flat=True
        )
    )
    reminded = {line.split()[0] for line in out.splitlines() if "→" in line}
    with_contacts = {
        p.cpts.code for p in campaign.participants.all() if services.selectors.contact_emails(p)
    }
    assert reminded and reminded == not_started & with_contacts
    assert not CampaignMessage.objects.exists()  # dry run
    # The demo's participants count as invited already: nothing to send.
    assert services.invitations_send(campaign=campaign, dry_run=True) == []


def test_the_weekly_digest_goes_to_subscribers_once_a_week(
    client, open_campaign, territory, users, smtp, committed
):
    ars = users["ars"]
    User.objects.filter(pk=ars.pk).update(email="ars@example.org")
    client.force_login(ars)
    client.post(reverse("campaigns:digest"), {"abonnement": "1"})
    ResponseFactory(
        campaign=open_campaign,
        cpts=territory["paris_2"],
        status=Response.Status.SUBMITTED,
        submitted_at=dt.datetime(2026, 9, 20, 10, tzinfo=PARIS),
    )
    ResponseFactory(campaign=open_campaign, cpts=territory["paris_1"])
    monday = dt.datetime(2026, 9, 21, 7, 30, tzinfo=PARIS)
    with committed():
        assert services.digests_send(now=monday) == 1
        assert services.digests_send(now=monday + dt.timedelta(hours=3)) == 0  # same week
    [digest] = smtp.mailbox.wait_for("ars@example.org")
    body = text_of(digest)
    assert "Taux de réponse : 1 sur 3 CPTS participantes (33,3 %)" in body
    assert "Soumises cette semaine : CPTS Paris Deux" in body
    assert "Pas encore commencé : CPTS Saint-Denis" in body
    assert "Lyon" not in body  # outside the ARS's region

    client.post(reverse("campaigns:digest"), {"abonnement": "0"})
    with committed():
        assert services.digests_send(now=monday + dt.timedelta(days=7)) == 0


@pytest.fixture
def reference_territories(transactional_db):
    """A transactional test empties the tables after itself, reference territories included."""
    ensure_reference_territories()


def test_the_beat_task_run_twice_by_a_real_worker_sends_each_reminder_once(
    reference_territories, questionnaire, territory, users, tmp_path
):
    """The hourly task as beat sends it, to a real worker, twice: one message per contact."""
    assert celery_app.conf.broker_url.startswith("redis://")
    today = timezone.localdate()
    campaign = CampaignFactory(
        questionnaire=questionnaire,
        opens_on=today - dt.timedelta(days=20),
        closes_on=today + dt.timedelta(days=20),
        status="open",
    )
    services.participants_add(campaign=campaign)
    for key in ("paris_2", "saint_denis"):
        ParticipantContact.objects.create(
            participant=campaign.participants.get(cpts=territory[key]), email=f"{key}@example.org"
        )
    rule(campaign)
    queue = f"campaign-mail-{os.getpid()}"
    log = tmp_path / "worker.log"
    with (
        smtp_server() as server,
        celery_worker(queue=queue, log=log, env={"EMAIL_URL": server.url}),
    ):
        first = send_due_reminders.apply_async(queue=queue)
        second = send_due_reminders.apply_async(queue=queue)
        counts = sorted([first.get(timeout=60), second.get(timeout=60)])
        wait_until(
            lambda: len(server.mailbox.messages) >= 2,
            timeout=60,
            message=lambda: f"mailbox: {server.mailbox.messages}",
        )
        time.sleep(1)  # long enough for a duplicate, if any, to arrive
    assert counts == [0, 2]
    assert sorted(m["To"] for m in server.mailbox.messages) == [
        "paris_2@example.org",
        "saint_denis@example.org",
    ]


@pytest.mark.parametrize("count", [2, 6])
def test_messages_read_what_they_say_once_per_chunk(
    questionnaire, count, django_assert_num_queries
):
    """Each message costs its own writes only: the savepoint, the mailing key's check, the
    e-mail, its CampaignMessage (and an invitation's `invited_at`). The responses and their
    progress are read once per chunk, so the count does not grow otherwise with the number
    of participants (once per message, they were most of a reminder's queries)."""
    with at(OPENS):
        campaign = CampaignFactory(
            questionnaire=questionnaire, opens_on=OPENS, closes_on=CLOSES, status="open"
        )
    started = {}
    for n in range(count):
        participant = campaign.participants.create(cpts=CptsFactory())
        ParticipantContact.objects.create(participant=participant, email=f"c{n}@example.org")
        if n % 2:
            answers = {"q01": "2020-05", "q02": "fonctionnement", "q07": n}
            started[f"c{n}@example.org"] = make_response(
                campaign, answers, cpts=participant.cpts, submitted=False
            )
    rule(campaign)
    rule(campaign, audience=ReminderRule.Audience.IN_PROGRESS, body="{avancement} {lien}")

    # Plan: participants, contacts, messages. The chunk (a savepoint here, as the test runs
    # in a transaction): responses, questions, answers, accounts. Each invitation: 9 queries,
    # with `invited_at` and its history row.
    with at(OPENS), django_assert_num_queries(3 + 2 + 4 + 9 * count):
        assert len(services.invitations_send(campaign=campaign)) == count
    # Plan: campaigns, rules, unsubscriptions, responses, participants, contacts, messages.
    # The chunk: questions, answers. Each reminder: 7 queries.
    with at(dt.date(2026, 9, 11)), django_assert_num_queries(7 + 2 + 2 + 7 * count):
        assert len(services.reminders_send_due()) == count

    for email, response in started.items():
        percent = response_progress(response).percent
        [message] = SentMessage.objects.filter(to=email, template="campaign_reminder")
        assert percent > 0 and f"{percent} %" in message.body_text
        assert reverse("questionnaire:review", args=[response.pk]) in message.body_text
