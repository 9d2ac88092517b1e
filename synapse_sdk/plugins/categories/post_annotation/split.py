"""The seeded train/val/test split of a ground-truth version, by image.

Items are split by **group**: the checksum of the data unit's primary file (the data unit id
when it has none), so the same image, even in two data units, never lands in two splits.
Groups are ranked by ``sha256(f"{seed}:{group}")``; the first ``round(n x val)`` go to val, the
next ``round(n x test)`` to test, the rest to train, as the COCO import splits train/val. The
split depends only on the groups and the seed, never on the order of the items or their ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

#: The split names, in the order a version lists them.
SPLITS = ("train", "val", "test")


def split_groups(groups: Sequence[str], fractions: Mapping[str, float], seed: int) -> dict[str, str]:
    """``group -> split`` for the distinct ``groups``: ``round(n x fractions[s])`` val and test, the
    rest train (``fractions`` has ``train``, ``val``, ``test`` summing to 1)."""
    distinct = sorted(set(groups))
    ranked = sorted(distinct, key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).digest())
    val = round(len(ranked) * fractions.get("val", 0.0))
    test = min(round(len(ranked) * fractions.get("test", 0.0)), len(ranked) - val)
    chosen = {}
    for rank, group in enumerate(ranked):
        chosen[group] = "val" if rank < val else "test" if rank < val + test else "train"
    return chosen
