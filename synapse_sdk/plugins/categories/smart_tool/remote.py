"""A model served over HTTP by another plugin (a ``restapi`` action, e.g. its ``inference``).

The wire shape, both ways JSON::

    POST <url>   {"images": ["<base64 of the image file's bytes>", ...]}
    200          {"detections": [[{"label": "face", "box": [x, y, w, h], "score": 0.98}, ...], ...],
                  "labels": ["face", "cat_face"]}

one list of detections per image, in order; ``labels`` (every label the model gives) is what
``auto_label`` checks against the project before it starts, asked with ``{"images": []}`` unless
the params list them (``model.labels``). A token is sent as ``Authorization: Bearer <token>``.
The serving side uses ``DetectRequest`` as its params model, ``image_bytes()`` to decode and
``detections_response()`` to answer (see docs/smart_tool.md for a whole plugin).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, Final

from pydantic import BaseModel, Field

from synapse_sdk.errors import ExecutionError
from synapse_sdk.plugins.categories.smart_tool.detection import Detection, Detector, ImageInput

#: The most images one request carries (the auto_label ``batch_size`` bound).
MAX_IMAGES: Final = 256


class DetectRequest(BaseModel):
    """The body a detection endpoint takes: base64-encoded image files."""

    images: list[str] = Field(default_factory=list, max_length=MAX_IMAGES, description="base64 image files")


def image_bytes(encoded: str) -> bytes:
    """The bytes of one base64 image of a ``DetectRequest`` (``ValueError`` if it is not base64)."""
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"an image is not base64: {exc}") from None


def detections_response(results: Sequence[Sequence[Detection]], labels: Sequence[str]) -> dict[str, Any]:
    """The JSON answer for ``results`` (one list per image) of a model giving ``labels``."""
    return {
        "detections": [
            [{"label": d.label, "box": list(d.box), "score": d.score} for d in found] for found in results
        ],
        "labels": list(labels),
    }


class HttpDetector(Detector):
    """Calls a detection endpoint (see the module docstring) with one request per batch."""

    def __init__(
        self, url: str, *, token: str | None = None, labels: Sequence[str] | None = None,
        timeout: float = 30.0,
    ) -> None:  # fmt: skip
        import httpx

        self.url = url
        self.source = f"http:{url}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(timeout=timeout, headers=headers)
        try:
            self.labels = tuple(labels) if labels else tuple(self.ask_labels())
        except BaseException:
            self.http.close()
            raise

    def ask_labels(self) -> list[str]:
        """The endpoint's labels: its answer to a request without images."""
        labels = self.post([]).get("labels")
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
            raise ExecutionError(
                f'{self.url}: the endpoint names no labels (its answer to {{"images": []}} has no '
                "'labels' list); give them as params.model.labels, like [\"face\"]"
            )
        return labels

    def post(self, images: Sequence[ImageInput]) -> dict[str, Any]:
        """One request; ``ExecutionError`` for an unreachable endpoint or a non-200 answer."""
        import httpx

        body = {"images": [base64.b64encode(image.content).decode("ascii") for image in images]}
        try:
            reply = self.http.post(self.url, json=body)
        except httpx.HTTPError as exc:
            raise ExecutionError(f"{self.url}: {type(exc).__name__}: {exc}") from None
        if reply.status_code != 200:
            raise ExecutionError(f"{self.url} answered HTTP {reply.status_code}: {reply.text[:300]}")
        try:
            found: dict[str, Any] = reply.json()
        except ValueError:
            raise ExecutionError(f"{self.url}: the answer is not JSON: {reply.text[:200]!r}") from None
        return found

    def predict(self, images: Sequence[ImageInput]) -> list[list[Detection]]:
        """POST the batch and read its detections back."""
        answer = self.post(images).get("detections")
        if not isinstance(answer, list) or len(answer) != len(images):
            got = len(answer) if isinstance(answer, list) else type(answer).__name__
            raise ValueError(
                f"{self.url}: expected 'detections' with a list per image ({len(images)}), got {got}"
            )
        results = []
        for found in answer:
            if not isinstance(found, list):
                raise ValueError(f"{self.url}: expected a list of detections per image, got {found!r:.80}")
            results.append([Detection.checked(d.get("label"), d.get("box"), d.get("score")) for d in found])
        return results

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()
