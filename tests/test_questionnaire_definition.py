"""The miller-2022 questionnaire as loaded, against the thesis (Tableau 8, Figure 6, Annexe 4)."""

from collections import Counter

import pytest
import yaml
from django.core.management import CommandError, call_command

from questionnaire.models import Answer, Question, QuestionnaireVersion
from tests.factories import ResponseFactory
from tests.helpers import DEFINITION

# Tableau 8, last column (final questionnaire), with Indicateurs under Résultats (decision
# recorded in the definition file) and each sub-dimension's Figure 6 column.
EXPECTED_SUBDIMENSIONS = {
    "structure": {
        "niveau_maturite": (4, "interne"),
        "identite_professionnelle": (1, "externe"),
        "population_territoire": (4, "environnementale"),
        "acteurs_territoire": (2, "environnementale"),
        "ressources": (4, "interne"),
        "ethique_valeurs": (1, "interne"),
        "gouvernance": (4, "interne"),
        "systeme_information": (3, "interne"),
        "organisation_travail": (2, "interne"),
        "projet_sante": (4, "interne"),
    },
    "processus": {
        "dynamique_collective": (2, "interne"),
        "acces_medecin_traitant": (2, "externe"),
        "acces_soins_non_programmes": (2, "externe"),
        "coordination_continuite": (1, "externe"),
        "prevention": (1, "externe"),
        "plan_sse": (1, "externe"),
        "integration_accompagnement": (1, "externe"),
    },
    "resultats": {
        "qualite_pertinence": (1, "interne"),
        "indicateurs": (2, "externe"),
    },
}


def test_the_42_questions_fall_in_the_documented_dimensions_and_subdimensions(questionnaire):
    questions = questionnaire.questions.select_related("subdimension__dimension")
    assert questions.count() == 42
    assert sorted(q.number for q in questions) == list(range(1, 43))
    per_dimension = Counter(q.subdimension.dimension.code for q in questions)
    assert per_dimension == {"structure": 29, "processus": 10, "resultats": 3}
    found = {}
    for question in questions:
        dimension = found.setdefault(question.subdimension.dimension.code, {})
        count, _ = dimension.get(question.subdimension.code, (0, None))
        dimension[question.subdimension.code] = (count + 1, question.subdimension.constraint)
    assert found == EXPECTED_SUBDIMENSIONS
    assert sum(len(subs) for subs in found.values()) == 19


def test_conditions_follow_the_stage_question(questionnaire):
    conditional = {
        q.number: (q.condition_question.number, sorted(q.condition_values))
        for q in questionnaire.questions.filter(condition_question__isnull=False)
    }
    assert conditional == {
        26: (2, ["fonctionnement"]),
        27: (2, ["fonctionnement"]),
        28: (2, ["declaration", "formalisation", "ingenierie"]),
    }


def test_options_keep_the_source_wording_and_flags(questionnaire):
    q10 = questionnaire.questions.get(number=10)
    labels = [o.label for o in q10.options.order_by("position")]
    assert labels[-2:] == ["Autre : à spécifier", "Aucun de ces dispositifs"]
    assert q10.options.get(label="Autre : à spécifier").requires_text
    assert q10.options.get(label="Aucun de ces dispositifs").exclusive
    q2 = questionnaire.questions.get(number=2)
    assert q2.text == "Quel est le niveau d'avancement de votre CPTS ?"
    assert [o.label for o in q2.options.order_by("position")][0] == "CPTS en fonctionnement"
    q17 = questionnaire.questions.get(number=17)
    assert q17.type == Question.Type.ROLE_TABLE
    assert q17.options.filter(kind="row").count() == 5


def test_every_decision_names_its_source_lines():
    data = yaml.safe_load(DEFINITION.read_text(encoding="utf-8"))
    assert data["decisions"]
    for decision in data["decisions"]:
        assert decision["lines"], decision
        assert decision["decision"].strip(), decision


def test_loading_twice_changes_nothing(questionnaire, capsys):
    ids = list(questionnaire.questions.values_list("id", flat=True))
    call_command("load_questionnaire", str(DEFINITION))
    assert "inchangée" in capsys.readouterr().out
    assert list(QuestionnaireVersion.objects.get().questions.values_list("id", flat=True)) == ids


def _write_variant(tmp_path, mutate):
    data = yaml.safe_load(DEFINITION.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _question(data, number):
    return next(q for q in data["questions"] if q["number"] == number)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: _question(d, 5).update(number=4), "Q4 : numéro en double"),
        (lambda d: _question(d, 7).update(type="slider"), "Q7 : type inconnu « slider »"),
        (
            lambda d: _question(d, 26).update(condition={"question": 99, "in": ["x"]}),
            "Q26 : condition sur une question inconnue (99)",
        ),
        (
            lambda d: _question(d, 28).update(condition={"question": 2, "in": ["lancee"]}),
            "Q28 : condition sur une option inconnue « lancee » de Q2",
        ),
        (
            lambda d: _question(d, 12).update(subdimension="inexistante"),
            "Q12 : sous-dimension inconnue « inexistante »",
        ),
        (
            lambda d: _question(d, 3)["options"].append(dict(_question(d, 3)["options"][0])),
            "Q3 : code « medecin_traitant » en double",
        ),
    ],
)
def test_invalid_files_are_refused_with_the_question_named(db, tmp_path, mutate, message):
    path = _write_variant(tmp_path, mutate)
    with pytest.raises(CommandError) as error:
        call_command("load_questionnaire", str(path))
    assert message in str(error.value)
    assert not QuestionnaireVersion.objects.exists()


def test_a_version_with_responses_is_frozen(questionnaire, campaign, tmp_path):
    response = ResponseFactory(campaign=campaign)
    question = questionnaire.questions.get(number=4)
    Answer.objects.create(response=response, question=question, value="total")
    path = _write_variant(tmp_path, lambda d: _question(d, 4).update(text="Texte modifié ?"))
    with pytest.raises(CommandError, match="a déjà des réponses"):
        call_command("load_questionnaire", str(path))
    assert questionnaire.questions.get(number=4).text.startswith("Comment définiriez-vous")


def test_a_version_without_responses_can_be_corrected(questionnaire, tmp_path):
    path = _write_variant(tmp_path, lambda d: _question(d, 4).update(text="Texte corrigé ?"))
    call_command("load_questionnaire", str(path))
    assert QuestionnaireVersion.objects.get().questions.get(number=4).text == "Texte corrigé ?"
