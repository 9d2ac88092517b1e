"""The model every action of this plugin shares: a small PyTorch CNN for 8x8 grayscale images.

One preprocessing (``to_tensor``) for training, testing and serving; one training loop
(``train_epoch``) and one evaluation (``evaluate``); ``save_model`` writes a file that
``load_predictor`` turns back into something that predicts classes from images. The class
names are not fixed here: they come from the ground-truth dataset the model is trained on.

Replace ``build_model`` with your own network; keep the functions' signatures and every action
keeps working.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import nn

#: The side of the square images the model reads (larger images are cropped to the ink and shrunk).
IMAGE_SIZE = 8
#: What a saved model file says it is, so that ``load_predictor`` refuses any other file clearly.
FORMAT = "synapse-digits-cnn/1"


def build_model(
    num_classes: int, *, channels: int = 32, hidden: int = 128, dropout: float = 0.25
) -> nn.Module:
    """A two-convolution CNN for ``IMAGE_SIZE`` x ``IMAGE_SIZE`` grayscale images.

    ``channels`` (first convolution; the second has twice as many), ``hidden`` (units of the
    dense layer) and ``dropout`` are the hyperparameters a train or tune run may set.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes: a classifier needs at least 2 classes, got {num_classes}")
    return nn.Sequential(
        nn.Conv2d(1, channels, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(2 * channels * (IMAGE_SIZE // 2) ** 2, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    )


def to_tensor(images: Sequence[Image.Image]) -> torch.Tensor:
    """Images as one float tensor ``(N, 1, 8, 8)`` in [0, 1], ink bright: the only preprocessing.

    The training images are 8x8 with bright ink on a dark ground. Any other image (a photo or a
    drawing, RGB or with transparency) is made alike: flattened onto white, turned to grayscale,
    inverted when its ground is light, cropped to a square around the ink and shrunk to 8x8.
    """
    if not images:
        return torch.zeros((0, 1, IMAGE_SIZE, IMAGE_SIZE))
    rows = [torch.frombuffer(bytearray(_grayscale(image).tobytes()), dtype=torch.uint8) for image in images]
    return torch.stack(rows).reshape(len(rows), 1, IMAGE_SIZE, IMAGE_SIZE).float() / 255.0


def _grayscale(image: Image.Image) -> Image.Image:
    """One image as 8x8 grayscale with bright ink (see ``to_tensor``)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        ground = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(ground, image.convert("RGBA"))
    gray = image.convert("L")
    if gray.size == (IMAGE_SIZE, IMAGE_SIZE):
        return gray
    pixels = gray.tobytes()
    if sum(pixels) / len(pixels) > 127:
        gray = gray.point(lambda value: 255 - value)
    box = gray.point(lambda value: 255 if value > 40 else 0).getbbox()
    if box is not None:
        left, top, right, bottom = box
        side = max(right - left, bottom - top)
        side += side // 8  # a margin, as the training digits have
        x, y = (left + right - side) // 2, (top + bottom - side) // 2
        gray = gray.crop((x, y, x + side, y + side))
    return gray.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)


def make_loader(
    images: Sequence[Image.Image],
    labels: Sequence[int],
    batch_size: int = 64,
    *,
    shuffle: bool = False,
    seed: int = 0,
) -> torch.utils.data.DataLoader[tuple[torch.Tensor, ...]]:
    """Batches of ``(images, labels)`` tensors; ``shuffle`` reorders each epoch, alike for one ``seed``."""
    dataset = torch.utils.data.TensorDataset(to_tensor(images), torch.tensor(list(labels), dtype=torch.long))
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


def train_epoch(
    model: nn.Module,
    loader: torch.utils.data.DataLoader[Any],
    optimizer: torch.optim.Optimizer,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """One pass over ``loader``; ``on_batch(done, total)`` after each batch. Mean loss and accuracy."""
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    total_loss, correct, seen, batches = 0.0, 0, 0, len(loader)
    for done, (inputs, labels) in enumerate(loader, start=1):
        optimizer.zero_grad()
        logits = model(inputs)
        loss = loss_fn(logits, labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)
        correct += int((logits.argmax(dim=1) == labels).sum())
        seen += len(labels)
        if on_batch is not None:
            on_batch(done, batches)
    return {"loss": total_loss / max(seen, 1), "accuracy": correct / max(seen, 1)}


@torch.no_grad()
def evaluate(model: nn.Module, loader: torch.utils.data.DataLoader[Any]) -> dict[str, Any]:
    """Mean loss and accuracy over ``loader``, with each item's predicted and true class index
    (``predictions``, ``labels``) in the loader's order."""
    model.eval()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    total_loss, predictions, truth = 0.0, [], []
    for inputs, labels in loader:
        logits = model(inputs)
        total_loss += float(loss_fn(logits, labels))
        predictions += logits.argmax(dim=1).tolist()
        truth += labels.tolist()
    correct = sum(p == t for p, t in zip(predictions, truth, strict=True))
    seen = max(len(truth), 1)
    return {
        "loss": total_loss / seen,
        "accuracy": correct / seen,
        "predictions": predictions,
        "labels": truth,
    }


def save_model(path: str | Path, model: nn.Module, classes: Sequence[str], config: dict[str, Any]) -> Path:
    """Write the model's weights, its class names and the ``build_model`` hyperparameters it was
    built with (``config``) to one file, atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": FORMAT,
        "classes": list(classes),
        "config": dict(config),
        "state_dict": model.state_dict(),
    }
    partial = path.with_name(f".{path.name}.partial")
    torch.save(state, partial)
    os.replace(partial, path)
    return path


class Predictor:
    """A trained model ready to predict: ``classes`` and ``predict(images)``."""

    def __init__(self, model: nn.Module, classes: Sequence[str], config: dict[str, Any]) -> None:
        self.model = model.eval()
        self.classes = list(classes)
        self.config = dict(config)

    @torch.no_grad()
    def predict(self, images: Sequence[Image.Image]) -> list[dict[str, Any]]:
        """For each image its most likely class and the probability of every class."""
        if not images:
            return []
        probabilities = torch.softmax(self.model(to_tensor(images)), dim=1).tolist()
        return [
            {
                "class": self.classes[max(range(len(row)), key=row.__getitem__)],
                "scores": {name: round(p, 6) for name, p in zip(self.classes, row, strict=True)},
            }
            for row in probabilities
        ]


def load_predictor(path: str | Path) -> Predictor:
    """The ``Predictor`` of a file ``save_model`` wrote; a clear error for any other file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no model file here; pass the model a train run registered")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path}: not a model file of this plugin ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path}: not a model file of this plugin (expected format {FORMAT!r})")
    model = build_model(len(state["classes"]), **state["config"])
    model.load_state_dict(state["state_dict"])
    return Predictor(model, state["classes"], state["config"])
