"""The training loop: length-bucketed batches, AdamW with linear warm-up and decay, bf16
autocast, a checkpoint every few minutes (resumed from where it stopped), dev figures each epoch."""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from qa.reader_model import SpanModel, pad_windows
from qa.training.config import TrainingConfig
from qa.training.dev import DevFigures, dev_figures, predict
from qa.training.examples import Example
from qa.training.features import Feature, features_for

CHECKPOINT_FILE = "checkpoint.pt"
HISTORY_FILE = "dev_history.jsonl"
_BUCKET_BATCHES = 50  # batches whose lengths are sorted together, to waste little on padding


def epoch_batches(
    features: Sequence[Feature], batch_size: int, seed: int, epoch: int
) -> list[list[int]]:
    """The epoch's batches of feature indices: shuffled, then grouped by similar length."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(features)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    span = batch_size * _BUCKET_BATCHES
    for first in range(0, len(order), span):
        bucket = sorted(
            order[first : first + span], key=lambda i: len(features[i].window.input_ids)
        )
        batches.extend(bucket[i : i + batch_size] for i in range(0, len(bucket), batch_size))
    rng.shuffle(batches)
    return batches


def _torch() -> Any:
    import torch

    return torch


def _seed_everything(seed: int) -> None:
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    _torch().manual_seed(seed)


def _device(name: str) -> Any:
    """The device training runs on: a CUDA GPU for "auto" when torch sees one, else the CPU."""
    torch = _torch()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def _load_base(config: TrainingConfig) -> tuple[Any, Any]:
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(config.base_model), local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(
        str(config.base_model), local_files_only=True, dtype=_torch().float32
    )
    return model, tokenizer


class Trainer:
    """One training run; ``run`` picks up from the work folder's checkpoint when there is one."""

    def __init__(self, config: TrainingConfig, train: Sequence[Example], dev: Sequence[Example]):
        torch = _torch()
        self.config = config
        self.dev = list(dev)
        _seed_everything(config.seed)
        self.model, self.tokenizer = _load_base(config)
        self.device = _device(config.device)
        self.model.to(self.device)
        self.features = features_for(self.tokenizer, train, config.max_length, config.stride)
        steps_per_epoch = math.ceil(len(self.features) / config.batch_size)
        self.total_steps = steps_per_epoch * config.epochs
        if config.max_steps is not None:
            self.total_steps = min(self.total_steps, config.max_steps)
        no_decay = ("bias", "LayerNorm.weight")
        groups = [
            {
                "params": [
                    p for n, p in self.model.named_parameters() if not any(k in n for k in no_decay)
                ],
                "weight_decay": config.weight_decay,
            },
            {
                "params": [
                    p for n, p in self.model.named_parameters() if any(k in n for k in no_decay)
                ],
                "weight_decay": 0.0,
            },
        ]
        self.optimizer = torch.optim.AdamW(groups, lr=config.learning_rate)
        warmup = max(1, int(self.total_steps * config.warmup_share))
        total = self.total_steps

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return max(0.0, (total - step) / max(1, total - warmup))

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, schedule)
        self.step = 0  # optimiser steps done, over all epochs
        self.history: list[dict[str, object]] = []
        from qa.embedding import resolve_precision

        native = self.device.type == "cuda" or resolve_precision("auto") == "bfloat16"
        self.bf16 = config.bf16 and native

    # -- checkpoints -------------------------------------------------------------------------

    def _checkpoint_path(self) -> Path:
        return self.config.work_dir / CHECKPOINT_FILE

    def save_checkpoint(self) -> None:
        torch = _torch()
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step,
            "config": self.config.as_dict(),
            "history": self.history,
            "torch_rng": torch.get_rng_state(),
        }
        path = self._checkpoint_path()
        temporary = path.with_suffix(".tmp")
        torch.save(state, temporary)
        temporary.replace(path)

    def resume(self) -> bool:
        """Load the work folder's checkpoint if it is of this run; True when it was."""
        torch = _torch()
        path = self._checkpoint_path()
        if not path.exists():
            return False
        state = torch.load(path, weights_only=False, map_location=self.device)
        saved = dict(state["config"])
        current = self.config.as_dict()
        # These may change on resume; a changed ``epochs`` re-plans the rest of the schedule
        # (the learning rate decays to zero at the new end).
        # So may how the dev split is read at the end.
        for key in (
            "max_steps",
            "checkpoint_minutes",
            "out_dir",
            "epochs",
            "open_dev_questions",
            "focus_words",
            "device",
        ):
            saved.pop(key, None)
            current.pop(key, None)
        if saved != current:
            raise ValueError(
                f"{path} is a checkpoint of another run (settings differ); "
                "use another --work-dir or delete it"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = int(state["step"])
        self.history = list(state["history"])
        torch.set_rng_state(state["torch_rng"].cpu())
        return True

    # -- the loop ----------------------------------------------------------------------------

    def _batches_from(self, step: int) -> Iterator[tuple[int, int, list[int]]]:
        """(epoch, global step, batch) from ``step`` on, so a resumed run skips what it did."""
        per_epoch = math.ceil(len(self.features) / self.config.batch_size)
        for epoch in range(step // per_epoch, self.config.epochs):
            batches = epoch_batches(self.features, self.config.batch_size, self.config.seed, epoch)
            for number, batch in enumerate(batches):
                global_step = epoch * per_epoch + number
                if global_step >= step:
                    yield epoch, global_step, batch

    def train_step(self, batch: list[int]) -> float:
        torch = _torch()
        chosen = [self.features[i] for i in batch]
        padded = pad_windows([f.window for f in chosen], int(self.tokenizer.pad_token_id or 0))
        inputs = {k: v.to(self.device) for k, v in padded.items()}
        starts = torch.tensor([f.start_position for f in chosen], device=self.device)
        ends = torch.tensor([f.end_position for f in chosen], device=self.device)
        self.model.train()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            output = self.model(**inputs, start_positions=starts, end_positions=ends)
        output.loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(output.loss.detach())

    def reader(self) -> SpanModel:
        """The model as it stands, read the way the service reads it."""
        self.model.eval()
        return SpanModel(
            self.model, self.tokenizer, max_length=self.config.max_length, stride=self.config.stride
        )

    def evaluate(self) -> DevFigures:
        return dev_figures(predict(self.reader(), self.dev))

    def run(self) -> DevFigures:
        from tqdm import tqdm

        torch = _torch()
        torch.set_num_threads(max(1, torch.get_num_threads()))
        resumed = self.resume()
        per_epoch = math.ceil(len(self.features) / self.config.batch_size)
        if resumed:
            print(
                f"train-reader: resumed at step {self.step} of {self.total_steps}",
                file=sys.stderr,
                flush=True,
            )
        bar = tqdm(
            total=self.total_steps,
            initial=self.step,
            unit="step",
            file=sys.stderr,
            mininterval=1.0 if sys.stderr.isatty() else 30.0,
            desc="train-reader",
        )
        last_save = time.monotonic()
        running = 0.0
        for epoch, global_step, batch in self._batches_from(self.step):
            if self.step >= self.total_steps:
                break
            loss = self.train_step(batch)
            running = loss if global_step == 0 else 0.98 * running + 0.02 * loss
            self.step = global_step + 1
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{running:.3f}", refresh=False)
            end_of_epoch = self.step % per_epoch == 0
            if end_of_epoch or self.step == self.total_steps:
                figures = self.evaluate()
                self._record(epoch + 1, figures)
                self.save_checkpoint()
                last_save = time.monotonic()
            elif time.monotonic() - last_save > self.config.checkpoint_minutes * 60:
                self.save_checkpoint()
                last_save = time.monotonic()
        bar.close()
        if self._last_figures is None:  # resumed after the last step: figures again
            figures = self.evaluate()
            if not self.history or self.history[-1]["step"] != self.step:
                self._record(self.step / per_epoch, figures)
                self.save_checkpoint()
            self._last_figures = figures
        return self._last_figures

    _last_figures: DevFigures | None = None

    def _record(self, epoch: float, figures: DevFigures) -> None:
        self._last_figures = figures
        entry = {"epoch": epoch, "step": self.step, **figures.as_dict()}
        self.history.append(entry)
        self.config.work_dir.mkdir(parents=True, exist_ok=True)
        with (self.config.work_dir / HISTORY_FILE).open("a") as handle:
            handle.write(json.dumps(entry) + "\n")
        print(
            f"train-reader: epoch {epoch:g} dev: answerable F1 {figures.answerable_f1:.3f}, "
            f"unanswerable accuracy {figures.unanswerable_accuracy:.3f}, overall F1 "
            f"{figures.overall_f1:.3f} (threshold {figures.threshold:.2f}; F1 of the best span "
            f"always {figures.span_f1:.3f})",
            file=sys.stderr,
            flush=True,
        )
