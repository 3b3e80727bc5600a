"""import_responses: the long format back in. Round trips, and bad files that change nothing."""

import io

import pytest
from django.core.management import CommandError, call_command

from exports import importer
from exports.spec import ExportSpec
from questionnaire.models import Answer, Response
from scoring.models import ResponseScore
from tests.factories import CampaignFactory
from tests.helpers import SLUG, export

# Free text that must come back unchanged: quotes, separators, a line break, accents, emoji,
# and texts a spreadsheet would read as formulas (with and without a quote already in front).
AWKWARD = {
    "paris_1": 'Réseau « ville-hôpital », 2e "cercle" 🩺',
    "saint_denis": '=HYPERLINK("http://x") ; suite\nsur deux lignes',
    "lyon": "'@quoi, déjà ?",
}


@pytest.fixture
def awkward_cohort(cohort, territory):
    campaign, responses = cohort
    for key, text in AWKWARD.items():
        answer = Answer.objects.get(response=responses[key], question__variable="q10")
        answer.other_text = text
        answer.save()
    return campaign, responses


def _empty(campaign) -> None:
    """What an empty database holds for the import: the campaign and the CPTS, no response."""
    Response.objects.filter(campaign=campaign).delete()


def _write(tmp_path, text: str, name: str = "import.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize(
    "options",
    [{}, {"labels": True}, {"excel": True}, {"labels": True, "excel": True}],
    ids=["codes", "labels", "excel", "labels-excel"],
)
def test_export_import_export_gives_the_same_file(awkward_cohort, tmp_path, options):
    campaign, _ = awkward_cohort
    spec = ExportSpec(campaigns=(SLUG,), format="long", **options)
    before = export(spec)
    wide_before = export(ExportSpec(campaigns=(SLUG,), format="wide"))
    scores_before = export(ExportSpec(campaigns=(SLUG,), format="scores"))
    assert AWKWARD["saint_denis"].replace("\n", "") not in before  # prefixed and quoted
    _empty(campaign)
    assert export(spec).count("\n") == 1

    call_command("import_responses", str(_write(tmp_path, before)), campaign=SLUG)

    assert export(spec) == before
    # Everything else comes back too, except the submission time (now, not in the file).
    assert _without_dates(export(ExportSpec(campaigns=(SLUG,), format="wide"))) == (
        _without_dates(wide_before)
    )
    assert _without_dates(export(ExportSpec(campaigns=(SLUG,), format="scores"))) == (
        _without_dates(scores_before)
    )
    texts = dict(
        Answer.objects.filter(question__variable="q10").values_list(
            "response__cpts__name", "other_text"
        )
    )
    assert set(texts.values()) == set(AWKWARD.values())


def _without_dates(text: str) -> list[list[str]]:
    import csv

    rows = list(csv.reader(io.StringIO(text, newline="")))
    column = rows[0].index("submitted_at")
    return [row[:column] + row[column + 1 :] for row in rows]


def test_imported_responses_are_submitted_and_scored(cohort, tmp_path, grid):
    campaign, _ = cohort
    text = export(ExportSpec(campaigns=(SLUG,), format="long"))
    _empty(campaign)
    out = io.StringIO()
    call_command("import_responses", str(_write(tmp_path, text)), campaign=SLUG, stdout=out)
    assert "3 réponse(s) importée(s) et soumise(s)" in out.getvalue()
    responses = Response.objects.filter(campaign=campaign)
    assert {r.status for r in responses} == {Response.Status.SUBMITTED}
    assert all(r.submitted_at for r in responses)
    scores = ResponseScore.objects.filter(response__campaign=campaign, grid=grid)
    assert sorted(str(s.index) for s in scores) == ["64.50"] * 3


def test_dry_run_checks_and_writes_nothing(cohort, tmp_path):
    campaign, _ = cohort
    text = export(ExportSpec(campaigns=(SLUG,), format="long"))
    _empty(campaign)
    out = io.StringIO()
    call_command(
        "import_responses", str(_write(tmp_path, text)), campaign=SLUG, dry_run=True, stdout=out
    )
    assert "Fichier valide : 3 réponse(s)" in out.getvalue()
    assert not Response.objects.filter(campaign=campaign).exists()


