"""``make demo``'s workflow (scripts/demo.py) on real photos, its COCO export read by pycocotools, and its
short training on the digits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pycocotools.coco import COCO

ROOT = Path(__file__).resolve().parents[1]
ASTRONAUT_FACE = (177, 66, 95, 95)  # where OpenCV's frontal-face cascade finds it (NOTES.md)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def test_the_demo_runs_the_workflow_and_exports_the_reviewed_faces_to_coco(tmp_path: Path):
    home = tmp_path / "home"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), str(tmp_path / "photos")],
        env={"SYNAPSE_HOME": str(home), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "1 dropped" in done.stdout  # the smaller copy of the astronaut: a near duplicate
    annotations = home / "storages" / "default" / "exports" / "demo_coco" / "annotations"
    images, boxes = {}, {}
    for split in ("train", "val", "test"):
        coco = COCO(str(annotations / f"instances_{split}.json"))
        names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
        assert sorted(names.values()) == ["cat_face", "face"]
        for image in coco.loadImgs(coco.getImgIds()):
            images[image["file_name"]] = split
            found = coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))
            boxes[image["file_name"]] = [(names[a["category_id"]], tuple(a["bbox"])) for a in found]
    assert len(images) == 8 and "astronaut_small.jpg" not in images
    (face,) = boxes["astronaut.jpg"]
    assert face[0] == "face" and iou(face[1], ASTRONAUT_FACE) > 0.5
    assert [name for name, _ in boxes["chelsea.jpg"]] == ["cat_face"]
    assert boxes["coffee.jpg"] == []
    # The short training on the platform's digits, tested on the 359 held-out ones.
    (line,) = [line for line in done.stdout.splitlines() if "test accuracy" in line and "held-out" in line]
    assert "on 359 held-out image(s)" in line
    assert float(line.split("test accuracy ")[1].split()[0]) >= 0.9
