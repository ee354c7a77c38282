"""The reader answers the relation the question asks about, in the place it names.

Each page is tiny and made up; each question has a near miss in the text that a reader matching
words alone would take (a stem shared by "found" and "founded", a figure for elsewhere, a place
name where an app is asked for).
"""

from __future__ import annotations

import pytest
from conftest import READER_GAP, model_answerer_over

from qa.answering import Answerer
from qa.embedding import Embedder

pytestmark = pytest.mark.model

PAGES = {
    "trust.txt": (
        "The Harbour Trust at ninety\n\n"
        "Tom Field found the lost records of the Harbour Trust in 1990. The Harbour Trust was "
        "founded by Mary Stone, a shipwright, in 1931. Volunteers in Bergen used the Signal "
        "messaging platform to reach the trust during the storm.\n"
    ),
    "stations.txt": (
        "Weather stations of the north\n\n"
        "There are 40 weather stations across the Nordic countries, the survey found. Sweden has "
        "three weather stations on its coast. The survey was approved in 2017, and its report "
        "was published on June 21.\n\n"
        "Two sailors were rescued by the coastguard last winter, one in Norway, the other in "
        "Denmark.\n\n"
        "The lighthouse keepers first counted 30 seals on the rocks, and have since seen a further "
        "12 seals in the harbour. As of March 14, the keepers had visited 14 islands.\n"
    ),
    "ferry.txt": (
        "A busy Sunday on the fjord\n\n"
        "The Moonrake ferry carried 240 passengers across the fjord on Sunday. It has four decks "
        "and a crew of nine.\n"
    ),
    "press.txt": (
        "Storm week on the coast\n\n"
        "Local investigations were reported by the Norwegian newspaper La Gazzetta del Nord, "
        "which said the storm damage was worse than feared.\n"
    ),
    "yards.txt": (
        "Where the ferries are made\n\n"
        "The ferries are built in Norway’s Hordaland province and repaired in Vestfold and "
        "Telemark provinces.\n"
    ),
    "lamp.txt": (
        "Old lamp recovered\n\n"
        "In Norway, divers recovered a brass lamp from the seabed near Bergen last spring.\n"
    ),
    "museum.txt": (
        "Lighthouse Museum opens a new wing\n\n"
        "The Lighthouse Museum opened a new wing on Friday. Divers found the oldest lamp of the "
        "Lighthouse Museum in the bay, said Ruth Gale, director of the Lighthouse Museum.\n"
    ),
}


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory, model_embedder: Embedder) -> Answerer:
    return model_answerer_over(tmp_path_factory.mktemp("relations"), PAGES, model_embedder)


def first_answer(answerer: Answerer, question: str) -> str | None:
    response = answerer.ask(question)
    return response.answers[0].text if response.answers else None


@READER_GAP
def test_founded_is_not_matched_by_found_the_past_of_find(answerer: Answerer) -> None:
    assert first_answer(answerer, "When was the Harbour Trust founded?") == "1931"
    assert first_answer(answerer, "Who found the lost records of the trust?") == "Tom Field"


@READER_GAP
def test_a_figure_for_elsewhere_does_not_answer_for_the_place_asked_about(
    answerer: Answerer,
) -> None:
    assert first_answer(answerer, "How many weather stations does Sweden have?") == "three"
    norway = answerer.ask("How many weather stations are there in Finland?")
    assert norway.abstained
    assert norway.answers == []


@READER_GAP
def test_an_untagged_name_inside_a_phrase_answers_which_app(answerer: Answerer) -> None:
    answer = first_answer(answerer, "Which app did volunteers use to reach the trust?")
    assert answer == "Signal"  # not Bergen, a place


def test_what_date_wants_a_day_and_what_year_a_year(answerer: Answerer) -> None:
    assert first_answer(answerer, "On what date was the survey report published?") == "June 21"
    assert first_answer(answerer, "In what year was the survey approved?") == "2017"


@READER_GAP
def test_list_items_stated_together_are_all_returned(answerer: Answerer) -> None:
    response = answerer.ask("In which countries were the two sailors rescued?")
    assert {a.text for a in response.answers} == {"Norway", "Denmark"}
    for answer in response.answers:
        quote = answer.citations[0].quote
        assert answer.text in quote and "rescued" in quote


def test_a_sentence_that_only_names_what_is_asked_about_does_not_answer(
    answerer: Answerer,
) -> None:
    assert first_answer(answerer, "Who is the director of the Lighthouse Museum?") == "Ruth Gale"
    founder = answerer.ask("Who founded the Lighthouse Museum?")
    assert founder.abstained, [a.text for a in founder.answers]


def test_a_further_count_answers_how_many_more_not_how_many_first(answerer: Answerer) -> None:
    assert first_answer(answerer, "How many seals did the lighthouse keepers first count?") == "30"
    assert first_answer(answerer, "How many more seals have the keepers seen since?") == "12"


@READER_GAP
def test_the_day_of_a_date_in_the_question_can_still_be_the_figure_asked_for(
    answerer: Answerer,
) -> None:
    question = "How many islands had the keepers visited as of March 14?"
    assert first_answer(answerer, question) == "14"


def test_a_figure_answers_only_for_the_thing_it_counts(answerer: Answerer) -> None:
    # Sweden's only figure is of weather stations: it is no count of people, nor a population.
    for question in ("How many people live in Sweden?", "What is the population of Sweden?"):
        response = answerer.ask(question)
        assert response.abstained, (question, [a.text for a in response.answers])
    assert first_answer(answerer, "How many islands had the keepers visited?") == "14"


def test_a_count_of_people_is_met_by_any_word_for_people(answerer: Answerer) -> None:
    # "passengers" are people; the ferry's four decks are not.
    assert first_answer(answerer, "How many people did the Moonrake ferry carry on Sunday?") == (
        "240"
    )


@READER_GAP
def test_a_nationality_before_the_kind_noun_is_not_the_name(answerer: Answerer) -> None:
    answer = first_answer(answerer, "Which newspaper reported the local investigations?")
    assert answer is not None and answer.startswith("La Gazzetta")  # not "Norwegian"


@READER_GAP
def test_places_listed_by_their_kind_noun_come_apart_without_their_owner(
    answerer: Answerer,
) -> None:
    response = answerer.ask("Which provinces build or repair the ferries?")
    assert {a.text for a in response.answers} == {"Hordaland", "Vestfold", "Telemark"}


@READER_GAP
def test_where_prefers_the_city_to_its_country_in_the_same_sentence(answerer: Answerer) -> None:
    assert first_answer(answerer, "Where did divers recover the brass lamp?") == "Bergen"


@READER_GAP
def test_a_question_without_a_question_word_is_answered_by_its_sentence(
    answerer: Answerer,
) -> None:
    for question in ("Are there weather stations in Sweden?", "weather stations sweden"):
        assert first_answer(answerer, question) == (
            "Sweden has three weather stations on its coast"
        ), question
    assert answerer.ask("Are there weather stations in Chile?").abstained
