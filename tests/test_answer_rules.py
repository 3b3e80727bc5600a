"""Every answer rule of questionnaire/rules.py, on the real miller-2022 questions."""

import datetime as dt

import pytest

from questionnaire.rules import AnswerInvalid, clean_answer, is_applicable


def test_single_choice_accepts_only_known_codes(q):
    assert clean_answer(q(2), "fonctionnement") == ("fonctionnement", "")
    for bad in ("inconnu", ["fonctionnement"], 3, None):
        with pytest.raises(AnswerInvalid, match="Choisissez une des réponses proposées"):
            clean_answer(q(2), bad)


def test_multiple_choice_orders_codes_and_refuses_duplicates_and_unknown(q):
    assert clean_answer(q(3), ["prevention", "medecin_traitant"])[0] == [
        "medecin_traitant",
        "prevention",
    ]
    with pytest.raises(AnswerInvalid, match="n'existe pas"):
        clean_answer(q(3), ["prevention", "nimporte"])
    with pytest.raises(AnswerInvalid, match="deux fois"):
        clean_answer(q(3), ["prevention", "prevention"])
    with pytest.raises(AnswerInvalid, match="Cochez au moins une réponse"):
        clean_answer(q(3), [])


def test_exclusive_options_cannot_be_combined(q):
    assert clean_answer(q(10), ["aucun"])[0] == ["aucun"]
    with pytest.raises(AnswerInvalid, match="« Aucun de ces dispositifs » ne peut pas être"):
        clean_answer(q(10), ["asv", "aucun"])


def test_other_option_requires_its_text_and_the_text_goes_with_it(q):
    with pytest.raises(AnswerInvalid, match="Précisez votre réponse « Autre : à spécifier »"):
        clean_answer(q(10), ["autre"], "   ")
    assert clean_answer(q(10), ["autre"], "  Maison des ados ") == (["autre"], "Maison des ados")
    # Text typed for "Autre" is dropped once "Autre" is no longer ticked.
    assert clean_answer(q(10), ["asv"], "Maison des ados") == (["asv"], "")
    with pytest.raises(AnswerInvalid, match="500 caractères"):
        clean_answer(q(10), ["autre"], "x" * 501)


@pytest.mark.parametrize("raw", ["-1", "0", "1001", "3.5", "douze", "1e3", " ", True, 2.5])
def test_numbers_are_non_negative_integers_in_a_plausible_range(q, raw):
    with pytest.raises(AnswerInvalid):
        clean_answer(q(7), raw)


def test_numbers_within_range_are_stored_as_integers(q):
    assert clean_answer(q(7), " 12 ") == (12, "")
    assert clean_answer(q(7), 1000) == (1000, "")


def test_month_year_is_valid_and_not_in_the_future(q):
    assert clean_answer(q(1), "2019-02")[0] == "2019-02"
    assert clean_answer(q(1), "2/2019")[0] == "2019-02"
    next_month = (dt.date.today().replace(day=1) + dt.timedelta(days=32)).strftime("%Y-%m")
    with pytest.raises(AnswerInvalid, match="futur"):
        clean_answer(q(1), next_month)
    for bad, message in (
        ("2019-13", "entre 01 et 12"),
        ("1850-01", "postérieure"),
        ("hier", "MM/AAAA"),
    ):
        with pytest.raises(AnswerInvalid, match=message):
            clean_answer(q(1), bad)


def test_role_table_needs_one_known_profession_and_known_rows(q):
    assert clean_answer(q(17), {"president": "medecins", "tresorier": ""})[0] == {
        "president": "medecins"
    }
    with pytest.raises(AnswerInvalid, match="au moins un membre"):
        clean_answer(q(17), {"president": ""})
    with pytest.raises(AnswerInvalid, match="profession de la liste"):
        clean_answer(q(17), {"president": "astronaute"})
    with pytest.raises(AnswerInvalid, match="Ligne de tableau inconnue"):
        clean_answer(q(17), {"roi": "medecins"})


def test_conditions_read_the_stage_answer(q):
    running = {q(2).id: "fonctionnement"}
    engineering = {q(2).id: "ingenierie"}
    assert is_applicable(q(26), running) and is_applicable(q(27), running)
    assert not is_applicable(q(28), running)
    assert is_applicable(q(28), engineering) and not is_applicable(q(26), engineering)
    assert not is_applicable(q(26), {}) and not is_applicable(q(28), {})
    assert is_applicable(q(3), {})
