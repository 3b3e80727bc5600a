"""/compte/: profile, password, data download, deletion and anonymisation; the public notices."""

import json

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, User
from mailing.models import SentMessage
from questionnaire.models import Answer
from tests.factories import ResponseFactory, UserFactory
from tests.helpers import save

PASSWORD = "secret-password-1"


@pytest.fixture
def coordinator(users):
    user = users["coordinator"]
    user.first_name, user.last_name, user.email = "Camille", "Durand", "camille@example.org"
    user.save()
    return user


@pytest.fixture
def draft(campaign, territory):
    return ResponseFactory(campaign=campaign, cpts=territory["paris_1"])


def test_account_page_shows_and_updates_name_and_email(client, coordinator):
    client.force_login(coordinator)
    page = client.get(reverse("accounts:account")).content.decode()
    assert "Mon compte" in page and "camille@example.org" in page and "CPTS Paris Un" in page
    response = client.post(
        reverse("accounts:account"),
        {"first_name": " Camille ", "last_name": "Martin", "email": "c.martin@example.org"},
    )
    assert response.status_code == 302
    coordinator.refresh_from_db()
    assert (coordinator.first_name, coordinator.last_name, coordinator.email) == (
        "Camille",
        "Martin",
        "c.martin@example.org",
    )


def test_account_page_sets_ones_function_in_each_cpts(client, coordinator):
    membership = coordinator.memberships.select_related("cpts").first()
    client.force_login(coordinator)
    page = client.get(reverse("accounts:account")).content.decode()
    assert f"Fonction dans {membership.cpts.name}" in page
    form = {"first_name": "Camille", "last_name": "Martin", "email": "camille@example.org"}
    client.post(reverse("accounts:account"), {**form, f"function_{membership.pk}": "president"})
    membership.refresh_from_db()
    assert membership.function == "president"
    refused = client.post(
        reverse("accounts:account"), {**form, f"function_{membership.pk}": "pape"}
    )
    assert refused.status_code == 200 and "Sélectionnez un choix valide" in refused.content.decode()
    membership.refresh_from_db()
    assert membership.function == "president"


def test_an_email_used_by_another_account_is_refused_whatever_its_case(client, coordinator):
    UserFactory(email="Pris@Example.org")
    client.force_login(coordinator)
    for email in ("pris@example.org", "PRIS@EXAMPLE.ORG"):
        page = client.post(
            reverse("accounts:account"),
            {"first_name": "Autre", "last_name": "Nom", "email": email},
        )
        assert page.status_code == 200
        assert "déjà utilisée par un autre compte." in page.content.decode()
    invalid = client.post(reverse("accounts:account"), {"email": "pas-une-adresse"})
    assert "Saisissez une adresse de courriel valide." in invalid.content.decode()
    coordinator.refresh_from_db()
    assert (coordinator.first_name, coordinator.email) == ("Camille", "camille@example.org")
    # The page header still shows the stored name, not the refused one.
    assert "Autre" not in page.content.decode().split("<main")[0]


def test_password_change_in_french_keeps_the_session(client, coordinator):
    client.force_login(coordinator)
    url = reverse("accounts:password_change")
    wrong = client.post(
        url,
        {
            "old_password": "pas le bon",
            "new_password1": "Nouveau-mot-de-passe-42",
            "new_password2": "Nouveau-mot-de-passe-42",
        },
    )
    assert "Votre ancien mot de passe est incorrect" in wrong.content.decode()
    done = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "Nouveau-mot-de-passe-42",
            "new_password2": "Nouveau-mot-de-passe-42",
        },
    )
    assert done.status_code == 302
    coordinator.refresh_from_db()
    assert coordinator.check_password("Nouveau-mot-de-passe-42")
    assert client.get(reverse("accounts:account")).status_code == 200


