"""The plain baseline the reader is compared with: "the top retrieved sentence is the answer",
made from the reader's own response, so retrieval is shared."""

from __future__ import annotations

import re

from qa.answering import AskResponse
from qa.answers import Answer, Citation
from qa.terms import terms

# Sentence ends inside one line: . ! or ? (perhaps closing a quote or bracket), then space, then
# what looks like a sentence start. Crude around "U.S. officials", which is fine for a baseline.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+(?=[\"“‘(]?[A-Z0-9])")


def simple_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``: lines, cut at sentence ends."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for cut in _SENTENCE_END.finditer(line.group()):
            spans.append((start, line.start() + cut.start()))
            start = line.start() + cut.end()
        spans.append((start, line.end()))
    stripped = []
    for start, end in spans:
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            stripped.append((start + lead, start + len(piece.rstrip())))
    return stripped


def baseline_response(response: AskResponse) -> AskResponse:
    """The plain baseline: "the top retrieved sentence is the answer".

    Of the first passage's sentences, the one sharing most distinct content terms with the
    (resolved) question, the earliest on a tie; it never abstains while there is a passage. A
    regex split rather than the store's sentence offsets keeps this a pure function of the
    response (the store sits behind the Answerer's private build, and fakes have none).
    """
    if not response.passages:
        return response.model_copy(update={"answers": [], "abstained": True})
    top = response.passages[0]
    sentences = simple_sentences(top.text) or [(0, len(top.text))]
    wanted = set(terms(response.resolved_question or response.question))
    start, end = max(sentences, key=lambda s: len(wanted & set(terms(top.text[s[0] : s[1]]))))
    text = top.text[start:end]
    citation = Citation(
        doc_id=top.doc_id,
        title=top.title,
        start=top.start + start,
        end=top.start + end,
        quote=text,
        quote_start=top.start + start,
        quote_end=top.start + end,
    )
    answer = Answer(text=text, score=min(max(top.score, 0.0), 1.0), citations=[citation])
    return response.model_copy(update={"answers": [answer], "abstained": False, "message": ""})
