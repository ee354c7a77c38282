"""Reading-comprehension examples from the shared datasets: SQuADShifts (SQuAD v1.1 JSON) and
QAMR (PTB-tokenised sentences, answers as token indices), as one record type."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

SQUADSHIFTS_FILES = {
    "wiki": "squadshifts/new_wiki_v1.0.json",
    "reddit": "squadshifts/reddit_v1.0.json",
    "amazon": "squadshifts/amazon_reviews_v1.0.json",
}


@dataclass(frozen=True)
class Answer:
    text: str
    start: int  # character offset into the example's context

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True)
class Example:
    """A question about one context; no answers means the context does not answer it."""

    id: str
    question: str
    context: str
    answers: tuple[Answer, ...]
    source: str  # "wiki", "reddit", "amazon", "qamr"
    group: str  # the article or source text: dev splits never cut through one
    kind: str = "original"  # or how an unanswerable one was made: "retrieved", "edited"
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def read_squadshifts(folder: Path, source: str, limit: int | None = None) -> list[Example]:
    """One ``Example`` per question of a SQuADShifts file; answers deduplicated, in order."""
    data = json.loads((folder / SQUADSHIFTS_FILES[source]).read_text(encoding="utf-8"))["data"]
    examples: list[Example] = []
    for article in data:
        for number, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            # Reddit's file is one "article" of unrelated comments: each comment is a source.
            group = f"{source}:{article['title']}"
            if source == "reddit":
                group += f":{number}"
            for qa in paragraph["qas"]:
                answers = _unique_answers(context, qa["answers"])
                if not answers or not qa["question"].strip():
                    continue
                examples.append(
                    Example(
                        qa["id"], " ".join(qa["question"].split()), context, answers, source, group
                    )
                )
                if limit is not None and len(examples) >= limit:
                    return examples
    return examples


def _unique_answers(context: str, raw: list[dict[str, object]]) -> tuple[Answer, ...]:
    seen: set[tuple[str, int]] = set()
    answers: list[Answer] = []
    for item in raw:
        text, start = str(item["text"]), int(str(item["answer_start"]))
        if not text.strip() or context[start : start + len(text)] != text:
            continue
        if (text, start) not in seen:
            seen.add((text, start))
            answers.append(Answer(text, start))
    return tuple(answers)


_PTB = {
    "-LRB-": "(",
    "-RRB-": ")",
    "-LSB-": "[",
    "-RSB-": "]",
    "-LCB-": "{",
    "-RCB-": "}",
    "``": '"',
    "''": '"',
}
_NO_SPACE_BEFORE = {
    ",",
    ".",
    ":",
    ";",
    "!",
    "?",
    ")",
    "]",
    "}",
    "%",
    "'s",
    "n't",
    "'re",
    "'ve",
    "'m",
    "'ll",
    "'d",
    "'",
}
_NO_SPACE_AFTER = {"(", "[", "{", "$"}


def detokenise(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Plain text from PTB tokens, with each token's character span in it."""
    text = ""
    spans: list[tuple[int, int]] = []
    quote_open = False
    glue_next = True  # no space before the first token
    for raw in tokens:
        token = _PTB.get(raw, raw)
        glue = glue_next or token in _NO_SPACE_BEFORE
        glue_next = token in _NO_SPACE_AFTER
        if token == '"':
            glue = glue or quote_open  # a closing quote hugs the word before it
            glue_next = not quote_open  # an opening one the word after it
            quote_open = not quote_open
        if not glue:
            text += " "
        spans.append((len(text), len(text) + len(token)))
        text += token
    return text, spans


def _token_indices(field: str) -> list[int]:
    return [int(i) for i in field.split() if i.isdigit()]


def read_qamr(folder: Path, limit: int | None = None) -> list[Example]:
    """QAMR's question/answer pairs over single sentences (dev and test files: its train split
    is not in the shared folder); the same question on the same sentence is kept once."""
    sentences: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    with (folder / "qamr/wiki-sentences.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            sentence_id, _, tokenised = line.rstrip("\n").partition("\t")
            sentences[sentence_id] = detokenise(tokenised.split(" "))
    examples: list[Example] = []
    seen: set[tuple[str, str]] = set()
    for name in ("dev.tsv", "test.tsv"):
        with (folder / "qamr" / name).open(encoding="utf-8") as handle:
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) < 7 or row[0] not in sentences:
                    continue
                text, spans = sentences[row[0]]
                question = " ".join(row[5].split())
                indices = _token_indices(row[6])
                if not question or not indices or max(indices) >= len(spans):
                    continue
                # Keep a pair only where a validator's answer shares a token with it: some
                # workers' answers are plainly wrong ("How many ...?" -> the counted noun).
                validated = [_token_indices(v.partition(":")[2]) for v in row[7:9]]
                if not any(set(v) & set(indices) for v in validated):
                    continue
                if (row[0], question.lower()) in seen:
                    continue
                seen.add((row[0], question.lower()))
                start, end = spans[min(indices)][0], spans[max(indices)][1]
                # "Wiki1k:wikipedia:16016:90:8": the article is everything before the last two.
                group = "qamr:" + ":".join(row[0].split(":")[:-2])
                examples.append(
                    Example(
                        f"qamr-{len(examples)}",
                        question,
                        text,
                        (Answer(text[start:end], start),),
                        "qamr",
                        group,
                    )
                )
                if limit is not None and len(examples) >= limit:
                    return examples
    return examples
