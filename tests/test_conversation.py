"""Follow-up questions are rewritten into standalone ones from the turn before them."""

from __future__ import annotations

import pytest

from qa.conversation import Turn, resolve_question


def turn(question: str, *answers: str) -> Turn:
    return Turn(question=question, answers=list(answers))


@pytest.mark.parametrize(
    ("follow_up", "previous", "standalone"),
    [
        (
            "What did she say about the ferry?",
            turn("Who designed the Moonrake ferry?", "Odile Fenwick"),
            "What did Odile Fenwick say about the ferry?",
        ),
        (
            "Where does he live?",
            turn("Who runs the Tarnwell Lighthouse Trust?", "Piet Oldacre"),
            "Where does Piet Oldacre live?",
        ),
        (
            # The answer was not a person: "she" is the person the question named.
            "What did she say?",
            turn("When did Odile Fenwick inspect the ferry?", "2019"),
            "What did Odile Fenwick say?",
        ),
    ],
)
def test_he_or_she_is_the_person_just_talked_about(
    follow_up: str, previous: Turn, standalone: str
) -> None:
    assert resolve_question(follow_up, [previous]) == standalone


def test_it_and_they_are_the_name_just_answered() -> None:
    previous = turn("Which company built the Moonrake ferry?", "Harwick Yards")
    assert resolve_question("When was it founded?", [previous]) == "When was Harwick Yards founded?"
    assert resolve_question("When did they open?", [previous]) == "When did Harwick Yards open?"


def test_it_is_the_thing_asked_about_when_a_person_was_the_answer() -> None:
    previous = turn("Who designed the Moonrake Ferry?", "Odile Fenwick")
    assert resolve_question("When was it launched?", [previous]) == (
        "When was Moonrake Ferry launched?"
    )


@pytest.mark.parametrize(
    ("previous", "follow_up", "standalone"),
    [
        (
            turn("Where is Harwick Yards based?", "Leeds"),
            "How many ferries did it build?",
            "How many ferries did Harwick Yards build?",
        ),
        (
            turn("When did Harwick Yards open?", "March 2001"),
            "Who founded it?",
            "Who founded Harwick Yards?",
        ),
        (
            # The answer was a place, but the question had no other name: it is the place.
            turn("Which city hosts the Tarnwell ferry terminal?", "Oslo"),
            "Which country is it in?",
            "Which country is Oslo in?",
        ),
        (
            # Not the subject: "in it", "its" are the place's.
            turn("Where is Harwick Yards based?", "Leeds"),
            "Who is its mayor?",
            "Who is Leeds's mayor?",
        ),
        (
            turn("Where is Harwick Yards based?", "Leeds"),
            "Is there a ferry in it?",
            "Is there a ferry in Leeds?",
        ),
    ],
)
def test_it_stays_the_subject_when_the_answer_said_where_or_when(
    previous: Turn, follow_up: str, standalone: str
) -> None:
    assert resolve_question(follow_up, [previous]) == standalone


@pytest.mark.parametrize(
    ("previous", "follow_up", "standalone"),
    [
        (
            # "Them" are what was asked for, whatever the list answered was.
            turn("Which three Norwegian towns have Harwick Yards sites?", "Bergen", "Leeds"),
            "Which of them is the oldest?",
            "Which of the three Norwegian towns that have Harwick Yards sites is the oldest?",
        ),
        (
            # The question's clause is inverted: only its noun phrase is kept.
            turn("Which ferries did Harwick Yards build?", "Moonrake", "Tarn"),
            "Which of those sank?",
            "Which of the ferries sank?",
        ),
        (
            # The other references of the follow-up are still resolved.
            turn("Which two towns host Harwick Yards sites?", "Bergen", "Oslo"),
            "Which of them did it open first?",
            "Which of the two towns that host Harwick Yards sites did Harwick Yards open first?",
        ),
    ],
)
def test_which_of_them_is_the_kind_the_list_question_asked_for(
    previous: Turn, follow_up: str, standalone: str
) -> None:
    assert resolve_question(follow_up, [previous]) == standalone


def test_a_name_after_a_title_in_the_answer_is_who_she_is() -> None:
    previous = turn("Who founded the Tarnwell festival?", "teacher Anne Whitby")
    assert resolve_question("When did she retire?", [previous]) == "When did Anne Whitby retire?"
    counted = turn("What did the survey find?", "three weather stations in Sweden")
    assert resolve_question("What did she say?", [counted]) == "What did she say?"


