"""Agreement between annotators: box IoU, greedy box matching, Cohen's and Fleiss' kappa.

Pure functions on plain numbers, so each can be checked by hand:

- ``iou(a, b)`` of two ``[x, y, width, height]`` boxes: intersection area / union area.
- ``match_greedy(first, second, threshold)``: pairs of box indexes, highest IoU first, each box
  in at most one pair, pairs below ``threshold`` left out (greedy, not Hungarian: scipy is not a
  dependency of the SDK, and for the few boxes of one image greedy rarely differs).
- ``cohen_kappa(a, b)``: ``(p_o - p_e) / (1 - p_e)`` for two raters' labels of the same units,
  ``p_o`` the share of units they label alike, ``p_e = sum_k p_a(k) * p_b(k)``.
- ``fleiss_kappa(ratings)``: for ``N`` units each rated by ``n`` raters, ``P_i = (sum_k n_ik^2 - n)
  / (n (n - 1))``, ``P = mean P_i``, ``p_k = sum_i n_ik / (N n)``, ``P_e = sum_k p_k^2``,
  ``kappa = (P - P_e) / (1 - P_e)``.

Both kappas are 1.0 when chance agreement is 1 (every rating the same label: perfect
agreement), and None for no units at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

#: A box: ``[x, y, width, height]`` in pixels from the top-left corner.
Box = Sequence[float]


def iou(a: Box, b: Box) -> float:
    """The intersection over union of two ``[x, y, width, height]`` boxes (0.0 when apart)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = min(ax + aw, bx + bw) - max(ax, bx)
    height = min(ay + ah, by + bh) - max(ay, by)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def match_greedy(
    first: Sequence[Box], second: Sequence[Box], threshold: float
) -> list[tuple[int, int, float]]:
    """``(i, j, iou)`` pairs matching boxes of ``first`` to boxes of ``second``: the highest IoU
    pair first, each box used once, pairs with IoU below ``threshold`` (or 0) left out; ties go to
    the lower indexes, so the result depends only on the boxes."""
    candidates = sorted(
        ((iou(a, b), i, j) for i, a in enumerate(first) for j, b in enumerate(second)),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    used_first: set[int] = set()
    used_second: set[int] = set()
    pairs = []
    for value, i, j in candidates:
        if value <= 0 or value < threshold:
            break
        if i in used_first or j in used_second:
            continue
        used_first.add(i)
        used_second.add(j)
        pairs.append((i, j, value))
    return sorted(pairs)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters' labels of the same units (see the module docstring)."""
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa: the raters labelled {len(a)} and {len(b)} units; give the same units")
    total = len(a)
    if not total:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / total
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in count_a) / (total * total)
    if expected >= 1:
        return 1.0
    return (observed - expected) / (1 - expected)


def fleiss_kappa(ratings: Sequence[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa of units each rated by the same number of raters (one label list per unit)."""
    if not ratings:
        return None
    raters = len(ratings[0])
    if raters < 2 or any(len(unit) != raters for unit in ratings):
        raise ValueError("fleiss_kappa: every unit needs the same number (2 or more) of ratings")
    units = len(ratings)
    totals: Counter[Hashable] = Counter()
    agreement = 0.0
    for unit in ratings:
        counts = Counter(unit)
        totals.update(counts)
        agreement += (sum(c * c for c in counts.values()) - raters) / (raters * (raters - 1))
    mean = agreement / units
    expected = sum((c / (units * raters)) ** 2 for c in totals.values())
    if expected >= 1:
        return 1.0
    return (mean - expected) / (1 - expected)


def kappa(ratings: Sequence[Sequence[Hashable]]) -> float | None:
    """Cohen's kappa for two raters, Fleiss' for more: ``ratings`` holds one label list per unit;
    None when there is nothing to compare (no unit, or one rater)."""
    if not ratings or len(ratings[0]) < 2:
        return None
    if len(ratings[0]) == 2:
        return cohen_kappa([unit[0] for unit in ratings], [unit[1] for unit in ratings])
    return fleiss_kappa(ratings)
