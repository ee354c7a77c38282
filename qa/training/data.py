"""The training and dev sets, built once from the shared datasets and cached in the work folder
(the cache is keyed by everything that changes it, so a changed setting builds afresh)."""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import sys
from collections import Counter
from dataclasses import dataclass

from qa.training.config import TrainingConfig
from qa.training.examples import SQUADSHIFTS_FILES, Example, read_qamr, read_squadshifts
from qa.training.negatives import edited_negatives, retrieved_negatives, with_negatives
from qa.training.split import split_by_group

DEV_NEGATIVE_SHARE = 0.5  # the dev split is half unanswerable, as real questions may be


@dataclass(frozen=True)
class TrainingSets:
    train: list[Example]
    dev: list[Example]

    def summary(self) -> dict[str, object]:
        def counts(examples: list[Example]) -> dict[str, int]:
            return dict(sorted(Counter(f"{e.source}/{e.kind}" for e in examples).items()))

        return {"train": counts(self.train), "dev": counts(self.dev)}


def _cache_key(config: TrainingConfig) -> str:
    fields = {
        "data": str(config.data_dir.resolve()),
        "qamr": config.use_qamr,
        "share": config.negative_share,
        "dev_share": config.dev_share,
        "seed": config.seed,
        "limit": config.limit,
        "version": 1,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def _read_all(config: TrainingConfig) -> list[Example]:
    examples: list[Example] = []
    for source in SQUADSHIFTS_FILES:
        if (config.data_dir / SQUADSHIFTS_FILES[source]).exists():
            examples.extend(read_squadshifts(config.data_dir, source, config.limit))
    if not examples:
        raise FileNotFoundError(f"no SQuADShifts files under {config.data_dir}/squadshifts")
    return examples


def build_sets(config: TrainingConfig) -> TrainingSets:
    """Train and dev examples with their made negatives, from the cache when it is there."""
    cache = config.work_dir / f"sets-{_cache_key(config)}.pickle"
    if cache.exists():
        with cache.open("rb") as handle:
            sets: TrainingSets = pickle.load(handle)
        return sets
    from qa.embedding import load_embedder
    from qa.settings import Settings

    rng = random.Random(config.seed)
    squad = _read_all(config)
    train, dev = split_by_group(squad, config.dev_share)
    print(
        f"train-reader: {len(train)} training and {len(dev)} dev questions; making "
        "unanswerable ones (retrieval and question edits)",
        file=sys.stderr,
        flush=True,
    )
    embedder = load_embedder(Settings().resolved_model_path())
    weight = Settings().fusion_dense_weight
    made_train = with_negatives(
        train,
        retrieved_negatives(train, embedder, weight),
        edited_negatives(train, rng),
        config.negative_share,
        rng,
    )
    made_dev = with_negatives(
        dev,
        retrieved_negatives(dev, embedder, weight),
        edited_negatives(dev, rng),
        DEV_NEGATIVE_SHARE,
        rng,
    )
    qamr_dir = config.data_dir / "qamr"
    if config.use_qamr and qamr_dir.exists():
        qamr = read_qamr(config.data_dir, config.limit)
        qamr_train, _ = split_by_group(qamr, 0.0)
        # QAMR's contexts are single sentences: its negatives are other questions' sentences
        # of the same article, found by the same retriever.
        made_train += with_negatives(
            qamr_train,
            retrieved_negatives(qamr_train, embedder, weight),
            edited_negatives(qamr_train, rng),
            config.negative_share,
            rng,
        )
    sets = TrainingSets(made_train, made_dev)
    config.work_dir.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        pickle.dump(sets, handle)
    temporary.replace(cache)
    return sets
