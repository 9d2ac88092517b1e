"""How well a classifier does, in plain Python: accuracy, per-class precision/recall/F1, the confusion
matrix, and the matrix drawn as a PNG with Pillow (no plotting library)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Pixels of one cell of the drawn matrix, and of the margin holding the class names.
CELL = 36
MARGIN = 64


def confusion_matrix(labels: Sequence[int], predictions: Sequence[int], num_classes: int) -> list[list[int]]:
    """``matrix[true][predicted]``: how many items of each true class got each predicted class."""
    if len(labels) != len(predictions):
        raise ValueError(f"labels and predictions: {len(labels)} labels but {len(predictions)} predictions")
    matrix = [[0] * num_classes for _ in range(num_classes)]
    for truth, guess in zip(labels, predictions, strict=True):
        matrix[truth][guess] += 1
    return matrix


def classification_report(
    labels: Sequence[int], predictions: Sequence[int], classes: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1, the same per class (with its support) and the confusion matrix.

    A class never predicted has precision 0; one with no items, recall 0 (as scikit-learn's
    ``zero_division=0``).
    """
    matrix = confusion_matrix(labels, predictions, len(classes))
    per_class: dict[str, dict[str, float | int]] = {}
    for index, name in enumerate(classes):
        hits = matrix[index][index]
        predicted = sum(row[index] for row in matrix)
        support = sum(matrix[index])
        precision = hits / predicted if predicted else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {
            "precision": round(precision, 6),
            "recall": round(recall, 6),
            "f1": round(f1, 6),
            "support": support,
        }
    count = len(classes) or 1
    return {
        "accuracy": round(sum(matrix[i][i] for i in range(len(classes))) / max(len(labels), 1), 6),
        "precision": round(sum(float(c["precision"]) for c in per_class.values()) / count, 6),
        "recall": round(sum(float(c["recall"]) for c in per_class.values()) / count, 6),
        "f1": round(sum(float(c["f1"]) for c in per_class.values()) / count, 6),
        "per_class": per_class,
        "confusion_matrix": matrix,
        "classes": list(classes),
    }


def confusion_matrix_png(matrix: Sequence[Sequence[int]], classes: Sequence[str], path: str | Path) -> Path:
    """Draw ``matrix`` (rows: true class, columns: predicted) as a PNG: each cell shaded by its share of
    its row, with its count; returns the path."""
    from PIL import Image, ImageDraw

    size = len(classes)
    if len(matrix) != size or any(len(row) != size for row in matrix):
        raise ValueError(f"matrix: expected {size}x{size} for {size} classes")
    side = MARGIN + size * CELL + 8
    image = Image.new("RGB", (side, side + 16), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 4), "predicted", fill="black")
    draw.text((4, MARGIN - 14), "true", fill="black")
    for index, name in enumerate(classes):
        label = str(name)[:8]
        draw.text((MARGIN + index * CELL + 4, MARGIN - 30), label, fill="black")
        draw.text((4, MARGIN + index * CELL + CELL // 3), label, fill="black")
    for row, counts in enumerate(matrix):
        total = sum(counts) or 1
        for column, count in enumerate(counts):
            share = count / total
            shade = int(255 - 200 * share)
            colour = (shade, shade, 255) if row == column else (255, shade, shade)
            x, y = MARGIN + column * CELL, MARGIN + row * CELL
            draw.rectangle((x, y, x + CELL - 1, y + CELL - 1), fill=colour, outline=(200, 200, 200))
            draw.text((x + 6, y + CELL // 3), str(count), fill="black" if share < 0.6 else "white")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path
