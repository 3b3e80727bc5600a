"""Reminders of the plans' due dates, through a real SMTP server: 14 days before, 7 days after,
to the CPTS's coordinators only, once per event."""

import datetime as dt

from improvement import services
from improvement.models import Action
from improvement.services import plan_reminders_send
from mailing.models import SentMessage
from tests.factories import UserFactory
from tests.helpers import LIBRARY_PATH, MIXED, make_response
from tests.smtp import text_of

TODAY = dt.date(2027, 1, 10)


def test_reminders_before_and_after_a_due_date_reach_the_coordinators_once(
    campaign, grid, territory, users, smtp, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_BASE_URL = "https://portail.example.org/"
    services.library_load(path=LIBRARY_PATH)
    paris = territory["paris_1"]
    response = make_response(campaign, MIXED, cpts=paris)
    soon, late, done = services.plan_suggestions_add(
        response=response, grid=grid, keys=["plan-sse", "sas", "crex"], user=users["coordinator"]
    )
    Action.objects.filter(pk=soon.pk).update(due_on=TODAY + dt.timedelta(days=14))
    Action.objects.filter(pk=late.pk).update(due_on=TODAY - dt.timedelta(days=7), owner_name="Dr X")
    Action.objects.filter(pk=done.pk).update(due_on=TODAY, status="fait")
    users["coordinator"].email = "sophie@example.org"
    users["coordinator"].save()
    UserFactory(role="coordinator", cpts=[territory["lyon"]], email="autre@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        assert plan_reminders_send(today=TODAY) == 2
        assert plan_reminders_send(today=TODAY) == 0  # the beat ran twice: nothing more
    received = smtp.mailbox.wait_for("sophie@example.org", count=2)
    subjects = sorted(m["Subject"].strip() for m in received)
    assert subjects[0].startswith("Action en retard : Participer aux groupes de travail du SAS")
    assert subjects[1].startswith("Échéance dans deux semaines : Rédiger un plan de réponse")
    texts = "\n".join(text_of(m) for m in received)
    assert f"https://portail.example.org/resultats/reponses/{response.pk}/plan/" in texts
    assert "responsable : Dr X" in texts
    assert set(SentMessage.objects.values_list("to", flat=True)) == {"sophie@example.org"}
    # A new due date is a new event; a plan action done or dropped gets nothing.
    Action.objects.filter(pk=soon.pk).update(due_on=TODAY + dt.timedelta(days=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert plan_reminders_send(today=TODAY) == 1
