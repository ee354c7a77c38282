"""Every setting of a training run, in one record (written into the model card)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrainingConfig:
    data_dir: Path  # the shared datasets folder (squadshifts/, qamr/)
    out_dir: Path  # where the finished model folder is written
    work_dir: Path  # cached sets, checkpoints, the dev history
    base_model: Path  # the encoder the span head is put on
    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 8e-5
    warmup_share: float = 0.06
    weight_decay: float = 0.01
    max_length: int = 256
    stride: int = 64
    seed: int = 13
    negative_share: float = 0.33  # of the training examples, how many are unanswerable
    dev_share: float = 0.1  # of the articles and sources, how many are held out
    use_qamr: bool = True
    limit: int | None = None  # at most this many questions per dataset file (smoke runs)
    max_steps: int | None = None  # stop early (smoke runs)
    open_dev_questions: int = 600  # answerable dev questions read as the service reads them
    focus_words: int = 0  # the window the service reads of each passage (0: whole passages)
    checkpoint_minutes: float = 10.0
    bf16: bool = True  # autocast where the CPU has native bf16, and on a GPU
    device: str = "auto"  # "cpu", "cuda", or "auto": a CUDA GPU when torch sees one

    def as_dict(self) -> dict[str, object]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
