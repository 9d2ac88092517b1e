"""Near-duplicate lookup: the kept images' hashes, found within a Hamming distance without a full scan.

Two 64-bit hashes within distance ``t`` agree exactly on at least one of ``t + 1`` disjoint bit
ranges (pigeonhole), so :class:`HashIndex` keeps one dictionary per range and compares only the
hashes sharing a range with the new one: a collection of any size costs about one lookup per
image, not one comparison per pair.
"""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")


class HashIndex(Generic[K]):
    """Hashes of ``bits`` bits with their keys; :meth:`nearest` finds one within ``threshold`` bits."""

    def __init__(self, threshold: int, bits: int = 64) -> None:
        if not 0 <= threshold < bits:
            raise ValueError(f"threshold: expected 0 to {bits - 1} bits, got {threshold}")
        self.threshold = threshold
        parts = threshold + 1
        edges = [bits * n // parts for n in range(parts + 1)]
        self._ranges = [(low, (1 << (high - low)) - 1) for low, high in zip(edges, edges[1:], strict=False)]
        self._tables: list[dict[int, list[tuple[int, K]]]] = [{} for _ in self._ranges]

    def nearest(self, value: int) -> tuple[K, int] | None:
        """The key of the closest hash within ``threshold`` bits of ``value`` (first added on a tie),
        and the distance; None when there is none."""
        best: tuple[K, int] | None = None
        seen: set[int] = set()
        for table, (shift, mask) in zip(self._tables, self._ranges, strict=True):
            for other, key in table.get((value >> shift) & mask, ()):
                if other in seen:
                    continue
                seen.add(other)
                distance = (value ^ other).bit_count()
                if distance <= self.threshold and (best is None or distance < best[1]):
                    best = (key, distance)
        return best

    def add(self, value: int, key: K) -> None:
        """Keep ``value`` for later lookups, under ``key``."""
        for table, (shift, mask) in zip(self._tables, self._ranges, strict=True):
            table.setdefault((value >> shift) & mask, []).append((value, key))
