"""The finished model folder: fp16 weights in Hugging Face format, the tokenizer, the margin
calibration, and a model card (Hugging Face layout) with the data, settings and dev figures."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from qa.reader_model import Calibration
from qa.training.config import TrainingConfig
from qa.training.dev import DevFigures
from qa.training.open_dev import PASSAGES_READ


def export_model(
    model: Any,
    tokenizer: Any,
    figures: DevFigures,
    open_figures: DevFigures,
    config: TrainingConfig,
    command: str,
    summary: dict[str, object],
) -> Path:
    """Write the model folder to ``config.out_dir`` and return it. The calibration and the
    service's threshold come from ``open_figures`` (the dev split read as the service reads)."""
    import copy

    import torch

    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    half = copy.deepcopy(model).to(torch.float16)
    half.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    lineage = earlier_rounds(config.base_model)
    describe_model(out, figures, open_figures, config, command, summary, lineage)
    return out


def earlier_rounds(base_model: Path) -> list[dict[str, Any]]:
    """The rounds of training the starting weights came from, first first: each one's command,
    whether it read QAMR, and its dev figures (empty when training starts from the encoder)."""
    path = base_model / "training_summary.json"
    if not path.exists():
        return []
    earlier = json.loads(path.read_text())
    dev = earlier.get("dev", {})
    own = {
        "command": earlier.get("command", ""),
        "use_qamr": bool(earlier.get("config", {}).get("use_qamr", True)),
        "answerable_f1": dev.get("answerable_f1", float("nan")),
        "unanswerable_accuracy": dev.get("unanswerable_accuracy", float("nan")),
    }
    return [*earlier.get("lineage", []), own]


def describe_model(
    out: Path,
    figures: DevFigures,
    open_figures: DevFigures,
    config: TrainingConfig,
    command: str,
    summary: dict[str, object],
    lineage: list[dict[str, Any]],
) -> None:
    """Write the calibration, training_summary.json and the model card of the folder ``out``;
    ``lineage`` is the earlier rounds its training started from (see ``earlier_rounds``)."""
    calibration = Calibration(
        open_figures.calibration["slope"],
        open_figures.calibration["intercept"],
        open_figures.calibration["threshold_probability"],
    )
    calibration.write(
        out,
        threshold_margin=open_figures.threshold,
        fitted_on="the held-out dev split, each question read over its retrieved passages "
        "(never eval/)",
    )
    (out / "training_summary.json").write_text(
        json.dumps(
            {
                "config": config.as_dict(),
                "sets": summary,
                "dev": figures.as_dict(),
                "open_dev": open_figures.as_dict(),
                "command": command,
                "lineage": lineage,
            },
            indent=2,
        )
        + "\n"
    )
    card = model_card(figures, open_figures, config, command, summary, lineage)
    (out / "README.md").write_text(card)


def recalibrate(out: Path, open_figures: DevFigures, config: TrainingConfig) -> None:
    """New threshold, calibration and card for a trained folder whose dev split was read again
    (after a change to how the service reads passages); its training record is kept."""
    recorded = json.loads((out / "training_summary.json").read_text())
    trained = TrainingConfig(
        **{
            **recorded["config"],
            "open_dev_questions": config.open_dev_questions,
            "focus_words": config.focus_words,
        }
    )
    trained = replace(
        trained,
        data_dir=Path(str(trained.data_dir)),
        out_dir=Path(str(trained.out_dir)),
        work_dir=Path(str(trained.work_dir)),
        base_model=Path(str(trained.base_model)),
    )
    figures = DevFigures(**recorded["dev"])
    lineage = recorded.get("lineage") or earlier_rounds(trained.base_model)
    describe_model(
        out, figures, open_figures, trained, recorded["command"], recorded["sets"], lineage
    )


def _earlier_rounds_text(lineage: list[dict[str, Any]]) -> str:
    """The card's account of the rounds the weights were trained through before this one."""
    if not lineage:
        return ""
    rounds = "\n\n".join(
        f"{number}. dev answerable F1 {entry['answerable_f1']:.3f}, unanswerable accuracy "
        f"{entry['unanswerable_accuracy']:.3f}:\n\n   ```bash\n   {entry['command']}\n   ```"
        for number, entry in enumerate(lineage, start=1)
    )
    return (
        "\n\nThis round started from the weights of earlier rounds, the first trained from the "
        "bundled encoder, each from the one before, all with the same dev split held out "
        "(`--base-model` named the folder of the round before):\n\n" + rounds
    )


def _row(name: str, values: dict[str, float]) -> str:
    return f"| {name} | {values['answerable_f1']:.3f} | {values['unanswerable_accuracy']:.3f} |"


def _figures_table(figures: DevFigures) -> str:
    rows = [
        ("answerable F1 (an abstention scores 0)", figures.answerable_f1),
        ("answerable exact match", figures.answerable_exact),
        ("unanswerable accuracy (abstained)", figures.unanswerable_accuracy),
        ("overall F1", figures.overall_f1),
        ("F1 of the best span, never abstaining", figures.span_f1),
    ]
    return "| figure | value |\n| --- | ---: |\n" + "\n".join(
        f"| {name} | {value:.3f} |" for name, value in rows
    )


def _bands_table(figures: DevFigures) -> str:
    return "| score | answered | right |\n| --- | ---: | ---: |\n" + "\n".join(
        f"| {b['low']:.1f}–{b['high']:.1f} | {int(b['answered'])} | "
        + ("–" if b["answered"] == 0 else f"{b['right']:.2f}")
        + " |"
        for b in figures.bands
    )


