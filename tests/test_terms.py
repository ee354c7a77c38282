"""Terms for matching: irregular verb forms read as their lemmas, the text shown unchanged."""

from __future__ import annotations

from qa.terms import irregular_lemma, terms, with_lemmas


def test_only_an_irregular_past_verb_form_gets_a_lemma() -> None:
    assert irregular_lemma("found", "find", "VERB", "VBD") == "find"
    assert irregular_lemma("held", "hold", "VERB", "VBN") == "hold"
    assert irregular_lemma("founded", "found", "VERB", "VBD") is None  # its stem will do
    assert irregular_lemma("found", "find", "VERB", "VB") is None  # "did she found it"
    assert irregular_lemma("left", "left", "ADJ", "JJ") is None


def test_lemmas_replace_their_words_for_matching_only() -> None:
    sentence = "Researchers found evidence."
    offset = 100  # the sentence's place in its document
    matching = with_lemmas(sentence, offset, [(offset + 12, offset + 17, "find")])
    assert matching == "Researchers find evidence."
    assert terms(matching) == terms("researchers find evidence")
    assert with_lemmas(sentence, offset, []) == sentence
