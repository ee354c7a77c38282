"""Terms for lexical matching: lowercased, stop words out, stemmed, compounds split."""

from __future__ import annotations

from qa.terms import has_letter_or_digit, terms


def test_forms_of_one_word_are_one_term() -> None:
    assert terms("investigated") == terms("investigation") == terms("investigating")


def test_stop_words_are_not_terms() -> None:
    assert terms("What is it that they said?") == []


def test_compounds_and_possessives_come_apart_and_dotted_abbreviations_stay_whole() -> None:
    assert terms("China's anti-fraud drive") == terms("china anti fraud drive")
    assert terms("the U.S. embassy") == terms("us embassy")


def test_a_letter_or_digit_makes_text_wordy() -> None:
    assert has_letter_or_digit("— 1998 —")
    assert not has_letter_or_digit("“ ” — !")
