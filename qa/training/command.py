"""``qa train-reader``: build the sets, train (resuming from the work folder), export the model."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from qa.training.config import TrainingConfig

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
    )


def run(args: argparse.Namespace) -> int:
    from qa.embedding import load_embedder
    from qa.settings import Settings
    from qa.training.card import export_model
    from qa.training.data import build_sets
    from qa.training.loop import Trainer
    from qa.training.open_dev import open_dev_figures

    config = config_from(args)
    if not (config.data_dir / "squadshifts").is_dir():
        print(
            f"qa train-reader: no squadshifts/ folder in {config.data_dir} (use --data DIR)",
            file=sys.stderr,
        )
        return 2
    config.work_dir.mkdir(parents=True, exist_ok=True)
    sets = build_sets(config)
    summary = sets.summary()
    print(f"train-reader: sets {summary}", file=sys.stderr, flush=True)
    trainer = Trainer(config, sets.train, sets.dev)
    figures = trainer.run()
    print(
        "train-reader: the dev split read as the service reads it (retrieved passages)",
        file=sys.stderr,
        flush=True,
    )
    settings = Settings()
    open_figures = open_dev_figures(
        trainer.reader(),
        sets.dev,
        load_embedder(settings.resolved_model_path()),
        settings.fusion_dense_weight,
        config.open_dev_questions,
    )
    print(
        f"train-reader: open dev: answerable F1 {open_figures.answerable_f1:.3f}, "
        f"unanswerable accuracy {open_figures.unanswerable_accuracy:.3f}",
        file=sys.stderr,
        flush=True,
    )
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