_QAMR = """
- **QAMR** (Michael, Stanovsky, He, Dagan, Zettlemoyer: "Crowdsourcing Question-Answer Meaning
  Representations", NAACL 2018), MIT licence: questions whose answers are spans of one
  Wikipedia or Wikinews sentence (its dev and test files; a pair is kept where a validator's
  answer shares a token with it)."""


def model_card(
    figures: DevFigures,
    open_figures: DevFigures,
    config: TrainingConfig,
    command: str,
    summary: dict[str, object],
    lineage: list[dict[str, Any]],
) -> str:
    sets = json.dumps(summary, indent=2)
    sources = "\n".join(_row(name, values) for name, values in figures.by_source.items())
    kinds = "\n".join(f"| {kind} | {value:.3f} |" for kind, value in figures.by_kind.items())
    open_sources = "\n".join(_row(name, values) for name, values in open_figures.by_source.items())
    read_qamr = config.use_qamr or any(entry["use_qamr"] for entry in lineage)
    qamr_tag = "\n- qamr" if read_qamr else ""
    qamr = _QAMR if read_qamr else ""
    length = f"{config.epochs} epochs" + (
        f", stopped at {config.max_steps} steps" if config.max_steps else ""
    )
    history = _earlier_rounds_text(lineage)
    focus = (
        f"each paragraph read as the service reads it, a window of up to {config.focus_words} "
        "words around the sentences that share the most of the question's terms"
        if config.focus_words
        else "each paragraph read whole"
    )
    return f"""---
language: en
license: apache-2.0
library_name: transformers
pipeline_tag: question-answering
base_model: sentence-transformers/all-MiniLM-L6-v2
datasets:
- squadshifts{qamr_tag}
---

# qa span reader (MiniLM-L6, SQuAD 2.0-style)

The extractive reader of the `qa` service: given a question and a passage it points at the
answer span (start and end logits over the passage's tokens), or at `[CLS]` when the passage
does not answer. Trained by the project from the bundled `all-MiniLM-L6-v2` encoder
(Apache-2.0).

## Intended use

Reading the passages the service retrieves, in English, and choosing between an answer span
and no answer. `calibration.json` maps the margin (best span score minus the `[CLS]` score) to
the probability that the span is right; it and the no-answer threshold (`threshold_margin`,
`threshold_probability`: the service's default `QA_MIN_ANSWER_SCORE`) were fitted on the dev
split read as the service reads it (below), never on the service's own `eval/` questions.

Loads unchanged with `AutoModelForQuestionAnswering.from_pretrained(PATH)` and with Haystack's
`TransformersExtractiveReader(model=PATH)`.

## Training data

- **SQuADShifts** (Miller, Krauth, Recht, Schmidt: "The Effect of Natural Distribution Shift on
  Question Answering Models", ICML 2020), CC BY 4.0: crowd-written questions with answer spans
  over new Wikipedia articles, Reddit comments and Amazon product reviews.{qamr}
- **Unanswerable examples, made** (neither dataset has any), two ways: the question with one
  name, number, date or place swapped for another of its kind that the passage never mentions
  ("edited"), and the question against the best other passage of its source that our retriever
  (this encoder + BM25, their scores fused) ranks high and that holds none of its answers
  ("retrieved"). They alternate, each falling back on the other where it cannot be made (few
  questions name something spaCy's tagger finds, so most are retrieved). About
  {config.negative_share:.0%} of the training examples are unanswerable.
- **Dev split**: {config.dev_share:.0%} of the articles (Wikipedia), products (Amazon) and
  comments (Reddit), by a hash of their name; never trained on. Its questions are doubled with
  one made unanswerable each, the same two ways, so it is half unanswerable.

Examples per set, by source and kind:

```json
{sets}
```

## Training procedure

Windows of {config.max_length} tokens (question first, passage windows overlapping by
{config.stride} tokens), {length}, batch {config.batch_size}, AdamW at
{config.learning_rate:g} with {config.warmup_share:.0%} linear warm-up then linear decay,
weight decay {config.weight_decay:g}, bf16 autocast on CPU, seed {config.seed}. Weights stored
in float16.{history}

Reproduce with:

```bash
{command}
```

## Evaluation

### The held-out dev split, one paragraph per question

Each question read against its own paragraph (or, made unanswerable, the paragraph that does
not answer it), at the threshold that maximises overall F1 there (margin
{figures.threshold:.2f}), over {figures.answerable} answerable and {figures.unanswerable}
unanswerable questions:

{_figures_table(figures)}

| source | answerable F1 | unanswerable accuracy |
| --- | ---: | ---: |
{sources}

| unanswerable, made by | accuracy |
| --- | ---: |
{kinds}

### The dev split read as the service reads

Each of {config.open_dev_questions} answerable dev questions (a fixed sample, by a hash of
their id) over the {PASSAGES_READ} paragraphs that our retriever ranks first
among all dev paragraphs of the three sources, and again with every paragraph that answers it
taken out of the pool (so it is unanswerable there), {focus}; the best span of all
passages against the threshold. The service's threshold and
calibration come from here (margin {open_figures.threshold:.2f}, score
{open_figures.calibration["threshold_probability"]:.2f}):

{_figures_table(open_figures)}

| source | answerable F1 | unanswerable accuracy |
| --- | ---: | ---: |
{open_sources}

Calibration there (answers given at the threshold, by calibrated score, and the share right):

{_bands_table(open_figures)}

## Limitations

A six-layer, 384-wide encoder: it reads one window of {config.max_length} tokens at a time and
knows English only. It was trained on encyclopedia text, forum comments and product reviews;
on other genres its threshold may sit too high or too low. Its unanswerable examples are made,
not written by people, so questions that are unanswerable in subtler ways (a false premise, a
detail the passage almost states) are harder for it than the dev figures suggest.
"""
