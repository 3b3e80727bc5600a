"""What several test modules share: paths, answer sets, responses, a scored cohort, exports,
scores by area and the property tests' answer strategies.

Fixtures live in conftest.py; model factories in factories.py.
"""

import io
from decimal import Decimal
from pathlib import Path

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from exports import writers
from exports.spec import ExportSpec
from questionnaire import rules
from questionnaire import services as questionnaire_services
from questionnaire.models import Question, Response
from scoring import services as scoring_services
from scoring.grid import read_grid_file
from scoring.models import AreaScore, ResponseScore
from tests.factories import AnswerFactory, CampaignFactory, ResponseFactory

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = ROOT / "questionnaire" / "definitions" / "miller-2022.yaml"
GRID_PATH = ROOT / "scoring" / "grids" / "miller-2022-v1.yaml"
LIBRARY_PATH = ROOT / "improvement" / "recommendations" / "miller-2022-v1.yaml"
SLUG = "campagne-export"  # the campaign of build_cohort


# --- answer sets ({variable: value or (value, other text)}) ------------------------------------

# A CPTS in operation, answers chosen so that every rule and every cap is exercised.
MIXED = {
    "q01": "2019-02",
    "q02": "fonctionnement",
    "q03": ["medecin_traitant", "soins_non_programmes", "parcours", "prevention"],
    "q04": "partiel",
    "q05": ["msp", "centre_sante"],
    "q06": "de_40k_a_80k",
    "q07": 3,
    "q08": ["communautes_communes"],
    "q09": ["non"],
    "q10": ["cls", "dac"],
    "q11": ["social_medico_social", "dac", "elus"],
    "q12": "de_51_a_100",
    "q13": ["infirmiers", "medecins", "pharmaciens", "kinesitherapeutes"],
    "q14": "recrute",
    "q15": ["locaux_membres", "locaux_municipalite"],
    "q16": "oui_egale",
    "q17": {
        "president": "medecins",
        "vice_president": "medecins",
        "secretaire": "infirmiers",
        "tresorier": "medecins",
        "autre": "infirmiers",
    },
    "q18": "mensuelle",
    "q19": ["aucune"],
    "q20": ["non"],
    "q21": ["site_internet", "facebook", "linkedin", "newsletter"],
    "q22": "non",
    "q23": "oui_non_hds",
    "q24": ["referent", "comptes_rendus", "evaluation"],
    "q25": "oui",
    "q26": "groupes_travail",
    "q27": "enrichissante",
    "q29": "les_deux",
    "q30": "importante",
    "q31": ["invitation_directe", "soirees_information"],
    "q32": (
        ["urgences", "sas", "donnees_assurance_maladie", "autre"],
        "Signalements des pharmacies",
    ),
    "q33": "oui",
    "q34": "non",
    "q35": "oui",
    "q36": ["contact_dac", "parcours_pluripro"],
    "q37": "oui",
    "q38": "non",
    "q39": ["formation_continue", "accueil_stagiaires", "communication_installations"],
    "q40": ["analyse_pratiques", "echanges_pathologies"],
    "q41": "satisfaits",
    "q42": "p50",
}


# A declared initiative: Q26–Q27 do not apply, Q28 does; modest answers throughout.
MINIMAL = {
    "q01": "2024-01",
    "q02": "declaration",
    "q03": ["prevention"],
    "q04": "insuffisant",
    "q05": ["liberaux"],
    "q06": "moins_40k",
    "q07": 2,
    "q08": ["aucun"],
    "q09": ["non"],
    "q10": ["aucun"],
    "q11": ["aucune"],
    "q12": "de_1_a_5",
    "q13": ["medecins"],
    "q14": "non",
    "q15": ["cafes_restaurants"],
    "q16": "non",
    "q17": {"president": "medecins"},
    "q18": "annuelle",
    "q19": ["aucune"],
    "q20": ["non"],
    "q21": ["aucun"],
    "q22": "non",
    "q23": "non",
    "q24": ["aucune"],
    "q25": "non",
    "q28": ["acces_soins", "prevention"],
    "q29": "aucun",
    "q30": "tres_faible",
    "q31": ["aucun_dispositif"],
    "q32": ["aucune"],
    "q33": "non",
    "q34": "non",
    "q35": "non",
    "q36": ["aucune"],
    "q37": "non",
    "q38": "non",
    "q39": ["aucune"],
    "q40": ["aucune"],
    "q41": "tres_insatisfaits",
    "q42": "aucun",
}


# --- responses and cohorts -------------------------------------------------------------------


# One valid row of an import_cpts file, with a column of each kind (text, code, date, count,
# decimal, share), for the importers' tests to spoil one cell at a time.
CPTS_COLUMNS = [
    "code",
    "name",
    "department_code",
    "stage",
    "created_on",
    "aci_signed_on",
    "legal_form",
    "year",
    "population",
    "area_km2",
    "share_aged_80_plus",
]
CPTS_ROW = ["NEW-1", "CPTS Nouvelle", "75", "fonctionnement", "2020-01-15", "", "", "2025"]
CPTS_ROW += ["120000", "12.5", "6.2"]


