"""The reader model shipped in models/reader: it loads as it is, offline, in our reader, in
transformers and in Haystack, and it finds plain answers in paragraphs it has never seen
while declining questions they do not answer."""

from __future__ import annotations

import json

import pytest
from conftest import READER_GAP

from qa.reader_model import SpanModel
from qa.settings import SHIPPED_READER

pytestmark = pytest.mark.model

# Made up for these tests: no training or eval text.
PARAGRAPHS = {
    "orchard": (
        "The Hollow Creek orchard was planted in 1904 by Mabel Ortiz, a schoolteacher from "
        "Tacoma. Today it grows 43 kinds of apple on twelve hectares, and its cider is sold "
        "every Saturday at the farmers' market in Olympia."
    ),
    "ferry": (
        "The night ferry between Kessel and Varna Island was withdrawn in March 2019 after the "
        "operator, Blue Gull Lines, lost its licence. A bridge across the strait opened two "
        "years later and cost 310 million euros."
    ),
}

QUESTIONS = [
    ("orchard", "Who planted the Hollow Creek orchard?", "Mabel Ortiz"),
    ("orchard", "When was the orchard planted?", "1904"),
    ("orchard", "How many kinds of apple does the orchard grow?", "43"),
    # Any of the spans a person would accept, as in SQuAD's several gold answers.
    ("orchard", "Where is the cider sold?", ("Olympia", "farmers' market in Olympia")),
    pytest.param(
        "ferry", "Which company ran the night ferry?", "Blue Gull Lines", marks=READER_GAP
    ),
    ("ferry", "How much did the bridge cost?", "310 million euros"),
]

UNANSWERED = [
    ("orchard", "What is the name of the orchard's dog?"),
    ("ferry", "Who designed the bridge?"),
]


@pytest.fixture(scope="module")
def model() -> SpanModel:
    return SpanModel.load(SHIPPED_READER)


def test_the_shipped_folder_is_complete_and_small() -> None:
    names = {p.name for p in SHIPPED_READER.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "calibration.json",
        "README.md",
    } <= names
    size = sum(p.stat().st_size for p in SHIPPED_READER.iterdir())
    assert size <= 50 * 1024 * 1024
    card = (SHIPPED_READER / "README.md").read_text()
    for needed in ("SQuADShifts", "CC BY 4.0", "answerable F1", "qa train-reader"):
        assert needed in card
    # Every dataset trained on is attributed with its licence.
    trained = json.loads((SHIPPED_READER / "training_summary.json").read_text())
    if trained["config"]["use_qamr"] or any(r["use_qamr"] for r in trained.get("lineage", [])):
        assert "QAMR" in card and "MIT" in card
    calibration = json.loads((SHIPPED_READER / "calibration.json").read_text())
    assert 0.0 < calibration["threshold_probability"] < 1.0


@pytest.mark.parametrize(("paragraph", "question", "expected"), QUESTIONS)
def test_plain_answers_are_found(
    model: SpanModel, paragraph: str, question: str, expected: str | tuple[str, ...]
) -> None:
    context = PARAGRAPHS[paragraph]
    (reading,) = model.read(question, [context])
    best = reading.best
    assert best is not None
    accepted = (expected,) if isinstance(expected, str) else expected
    assert context[best.start : best.end] in accepted
    assert model.calibration.probability(reading.margin) >= model.calibration.threshold_probability


@pytest.mark.parametrize(("paragraph", "question"), UNANSWERED)
def test_questions_the_paragraph_does_not_answer_fall_below_the_threshold(
    model: SpanModel, paragraph: str, question: str
) -> None:
    (reading,) = model.read(question, [PARAGRAPHS[paragraph]])
    assert model.calibration.probability(reading.margin) < model.calibration.threshold_probability


def test_it_loads_unchanged_in_transformers() -> None:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    model = AutoModelForQuestionAnswering.from_pretrained(str(SHIPPED_READER))
    tokenizer = AutoTokenizer.from_pretrained(str(SHIPPED_READER))
    question, context = "Who planted the Hollow Creek orchard?", PARAGRAPHS["orchard"]
    inputs = tokenizer(question, context, return_tensors="pt", return_offsets_mapping=True)
    offsets = inputs.pop("offset_mapping")[0]
    with torch.inference_mode():
        output = model(**inputs.to(model.device))
    start = int(output.start_logits[0].argmax())
    end = int(output.end_logits[0].argmax())
    assert context[int(offsets[start][0]) : int(offsets[end][1])] == "Mabel Ortiz"


def test_it_loads_unchanged_in_haystack() -> None:
    from haystack import Document
    from haystack_integrations.components.readers.transformers import (
        TransformersExtractiveReader,
    )

    reader = TransformersExtractiveReader(model=str(SHIPPED_READER), top_k=1)
    reader.warm_up()
    # A question the shipped model answers itself (the ferry's bridge cost is a known gap).
    result = reader.run(
        query="Who planted the Hollow Creek orchard?",
        documents=[Document(content=PARAGRAPHS["orchard"])],
    )
    spans = [a for a in result["answers"] if a.data]
    assert spans and spans[0].data == "Mabel Ortiz"