def test_a_bad_file_changes_nothing_and_names_every_bad_line(cohort, territory, tmp_path):
    campaign, _ = cohort
    good = export(ExportSpec(campaigns=(SLUG,), format="long")).splitlines()
    _empty(campaign)
    paris = territory["paris_1"].code
    lines = [good[0]] + [line for line in good[1:] if line.split(",")[1] == paris]
    index = {line.split(",")[3]: n for n, line in enumerate(lines) if n}  # last line of each q
    bad = list(lines)
    bad[index["q07"]] = f"{SLUG},{paris},7,q07,,douze"  # not a number
    bad[index["q01"]] = f"{SLUG},{paris},1,q01,,2019-13"  # no such month
    bad[index["q12"]] = f"{SLUG},{paris},12,q12,plus_de_mille,1"  # unknown option
    bad[index["q19"]] = f"{SLUG},{paris},19,q19,aucune,1\r\n{SLUG},{paris},19,q19,elus,1"
    bad.append(f"{SLUG},INCONNUE-1,2,q02,fonctionnement,1")  # unknown CPTS
    bad.append(f"{SLUG},{paris},99,q99,,1")  # unknown question
    bad.append(f"{SLUG},{paris},8,q09,aucun,1")  # question and variable disagree
    bad.append(f"autre-campagne,{paris},7,q07,,3")
    bad.append(f"{SLUG},{paris},7")
    path = _write(tmp_path, "\r\n".join(bad) + "\r\n")
    err = io.StringIO()

    with pytest.raises(CommandError, match="rien n'a été importé"):
        call_command("import_responses", str(path), campaign=SLUG, stderr=err)

    messages = err.getvalue().splitlines()
    n = len(lines)
    expected = {
        index["q01"] + 1: "q01 (CPTS",  # line numbers count the header as line 1
        index["q07"] + 1: "q07 : nombre entier attendu, trouvé « douze »",
        index["q12"] + 1: "q12 : modalité inconnue « plus_de_mille »",
        n + 2: "CPTS inconnue : « INCONNUE-1 »",
        n + 3: "question inconnue : « 99 »",
        n + 4: "la question 8 est « q08 », pas « q09 »",
        n + 5: "campagne « autre-campagne »",
        n + 6: "3 colonne(s) au lieu de 6",
    }
    for line, text in expected.items():
        assert any(m.startswith(f"ligne {line} : ") and text in m for m in messages), (
            line,
            text,
            messages,
        )
    assert any("q19" in m and "ne peut pas être combinée" in m for m in messages), messages
    assert not Response.objects.filter(campaign=campaign).exists()
    assert not Answer.objects.filter(response__campaign=campaign).exists()


def test_incomplete_or_existing_responses_are_refused(cohort, territory, tmp_path):
    campaign, responses = cohort
    text = export(ExportSpec(campaigns=(SLUG,), format="long"))
    before = Answer.objects.count()
    # Still in the database: every CPTS already has a response to this campaign.
    with pytest.raises(importer.ImportInvalid) as refused:
        importer.responses_import(text=text, campaign=campaign)
    assert len(refused.value.errors) == 3
    assert all("a déjà une réponse" in m for m in refused.value.errors)

    other = CampaignFactory(questionnaire=campaign.questionnaire)
    paris = territory["paris_1"].code
    partial = "\r\n".join(
        line.replace(SLUG, other.slug, 1)
        for line in text.splitlines()
        if line.startswith("campaign") or (paris in line and ",q42," not in line)
    )
    with pytest.raises(importer.ImportInvalid) as incomplete:
        importer.responses_import(text=partial, campaign=other)
    assert incomplete.value.errors == [
        f"ligne 2 : CPTS {paris} : réponse incomplète, sans réponse à q42."
    ]
    assert Answer.objects.count() == before
    assert not Response.objects.filter(campaign=other).exists()


def test_answers_that_do_not_apply_are_refused(cohort, territory, tmp_path):
    campaign, _ = cohort
    text = export(ExportSpec(campaigns=(SLUG,), format="long"))
    _empty(campaign)
    paris = territory["paris_1"].code
    extra = f"{SLUG},{paris},28,q28,aucune,1"
    with pytest.raises(importer.ImportInvalid) as refused:
        importer.responses_import(text=text + extra + "\r\n", campaign=campaign)
    line = text.count("\n") + 1
    assert refused.value.errors == [
        f"ligne {line} : q28 (CPTS {paris}) : Cette question ne s'applique pas à cette CPTS "
        "(selon q02, question 2)."
    ]
    assert not Response.objects.filter(campaign=campaign).exists()


def test_wrong_header_unknown_campaign_and_missing_file(cohort, tmp_path):
    path = _write(tmp_path, "campaign,cpts,question\r\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_responses", str(path), campaign=SLUG, stderr=err)
    assert err.getvalue().startswith("ligne 1 : en-tête attendu « campaign,cpts_code,question,")
    with pytest.raises(CommandError, match="Campagne inconnue : « nulle-part »"):
        call_command("import_responses", str(path), campaign="nulle-part")
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("import_responses", str(tmp_path / "absent.csv"), campaign=SLUG)