def test_she_is_no_place_just_answered() -> None:
    previous = turn("Which cities did Halvorsen visit in 2019?", "Bergen", "Oslo")
    assert resolve_question("What did she build there?", [previous]) == (
        "What did Halvorsen build in Bergen and Oslo?"
    )


def test_there_is_the_place_just_answered_or_named() -> None:
    answered = turn("Which city built the Moonrake ferry?", "Oslo")
    assert resolve_question("Which river flows there?", [answered]) == "Which river flows in Oslo?"
    named = turn("How many ferries sail from Norway?", "12")
    assert resolve_question("What happened there in 2019?", [named]) == (
        "What happened in Norway in 2019?"
    )


def test_an_expletive_there_is_left_alone() -> None:
    previous = turn("Which city built the Moonrake ferry?", "Oslo")
    question = "There was a strike at the yard, who led it?"
    assert resolve_question(question, [previous]).startswith("There was a strike")


def test_an_expletive_there_in_a_question_is_left_alone() -> None:
    previous = turn("Which city built the Moonrake ferry?", "Oslo")
    assert resolve_question("Was there a strike at the yard?", [previous]) == (
        "Was there a strike at the yard?"
    )


def test_and_in_another_place_asks_the_previous_question_about_it() -> None:
    previous = turn("How many ferry yards are there in Italy?", "7")
    assert resolve_question("And in Canada?", [previous]) == (
        "How many ferry yards are there in Canada?"
    )


def test_what_about_a_country_replaces_the_country_adjective() -> None:
    previous = turn("Which Dutch cities have ferry yards?", "Rotterdam", "Delft")
    assert resolve_question("What about Ireland?", [previous]) == (
        "Which cities have ferry yards in Ireland?"
    )


def test_that_city_is_the_city_just_answered() -> None:
    previous = turn("Which city built the Moonrake ferry?", "Harbin")
    assert resolve_question("Which province is that city in?", [previous]) == (
        "Which province is Harbin in?"
    )


def test_a_possessive_pronoun_becomes_a_possessive_name() -> None:
    previous = turn("Who inspected the Moonrake ferry?", "Odile Fenwick")
    assert resolve_question("What did her report say?", [previous]) == (
        "What did Odile Fenwick's report say?"
    )
    # "her" as an object is the name itself, not a possessive.
    assert resolve_question("Who praised her?", [previous]) == "Who praised Odile Fenwick?"


def test_a_question_without_history_or_references_is_unchanged() -> None:
    question = "When was the Moonrake ferry built?"
    assert resolve_question(question) == question
    previous = turn("Who designed the Moonrake ferry?", "Odile Fenwick")
    assert resolve_question("How long is the Tarnwell pier?", [previous]) == (
        "How long is the Tarnwell pier?"
    )


def test_the_latest_turn_is_the_one_referred_to() -> None:
    history = [
        turn("Who designed the Moonrake ferry?", "Odile Fenwick"),
        turn("Who runs the Tarnwell Lighthouse Trust?", "Piet Oldacre"),
    ]
    assert resolve_question("Where does he live?", history) == "Where does Piet Oldacre live?"


def test_a_number_answer_is_not_what_it_refers_to() -> None:
    previous = turn("When was the Moonrake Ferry launched?", "1998")
    assert resolve_question("Who built it?", [previous]) == "Who built Moonrake Ferry?"


def test_they_is_not_the_places_that_there_already_stands_for() -> None:
    towns = turn("Which Norwegian towns have ferry yards?", "Bergen", "Moss")
    assert resolve_question("What did they build there?", [towns]) == (
        "What did they build in Bergen and Moss?"
    )
    based = turn("Where is Harwick Yards based?", "Leeds")
    assert resolve_question("What did they build there?", [based]) == (
        "What did Harwick Yards build in Leeds?"
    )


def test_it_and_her_organisation_are_the_body_a_person_was_described_by() -> None:
    described = turn("Who is Odile Fenwick?", "chief engineer of the Harwick Yards shipyard")
    assert resolve_question("How many ferries did it build?", [described]) == (
        "How many ferries did Harwick Yards build?"
    )
    assert resolve_question("Where is her company based?", [described]) == (
        "Where is Harwick Yards based?"
    )
    assert resolve_question("What did she say?", [described]) == "What did Odile Fenwick say?"
    plain = turn("Who is Odile Fenwick?", "an engineer")
    assert resolve_question("What did it build?", [plain]) == "What did it build?"
