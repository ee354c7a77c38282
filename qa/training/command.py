"""``qa train-reader``: build the sets, train (resuming from the work folder), export the model."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from qa.training.config import TrainingConfig

if TYPE_CHECKING:
    from qa.reader_model import SpanModel
    from qa.training.dev import DevFigures
    from qa.training.examples import Example

DEFAULT_DATA_DIR = Path("../shared/datasets")
DEFAULT_OUT_DIR = Path("models/reader")
DEFAULT_WORK_DIR = Path(".train/reader")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = TrainingConfig(Path(), Path(), Path(), Path())
    parser.add_argument(
        "--data",
        default=str(DEFAULT_DATA_DIR),
        help="the datasets folder (squadshifts/, qamr/); default ../shared/datasets",
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT_DIR),
        help="where the model folder goes (default models/reader)",
    )
    parser.add_argument(
        "--work-dir",
        default=str(DEFAULT_WORK_DIR),
        help="cached sets and checkpoints (default .train/reader); "
        "a run resumes from its checkpoint",
    )
    parser.add_argument(
        "--base-model",
        default="",
        help="the encoder to start from (default: the bundled all-MiniLM-L6-v2)",
    )
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--max-length", type=int, default=defaults.max_length)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--negative-share",
        type=float,
        default=defaults.negative_share,
        help="share of training examples made unanswerable",
    )
    parser.add_argument(
        "--dev-share",
        type=float,
        default=defaults.dev_share,
        help="share of articles and sources held out for dev",
    )
    parser.add_argument("--no-qamr", action="store_true", help="train on SQuADShifts only")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="at most this many questions per dataset file (smoke runs)",
    )
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument(
        "--open-dev-questions",
        type=int,
        default=defaults.open_dev_questions,
        help="answerable dev questions read over retrieved passages at the end (default 600)",
    )
    parser.add_argument("--checkpoint-minutes", type=float, default=defaults.checkpoint_minutes)
    parser.add_argument(
        "--device",
        default=defaults.device,
        choices=["auto", "cpu", "cuda"],
        help="where to train: auto (default) takes a CUDA GPU when torch sees one",
    )
    parser.add_argument(
        "--focus-words",
        type=int,
        default=None,
        help="the window read of each passage in the open dev reading (default: the service's "
        "QA_READER_FOCUS_WORDS)",
    )
    parser.add_argument(
        "--calibrate-only",
        action="store_true",
        help="do not train: read the dev split again with the model already in --out (the same "
        "data and seed options as its training) and rewrite its threshold, calibration and card",
    )


def config_from(args: argparse.Namespace) -> TrainingConfig:
    base = args.base_model
    if not base:
        from qa.settings import Settings

        base = Settings().resolved_model_path()
    return TrainingConfig(
        data_dir=Path(args.data),
        out_dir=Path(args.out),
        work_dir=Path(args.work_dir),
        base_model=Path(base),
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_length=args.max_length,
        seed=args.seed,
        negative_share=args.negative_share,
        dev_share=args.dev_share,
        use_qamr=not args.no_qamr,
        limit=args.limit,
        max_steps=args.max_steps,
        open_dev_questions=args.open_dev_questions,
        checkpoint_minutes=args.checkpoint_minutes,
        device=args.device,
        focus_words=_focus_words(args.focus_words),
    )


def _cuda_visible() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _focus_words(given: int | None) -> int:
    if given is not None:
        return given
    from qa.settings import Settings

    return Settings().reader_focus_words


def run(args: argparse.Namespace) -> int:
    from qa.training.card import export_model
    from qa.training.data import build_sets
    from qa.training.loop import Trainer

    config = config_from(args)
    if not (config.data_dir / "squadshifts").is_dir():
        print(
            f"qa train-reader: no squadshifts/ folder in {config.data_dir} (use --data DIR)",
            file=sys.stderr,
        )
        return 2
    if config.device == "cuda" and not _cuda_visible():
        print(
            "qa train-reader: --device cuda, but torch sees no CUDA GPU here "
            "(use --device auto or cpu)",
            file=sys.stderr,
        )
        return 2
    config.work_dir.mkdir(parents=True, exist_ok=True)
    sets = build_sets(config)
    summary = sets.summary()
    print(f"train-reader: sets {summary}", file=sys.stderr, flush=True)
    if args.calibrate_only:
        return _calibrate_only(config, sets.dev)
    trainer = Trainer(config, sets.train, sets.dev)
    figures = trainer.run()
    open_figures = _open_dev(trainer.reader(), sets.dev, config)
    trainer.model.to("cpu")  # the folder is written from, and loads onto, the CPU
    command = "qa train-reader " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    out = export_model(
        trainer.model, trainer.tokenizer, figures, open_figures, config, command.strip(), summary
    )
    print(
        f"train-reader: model written to {out} (dev answerable F1 {figures.answerable_f1:.3f}, "
        f"unanswerable accuracy {figures.unanswerable_accuracy:.3f})",
        file=sys.stderr,
    )
    return 0


def _open_dev(model: SpanModel, dev: list[Example], config: TrainingConfig) -> DevFigures:
    from qa.embedding import load_embedder
    from qa.settings import Settings
    from qa.training.open_dev import open_dev_figures

    print(
        "train-reader: the dev split read as the service reads it (retrieved passages)",
        file=sys.stderr,
        flush=True,
    )
    settings = Settings()
    figures = open_dev_figures(
        model,
        dev,
        load_embedder(settings.resolved_model_path()),
        settings.fusion_dense_weight,
        config.open_dev_questions,
        config.focus_words,
    )
    print(
        f"train-reader: open dev: answerable F1 {figures.answerable_f1:.3f}, "
        f"unanswerable accuracy {figures.unanswerable_accuracy:.3f}, "
        f"overall F1 {figures.overall_f1:.3f}",
        file=sys.stderr,
        flush=True,
    )
    return figures


def _calibrate_only(config: TrainingConfig, dev: list[Example]) -> int:
    from qa.reader_model import SpanModel
    from qa.training.card import recalibrate

    if not (config.out_dir / "training_summary.json").exists():
        print(
            f"qa train-reader: {config.out_dir} holds no trained model (no training_summary.json)",
            file=sys.stderr,
        )
        return 2
    model = SpanModel.load(config.out_dir, max_length=config.max_length, stride=config.stride)
    recalibrate(config.out_dir, _open_dev(model, dev, config), config)
    print(
        f"train-reader: threshold, calibration and card of {config.out_dir} rewritten",
        file=sys.stderr,
    )
    return 0
