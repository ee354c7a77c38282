"""The held-out dev split: whole articles or sources, chosen by a hash so it never moves."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from qa.training.examples import Example


def in_dev(group: str, dev_share: float) -> bool:
    """Whether an article or source belongs to the dev split (stable across runs and seeds)."""
    digest = hashlib.sha256(group.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < dev_share


def split_by_group(
    examples: Sequence[Example], dev_share: float
) -> tuple[list[Example], list[Example]]:
    """(train, dev): no article or source has questions in both."""
    train = [e for e in examples if not in_dev(e.group, dev_share)]
    dev = [e for e in examples if in_dev(e.group, dev_share)]
    return train, dev
