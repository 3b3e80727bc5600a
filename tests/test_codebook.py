import csv

from django.core.management import call_command

from questionnaire.models import Option


def test_codebook_has_one_row_per_option_and_one_per_open_question(questionnaire, tmp_path):
    output = tmp_path / "codebook.csv"
    call_command("export_codebook", questionnaire="miller-2022", output=str(output))
    with output.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    assert header == [
        "question",
        "variable",
        "dimension",
        "subdimension",
        "constraint",
        "type",
        "text",
        "option_code",
        "option_label",
        "exclusive",
        "condition",
    ]
    expected = sum(max(1, q.options.count()) for q in questionnaire.questions.all())
    assert len(rows) == expected == Option.objects.count() + 2  # Q1 and Q7 have no options
    q7 = [r for r in rows if r[1] == "q07"]
    assert q7 == [
        [
            "7",
            "q07",
            "structure",
            "population_territoire",
            "environnementale",
            "number",
            "Quel est le nombre de communes couvertes par votre CPTS ?",
            "",
            "",
            "",
            "",
        ]
    ]
    q28 = [r for r in rows if r[1] == "q28"]
    assert {r[10] for r in q28} == {"q02=ingenierie|formalisation|declaration"}
    assert [r[9] for r in q28 if r[8] == "Non, pour aucune"] == ["1"]


def test_unknown_version_is_a_clear_error(questionnaire, tmp_path):
    import pytest
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Version de questionnaire inconnue"):
        call_command("export_codebook", questionnaire="v9", output=str(tmp_path / "x.csv"))
