"""The finished model folder: fp16 weights in Hugging Face format, the tokenizer, the margin
calibration, and a model card (Hugging Face layout) with the data, settings and dev figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qa.reader_model import Calibration
from qa.training.config import TrainingConfig
from qa.training.dev import DevFigures


def export_model(
    model: Any,
    tokenizer: Any,
    figures: DevFigures,
    config: TrainingConfig,
    command: str,
    summary: dict[str, object],
) -> Path:
    """Write the model folder to ``config.out_dir`` and return it."""
    import copy

    import torch

    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    half = copy.deepcopy(model).to(torch.float16)
    half.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    calibration = Calibration(figures.calibration["slope"], figures.calibration["intercept"])
    calibration.write(
        out,
        threshold_margin=figures.threshold,
        threshold_probability=figures.calibration["threshold_probability"],
        fitted_on="the held-out dev split (never eval/)",
    )
    (out / "training_summary.json").write_text(
        json.dumps(
            {
                "config": config.as_dict(),
                "sets": summary,
                "dev": figures.as_dict(),
                "command": command,
            },
            indent=2,
        )
        + "\n"
    )
    (out / "README.md").write_text(model_card(figures, config, command, summary))
    return out


def _row(name: str, values: dict[str, float]) -> str:
    return f"| {name} | {values['answerable_f1']:.3f} | {values['unanswerable_accuracy']:.3f} |"


def model_card(
    figures: DevFigures, config: TrainingConfig, command: str, summary: dict[str, object]
) -> str:
    sets = json.dumps(summary, indent=2)
    sources = "\n".join(_row(name, values) for name, values in figures.by_source.items())
    kinds = "\n".join(f"| {kind} | {value:.3f} |" for kind, value in figures.by_kind.items())
    bands = "\n".join(
        f"| {b['low']:.1f}–{b['high']:.1f} | {int(b['answered'])} | "
        + ("–" if b["answered"] == 0 else f"{b['right']:.2f}")
        + " |"
        for b in figures.bands
    )
    return f"""---
language: en
license: apache-2.0
library_name: transformers
pipeline_tag: question-answering
base_model: sentence-transformers/all-MiniLM-L6-v2
datasets:
- squadshifts
- qamr
---

# qa span reader (MiniLM-L6, SQuAD 2.0-style)

The extractive reader of the `qa` service: given a question and a passage it points at the
answer span (start and end logits over the passage's tokens), or at `[CLS]` when the passage
does not answer. Trained by the project from the bundled `all-MiniLM-L6-v2` encoder.

## Intended use

Reading the passages the service retrieves, in English, and choosing between an answer span
and no answer. `calibration.json` maps the margin (best span score minus the `[CLS]` score) to
the probability that the span is right, fitted on the dev split; its `threshold_margin` is the
no-answer threshold chosen there (the one that maximises overall dev F1).

Loads with `AutoModelForQuestionAnswering.from_pretrained(PATH)` and with Haystack's
`TransformersExtractiveReader(model=PATH)`.

## Training data

- **SQuADShifts** (Miller, Krauth, Recht, Schmidt: "The Effect of Natural Distribution Shift on
  Question Answering Models", ICML 2020), CC BY 4.0: crowd-written questions with answer spans
  over new Wikipedia articles, Reddit comments and Amazon product reviews.
- **QAMR** (Michael, Stanovsky, He, Dagan, Zettlemoyer: "Crowdsourcing Question-Answer Meaning
  Representations", NAACL 2018), MIT licence: questions whose answers are spans of one
  Wikipedia or Wikinews sentence (its dev and test files; a pair is kept where a validator's
  answer shares a token with it).
- **Unanswerable examples, made** (neither dataset has any): each question against the best
  other passage of its source that our retriever (this encoder + BM25, reciprocal-rank fused)
  ranks high and that holds none of its answers, and the question with one name, number, date
  or place swapped for another of its kind that the passage never mentions. About
  {config.negative_share:.0%} of the training examples are unanswerable, half of each kind.
- **Dev split**: {config.dev_share:.0%} of the articles (Wikipedia), products (Amazon) and
  comments (Reddit), by a hash of their name; never trained on. Its questions are doubled with
  one made unanswerable each, the same two ways, so it is half unanswerable.

Examples per set, by source and kind:

```json
{sets}
```

## Training procedure

Windows of {config.max_length} tokens (question first, passage windows overlapping by
{config.stride} tokens), {config.epochs} epochs, batch {config.batch_size}, AdamW at
{config.learning_rate:g} with {config.warmup_share:.0%} linear warm-up then linear decay, weight decay
{config.weight_decay:g}, bf16 autocast on CPU, seed {config.seed}. Weights stored in float16.

Reproduce with:

```bash
{command}
```

## Evaluation (held-out dev split)

At the chosen threshold (margin {figures.threshold:.2f}, calibrated score
{figures.calibration["threshold_probability"]:.2f}), over {figures.answerable} answerable and
{figures.unanswerable} unanswerable questions:

| figure | value |
| --- | ---: |
| answerable F1 (an abstention scores 0) | {figures.answerable_f1:.3f} |
| answerable exact match | {figures.answerable_exact:.3f} |
| unanswerable accuracy (abstained) | {figures.unanswerable_accuracy:.3f} |
| overall F1 | {figures.overall_f1:.3f} |
| F1 of the best span, never abstaining | {figures.span_f1:.3f} |

| source | answerable F1 | unanswerable accuracy |
| --- | ---: | ---: |
{sources}

| unanswerable, made by | accuracy |
| --- | ---: |
{kinds}

Calibration (answers given at the threshold, by calibrated score, and the share right):

| score | answered | right |
| --- | ---: | ---: |
{bands}

## Limitations

A six-layer, 384-wide encoder: it reads one window of {config.max_length} tokens at a time and
knows English only. It was trained on encyclopedia text, forum comments and product reviews;
on other genres its threshold may sit too high or too low. Its unanswerable examples are made,
not written by people, so questions that are unanswerable in subtler ways (a false premise, a
detail the passage almost states) are harder for it than the dev figures suggest.
"""
