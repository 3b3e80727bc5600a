"""`import_users` and the federation's users page: all or nothing, one French message per bad
line, idempotent, activation links over a real SMTP server."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Membership, User
from accounts.services import users_import_csv
from mailing.models import SentMessage
from tests.factories import CptsFactory, UserFactory

HEADER = "email,first_name,last_name,role,territory,function"


@pytest.fixture
def cpts(db):
    return {
        "A": CptsFactory(code="CPTS-A", name="CPTS Alpha"),
        "B": CptsFactory(code="CPTS-B", name="CPTS Bêta"),
    }


GOOD = "\n".join(
    [
        HEADER,
        "sophie.martin@example.org,Sophie,Martin,coordinator,CPTS-A|CPTS-B,coordinateur_salarie",
        "Paul.Durand@Example.org,Paul,Durand,member,CPTS-A,Membre du bureau",
        "marc@ars.example.org,Marc,Dubois,ars,11,",
        "nadia@cpam.example.org,Nadia,Benali,cpam,75,",
        "claire@fcpts.example.org,Claire,Lefèvre,fcpts,,",
    ]
)


def run(path, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_users", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path, text: str, name="users.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_a_good_file_creates_every_account_with_its_scope(tmp_path, cpts):
    out, _ = run(write(tmp_path, GOOD))
    assert "5 compte(s) créé(s), 0 mis à jour, 0 inchangé(s)." in out
    sophie = User.objects.get(email="sophie.martin@example.org")
    assert sophie.role == "coordinator" and not sophie.has_usable_password()
    assert sophie.username == "sophie.martin@example.org"
    assert set(Membership.objects.filter(user=sophie).values_list("cpts__code", "function")) == {
        ("CPTS-A", "coordinateur_salarie"),
        ("CPTS-B", "coordinateur_salarie"),
    }
    paul = User.objects.get(email="paul.durand@example.org")  # stored in lower case
    assert Membership.objects.get(user=paul).function == "membre_bureau"  # label accepted
    assert User.objects.get(email="marc@ars.example.org").region.code == "11"
    assert User.objects.get(email="nadia@cpam.example.org").department.code == "75"
    claire = User.objects.get(email="claire@fcpts.example.org")
    assert (
        claire.role == "fcpts" and claire.first_name == "Claire" and claire.last_name == "Lefèvre"
    )
    assert not SentMessage.objects.exists()  # no --send-activation


def test_every_bad_line_is_named_and_nothing_is_written(tmp_path, cpts):
    UserFactory(username="marc", email="Taken@Example.org", role="fcpts")
    text = "\n".join(
        [
            HEADER,
            "ok@example.org,Ok,Ok,coordinator,CPTS-A,",
            "pas-une-adresse,X,Y,member,CPTS-A,",
            "x@example.org,X,Y,chef,CPTS-A,",
            "y@example.org,X,Y,member,CPTS-Z|CPTS-A,",
            "z@example.org,X,Y,ars,CPTS-A,",
            "w@example.org,X,Y,cpam,99X,",
            "v@example.org,X,Y,fcpts,11,",
            "OK@example.org,Ok,Ok,member,CPTS-B,",
            "taken@example.org,X,Y,coordinator,CPTS-A,",
            "u@example.org,X,Y,coordinator,,",
            "t@example.org,X,Y,member,CPTS-A,tresorier",
            "s@example.org,X,Y,ars,11,president",
        ]
    )
    with pytest.raises(CommandError) as refused:
        run(write(tmp_path, text))
    assert "11 ligne(s) invalide(s) : aucun compte n'a été créé ni modifié." in str(refused.value)
    assert User.objects.count() == 1 and not Membership.objects.exists()


def test_the_messages_say_what_is_wrong_on_which_line(cpts):
    UserFactory(username="marc", email="Taken@Example.org", role="fcpts")
    text = "\n".join(
        [
            HEADER,
            "ok@example.org,Ok,Ok,coordinator,CPTS-A,",
            "pas-une-adresse,X,Y,member,CPTS-A,",
            "x@example.org,X,Y,chef,CPTS-A,",
            "y@example.org,X,Y,member,CPTS-Z|CPTS-A,",
            "z@example.org,X,Y,ars,CPTS-A,",
            "w@example.org,X,Y,cpam,99X,",
            "v@example.org,X,Y,fcpts,11,",
            "OK@example.org,Ok,Ok,member,CPTS-B,",
            "taken@example.org,X,Y,coordinator,CPTS-A,",
            "u@example.org,X,Y,coordinator,,",
            "t@example.org,X,Y,member,CPTS-A,tresorier",
            "s@example.org,X,Y,ars,11,president",
            "r@example.org,X,Y,member,CPTS-A,,extra",
        ]
    )
    report = users_import_csv(text=text)
    assert report.errors == [
        "Ligne 3 : adresse e-mail invalide « pas-une-adresse ».",
        "Ligne 4 : rôle inconnu « chef » (attendu : coordinator, member, ars, cpam, fcpts).",
        "Ligne 5 : CPTS inconnue(s) : CPTS-Z.",
        "Ligne 6 : région inconnue « CPTS-A » (un rôle ars prend un code de région).",
        "Ligne 7 : département inconnu « 99X » (un rôle cpam prend un code de département).",
        "Ligne 8 : un rôle fcpts est national : la colonne territory doit être vide.",
        "Ligne 9 : adresse « ok@example.org » déjà présente ligne 2.",
        "Ligne 10 : l'adresse taken@example.org est déjà celle d'un compte « Administrateur·rice "
        "FCPTS (national) » (un import ne change pas le rôle d'un compte).",
        "Ligne 11 : un rôle coordinator prend un ou plusieurs codes de CPTS séparés par « | ».",
        "Ligne 12 : fonction inconnue « tresorier » (attendu : vide ou coordinateur_salarie, "
        "president, membre_bureau, professionnel, autre).",
        "Ligne 13 : une fonction ne concerne que l'équipe d'une CPTS (coordinator, member).",
        "Ligne 14 : 7 cellules au lieu de 6.",
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "email,first_name,last_name,role,territory",
            "Ligne 1 : colonnes obligatoires absentes : function.",
        ),
        (
            HEADER + ",phone",
            "Ligne 1 : colonnes inconnues : phone (l'en-tête est exactement " + HEADER + ").",
        ),
        (
            "mail,first_name,last_name,role,territory,function",
            "Ligne 1 : colonnes obligatoires absentes : email.",
        ),
        (
            HEADER + ",email",
            "Ligne 1 : la colonne « email » figure deux fois dans l'en-tête (colonnes 1 et 7).",
        ),
    ],
)
def test_the_header_must_be_exactly_the_six_columns(tmp_path, cpts, header, message):
    with pytest.raises(CommandError):
        run(write(tmp_path, header + "\na@example.org,A,B,fcpts,,,\n"))
    assert users_import_csv(text=header + "\na@example.org,A,B,fcpts,,\n").errors == [message]
    assert not User.objects.exists()


def test_semicolons_and_a_bom_are_read(tmp_path, cpts):
    text = "\ufeff" + GOOD.replace(",", ";")
    out, _ = run(write(tmp_path, text))
    assert "5 compte(s) créé(s)" in out


def test_reimporting_changes_nothing_and_a_changed_line_updates_the_account(tmp_path, cpts):
    run(write(tmp_path, GOOD))
    out, _ = run(write(tmp_path, GOOD))
    assert "0 compte(s) créé(s), 0 mis à jour, 5 inchangé(s)." in out
    changed = GOOD.replace(
        "sophie.martin@example.org,Sophie,Martin,coordinator,CPTS-A|CPTS-B,coordinateur_salarie",
        "sophie.martin@example.org,Sophie,Martin-Leroy,coordinator,CPTS-B,president",
    ).replace(
        "marc@ars.example.org,Marc,Dubois,ars,11,", "marc@ars.example.org,Marc,Dubois,ars,84,"
    )
    out, _ = run(write(tmp_path, changed))
    assert "0 compte(s) créé(s), 2 mis à jour, 3 inchangé(s)." in out
    sophie = User.objects.get(email="sophie.martin@example.org")
    assert sophie.last_name == "Martin-Leroy"
    assert list(Membership.objects.filter(user=sophie).values_list("cpts__code", "function")) == [
        ("CPTS-B", "president")
    ]
    assert User.objects.get(email="marc@ars.example.org").region.code == "84"


def test_dry_run_writes_nothing(tmp_path, cpts):
    out, _ = run(write(tmp_path, GOOD), "--dry-run", "--send-activation")
    assert "Vérification : 5 compte(s) créé(s)" in out and "5 lien(s) d'activation à envoyer" in out
    assert not User.objects.exists() and not SentMessage.objects.exists()


def test_send_activation_mails_each_new_account_once(tmp_path, cpts, smtp, committed):
    with committed():
        out, _ = run(write(tmp_path, GOOD), "--send-activation")
    assert "5 lien(s) d'activation en cours d’envoi" in out
    [mail] = smtp.mailbox.wait_for("paul.durand@example.org")
    assert "CPTS Alpha" in mail.get_body(preferencelist=("plain",)).get_content()
    with committed():
        out, _ = run(write(tmp_path, GOOD), "--send-activation")
    assert "5 inchangé(s)." in out and "lien" not in out
    assert len(smtp.mailbox.messages) == 5


def test_an_unreadable_file_is_a_french_error(tmp_path, db):
    with pytest.raises(CommandError, match="Impossible de lire"):
        run(tmp_path / "absent.csv")
    with pytest.raises(CommandError, match="1 ligne\\(s\\) invalide\\(s\\)"):
        run(write(tmp_path, HEADER + "\nlé@example.org,É,B,fcpts,,\n", encoding="latin-1"))
    report = users_import_csv(text=(HEADER + "\nlé@example.org,É,B,fcpts,,\n").encode("latin-1"))
    assert report.errors == ["Ligne 2 : le fichier n'est pas en UTF-8 (octet invalide)."]


# --- The page ----------------------------------------------------------------------------


def upload(client, text: str, **flags):
    data = {"file": io.BytesIO(text.encode()), **{k: "on" for k, v in flags.items() if v}}
    data["file"].name = "comptes.csv"
    return client.post(reverse("accounts:federation_users"), data)


def test_only_the_federation_sees_the_users_page(client, users):
    url = reverse("accounts:federation_users")
    for role in ("ars", "cpam", "coordinator", "member", "no_role"):
        client.force_login(users[role])
        assert client.get(url).status_code == 403, role
        assert upload(client, GOOD).status_code == 403, role
    assert not User.objects.filter(email="claire@fcpts.example.org").exists()
    client.force_login(users["fcpts"])
    assert client.get(url).status_code == 200


def test_the_page_imports_all_or_nothing(client, users, cpts, smtp, committed):
    client.force_login(users["fcpts"])
    bad = GOOD + "\nbad@example.org,X,Y,member,NOPE,"
    response = upload(client, bad, send_activation=True)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ligne 7 : CPTS inconnue(s) : NOPE." in page and "aucun compte n’a été créé" in page
    assert not User.objects.filter(email="sophie.martin@example.org").exists()
    with committed():
        response = upload(client, GOOD, send_activation=True)
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "5 compte(s) créé(s), 0 mis à jour, 0 inchangé(s), 5 lien(s) d" in page
    assert smtp.mailbox.wait_for("claire@fcpts.example.org")


def test_the_list_filters_and_actions(client, users, territory, smtp, committed):
    fcpts = users["fcpts"]
    client.force_login(fcpts)
    url = reverse("accounts:federation_users")
    pending = UserFactory(
        username="p", email="pending@example.org", role="member", cpts=[territory["lyon"]]
    )
    pending.set_unusable_password()
    pending.save()

    def listed(query: dict) -> set[str]:
        page = client.get(url, query).context["page"]
        return {u.username for u in page}

    assert listed({"role": "member"}) == {
        users["member"].username,
        users["other_member"].username,
        "p",
    }
    assert listed({"cpts": territory["lyon"].pk}) == {users["coordinator"].username, "p"}
    idf = users["ars"].region
    assert users["ars"].username in listed({"region": idf.pk})
    assert "p" not in listed({"region": idf.pk})  # Lyon is not in Île-de-France
    assert listed({"departement": users["cpam"].department.pk}) >= {users["cpam"].username}
    assert "p" in listed({"jamais_connecte": "true"})
    assert client.get(url, {"role": "chef"}).status_code == 200  # a bad filter is ignored, not 500

    action = reverse("accounts:federation_user_action", args=[pending.pk])
    with committed():
        client.post(action, {"action": "activation"})
    assert smtp.mailbox.wait_for("pending@example.org")
    client.post(action, {"action": "deactivate"})
    pending.refresh_from_db()
    assert not pending.is_active
    assert "p" in listed({"actif": "false"})
    client.post(action, {"action": "reactivate"})
    pending.refresh_from_db()
    assert pending.is_active
    no_address = reverse("accounts:federation_user_action", args=[users["member"].pk])
    users["member"].set_unusable_password()
    users["member"].save()
    page = client.post(no_address, {"action": "activation"}, follow=True).content.decode()
    assert "n&#x27;a pas d&#x27;adresse e-mail" in page
    own = reverse("accounts:federation_user_action", args=[fcpts.pk])
    client.post(own, {"action": "deactivate"})
    fcpts.refresh_from_db()
    assert fcpts.is_active
