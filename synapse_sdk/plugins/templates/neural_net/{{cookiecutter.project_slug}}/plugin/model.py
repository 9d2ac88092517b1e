"""A tiny logistic-regression model in plain Python, so the example actions run anywhere, and
how the actions find their files.

A path param left unset reads the sample shipped in ``sample_data/``; a path the user passes is
taken as given, relative to the folder they ran the command from. What an action writes goes to
its run's folder (``self.run.path``) unless a param names another place, never into the plugin
folder: a published release is read-only.

Replace the model with your framework (PyTorch, scikit-learn, ...) and list that in requirements.txt.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

#: The small inputs shipped with the plugin: what a path param left unset reads.
SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"

Point = tuple[list[float], int]
Model = dict[str, list[float] | float]

#: The description of ``model_path``, shared by every action that reads a model.
MODEL_PATH_HELP = (
    "The model to use: a model.json file, or a folder holding one (the model_path a train run returns, "
    "or that run's folder); relative to the current folder. Default: the bundled sample_data/model.json."
)
#: The description of ``dataset_path``, shared by every action that reads a dataset.
DATASET_PATH_HELP = (
    "A CSV file with x1,x2,label columns; relative to the current folder. "
    "Default: the bundled sample_data/points.csv."
)


def user_path(path: str) -> Path:
    """A path the user passed: absolute as given, relative to the current folder (where they ran
    the command) otherwise; never relative to the plugin folder."""
    return Path(path).expanduser().resolve()


def input_path(path: str | None, sample: str) -> Path:
    """The file a path param names: the bundled ``sample_data/<sample>`` when the param is unset."""
    return SAMPLE_DATA / sample if path is None else user_path(path)


def model_file(path: str | None) -> Path:
    """The model file ``model_path`` names: the bundled sample when unset, ``model.json`` in a folder."""
    file = input_path(path, "model.json")
    return file / "model.json" if file.is_dir() else file


def output_path(path: str | None, default: Path) -> Path:
    """Where to write what a path param names: ``default`` (in the run's folder) when it is unset."""
    return default if path is None else user_path(path)


def load_points(path: Path) -> list[Point]:
    """Read ``x1,x2,label`` rows from a CSV file with a header."""
    with path.open(newline="", encoding="utf-8") as f:
        return [([float(row["x1"]), float(row["x2"])], int(row["label"])) for row in csv.DictReader(f)]


def new_model(features: int = 2) -> Model:
    """A model with zero weights."""
    return {"weights": [0.0] * features, "bias": 0.0}


def predict_proba(model: Model, x: list[float]) -> float:
    """The probability that ``x`` belongs to class 1."""
    z = sum(w * v for w, v in zip(model["weights"], x, strict=True)) + model["bias"]
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def evaluate(model: Model, points: list[Point]) -> dict[str, float]:
    """Mean log loss, accuracy, precision and recall of ``model`` on ``points``."""
    loss, tp, fp, fn, correct = 0.0, 0, 0, 0, 0
    for x, y in points:
        p = min(max(predict_proba(model, x), 1e-9), 1 - 1e-9)
        loss -= y * math.log(p) + (1 - y) * math.log(1 - p)
        guess = int(p >= 0.5)
        correct += guess == y
        tp += guess == 1 and y == 1
        fp += guess == 1 and y == 0
        fn += guess == 0 and y == 1
    n = max(len(points), 1)
    return {
        "loss": round(loss / n, 6),
        "accuracy": round(correct / n, 6),
        "precision": round(tp / (tp + fp), 6) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 6) if tp + fn else 0.0,
    }


def train_epoch(model: Model, points: list[Point], learning_rate: float) -> dict[str, float]:
    """One full-batch gradient step; returns the metrics after it."""
    grads, grad_b = [0.0] * len(model["weights"]), 0.0
    for x, y in points:
        error = predict_proba(model, x) - y
        grads = [g + error * v for g, v in zip(grads, x, strict=True)]
        grad_b += error
    n = len(points)
    model["weights"] = [w - learning_rate * g / n for w, g in zip(model["weights"], grads, strict=True)]
    model["bias"] -= learning_rate * grad_b / n
    return evaluate(model, points)


def save_model(model: Model, path: Path) -> Path:
    """Write the model as JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    return path


def load_model(path: Path) -> Model:
    """Read a model written by ``save_model``; a clear error if the file is not one."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no model here; pass the model_path a train run returned")
    model = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(model, dict) or "weights" not in model or "bias" not in model:
        raise ValueError(f"{path}: not a model file (expected 'weights' and 'bias')")
    return model
