"""Issue 13 §2: no input answers HTTP 500; every refusal is French, and nothing invalid is stored.

Autosave answers JSON (the page shows the message beside the question); the section form and
other pages answer a French HTML page.
"""

import string

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questionnaire import rules
from questionnaire.models import Answer
from tests.factories import ResponseFactory, UserFactory

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def draft(campaign, territory):
    return ResponseFactory(campaign=campaign, cpts=territory["paris_1"])


@pytest.fixture
def autosave(client, users, draft):
    client.force_login(users["coordinator"])
    url = reverse("questionnaire:autosave", args=[draft.pk])

    def post(data, **extra):
        return client.post(url, data, **JSON, **extra)

    return post


def _q10(question, text, revision="0"):
    field = f"q{question.id}"
    return {
        "question": str(question.id),
        field: "autre",
        f"{field}-other": text,
        f"{field}-revision": revision,
    }


@pytest.mark.parametrize("question_id", ["²", "١٢", "٣", "1" * 5000, "-1", "0x10", ""])
def test_a_question_id_that_is_not_plain_digits_is_refused_in_french(autosave, question_id):
    response = autosave({"question": question_id})
    assert response.status_code == 400
    assert response.json() == {"status": "invalid", "error": "Question inconnue."}


@pytest.mark.parametrize("revision", ["²", "١", "9" * 5000, "-1", "1.0"])
def test_an_unreadable_revision_is_refused_and_changes_nothing(autosave, q, revision):
    field = f"q{q(7).id}"
    assert autosave({"question": q(7).id, field: "14", f"{field}-revision": "0"}).status_code == 200
    response = autosave({"question": q(7).id, field: "15", f"{field}-revision": revision})
    assert response.status_code == 400
    assert response.json()["status"] == "invalid"
    assert "rechargez la page" in response.json()["error"]
    assert Answer.objects.get(question=q(7)).value == 14


@pytest.mark.parametrize("number", ["1" * 5000, "9" * 10, "١٢", "²", "0" * 30 + "12000"])
def test_numbers_too_long_or_in_other_digits_are_refused(autosave, q, number):
    field = f"q{q(7).id}"
    response = autosave({"question": q(7).id, field: number, f"{field}-revision": "0"})
    assert response.status_code == 400
    assert response.json()["status"] == "invalid"
    assert response.json()["error"] in (
        "Saisissez un nombre entre 1 et 1000.",
        "Saisissez un nombre entier positif, sans espace ni décimale.",
    )
    assert not Answer.objects.filter(question=q(7)).exists()


@pytest.mark.parametrize("text", ["Maison\x00de santé", "bip\x07", "esc\x1b[31m", "c1\x85"])
def test_control_characters_in_free_text_are_refused(autosave, q, text):
    assert autosave(_q10(q(10), "Réseau local")).status_code == 200
    response = autosave(_q10(q(10), text, revision="1"))
    assert response.status_code == 400
    assert "caractère invisible" in response.json()["error"]
    assert Answer.objects.get(question=q(10)).other_text == "Réseau local"


def test_free_text_keeps_line_breaks_and_tabs_and_stores_them_one_way(autosave, q, client, draft):
    assert autosave(_q10(q(10), "Réseau\r\nlocal\tnord")).json()["revision"] == 1
    assert Answer.objects.get(question=q(10)).other_text == "Réseau\nlocal\tnord"
    # The same text as the browser's textarea sends it (LF) is the same answer: no new revision.
    assert autosave(_q10(q(10), "Réseau\nlocal\tnord", revision="1")).json()["revision"] == 1


