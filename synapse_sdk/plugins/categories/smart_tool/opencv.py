"""A pretrained detector that ships in a PyPI package: OpenCV's Haar cascades (``[vision]`` extra).

``opencv-python-headless`` (4.x: OpenCV 5 dropped the cascades) bundles them in
``cv2.data.haarcascades``; no download. ``CASCADES`` names the ones ``auto_label`` offers by the
label they give. Scores are the cascade's last-stage weight squashed to 0..1 (a logistic), so a
clear face scores ~0.99 and a marginal hit ~0.5. ``cv2`` is imported when a detector is built.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from synapse_sdk.errors import ParamsError, UsageError, did_you_mean
from synapse_sdk.plugins.categories.smart_tool.detection import Detection, Detector, ImageInput


@dataclass(frozen=True)
class Cascade:
    """One bundled cascade: its file in ``cv2.data.haarcascades`` and the neighbours it needs."""

    file: str
    min_neighbors: int


#: label -> cascade. The cat cascade is the "extended" one: it finds chelsea's face, the plain one does not.
CASCADES: Final[dict[str, Cascade]] = {
    "face": Cascade("haarcascade_frontalface_default.xml", 5),
    "profile_face": Cascade("haarcascade_profileface.xml", 5),
    "cat_face": Cascade("haarcascade_frontalcatface_extended.xml", 3),
    "eye": Cascade("haarcascade_eye.xml", 5),
    "smile": Cascade("haarcascade_smile.xml", 20),
    "upper_body": Cascade("haarcascade_upperbody.xml", 3),
    "lower_body": Cascade("haarcascade_lowerbody.xml", 3),
    "full_body": Cascade("haarcascade_fullbody.xml", 3),
    "license_plate": Cascade("haarcascade_russian_plate_number.xml", 3),
}


def check_cascades(names: Sequence[str]) -> list[str]:
    """``names`` if each is in ``CASCADES``; ``ValueError`` naming the first unknown one."""
    for name in names:
        if name not in CASCADES:
            raise ValueError(
                f"{name!r} is no OpenCV cascade{did_you_mean(name, CASCADES)}; "
                f"choose from {', '.join(CASCADES)}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"each cascade once, got {list(names)}")
    return list(names)


def import_cv2() -> Any:
    """``cv2`` with its cascades; ``UsageError`` saying how to install it when it is missing."""
    try:
        import cv2
    except ImportError:
        raise UsageError(
            "the OpenCV detector needs opencv-python-headless: pip install 'synapse-plugin-sdk[vision]'"
        ) from None
    if not hasattr(cv2, "CascadeClassifier"):
        raise UsageError(
            f"OpenCV {cv2.__version__} has no Haar cascades (OpenCV 5 dropped them): "
            "pip install 'opencv-python-headless<5'"
        )
    return cv2


class HaarCascadeDetector(Detector):
    """OpenCV's bundled Haar cascades, one per label (see ``CASCADES``), run on the grey image."""

    def __init__(
        self, cascades: Sequence[str] = ("face", "cat_face"), *, scale_factor: float = 1.1,
        min_neighbors: int | None = None, min_size: int = 24,
    ) -> None:  # fmt: skip
        try:
            names = check_cascades(cascades)
        except ValueError as exc:
            raise ParamsError(f"params.model.cascades: {exc}") from None
        self.cv2 = cv2 = import_cv2()
        self.labels = tuple(names)
        self.source = "opencv:" + ",".join(names)
        self.scale_factor = scale_factor
        self.min_size = (min_size, min_size)
        self.classifiers = []
        for name in names:
            cascade = CASCADES[name]
            classifier = cv2.CascadeClassifier(cv2.data.haarcascades + cascade.file)
            if classifier.empty():
                raise UsageError(f"OpenCV could not load {cascade.file} from {cv2.data.haarcascades}")
            neighbors = min_neighbors if min_neighbors is not None else cascade.min_neighbors
            self.classifiers.append((name, classifier, neighbors))

    def predict(self, images: Sequence[ImageInput]) -> list[list[Detection]]:
        """Decode each image to grey and run every cascade over it."""
        return [self.detect(self.grey(image)) for image in images]

    def grey(self, image: ImageInput) -> Any:
        """The image's grey pixels (``ValueError`` when its bytes are no image OpenCV reads)."""
        import numpy as np

        pixels = self.cv2.imdecode(np.frombuffer(image.content, np.uint8), self.cv2.IMREAD_GRAYSCALE)
        if pixels is None:
            raise ValueError(f"{image.name}: not an image OpenCV can decode")
        return pixels

    def detect(self, grey: Any) -> list[Detection]:
        """Every cascade's boxes in one grey image, scored."""
        found = []
        for label, classifier, neighbors in self.classifiers:
            boxes, _, weights = classifier.detectMultiScale3(
                grey, scaleFactor=self.scale_factor, minNeighbors=neighbors, minSize=self.min_size,
                outputRejectLevels=True,
            )  # fmt: skip
            for (x, y, w, h), weight in zip(boxes, weights, strict=True):
                score = 1 / (1 + math.exp(-float(weight)))
                found.append(Detection(label, (float(x), float(y), float(w), float(h)), round(score, 4)))
        return found