def test_data_download_holds_the_account_memberships_and_what_the_user_wrote(
    client, coordinator, users, draft, q
):
    save(draft, q(4), "total", coordinator)
    save(draft, q(4), "partiel", coordinator, revision=1)
    save(draft, q(10), ["autre"], coordinator, other="Maison des associations")
    save(draft, q(5), ["liberaux"], users["coordinator"])
    other = UserFactory(role=User.Role.COORDINATOR, cpts=[draft.cpts], first_name="Dominique")
    save(draft, q(6), "moins_40k", other)
    client.force_login(coordinator)
    response = client.get(reverse("privacy:account_data"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["email"] == "camille@example.org"
    assert data["account"]["last_name"] == "Durand"
    assert {m["cpts_name"] for m in data["memberships"]} == {"CPTS Paris Un", "CPTS Lyon"}
    answers = {a["question"]: a for a in data["answers"]}
    assert set(answers) == {4, 5, 10}  # not Q6, written by someone else
    assert answers[4]["value"] == "partiel" and answers[4]["cpts_name"] == "CPTS Paris Un"
    assert answers[10]["other_text"] == "Maison des associations"
    history = [(h["question"], h["action"], h["value"]) for h in data["answer_history"]]
    assert history[:2] == [(4, "création", "total"), (4, "modification", "partiel")]
    assert all(h["question"] != 6 for h in data["answer_history"])
    assert "password" not in json.dumps(data)


def test_data_download_holds_ratings_plan_actions_files_and_emails_but_no_link(
    client, coordinator, users, draft, q
):
    from collegial.models import Rating
    from collegial.services import mode_set, raters_invite, rating_answer_save
    from exports.models import ExportJob
    from improvement.services import ActionFields, action_create

    assessment = mode_set(
        response=draft,
        user=coordinator,
        collegial=True,
        synthesis_opens_on=draft.campaign.closes_on,
    )
    raters_invite(assessment=assessment, raters=[coordinator], invited_by=coordinator)
    rating = Rating.objects.get(assessment=assessment, rater=coordinator)
    rating_answer_save(
        rating=rating, question=q(4), value="partiel", other_text="", expected_revision=0
    )
    subdimension = q(4).subdimension
    action_create(
        response=draft,
        fields=ActionFields(subdimension=subdimension, title="Réunir le bureau", notes="En mars"),
        user=coordinator,
    )
    action_create(
        response=draft,
        fields=ActionFields(subdimension=subdimension, title="Action d'un autre"),
        user=users["member"],
    )
    ExportJob.objects.create(
        requested_by=coordinator, parameters={"format": "wide"}, filename="export.csv"
    )
    SentMessage.objects.create(
        key="reset:1",
        to="CAMILLE@example.org",
        template="password_reset",
        subject="Réinitialiser votre mot de passe",
        body_text="https://portail.example.org/reinitialisation/secret-token/",
        body_html="",
    )
    SentMessage.objects.create(
        key="reset:2", to="autre@example.org", template="x", subject="Pas pour vous", body_text=""
    )
    client.force_login(coordinator)
    data = client.get(reverse("privacy:account_data")).json()
    (own,) = data["ratings"]
    assert own["cpts_name"] == "CPTS Paris Un"
    assert [(a["question"], a["value"]) for a in own["answers"]] == [(4, "partiel")]
    assert [a["title"] for a in data["plan_actions"]] == ["Réunir le bureau"]
    assert data["plan_actions"][0]["notes"] == "En mars"
    assert [f["filename"] for f in data["export_files"]] == ["export.csv"]
    subjects = [m["subject"] for m in data["emails_received"]]
    assert "Réinitialiser votre mot de passe" in subjects and "Pas pour vous" not in subjects
    assert "secret-token" not in json.dumps(data)


def test_data_download_of_territory_staff_names_the_territory_and_no_secret(
    client, users, force_login_verified
):
    ars = users["ars"]
    device = TOTPDevice.objects.create(user=ars, confirmed=True)
    force_login_verified(ars, device)
    data = client.get(reverse("privacy:account_data")).json()
    assert data["account"]["role"] == "ars" and data["account"]["region"] == "Île-de-France"
    assert data["account"]["second_factor"] == {"totp_app": True, "recovery_codes_left": 0}
    assert device.key not in json.dumps(data)
    assert data["answers"] == [] and data["memberships"] == []


def test_deleting_an_account_needs_the_password_and_a_confirmation(client, coordinator):
    client.force_login(coordinator)
    url = reverse("accounts:account_delete")
    assert "Supprimer définitivement mon compte" in client.get(url).content.decode()
    wrong = client.post(url, {"password": "pas le bon", "confirm": "on"})
    assert "Mot de passe incorrect." in wrong.content.decode()
    unconfirmed = client.post(url, {"password": PASSWORD})
    assert unconfirmed.status_code == 200
    coordinator.refresh_from_db()
    assert coordinator.is_active and coordinator.anonymised_at is None


def test_deleting_an_account_anonymises_it_everywhere(client, coordinator, users, draft, q):
    save(draft, q(4), "total", coordinator)
    TOTPDevice.objects.create(user=coordinator, confirmed=True)
    mail = SentMessage.objects.create(
        key="team:1",
        to=coordinator.email.upper(),
        template="team_added",
        subject="Vous faites partie de l'équipe",
        body_text=f"Bonjour {coordinator.get_full_name()}",
        body_html=f"<p>Bonjour {coordinator.get_full_name()}</p>",
    )
    username = coordinator.username
    client.force_login(coordinator)
    response = client.post(
        reverse("accounts:account_delete"), {"password": PASSWORD, "confirm": "on"}, follow=True
    )
    assert response.request["PATH_INFO"] == reverse("login")
    assert "Votre compte a été supprimé" in response.content.decode()

    deleted = User.objects.get(pk=coordinator.pk)
    assert deleted.username != username and deleted.username.startswith("supprime-")
    assert (deleted.first_name, deleted.last_name, deleted.email, deleted.role) == ("", "", "", "")
    assert not deleted.is_active and not deleted.has_usable_password()
    assert deleted.anonymised_at is not None and str(deleted) == "utilisateur supprimé"
    assert not Membership.objects.filter(user=deleted).exists()
    assert not TOTPDevice.objects.filter(user=deleted).exists()
    mail = SentMessage.objects.get(pk=mail.pk)
    assert (mail.to, mail.body_text, mail.body_html) == ("", "", "")  # the log names nobody
    assert client.get(reverse("accounts:account")).status_code == 302  # signed out
    refused = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert refused.status_code == 200
    assert "ou mot de passe incorrect" in refused.content.decode()

    # The answer keeps its author, shown as "utilisateur supprimé", never the name.
    assert Answer.objects.get(response=draft).updated_by == deleted
    client.force_login(users["fcpts"])
    history = client.get(reverse("questionnaire:history", args=[draft.pk])).content.decode()
    assert "utilisateur supprimé" in history
    for trace in (username, "Camille", "Durand", deleted.username):
        assert trace not in history

    # A co-editor whose save conflicts with the deleted user's answer is told the same.
    colleague = UserFactory(role=User.Role.COORDINATOR, cpts=[draft.cpts])
    client.force_login(colleague)
    field = f"q{q(4).id}"
    conflict = client.post(
        reverse("questionnaire:autosave", args=[draft.pk]),
        {"question": q(4).id, field: "faible", f"{field}-revision": "0"},
    )
    assert conflict.status_code == 409
    assert "modifiée par utilisateur supprimé" in conflict.json()["error"]
    assert username not in conflict.json()["error"]


@pytest.mark.parametrize(
    ("name", "phrases"),
    [
        (
            "privacy:notice",
            [
                "Responsable du traitement",
                "Fédération des CPTS",
                "Qui voit les réponses d'une CPTS",
                "Son ARS",
                "Sa CPAM",
                "moins de 5 CPTS",
                "Durées de conservation",
                "Vos droits",
                "Aucune donnée de patient",
                "CNIL",
            ],
        ),
        (
            "privacy:accessibility",
            [
                "Déclaration d'accessibilité",
                "État de conformité",
                "non conforme",
                "Contenus non accessibles",
                "Retour d'information et contact",
                "Défenseur des droits",
            ],
        ),
    ],
)
def test_notices_are_public_and_french(client, db, settings, name, phrases):
    page = client.get(reverse(name))
    assert page.status_code == 200
    html = page.content.decode()
    for phrase in phrases:
        assert phrase in html, phrase
    assert f'href="mailto:{settings.PORTAL_CONTACT_EMAIL}"' in html


def test_footer_and_login_page_link_the_notices(client, coordinator):
    login = client.get(reverse("login")).content.decode()
    assert login.count(f'href="{reverse("privacy:notice")}"') == 2  # the form's note, the footer
    assert f'href="{reverse("privacy:accessibility")}"' in login
    client.force_login(coordinator)
    page = client.get(reverse("accounts:account")).content.decode()
    assert f'href="{reverse("privacy:notice")}"' in page
    assert f'href="{reverse("privacy:accessibility")}"' in page


def test_free_text_fields_carry_the_no_patient_data_note(client, coordinator, draft):
    client.force_login(coordinator)
    page = client.get(reverse("questionnaire:section", args=[draft.pk, "acteurs_territoire"]))
    html = page.content.decode()
    assert "Ne saisissez aucune donnée de patient" in html
    assert 'aria-describedby="q' in html and '-other-note"' in html