def make_response(campaign, answers: dict, *, cpts=None, submitted: bool = True) -> Response:
    """A response with the given answers ({variable: value or (value, other_text)}), each one
    cleaned by the questionnaire's own rules, as every write is."""
    extra = {"cpts": cpts} if cpts is not None else {}
    response = ResponseFactory(
        campaign=campaign,
        status=Response.Status.SUBMITTED if submitted else Response.Status.DRAFT,
        submitted_at="2026-10-01T10:00:00+02:00" if submitted else None,
        **extra,
    )
    questions = {
        q.variable: q for q in campaign.questionnaire.questions.prefetch_related("options")
    }
    for variable, raw in answers.items():
        value, other = raw if isinstance(raw, tuple) else (raw, "")
        cleaned, other = rules.clean_answer(questions[variable], value, other)
        AnswerFactory(
            response=response, question=questions[variable], value=cleaned, other_text=other
        )
    return response


def load_grid():
    return scoring_services.grid_load(path=GRID_PATH).grid


def build_cohort(questionnaire, territory, grid):
    """MIXED submitted by Paris Un, Saint-Denis and Lyon (Q10 with an "Autre" text), a draft
    for Paris Deux; all scored with the grid."""
    campaign = CampaignFactory(questionnaire=questionnaire, slug=SLUG, year=2026)
    answers = {**MIXED, "q10": (["cls", "autre"], 'Réseau « ville-hôpital », 2e "cercle" 🩺')}
    responses = {
        key: make_response(campaign, answers, cpts=territory[key])
        for key in ("paris_1", "saint_denis", "lyon")
    }
    responses["paris_2"] = make_response(
        campaign, {"q01": "2020-05"}, cpts=territory["paris_2"], submitted=False
    )
    scoring_services.score_all_submitted(grid=grid)
    return campaign, responses


def export(spec: ExportSpec, user=None) -> str:
    out = io.StringIO(newline="")
    writers.write_export(out, spec=spec, user=user)
    return out.getvalue()


# --- scoring grids ---------------------------------------------------------------------------


def grid_version_2(tmp_path: Path) -> Path:
    """The v1 grid published as v2, with Q2 weighing 1 instead of 2."""
    data = read_grid_file(GRID_PATH)
    data["version"] = "miller-2022-v2"
    data["title"] = "Grille de score de maturité, version 2"
    q2 = next(item for item in data["questions"] if item["question"] == 2)
    q2["weight"] = 1
    path = tmp_path / "miller-2022-v2.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- scores and properties -------------------------------------------------------------------


def areas(score: ResponseScore) -> dict[tuple, Decimal | None]:
    found = {}
    for area in score.areas.select_related("dimension", "subdimension"):
        if area.kind == AreaScore.Kind.SUBDIMENSION:
            found[area.subdimension.code] = area.value
        elif area.kind == AreaScore.Kind.CELL:
            found[(area.dimension.code, area.constraint)] = area.value
        else:
            found[area.dimension.code] = area.value
    return found


def value_strategy(question: Question):
    options = rules.choices(question)
    if question.type == Question.Type.SINGLE_CHOICE:
        return st.sampled_from([o.code for o in options])
    if question.type == Question.Type.MULTIPLE_CHOICE:
        plain = [o.code for o in options if not o.exclusive]
        exclusive = [[o.code] for o in options if o.exclusive]
        subsets = st.lists(st.sampled_from(plain), min_size=1, unique=True)
        return st.one_of(subsets, *(st.just(e) for e in exclusive))
    if question.type == Question.Type.NUMBER:
        return st.integers(question.min_value, question.max_value)
    if question.type == Question.Type.MONTH_YEAR:
        return st.builds("{}-{:02d}".format, st.integers(2000, 2025), st.integers(1, 12))
    if question.type == Question.Type.ROLE_TABLE:
        return st.dictionaries(
            st.sampled_from([r.code for r in rules.rows(question)]),
            st.sampled_from([o.code for o in options]),
            min_size=1,
        )
    return st.text(min_size=1, max_size=20)


@st.composite
def answer_sets(draw, questions, *, complete: bool = False):
    """Answers to every question (applicable or not); some left blank unless `complete`."""
    values = {}
    for question in questions:
        if complete or draw(st.integers(0, 9)):
            values[question.id] = draw(value_strategy(question))
    return values


# Hypothesis settings of the scoring properties (fixtures are function-scoped, the database too).
PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def save(response, question, value, user, revision=0, other=""):
    """One answer through the questionnaire's write path, as the autosave stores it."""
    return questionnaire_services.answer_save(
        response=response,
        question=question,
        value=value,
        other_text=other,
        expected_revision=revision,
        user=user,
    )
