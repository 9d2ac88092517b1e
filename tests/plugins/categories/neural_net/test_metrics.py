"""The classification report and the confusion-matrix picture, held to scikit-learn's metrics."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image

from synapse_sdk.plugins.categories.neural_net.metrics import (
    CELL,
    MARGIN,
    classification_report,
    confusion_matrix,
    confusion_matrix_png,
)


def test_the_report_matches_scikit_learn() -> None:
    from sklearn import metrics

    rng = random.Random(3)
    labels = [rng.randrange(4) for _ in range(200)]
    predictions = [y if rng.random() < 0.7 else rng.randrange(4) for y in labels]
    predictions = [p if p != 3 else 2 for p in predictions]  # class 3 is never predicted
    classes = ["cat", "dog", "owl", "yak"]

    report = classification_report(labels, predictions, classes)

    assert report["accuracy"] == pytest.approx(metrics.accuracy_score(labels, predictions), abs=1e-6)
    assert (
        report["confusion_matrix"] == metrics.confusion_matrix(labels, predictions, labels=range(4)).tolist()
    )
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        labels, predictions, labels=range(4), zero_division=0
    )
    for index, name in enumerate(classes):
        row = report["per_class"][name]
        assert row["precision"] == pytest.approx(precision[index], abs=1e-6)
        assert row["recall"] == pytest.approx(recall[index], abs=1e-6)
        assert row["f1"] == pytest.approx(f1[index], abs=1e-6)
        assert row["support"] == support[index]
    assert report["per_class"]["yak"]["precision"] == 0.0
    macro = metrics.precision_recall_fscore_support(labels, predictions, average="macro", zero_division=0)
    assert (report["precision"], report["recall"], report["f1"]) == pytest.approx(macro[:3], abs=1e-6)


def test_labels_and_predictions_must_pair_up() -> None:
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        confusion_matrix([0, 1, 1], [0, 1], 2)


def test_the_picture_shades_each_cell_by_its_share_of_the_row(tmp_path: Path) -> None:
    matrix = [[9, 1], [0, 10]]
    path = confusion_matrix_png(matrix, ["no", "yes"], tmp_path / "out" / "matrix.png")

    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width == MARGIN + 2 * CELL + 8
        corner = (MARGIN + 2, MARGIN + 2)  # inside cell [0][0], clear of its number
        full_row = image.getpixel((MARGIN + CELL + 2, MARGIN + CELL + 2))  # cell [1][1]: 100% of its row
        assert image.getpixel(corner) == (75, 75, 255)  # 90%: deep blue on the diagonal
        assert full_row == (55, 55, 255)
        assert image.getpixel((MARGIN + CELL + 2, MARGIN + 2)) == (
            255,
            235,
            235,
        )  # 10% off the diagonal: pale red
        assert image.getpixel((MARGIN + 2, MARGIN + CELL + 2)) == (255, 255, 255)  # 0%: white


def test_the_picture_needs_a_square_matrix_of_the_classes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected 3x3 for 3 classes"):
        confusion_matrix_png([[1, 0], [0, 1]], ["a", "b", "c"], tmp_path / "m.png")
