"""Questions typed without capitals get the corpus's capitals back, and answer the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import model_answerer_over

from qa.embedding import Embedder
from qa.evaluation.metrics import normalize_answer
from qa.places import city_countries
from qa.truecase import cased_forms, is_caseless, restore_case

TEXTS = [
    "Harbour news\n\nThe harbour master, Odile Fenwick, met the WeChat team in Bergen. "
    "Police said Fenwick had left. The police in Bergen confirmed it. Ships left the harbour.",
]


def test_a_word_takes_the_form_it_mostly_has_where_it_does_not_open_a_sentence() -> None:
    forms = cased_forms(TEXTS)
    assert forms["fenwick"] == "Fenwick"
    assert forms["wechat"] == "WeChat"
    assert "harbour" not in forms  # "Harbour news" opens the text: it says nothing
    assert "ships" not in forms


def test_caseless_questions_take_the_corpus_forms_and_place_names() -> None:
    forms = cased_forms(TEXTS)
    assert restore_case("who is odile fenwick", forms) == "Who is Odile Fenwick"
    assert restore_case("WHICH APP DID FENWICK USE IN BERGEN?", forms) == (
        "Which app did Fenwick use in Bergen?"
    )
    assert restore_case("which spanish city is santiago de compostela near?", forms) == (
        "Which Spanish city is Santiago de Compostela near?"
    )


def test_a_question_with_capitals_of_its_own_is_left_as_typed() -> None:
    forms = cased_forms(TEXTS)
    assert not is_caseless("Who met the WeChat team?")
    assert restore_case("who met the team in bergen, Fenwick?", forms) == (
        "who met the team in bergen, Fenwick?"
    )


def test_a_word_the_corpus_writes_in_lower_case_stays_so_whatever_the_gazetteer_says() -> None:
    if not city_countries("police"):
        pytest.skip("the gazetteer has no town called Police")
    forms = cased_forms(TEXTS)
    assert restore_case("what did the police in bergen confirm?", forms) == (
        "What did the police in Bergen confirm?"
    )


@pytest.mark.model
def test_a_lower_case_question_gets_the_answer_the_cased_one_gets(
    tmp_path: Path, model_embedder: Embedder
) -> None:
    pages = {
        "museum.txt": (
            "Lighthouse Museum opens a new wing\n\n"
            "The Lighthouse Museum opened a new wing on Friday. Ruth Gale, the director of the "
            "Lighthouse Museum, said divers found the oldest lamp in the bay near Bergen.\n"
        )
    }
    answerer = model_answerer_over(tmp_path, pages, model_embedder)
    cased = [normalize_answer(a.text) for a in answerer.ask("Who is Ruth Gale?").answers]
    assert cased and "director" in cased[0]
    for typed in ("who is ruth gale", "WHO IS RUTH GALE?!"):
        response = answerer.ask(typed)
        # The same answer, as SQuAD scores sameness ("the director of" = "director of").
        assert [normalize_answer(a.text) for a in response.answers] == cased, typed
        assert response.question == typed
        assert response.resolved_question.startswith("Who is Ruth Gale")


def test_common_words_and_pronouns_stay_in_lower_case() -> None:
    forms = cased_forms(TEXTS)
    assert restore_case("how much did they tell us about bergen?", forms) == (
        "How much did they tell us about Bergen?"
    )
    assert restore_case("who is odile fenwick", {}) == "who is odile fenwick"  # no table yet
