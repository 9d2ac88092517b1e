"""auto_label's overhead over the detector it runs: at most 1.2x a bare loop of the same detector.

The images: ``--images`` (default 1,000) small JPEGs, variants of scikit-image's sample photos
(astronaut, chelsea, coffee, rocket, camera...: each cropped at its own offset, resized to about
``SIDE`` px, brightened by its own amount, its first pixel set from its number: every file has
its own bytes), imported as a project with the classes ``face`` and ``cat_face`` on a fresh
embedded platform (a private ``SYNAPSE_HOME``; the import is set-up, not measured).

In one process, side by side, alternating, ``--rounds`` times each (the best of each is compared):

* the bare loop: for each stored file (the same files, by their path in the local storage)
  ``cv2.imread(path, IMREAD_GRAYSCALE)`` and each cascade's ``detectMultiScale3`` with the
  parameters the action uses (``opencv.CASCADES``, scale 1.1, min size 24); and the same loop
  decoding the file's bytes with ``cv2.imdecode`` (as the action does). The faster of the two is
  the yardstick;
* the action: ``AutoLabelAction(params={"project": ...}).run_action()``: params validated, the
  project and its tasks streamed from the platform, each file read through the client, the same
  detector, every task's prediction written back, progress and metrics recorded in the run store.

Target: action / bare <= ``TARGET``. Also printed, as a check that does not depend on the
detector's timing (which other load on the machine moves by more than the overhead itself): the
same action with a model that returns a box per image at once (``Instant``), i.e. the platform's
and the run's cost alone, as a share of the bare loop.

Run: ``.venv/bin/python bench/bench_auto_label.py [--images N] [--rounds R] [--keep]``; exits 1
when the target is missed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

IMAGES = 1_000
SIDE = 128
TARGET = 1.2
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "cat", "immunohistochemistry", "coins")


def write_images(folder: Path, count: int) -> Path:
    """``count`` distinct small JPEGs and a COCO file naming them (classes face, cat_face)."""
    import numpy as np
    import skimage.data
    from PIL import Image

    folder.mkdir(parents=True)
    sources = [np.asarray(getattr(skimage.data, name)()) for name in PHOTOS]
    images = []
    for n in range(count):
        pixels = sources[n % len(sources)]
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        height, width = pixels.shape[:2]
        dx, dy = (n * 7) % max(1, width // 10), (n * 3) % max(1, height // 10)
        crop = Image.fromarray(pixels[dy : height - (n * 5) % max(1, height // 10), dx:width, :3])
        scale = SIDE / max(crop.size)
        small = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))))
        small = Image.eval(small, lambda v, k=n % 17: min(255, v + k))
        small.putpixel((0, 0), (n % 256, n // 256 % 256, 255))  # its own bytes, whatever the rest
        name = f"{n:05d}.jpg"
        out = io.BytesIO()
        small.save(out, "JPEG", quality=85)
        (folder / name).write_bytes(out.getvalue())
        images.append({"id": n + 1, "file_name": name, "width": small.width, "height": small.height})
    coco = folder.parent / "instances.json"
    categories = [{"id": 1, "name": "face"}, {"id": 2, "name": "cat_face"}]
    coco.write_text(json.dumps({"images": images, "annotations": [], "categories": categories}))
    return coco


def stored_paths(client: Any, project: int) -> list[str]:
    """The local path of every task's stored image, in task order."""
    from synapse_sdk.plugins.categories.smart_tool.engine import TaskItems

    root = Path(client.get_default_storage()["configuration"]["root"])
    return [str(root / item["files"]["path"]) for item in TaskItems(client, "task", {"project": project})]


