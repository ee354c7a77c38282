"""The baseline gate of `qa eval --check`: the figures `--write-baseline` saves, reading them
back, and the gated figures that fell by more than the tolerance."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from qa.evaluation.figures import GATED_FIGURES, Figures

DEFAULT_TOLERANCE = 0.02


class BaselineFileError(ValueError):
    """The baseline file cannot be read as figures."""


@dataclass(frozen=True)
class Regression:
    """A gated figure that fell by more than the tolerance."""

    figure: str
    baseline: float
    current: float
    tolerance: float

    def describe(self) -> str:
        return (
            f"{self.figure} fell: {self.baseline:.3f} -> {self.current:.3f} "
            f"(tolerance {self.tolerance:.3f})"
        )


def baseline_figures(figures: Figures, tolerance: float = DEFAULT_TOLERANCE) -> dict[str, float]:
    """What `--write-baseline` saves: the gated figures, the tolerance, and a few for context."""
    saved: dict[str, float] = {}
    for name in (*GATED_FIGURES, "list_precision", "list_recall", "recall_at_1", "recall_at_10"):
        value = getattr(figures, name)
        if value is not None:
            saved[name] = round(value, 4)
    saved["tolerance"] = tolerance
    saved["questions"] = figures.questions
    return saved


def load_baseline(path: Path) -> dict[str, float]:
    if not path.exists():
        raise FileNotFoundError(
            f"no baseline at {path}: run `qa eval --write-baseline` to record one"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise BaselineFileError(f"{path}: not JSON ({error})") from error
    if not isinstance(raw, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in raw.values()
    ):
        raise BaselineFileError(f"{path}: expected an object of figures (numbers)")
    return {str(k): float(v) for k, v in raw.items()}


def check_against_baseline(current: Figures, baseline: Mapping[str, float]) -> list[Regression]:
    """The gated figures that are worse than the baseline by more than its tolerance.

    Worse means lower, except for the false-abstention rate where it means higher. A figure
    missing on either side is not compared.
    """
    tolerance = float(baseline.get("tolerance", DEFAULT_TOLERANCE))
    regressions = []
    for name, higher_is_better in GATED_FIGURES.items():
        before, now = baseline.get(name), getattr(current, name)
        if before is None or now is None:
            continue
        drop = before - now if higher_is_better else now - before
        if drop > tolerance + 1e-9:  # the epsilon keeps a drop of exactly the tolerance passing
            regressions.append(Regression(name, before, now, tolerance))
    return regressions
