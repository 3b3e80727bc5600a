"""People: the member role, teams and invitations, login by e-mail, activation and password
reset; every e-mail through a real SMTP server."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Membership, PasswordResetRequest, User
from accounts.services import activation_send
from mailing.models import SentMessage
from questionnaire.models import Response
from scoring.services import response_score
from tests.factories import CampaignFactory, ResponseFactory, UserFactory
from tests.helpers import MIXED, make_response
from tests.smtp import first_link, text_of

PASSWORD = "un-mot-de-passe-solide-2026"


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def activate(client, link: str, password: str = PASSWORD):
    """Follow an activation (or reset) link as a browser does, and choose a password."""
    page = client.get(path_of(link), follow=True)
    assert page.status_code == 200 and page.context["validlink"], page.content.decode()
    return client.post(
        page.request["PATH_INFO"],
        {"new_password1": password, "new_password2": password},
        follow=True,
    )


# --- The member role ---------------------------------------------------------------------


def test_a_member_answers_drafts_and_sees_results_but_never_submits(
    client, users, territory, campaign, grid
):
    member = users["member"]
    open_campaign = CampaignFactory(questionnaire=campaign.questionnaire)
    draft = make_response(open_campaign, MIXED, cpts=territory["paris_1"], submitted=False)
    client.force_login(member)
    my_cpts = client.get(reverse("questionnaire:my_cpts"))
    assert my_cpts.status_code == 200 and "CPTS Paris Un" in my_cpts.content.decode()
    assert reverse("accounts:team", args=[territory["paris_1"].pk]) not in my_cpts.content.decode()
    review = client.get(reverse("questionnaire:review", args=[draft.pk])).content.decode()
    assert "Soumettre le questionnaire" not in review
    assert "Un·e coordinateur·rice de la CPTS peut maintenant soumettre" in review
    question = campaign.questionnaire.questions.get(number=4)
    saved = client.post(
        reverse("questionnaire:autosave", args=[draft.pk]),
        {"question": question.id, f"q{question.id}": "total", f"q{question.id}-revision": "1"},
    )
    assert saved.status_code == 200 and saved.json()["status"] == "saved"
    assert client.post(reverse("questionnaire:submit", args=[draft.pk])).status_code == 403
    assert Response.objects.get(pk=draft.pk).status == Response.Status.DRAFT
    assert client.get(reverse("accounts:team", args=[territory["paris_1"].pk])).status_code == 403

    submitted = make_response(campaign, MIXED, cpts=territory["paris_1"])
    response_score(response=submitted, grid=grid)
    assert client.get(reverse("scoring:results", args=[submitted.pk])).status_code == 200


def test_another_cpts_member_sees_nothing_of_it(client, users, territory, campaign):
    draft = ResponseFactory(campaign=campaign, cpts=territory["paris_1"])
    client.force_login(users["other_member"])
    assert client.get(reverse("questionnaire:review", args=[draft.pk])).status_code == 404
    assert client.get(reverse("accounts:team", args=[territory["paris_2"].pk])).status_code == 403


def test_the_submission_records_who_submitted_and_their_function(
    client, users, territory, campaign
):
    coordinator = users["coordinator"]
    Membership.objects.filter(user=coordinator, cpts=territory["paris_1"]).update(
        function=Membership.Function.PRESIDENT
    )
    draft = make_response(campaign, MIXED, cpts=territory["paris_1"], submitted=False)
    client.force_login(coordinator)
    client.post(reverse("questionnaire:submit", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == Response.Status.SUBMITTED
    assert draft.submitted_by == coordinator
    assert draft.submitted_by_function == "president"
    assert draft.get_submitted_by_function_display() == "Président·e"
    review = client.get(reverse("questionnaire:review", args=[draft.pk])).content.decode()
    assert "par : Président·e" in review


# --- The team page -----------------------------------------------------------------------


def test_a_coordinator_invites_a_new_person_who_activates_and_logs_in_by_email(
    client, users, territory, smtp, committed
):
    paris = territory["paris_1"]
    coordinator = users["coordinator"]
    coordinator.first_name, coordinator.last_name = "Sophie", "Martin"
    coordinator.save()
    client.force_login(coordinator)
    url = reverse("accounts:team", args=[paris.pk])
    page = client.get(url).content.decode()
    assert "Équipe de CPTS Paris Un" in page and "Membre de l&#x27;équipe d&#x27;une CPTS" in page
    with committed():
        response = client.post(
            url,
            {
                "email": "Paul.Durand@Example.org",
                "first_name": "Paul",
                "last_name": "Durand",
                "function": "membre_bureau",
                "role": "member",
            },
        )
    assert response.status_code == 302
    paul = User.objects.get(email="paul.durand@example.org")
    assert paul.role == User.Role.MEMBER and not paul.has_usable_password()
    assert Membership.objects.get(user=paul, cpts=paris).function == "membre_bureau"
    [mail] = smtp.mailbox.wait_for("paul.durand@example.org")
    assert (
        mail["Subject"].strip() == "Sophie Martin vous invite sur le Portail de maturité des CPTS"
    )
    assert "rejoindre l'équipe de CPTS Paris Un" in text_of(mail)
    page = client.get(url).content.decode()
    assert "Paul Durand" in page and "Membre du bureau" in page
    assert "compte pas encore activé" in page

    client.logout()
    link = first_link(mail, "/connexion/activer/")
    assert link.startswith("http://127.0.0.1:8000/connexion/activer/")  # PORTAL_BASE_URL
    done = activate(client, link)
    assert "Votre compte est activé" in done.content.decode()
    assert done.context["user"] == paul
    client.logout()
    assert client.get(path_of(link), follow=True).context["link_state"] == "used"  # single use
    logged = client.post(
        reverse("login"), {"username": "PAUL.durand@example.ORG", "password": PASSWORD}
    )
    assert logged.status_code == 302 and logged.url == reverse("home")


def test_inviting_an_existing_account_adds_it_and_says_so(
    client, users, territory, smtp, committed
):
    colleague = UserFactory(role=User.Role.COORDINATOR, email="anne@example.org", first_name="Anne")
    client.force_login(users["coordinator"])
    url = reverse("accounts:team", args=[territory["paris_1"].pk])
    with committed():
        client.post(url, {"email": "ANNE@example.org", "function": "", "role": "member"})
    assert Membership.objects.filter(user=colleague, cpts=territory["paris_1"]).exists()
    colleague.refresh_from_db()
    assert colleague.role == User.Role.COORDINATOR  # an existing account keeps its role
    [mail] = smtp.mailbox.wait_for("anne@example.org")
    assert "vous a ajouté·e à l'équipe de CPTS Paris Un" in text_of(mail)
    again = client.post(url, {"email": "anne@example.org", "function": "", "role": "member"})
    assert again.status_code == 400 and "fait déjà partie de l" in again.content.decode()


def test_territory_staff_cannot_be_invited_into_a_team(client, users, territory):
    users["ars"].email = "marc@ars.example.org"
    users["ars"].save()
    client.force_login(users["coordinator"])
    response = client.post(
        reverse("accounts:team", args=[territory["paris_1"].pk]),
        {"email": "marc@ars.example.org", "function": "", "role": "member"},
    )
    assert response.status_code == 400
    assert "ne peut pas rejoindre l" in response.content.decode()
    assert not Membership.objects.filter(user=users["ars"]).exists()


def test_team_pages_of_other_cpts_are_not_found(client, users, territory):
    client.force_login(users["coordinator"])
    assert client.get(reverse("accounts:team", args=[territory["paris_2"].pk])).status_code == 404
    outsider = Membership.objects.get(user=users["other_member"])
    url = reverse("accounts:team_remove", args=[territory["paris_1"].pk, outsider.pk])
    assert client.post(url).status_code == 404
    assert Membership.objects.filter(pk=outsider.pk).exists()


def test_a_coordinator_removes_a_member_but_not_themselves(client, users, territory, campaign):
    paris = territory["paris_1"]
    membership = Membership.objects.get(user=users["member"], cpts=paris)
    own = Membership.objects.get(user=users["coordinator"], cpts=paris)
    client.force_login(users["coordinator"])
    client.post(reverse("accounts:team_remove", args=[paris.pk, own.pk]))
    assert Membership.objects.filter(pk=own.pk).exists()
    response = client.post(reverse("accounts:team_remove", args=[paris.pk, membership.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=users["member"].pk, is_active=True).exists()


# --- Login, activation links, password reset ---------------------------------------------


def test_login_by_username_or_email_in_any_case(client, db):
    UserFactory(username="sophie", email="Sophie.Martin@Example.org", role="coordinator")
    for login in ("sophie", "sophie.martin@example.org", "SOPHIE.MARTIN@EXAMPLE.ORG"):
        response = client.post(
            reverse("login"), {"username": login, "password": "secret-password-1"}
        )
        assert response.status_code == 302, login
        client.logout()
    wrong = client.post(reverse("login"), {"username": "Sophie", "password": "secret-password-1"})
    assert wrong.status_code == 200  # usernames keep their case
    assert "Adresse e-mail, nom d’utilisateur ou mot de passe incorrect" in wrong.content.decode()


def test_axes_locks_an_address_whatever_its_case(client, db, settings):
    UserFactory(username="sophie", email="sophie@example.org", role="coordinator")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login = "Sophie@Example.org" if attempt % 2 else "sophie@example.org"
        client.post(reverse("login"), {"username": login, "password": "wrong"})
    locked = client.post(
        reverse("login"), {"username": "SOPHIE@example.org", "password": "secret-password-1"}
    )
    assert locked.status_code == 429
    assert "Compte temporairement bloqué" in locked.content.decode()


def test_an_expired_activation_link_says_so_and_sends_a_new_one(
    client, users, territory, smtp, committed, settings
):
    client.force_login(users["coordinator"])
    with committed():
        client.post(
            reverse("accounts:team", args=[territory["paris_1"].pk]),
            {"email": "late@example.org", "function": "", "role": "member"},
        )
    client.logout()
    [mail] = smtp.mailbox.wait_for("late@example.org")
    link = first_link(mail, "/connexion/activer/")
    # A day past the limit (time-machine's naive clock ignores the process's time zone).
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.ACCOUNT_ACTIVATION_DAYS + 1)
    with time_machine.travel(later):
        page = client.get(path_of(link), follow=True)
        assert page.context["link_state"] == "expired"
        assert "Ce lien d’activation a expiré" in page.content.decode()
        resend = reverse("accounts:activation_resend", args=[page.context["uidb64"]])
        with committed():
            client.post(resend)
            client.post(resend)  # twice the same day: one new link
        mails = smtp.mailbox.wait_for("late@example.org", count=2)
        assert len(smtp.mailbox.to("late@example.org")) == 2
        activate(client, first_link(mails[1], "/connexion/activer/"))
    assert User.objects.get(email="late@example.org").has_usable_password()


def test_a_forged_activation_link_is_refused(client, users):
    page = client.get(
        reverse("accounts:activate", args=["MQ", "c0ffee-0123456789abcdef0123"]), follow=True
    )
    assert page.context["link_state"] == "invalid"
    assert "n’est pas valable" in page.content.decode()


def test_password_reset_answers_the_same_and_mails_only_a_known_address(
    client, db, smtp, committed
):
    UserFactory(username="claire", email="claire@example.org", role="fcpts")
    url = reverse("accounts:password_reset")
    assert url == "/connexion/mot-de-passe-oublie/"
    replies = []
    for email in ("nobody@example.org", "Claire@Example.org"):
        with committed():
            response = client.post(url, {"email": email}, follow=True)
        replies.append((response.status_code, response.redirect_chain, response.content))
    assert replies[0] == replies[1]
    assert smtp.mailbox.to("nobody@example.org") == []
    [mail] = smtp.mailbox.wait_for("claire@example.org")
    assert "valable 24 heures" in text_of(mail)
    done = activate(
        client, first_link(mail, "/connexion/nouveau-mot-de-passe/"), "nouveau-2026-xyz"
    )
    assert "Votre mot de passe a été changé" in done.content.decode()
    client.logout()
    logged = client.post(
        reverse("login"), {"username": "claire@example.org", "password": "nouveau-2026-xyz"}
    )
    assert logged.status_code == 302
    assert PasswordResetRequest.objects.count() == 2  # unknown addresses are counted too


def test_password_reset_is_rate_limited_per_address_and_per_ip(
    client, db, smtp, committed, settings
):
    UserFactory(username="claire", email="claire@example.org", role="fcpts")
    url = reverse("accounts:password_reset")
    for minute in range(settings.PASSWORD_RESET_LIMIT_PER_EMAIL + 2):
        with time_machine.travel(dt.datetime(2026, 12, 1, 10, minute, tzinfo=dt.UTC)), committed():
            assert client.post(url, {"email": "claire@example.org"}).status_code == 302
    sent = SentMessage.objects.filter(to="claire@example.org", template="password_reset")
    assert sent.count() == settings.PASSWORD_RESET_LIMIT_PER_EMAIL
    settings.PASSWORD_RESET_LIMIT_PER_IP = 5
    UserFactory(username="other", email="other@example.org", role="fcpts")
    with time_machine.travel(dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.UTC)), committed():
        client.post(url, {"email": "other@example.org"})
    assert not SentMessage.objects.filter(to="other@example.org").exists()  # this IP is over


def test_a_never_activated_account_asking_for_a_password_gets_its_activation_link(
    client, db, smtp, committed
):
    user = UserFactory(username="new", email="new@example.org", role="member")
    user.set_unusable_password()
    user.save()
    with committed():
        client.post(reverse("accounts:password_reset"), {"email": "new@example.org"})
    [mail] = smtp.mailbox.wait_for("new@example.org")
    assert "/connexion/activer/" in text_of(mail)


@pytest.mark.parametrize("email", ["", "pas-une-adresse"])
def test_password_reset_with_a_bad_address_says_so_in_french(client, db, email):
    response = client.post(reverse("accounts:password_reset"), {"email": email})
    assert response.status_code == 200
    message = "Ce champ est obligatoire" if not email else "Saisissez une adresse de courriel"
    assert message in response.content.decode()


def test_a_deactivated_account_link_opens_nothing(client, db, smtp, committed):
    user = UserFactory(username="gone", email="gone@example.org", role="member")
    user.set_unusable_password()
    user.save()
    with committed():
        activation_send(user=user, event="initial")
    link = first_link(smtp.mailbox.wait_for("gone@example.org")[0], "/connexion/activer/")
    User.objects.filter(pk=user.pk).update(is_active=False)
    page = client.get(path_of(link), follow=True)
    assert page.context["link_state"] == "invalid"
    assert not User.objects.get(pk=user.pk).has_usable_password()
