"""Question analysis reads the question's form: the answer kind, one or a list, options, filters.

The questions are about made-up things on purpose: the rules must not know any corpus.
"""

from __future__ import annotations

import pytest

from qa.questions import AnswerType, analyse_question


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("Who founded the Gilded Otter bakery?", AnswerType.PERSON_OR_ORGANISATION),
        ("Where is the Gilded Otter bakery?", AnswerType.PLACE),
        ("When did the Gilded Otter bakery open?", AnswerType.DATE),
        ("What year did the Gilded Otter bakery open?", AnswerType.DATE),
        ("How many ovens does the Gilded Otter bakery have?", AnswerType.NUMBER),
        ("Which country banned the purple kettle?", AnswerType.COUNTRY),
        ("Which city hosts the kettle fair?", AnswerType.CITY),
        ("Which town hosts the kettle fair?", AnswerType.CITY),
        ("Which newspaper reported the kettle ban?", AnswerType.ORGANISATION),
        ("Which company makes the purple kettle?", AnswerType.ORGANISATION),
        ("Which journalist wrote about the kettle?", AnswerType.PERSON),
        ("Which spokeswoman announced the kettle ban?", AnswerType.PERSON),
        ("Which app tracks kettle prices?", AnswerType.ENTITY),
        ("Which treaty regulates kettle exports?", AnswerType.TITLE),
    ],
)
def test_the_question_form_sets_the_kind_of_answer(question: str, answer_type: AnswerType) -> None:
    analysis = analyse_question(question)
    assert analysis.answer_type is answer_type
    assert not analysis.is_list


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("Which countries banned the purple kettle?", AnswerType.COUNTRY),
        ("Which newspapers reported the kettle ban?", AnswerType.ORGANISATION),
        ("Which officials approved the purple kettle?", AnswerType.PERSON),
        ("Which cities sell the purple kettle?", AnswerType.CITY),
    ],
)
def test_a_plural_kind_noun_asks_for_a_list(question: str, answer_type: AnswerType) -> None:
    analysis = analyse_question(question)
    assert analysis.is_list
    assert analysis.answer_type is answer_type
    assert analysis.expected_count is None


def test_a_number_before_the_kind_noun_is_how_many_items_are_expected() -> None:
    analysis = analyse_question("Which four towns banned the purple kettle?")
    assert analysis.is_list
    assert analysis.answer_type is AnswerType.CITY
    assert analysis.expected_count == 4


def test_which_of_names_the_options_and_asks_for_one() -> None:
    analysis = analyse_question("Which of Brindle, Marrow and Quillby has the tallest kettle?")
    assert analysis.options == ("Brindle", "Marrow", "Quillby")
    assert not analysis.is_list


@pytest.mark.parametrize(
    ("question", "chooses_one"),
    [
        ("Which of Brindle, Marrow and Quillby has the tallest kettle?", True),
        ("Which one of the kettle makers went bankrupt?", True),
        # The question's verb, not the relative clause's, says one or several.
        ("Which of the three towns that make kettles is the oldest?", True),
        ("Which of the towns that make kettles were fined?", False),
        ("Which of the kettle makers exhibited in Paris?", False),  # one or several
        ("Which towns make kettles?", False),
    ],
)
def test_a_question_that_chooses_one_of_several_is_told_apart(
    question: str, chooses_one: bool
) -> None:
    assert analyse_question(question).chooses_one is chooses_one


def test_what_kind_of_looks_through_to_the_real_noun() -> None:
    analysis = analyse_question("What kind of metal is the purple kettle made of?")
    assert analysis.head == "metal"


def test_who_is_a_name_asks_for_a_description_of_that_name() -> None:
    assert analyse_question("Who is Tamsin Verloop?").defines == "Tamsin Verloop"
    assert analyse_question("What is Glimmerworks?").defines == "Glimmerworks"
    # A role is not a name to define: it asks who holds it.
    assert analyse_question("Who is the director of Glimmerworks?").defines == ""


def test_a_relative_which_after_a_comma_is_not_the_question_word() -> None:
    analysis = analyse_question("The kettle, which was sold in Brindle, is made in which town?")
    assert analysis.wh == "which"
    assert analysis.head == "town"
    assert analysis.answer_type is AnswerType.CITY


@pytest.mark.parametrize(
    "question",
    ["How tall is the Quillby clock tower?", "How far is Brindle from Marrow?"],
)
def test_how_tall_or_far_asks_for_a_measure(question: str) -> None:
    assert analyse_question(question).answer_type is AnswerType.NUMBER


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("List the countries that banned the purple kettle.", AnswerType.COUNTRY),
        ("Name the towns that banned the purple kettle.", AnswerType.CITY),
    ],
)
def test_list_and_name_the_ask_for_a_list_of_the_named_kind(
    question: str, answer_type: AnswerType
) -> None:
    analysis = analyse_question(question)
    assert analysis.answer_type is answer_type
    assert analysis.is_list


def test_a_verb_the_tagger_takes_for_a_plural_noun_does_not_become_the_kind_noun() -> None:
    question = analyse_question("Which international agreement forbids opening consular posts?")
    assert question.head == "agreement"
    assert question.answer_type is AnswerType.TITLE


def test_a_name_that_starts_with_a_figure_can_be_defined() -> None:
    assert analyse_question("What is 110 Overseas?").defines == "110 Overseas"
