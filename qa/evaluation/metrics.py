"""Answer metrics: SQuAD-style exact match and token F1 (best over the aliases), list
precision/recall/F1 over the gold items, and percentiles. Pure functions of their arguments,
so they are unit-tested on their own."""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# A list prediction that is not an exact alias still counts when it is this close (token F1).
LIST_MATCH_F1 = 0.8

_QUOTE_FOLD = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"'})
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: fold quotes, lowercase, drop punctuation and articles, squash space."""
    text = text.translate(_QUOTE_FOLD).lower()
    # Beyond SQuAD's ASCII set, Unicode punctuation too (the "―" and "—" of scraped pages).
    text = "".join(
        ch
        for ch in text
        if ch not in _ASCII_PUNCTUATION and not unicodedata.category(ch).startswith("P")
    )
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, aliases: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals any normalised alias, else 0.0."""
    predicted = normalize_answer(prediction)
    return float(any(predicted == normalize_answer(alias) for alias in aliases))


def _token_f1(prediction: str, alias: str) -> float:
    predicted, gold = normalize_answer(prediction).split(), normalize_answer(alias).split()
    if not predicted or not gold:
        # As in SQuAD 2.0: two empty answers agree, one empty answer scores nothing.
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, aliases: Sequence[str]) -> float:
    """SQuAD token F1 of the prediction against its best alias (0.0 when there are no aliases)."""
    return max((_token_f1(prediction, alias) for alias in aliases), default=0.0)


@dataclass(frozen=True)
class ListScores:
    precision: float
    recall: float
    f1: float


def _matches(prediction: str, item: Sequence[str]) -> bool:
    return exact_match(prediction, item) == 1.0 or token_f1(prediction, item) >= LIST_MATCH_F1


def list_scores(predictions: Sequence[str], items: Sequence[Sequence[str]]) -> ListScores:
    """Precision, recall and F1 of predicted entries against gold items (each a list of aliases).

    Predictions that normalise alike count once. Each item is matched at most once, and the
    pairing is a maximum matching, so one prediction that fits two items cannot starve another.
    With nothing predicted and nothing expected every score is 1.0.
    """
    unique: dict[str, str] = {}
    for prediction in predictions:
        key = normalize_answer(prediction)
        if key:
            unique.setdefault(key, prediction)
    preds = list(unique.values())
    if not preds and not items:
        return ListScores(1.0, 1.0, 1.0)

    fits = [[j for j, item in enumerate(items) if _matches(p, item)] for p in preds]
    owner: dict[int, int] = {}  # item index -> prediction index

    def assign(i: int, visited: set[int]) -> bool:
        # Kuhn's augmenting path: take a free item, or move its current owner elsewhere.
        for j in fits[i]:
            if j not in visited:
                visited.add(j)
                if j not in owner or assign(owner[j], visited):
                    owner[j] = i
                    return True
        return False

    matched = sum(assign(i, set()) for i in range(len(preds)))
    precision = matched / len(preds) if preds else 0.0
    recall = matched / len(items) if items else 0.0
    f1 = 2 * precision * recall / (precision + recall) if matched else 0.0
    return ListScores(precision, recall, f1)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between ranks, as numpy's default."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= p <= 100.0:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
