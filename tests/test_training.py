"""Training the reader, on made-up data: the datasets are read right, made negatives really do
not answer, the dev split never cuts an article, and a few steps of training end to end give a
model folder that loads, with its card and calibration."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from qa.embedding import HashingEmbedder
from qa.training.dev import Prediction, choose_threshold, dev_figures, fit_calibration
from qa.training.examples import Answer, Example, detokenise, read_qamr, read_squadshifts
from qa.training.negatives import edited_negatives, retrieved_negatives, with_negatives
from qa.training.split import split_by_group


def torch_sees_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


ROOT = Path(__file__).resolve().parent.parent

PARAGRAPHS = [
    (
        "Lighthouses",
        "The Pelican Point lighthouse was built in 1871 by the engineer Ruth Calder. "
        "Its lamp could be seen 19 miles out to sea.",
        [
            ("Who built the Pelican Point lighthouse?", "Ruth Calder"),
            ("How far could its lamp be seen?", "19 miles"),
            ("What did Ruth Calder build in 1871?", "The Pelican Point lighthouse"),
        ],
    ),
    (
        "Lighthouses",
        "In 1932 the lighthouse keeper Tomas Berg moved to Oslo, where he opened a "
        "bakery on Karl Johans gate.",
        [("Where did Tomas Berg move in 1932?", "Oslo"), ("What did the keeper open?", "a bakery")],
    ),
    (
        "Orchards",
        "The Hollow Creek orchard grows 40 kinds of apple. Its oldest tree was planted "
        "by Mabel Ortiz in 1904.",
        [
            ("Who planted the oldest tree?", "Mabel Ortiz"),
            ("How many kinds of apple does the orchard grow?", "40"),
        ],
    ),
    (
        "Orchards",
        "Cider from the orchard is sold in Portland every Saturday by Leon Marsh.",
        [("Where is the cider sold?", "Portland"), ("Who sells the cider?", "Leon Marsh")],
    ),
]


def write_datasets(folder: Path) -> Path:
    """SQuADShifts-shaped files and QAMR-shaped files, tiny and made up."""
    squad = folder / "squadshifts"
    squad.mkdir(parents=True)
    for name in ("new_wiki", "reddit", "amazon_reviews"):
        data = []
        for number, (title, context, qas) in enumerate(PARAGRAPHS):
            paragraph = {
                "context": context,
                "qas": [
                    {
                        "id": f"{name}-{number}-{i}",
                        "question": q,
                        "answers": [{"text": a, "answer_start": context.index(a)}] * 2,
                    }
                    for i, (q, a) in enumerate(qas)
                ],
            }
            data.append({"title": title, "paragraphs": [paragraph]})
        if name == "reddit":  # as in the real file: one "article" of unrelated comments
            data = [{"title": "Comments", "paragraphs": [a["paragraphs"][0] for a in data]}]
        (squad / f"{name}_v1.0.json").write_text(json.dumps({"data": data}))
    qamr = folder / "qamr"
    qamr.mkdir()
    (qamr / "wiki-sentences.tsv").write_text(
        "W:wikipedia:1:0:0\tThe mayor , Ana Ruiz , opened the `` Blue '' bridge -LRB- 1999 -RRB- .\n"
        "W:wikipedia:1:0:1\tIt crosses the river Tay near Perth .\n"
    )
    rows = [
        "W:wikipedia:1:0:0\t0\t7\t0\tx\tWho opened the bridge?\t3 4\t9:3 4\t8:3",
        "W:wikipedia:1:0:0\t0\t7\t1\tx\tWhen was the bridge opened?\t13\t9:13\t8:13",
        # No validator agrees: left out.
        "W:wikipedia:1:0:1\t0\t7\t0\tx\tWhat does it cross?\t0\t9:3 4\t8:4",
        "W:wikipedia:1:0:1\t0\t7\t1\tx\tWhere is the river?\t5 6\t9:6\t8:5 6",
    ]
    (qamr / "dev.tsv").write_text("\n".join(rows) + "\n")
    (qamr / "test.tsv").write_text("")
    return folder


def test_ptb_tokens_become_plain_text_with_exact_token_spans() -> None:
    tokens = "Liam `` had his life '' , said Logan -LRB- the U.S. -RRB- , it 's $ 5 .".split()
    text, spans = detokenise(tokens)
    assert text == 'Liam "had his life", said Logan (the U.S.), it\'s $5.'
    assert [text[a:b] for a, b in spans][6:9] == [",", "said", "Logan"]


def test_datasets_are_read_with_answers_that_slice_their_context(tmp_path: Path) -> None:
    folder = write_datasets(tmp_path)
    wiki = read_squadshifts(folder, "wiki")
    assert len(wiki) == 9
    assert all(e.context[a.start : a.end] == a.text for e in wiki for a in e.answers)
    assert all(len(e.answers) == 1 for e in wiki)  # the duplicated worker answer kept once
    reddit = read_squadshifts(folder, "reddit")
    assert len({e.group for e in reddit}) == 4  # a Reddit comment is its own source
    qamr = read_qamr(folder)
    assert [(e.question, e.answers[0].text) for e in qamr] == [
        ("Who opened the bridge?", "Ana Ruiz"),
        ("When was the bridge opened?", "1999"),
        ("Where is the river?", "near Perth"),
    ]


def test_the_dev_split_never_cuts_through_an_article(tmp_path: Path) -> None:
    examples = read_squadshifts(write_datasets(tmp_path), "wiki") * 1
    many = [
        Example(f"{e.id}-{i}", e.question, e.context, e.answers, e.source, f"g{i % 50}")
        for i, e in enumerate(examples * 40)
    ]
    train, dev = split_by_group(many, 0.2)
    assert train and dev
    assert not {e.group for e in train} & {e.group for e in dev}
    assert split_by_group(many, 0.2) == (train, dev)  # stable


def test_retrieved_negatives_never_hold_an_answer(tmp_path: Path) -> None:
    examples = read_squadshifts(write_datasets(tmp_path), "wiki")
    made = retrieved_negatives(examples, HashingEmbedder(64))
    assert made
    for example in examples:
        negative = made.get(example.id)
        if negative is None:
            continue
        assert negative.context != example.context
        assert not negative.answers and negative.kind == "retrieved"
        assert all(a.text.lower() not in negative.context.lower() for a in example.answers)


def test_edited_negatives_ask_about_something_the_context_never_mentions(tmp_path: Path) -> None:
    examples = read_squadshifts(write_datasets(tmp_path), "wiki")
    made = edited_negatives(examples, random.Random(0))
    assert made
    for example in examples:
        negative = made.get(example.id)
        if negative is None:
            continue
        original, other = negative.meta["swapped"].split(" -> ")
        assert original in example.question and other in negative.question
        assert other.lower() not in example.context.lower()
        assert negative.context == example.context and not negative.answers


def test_negatives_make_up_the_share_asked_for() -> None:
    examples = [Example(str(i), "q", "c", (Answer("c", 0),), "wiki", "g") for i in range(90)]
    made = {e.id: Example(e.id + "-r", "q", "x", (), "wiki", "g", "retrieved") for e in examples}
    mixed = with_negatives(examples, made, {}, 0.25, random.Random(0))
    unanswerable = [e for e in mixed if not e.answerable]
    assert len(unanswerable) == 30  # 30 of 120 is a quarter


def _prediction(answerable: bool, right: bool, margin: float) -> Prediction:
    answers = (Answer("Oslo", 0),) if answerable else ()
    example = Example("x", "q", "Oslo", answers, "wiki", "g")
    return Prediction.of(example, "Oslo" if right else "Bergen", margin)


def test_the_threshold_separates_answers_from_abstentions() -> None:
    predictions = [_prediction(True, True, m) for m in (3.0, 4.0, 5.0)] + [
        _prediction(False, False, m) for m in (-2.0, -1.0, 0.5)
    ]
    threshold = choose_threshold(predictions)
    assert 0.5 < threshold <= 3.0
    figures = dev_figures(predictions, threshold)
    assert figures.answerable_f1 == 1.0 and figures.unanswerable_accuracy == 1.0
    calibration = fit_calibration(predictions)
    assert calibration.probability(5.0) > 0.9 > 0.1 > calibration.probability(-2.0)


@pytest.mark.model
def test_a_few_training_steps_give_a_model_folder_that_loads(tmp_path: Path) -> None:
    data = write_datasets(tmp_path / "data")
    out, work = tmp_path / "model", tmp_path / "work"
    command = [
        sys.executable,
        "-m",
        "qa",
        "train-reader",
        "--data",
        str(data),
        "--out",
        str(out),
        "--work-dir",
        str(work),
        "--max-steps",
        "2",
        "--batch-size",
        "4",
        "--epochs",
        "1",
        "--dev-share",
        "0.5",
    ]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "dev: answerable F1" in run.stderr and "open dev: answerable F1" in run.stderr
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["dev"]["answerable"] > 0 and summary["dev"]["unanswerable"] > 0
    assert summary["open_dev"]["answerable"] > 0 and summary["open_dev"]["unanswerable"] > 0
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "calibration.json",
        "README.md",
    ):
        assert (out / name).exists(), name
    card = (out / "README.md").read_text()
    assert "SQuADShifts" in card and "QAMR" in card and "answerable F1" in card
    assert "--max-steps 2" in card  # the exact command
    from transformers import AutoModelForQuestionAnswering

    model = AutoModelForQuestionAnswering.from_pretrained(str(out), local_files_only=True)
    assert model.config.model_type == "bert"
    # Run again: it resumes from the checkpoint instead of starting over (on the device named).
    again = subprocess.run(
        [*command, "--device", "cpu"], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resumed at step 2" in again.stderr
    summary = json.loads((out / "training_summary.json").read_text())
    assert "--device cpu" in summary["command"]
    # Read the dev split again with windows around the best sentences: the folder's threshold,
    # calibration and card are rewritten, its training record kept.
    weights = (out / "model.safetensors").read_bytes()
    recalibrated = subprocess.run(
        [*command, "--calibrate-only", "--focus-words", "8"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert recalibrated.returncode == 0, recalibrated.stderr[-2000:]
    assert "rewritten" in recalibrated.stderr
    assert (out / "model.safetensors").read_bytes() == weights
    summary_after = json.loads((out / "training_summary.json").read_text())
    assert summary_after["config"]["focus_words"] == 8
    assert summary_after["dev"] == summary["dev"] and summary_after["command"] == summary["command"]
    assert "a window of up to 8 words" in (out / "README.md").read_text()
    json.loads((out / "calibration.json").read_text())


def test_calibrating_a_folder_with_no_trained_model_says_so(tmp_path: Path) -> None:
    data = write_datasets(tmp_path / "data")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa",
            "train-reader",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "empty"),
            "--work-dir",
            str(tmp_path / "work"),
            "--calibrate-only",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert run.returncode == 2
    assert "holds no trained model" in run.stderr


@pytest.mark.skipif(torch_sees_cuda(), reason="this machine has a CUDA GPU")
def test_training_on_a_gpu_where_there_is_none_says_so(tmp_path: Path) -> None:
    data = write_datasets(tmp_path / "data")
    run = subprocess.run(
        [sys.executable, "-m", "qa", "train-reader", "--data", str(data), "--device", "cuda"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert run.returncode == 2
    assert "torch sees no CUDA GPU" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