def bare_loop(paths: list[str], decode: bool = False) -> tuple[float, int]:
    """Seconds and boxes of the detector alone over ``paths`` (``decode``: read bytes, ``imdecode``)."""
    import cv2
    import numpy as np

    from synapse_sdk.plugins.categories.smart_tool.opencv import CASCADES

    started = time.perf_counter()
    classifiers = [
        (cv2.CascadeClassifier(cv2.data.haarcascades + CASCADES[label].file), CASCADES[label].min_neighbors)
        for label in ("face", "cat_face")
    ]
    found = 0
    for path in paths:
        if decode:
            with open(path, "rb") as file:
                grey = cv2.imdecode(np.frombuffer(file.read(), np.uint8), cv2.IMREAD_GRAYSCALE)
        else:
            grey = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        for classifier, neighbors in classifiers:
            boxes, _, _ = classifier.detectMultiScale3(
                grey, scaleFactor=1.1, minNeighbors=neighbors, minSize=(24, 24), outputRejectLevels=True
            )
            found += len(boxes)
    return time.perf_counter() - started, found


def action(project: int, instant: bool = False) -> tuple[float, dict[str, Any]]:
    """Seconds and summary of the auto_label action over the project (``instant``: a model that
    costs nothing, so the time is the action's own)."""
    from synapse_sdk.plugins.categories.smart_tool import AutoLabelAction, Detection, Detector

    class Instant(Detector):
        source, labels = "bench:instant", ("face",)

        def predict(self, images: Any) -> list[list[Detection]]:
            return [[Detection("face", (1, 1, 10, 10), 0.9)] for _ in images]

    class InstantAutoLabel(AutoLabelAction):
        def load_model(self) -> Detector:
            return Instant()

    started = time.perf_counter()
    result = (InstantAutoLabel if instant else AutoLabelAction)(params={"project": project}).run_action()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--images", type=int, default=IMAGES, help=f"images (default {IMAGES:,})")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each side (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (and say where)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-auto-label-"))
    os.environ["SYNAPSE_HOME"] = str(scratch / "home")
    for key in ("SYNAPSE_HOST", "SYNAPSE_ACCESS_TOKEN"):
        os.environ.pop(key, None)
    try:
        from synapse_sdk.clients.backend import get_backend_client
        from synapse_sdk.clients.backend.imports import import_coco

        began = time.perf_counter()
        coco = write_images(scratch / "images", args.images)
        client = get_backend_client()
        project = import_coco(client, scratch / "images", coco, project="bench").project
        paths = stored_paths(client, project)
        print(f"{len(paths):,} images of ~{SIDE} px imported in {time.perf_counter() - began:.1f}s")
        bare_times, decode_times, action_times, own_times = [], [], [], []
        for _ in range(args.rounds):
            seconds, bare_boxes = bare_loop(paths)
            bare_times.append(seconds)
            seconds, _ = bare_loop(paths, decode=True)
            decode_times.append(seconds)
            seconds, result = action(project)
            action_times.append(seconds)
            own_times.append(action(project, instant=True)[0])
        if result["tasks_failed"] or result["tasks"] != len(paths):
            raise SystemExit(f"the action went wrong: {result}")
        found = result["boxes_written"] + result["boxes_below_threshold"]
        if found != bare_boxes:
            raise SystemExit(f"the action found {found} boxes, the bare loop {bare_boxes}")
        imread, imdecode, ours = min(bare_times), min(decode_times), min(action_times)
        bare = min(imread, imdecode)
        ratio = ours / bare
        for label, seconds in (("imread", imread), ("imdecode", imdecode)):
            rate = len(paths) / seconds
            print(f"bare loop (cv2.{label} + detectMultiScale3): {seconds:.2f}s  ({rate:,.0f} images/s)")
        print(
            f"auto_label action:                            {ours:.2f}s  ({len(paths) / ours:,.0f} images/s)"
        )
        own = min(own_times)
        share = f"{own / bare:.0%}"
        print(f"the action's own cost (a model that costs nothing): {own:.2f}s = {share} of the bare loop")
        print(f"boxes: {bare_boxes} found, {result['boxes_written']} written (score >= 0.5)")
        met = ratio <= TARGET
        print(f"ratio action / bare: {ratio:.2f}x (target <= {TARGET}x): {'met' if met else 'MISSED'}")
        return 0 if met else 1
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
