"""The gold set is data that can be wrong: answers and evidence must be in their documents."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import get_args

import pytest

from qa.evaluation.gold import Category, GoldItem, load_gold

ROOT = Path(__file__).resolve().parent.parent
GOLD_PATH = ROOT / "eval" / "gold.jsonl"
CORPUS_DIR = ROOT / "corpus"

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def _comparable(text: str) -> str:
    """Case-, quote- and whitespace-insensitive form for verbatim checks."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip().lower()


@pytest.fixture(scope="module")
def gold() -> list[GoldItem]:
    return load_gold(GOLD_PATH)


@pytest.fixture(scope="module")
def corpus() -> dict[str, str]:
    return {p.stem: _comparable(p.read_text(encoding="utf-8")) for p in CORPUS_DIR.glob("*.txt")}


def test_gold_has_enough_questions_in_every_category(gold: list[GoldItem]) -> None:
    counts = Counter(item.category for item in gold)
    print("\ngold questions per category:", dict(sorted(counts.items())), "total", len(gold))
    assert len(gold) >= 90
    assert all(counts[category] >= 8 for category in get_args(Category))


def test_ids_and_questions_are_unique(gold: list[GoldItem]) -> None:
    assert len({item.id for item in gold}) == len(gold)
    assert [q for q, n in Counter(item.question for item in gold).items() if n > 1] == []


def test_doc_ids_name_corpus_files(gold: list[GoldItem], corpus: dict[str, str]) -> None:
    unknown = {(item.id, doc) for item in gold for doc in item.doc_ids if doc not in corpus}
    assert unknown == set()


def test_every_document_is_asked_about(gold: list[GoldItem], corpus: dict[str, str]) -> None:
    per_doc = Counter(doc for item in gold for doc in item.doc_ids)
    assert all(per_doc[doc] >= 5 for doc in corpus), per_doc


def _contains_words(text: str, phrase: str) -> bool:
    """Whole-word containment, so that "US" is not found inside "focuses"."""
    pattern = rf"(?<!\w){re.escape(_comparable(phrase))}(?!\w)"
    return re.search(pattern, text) is not None


def test_every_alias_is_in_one_of_its_documents(
    gold: list[GoldItem], corpus: dict[str, str]
) -> None:
    missing = [
        (item.id, alias)
        for item in gold
        for alias in [*item.answers, *(alias for entry in item.items for alias in entry)]
        if not any(_contains_words(corpus[doc], alias) for doc in item.doc_ids)
    ]
    assert missing == []


def test_every_evidence_line_is_verbatim_in_its_documents(
    gold: list[GoldItem], corpus: dict[str, str]
) -> None:
    missing = [
        (item.id, evidence[:60])
        for item in gold
        for evidence in item.evidence
        if not any(_comparable(evidence) in corpus[doc] for doc in item.doc_ids)
    ]
    assert missing == []


def test_every_document_cited_has_evidence(gold: list[GoldItem], corpus: dict[str, str]) -> None:
    unsupported = [
        (item.id, doc)
        for item in gold
        for doc in item.doc_ids
        if not any(_comparable(evidence) in corpus[doc] for evidence in item.evidence)
    ]
    assert unsupported == []


def test_followups_start_from_questions_asked_on_their_own(gold: list[GoldItem]) -> None:
    standalone = {item.question for item in gold if item.category != "followup"}
    asked = {item.question for item in gold}
    for item in (item for item in gold if item.category == "followup"):
        assert item.history[0] in standalone, item.id
        assert set(item.history) <= asked, item.id


def test_list_items_do_not_share_aliases(gold: list[GoldItem]) -> None:
    for item in (item for item in gold if item.items):
        aliases = [_comparable(alias) for entry in item.items for alias in entry]
        assert len(aliases) == len(set(aliases)), item.id
