"""What a model sees and says in ``auto_label``: an ``ImageInput`` in, ``Detection`` boxes out.

A model is any object with ``source`` (a name for its predictions, like
``opencv:face,cat_face``), ``labels`` (every label it can give, checked against the project's
classes before any task is touched) and ``predict(images) -> list[list[Detection]]`` (one list
per image, in order). ``Detector`` is that contract as a base class to subclass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Detection:
    """One box a model found: its ``label``, ``box`` ``[x, y, width, height]`` in absolute pixels
    from the top-left corner, and ``score`` (0..1, the model's confidence)."""

    label: str
    box: tuple[float, float, float, float]
    score: float

    @classmethod
    def checked(cls, label: Any, box: Any, score: Any) -> Detection:
        """A detection from loose values (JSON, numpy); ``ValueError`` naming the bad one."""
        if not isinstance(label, str) or not label:
            raise ValueError(f"expected a label that is a non-empty string, got {label!r}")
        try:
            x, y, w, h = (float(v) for v in box)
        except (TypeError, ValueError):
            raise ValueError(f"expected a box [x, y, width, height] of 4 numbers, got {box!r}") from None
        if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
            raise ValueError(f"expected a box [x, y, width, height] with width and height > 0, got {box!r}")
        value = float(score)
        if not 0 <= value <= 1:
            raise ValueError(f"expected a score from 0 to 1, got {score!r}")
        return cls(label, (x, y, w, h), value)


@dataclass(frozen=True)
class ImageInput:
    """One task's primary image, as stored: its ``content`` bytes, file name and size (when known)."""

    task: int
    name: str
    content: bytes
    width: int | None = None
    height: int | None = None

    def to_array(self, mode: str = "RGB") -> Any:
        """The decoded pixels as a numpy array (``RGB`` HxWx3, ``L`` HxW), via Pillow."""
        import io

        import numpy as np
        from PIL import Image

        with Image.open(io.BytesIO(self.content)) as image:
            return np.asarray(image.convert(mode))


class Detector:
    """A model for ``auto_label``: set ``labels`` (and ``source``), implement ``predict``.

    Example::

        class Squares(Detector):
            source = "toy:squares"
            labels = ("square",)

            def predict(self, images):
                return [[Detection("square", (0, 0, 10, 10), 0.9)] for _ in images]
    """

    #: Names the predictions this model writes (a re-run replaces the predictions of the same source).
    source: str = "model"
    #: Every label ``predict`` may give.
    labels: Sequence[str] = ()

    def predict(self, images: Sequence[ImageInput]) -> list[list[Detection]]:
        """The boxes found in each image, one list per image in order."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement predict(images)")

    def close(self) -> None:
        """Free what the model holds (connections, memory); called once when the run ends."""
