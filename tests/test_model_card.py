"""The model card tells every round of training the shipped weights went through."""

from __future__ import annotations

from pathlib import Path

from qa.training.card import describe_model, earlier_rounds
from qa.training.config import TrainingConfig
from qa.training.dev import DevFigures


def figures(answerable_f1: float) -> DevFigures:
    return DevFigures(
        threshold=1.5,
        answerable_f1=answerable_f1,
        answerable_exact=answerable_f1 - 0.1,
        unanswerable_accuracy=0.85,
        overall_f1=0.7,
        span_f1=answerable_f1 + 0.1,
        answerable=20,
        unanswerable=20,
        by_source={"wiki": {"answerable_f1": answerable_f1, "unanswerable_accuracy": 0.85}},
        by_kind={"edited": 0.8, "retrieved": 0.9},
        bands=[{"low": 0.0, "high": 0.5, "answered": 0, "right": 0.0}],
        calibration={"slope": 0.3, "intercept": -0.9, "threshold_probability": 0.4},
    )


def train_round(folder: Path, base: Path, command: str, use_qamr: bool, f1: float) -> None:
    config = TrainingConfig(
        data_dir=Path("data"), out_dir=folder, work_dir=folder / "work", base_model=base
    )
    config = TrainingConfig(**{**config.__dict__, "use_qamr": use_qamr})
    folder.mkdir()
    describe_model(
        folder, figures(f1), figures(f1 - 0.2), config, command, {}, earlier_rounds(base)
    )


def test_the_card_lists_every_earlier_round_in_order(tmp_path: Path) -> None:
    encoder = tmp_path / "encoder"  # no training record: the first round
    first, second, third = tmp_path / "r1", tmp_path / "r2", tmp_path / "r3"
    train_round(first, encoder, "qa train-reader --seed 1", use_qamr=True, f1=0.51)
    train_round(second, first, "qa train-reader --seed 2 --base-model r1", use_qamr=False, f1=0.52)
    train_round(third, second, "qa train-reader --seed 3 --base-model r2", use_qamr=False, f1=0.53)

    assert earlier_rounds(encoder) == []
    assert [r["command"] for r in earlier_rounds(third)] == [
        "qa train-reader --seed 1",
        "qa train-reader --seed 2 --base-model r1",
        "qa train-reader --seed 3 --base-model r2",
    ]
    card = (third / "README.md").read_text()
    one, two = card.index("--seed 1"), card.index("--seed 2 --base-model r1")
    assert one < two < card.index("Reproduce with")
    assert "dev answerable F1 0.510" in card and "dev answerable F1 0.520" in card
    # Only the first round read QAMR, and the card still names it among the data.
    assert "QAMR" in card and "- qamr" in card
    assert "earlier rounds" not in (first / "README.md").read_text()