def test_an_oversized_body_is_refused_in_french_json(autosave, q, settings):
    response = autosave(_q10(q(10), "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)))
    assert response.status_code == 400
    assert response.json()["status"] == "invalid"
    assert response.json()["error"].startswith("Les données envoyées sont trop volumineuses")
    assert not Answer.objects.exists()


def test_too_many_fields_are_refused_in_french_json_and_html(autosave, q, client, draft):
    fields = {f"champ{n}": "x" for n in range(1001)}
    response = autosave({"question": q(7).id, **fields})
    assert response.status_code == 400
    assert response.json() == {
        "status": "invalid",
        "error": "Le formulaire envoyé contient trop de champs : rien n'a été enregistré.",
    }
    page = client.post(
        reverse("questionnaire:section", args=[draft.pk, "population_territoire"]), fields
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "Requête refusée" in html and "trop de champs" in html and 'lang="fr"' in html
    assert not Answer.objects.exists()


def test_the_section_form_refuses_hostile_values_beside_the_field(client, users, draft, q):
    client.force_login(users["coordinator"])
    url = reverse("questionnaire:section", args=[draft.pk, "population_territoire"])
    field = f"q{q(7).id}"
    page = client.post(url, {field: "1" * 5000, f"{field}-revision": "²", "suivant": ""})
    assert page.status_code == 400
    assert "rechargez la page" in page.content.decode()
    assert not Answer.objects.exists()


def test_an_answer_to_a_question_that_does_not_apply_is_refused_by_autosave(autosave, q):
    field2, field26 = f"q{q(2).id}", f"q{q(26).id}"
    autosave({"question": q(2).id, field2: "ingenierie", f"{field2}-revision": "0"})
    option = rules.choices(q(26))[0].code
    response = autosave({"question": q(26).id, field26: option, f"{field26}-revision": "0"})
    assert response.status_code == 400
    assert response.json()["error"] == (
        "Cette question ne s'applique pas à cette CPTS (selon q02, question 2)."
    )
    assert not Answer.objects.filter(question=q(26)).exists()
    # Once it applies, the same answer is taken; changing Q2 back keeps it (and ignores it).
    autosave({"question": q(2).id, field2: "fonctionnement", f"{field2}-revision": "1"})
    assert (
        autosave({"question": q(26).id, field26: option, f"{field26}-revision": "0"}).json()[
            "status"
        ]
        == "saved"
    )


def test_the_admin_shows_answers_read_only_and_bad_history_ids_are_404(client, draft, q):
    admin = UserFactory(is_staff=True, is_superuser=True, role="fcpts")
    client.force_login(admin)
    answer = Answer.objects.create(response=draft, question=q(4), value="total")
    change = reverse("admin:questionnaire_answer_change", args=[answer.pk])
    assert client.get(change).status_code == 200  # shown
    refused = client.post(change, {"value": '{"x": 1}', "revision": 1})
    assert refused.status_code == 403
    assert Answer.objects.get(pk=answer.pk).value == "total"
    assert client.get(reverse("admin:questionnaire_answer_add")).status_code == 403
    history = reverse("admin:questionnaire_answer_history", args=[answer.pk])
    assert client.get(history).status_code == 200
    for bad in ("abc", "²", "9" * 40):
        assert client.get(f"{history}{bad}/").status_code == 404
        assert client.get(f"/admin/questionnaire/answer/{bad}/history/").status_code == 404
    assert client.get(f"/admin/territories/cpts/{draft.cpts_id}/history/abc/").status_code == 404


@pytest.mark.django_db
def test_the_500_page_is_french_in_the_site_layout():
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert 'lang="fr"' in html and "Erreur du serveur" in html
    assert "Maturité des CPTS" in html  # the site's navigation bar
    assert "Les réponses déjà enregistrées sont conservées" in html


def test_a_refused_csrf_token_answers_french_json_to_the_autosave_client(users, draft, q):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["coordinator"])
    url = reverse("questionnaire:autosave", args=[draft.pk])
    response = client.post(url, {"question": q(7).id}, **JSON)
    assert response.status_code == 403
    assert response.json()["status"] == "csrf"
    assert "rien n'a été enregistré" in response.json()["error"]


# --- Arbitrary Unicode, on the database the tests run on (PostgreSQL in CI) -------------------

ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=60) | st.sampled_from(
    ["\x00", "١٢", "²", "1" * 5000, "\ud800", "\r\n", "\x85", "12\x00"]
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    question=st.none() | ANY_TEXT,
    value=ANY_TEXT,
    other=ANY_TEXT,
    revision=ANY_TEXT,
    number=st.booleans(),
)
def test_arbitrary_unicode_to_autosave_never_fails_nor_stores_anything_invalid(
    autosave, q, question, value, other, revision, number
):
    target = q(7) if number else q(10)
    field = f"q{target.id}"
    data = {
        "question": str(target.id) if question is None else question,
        field: value if number else ["autre", value],
        f"{field}-other": other,
        f"{field}-revision": revision,
    }
    # Lone surrogates cannot be encoded in a request: a browser sends U+FFFD instead.
    data = {
        key: [v.encode("utf-8", "replace").decode() for v in values]
        if isinstance(values, list)
        else values.encode("utf-8", "replace").decode()
        for key, values in data.items()
    }
    response = autosave(data)
    assert response.status_code in (200, 400, 409), response.content[:300]
    assert response.json()["status"] in ("saved", "invalid", "conflict")
    assert response.json().get("error", "x")
    for answer in Answer.objects.all():
        # Whatever is stored passes the rules again unchanged.
        assert rules.clean_answer(answer.question, answer.value, answer.other_text) == (
            answer.value,
            answer.other_text,
        )
        assert not set(answer.other_text) & (set(map(chr, range(32))) - {"\t", "\n"})


def test_printable_characters_and_emoji_are_kept_as_typed(autosave, q):
    text = "Équipe « Santé » – 🩺 " + string.punctuation
    assert autosave(_q10(q(10), text)).json()["status"] == "saved"
    assert Answer.objects.get(question=q(10)).other_text == text.strip()
