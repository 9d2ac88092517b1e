"""An export from the embedded platform must beat datumaro at COCO and keep YOLO/VOC memory flat.

The dataset: ``--items`` images (default 100,000), 5 bounding boxes each over 5 classes, split
train/val 9:1, as a frozen ground-truth version of a project on a fresh embedded platform (a
private ``SYNAPSE_HOME``). The exports run with ``save_original_file: false``, so no image bytes
are needed: the platform gets data file RECORDS only (created in bulk with the store's
``create_many``), each with ``meta: {"width": 640, "height": 480}`` (where the export reads an
image's size) and a key under the default storage that does not exist; nothing reads it.

Each export is the real ``export`` action (``ExportAction(...).run_action()``: params validated,
the items streamed from the platform, the writer, the manifest, the run recorded in the store),
run in a fresh subprocess per measurement. Time is the wall time of the work inside that process
(interpreter start and module imports excluded on both sides). Memory is the subprocess's own peak
RSS (``VmHWM`` from ``/proc/self/status``, read at its end): ``getrusage(RUSAGE_CHILDREN)`` was not
used because Python starts children with ``vfork``, so a child's ``ru_maxrss`` carries the parent's
RSS across ``exec`` (a ``python -c pass`` child of a 600 MB parent reports ~610 MB), and it is a
maximum over all children, not per side.

* COCO vs datumaro: ``Dataset.import_from(<dir>, "coco_instances")`` then
  ``.export(<out>, "coco_instances", save_media=False)`` of the same dataset handed to it as COCO
  files (``annotations/instances_{train,val}.json``, empty ``images/{train,val}/``). Targets: at
  least ``COCO_SPEEDUP``x faster, and a lower peak RSS (the whole process, as a user sees it; the
  growth over each process's start is printed too). Both outputs are checked to hold the same
  images and boxes.
* YOLO and VOC: peak RSS growth (peak minus the process's RSS before the export) at ``--small``
  items (default 10,000) vs ``--items``; target: within ``FLAT_SLACK_MB`` MB of each other (the
  platform benchmark's streaming slack). Whatever an exporter must keep per item (the unique file
  names, ~100 bytes each) fits in it; holding the items or a per-item journal in memory does not.

Run: ``.venv/bin/python bench/bench_export.py [--items N] [--small M] [--keep]``; exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.clients.backend import BackendClient

ITEMS = 100_000
SMALL = 10_000
BOXES = 5
CLASSES = ("car", "person", "bicycle", "truck", "bus")
WIDTH, HEIGHT = 640, 480
COCO_SPEEDUP = 3.0
FLAT_SLACK_MB = 50

PEAK = """
def rss_mb(field):  # this process's own RSS (VmRSS) or peak RSS (VmHWM), MB
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field)) / 1024
"""

EXPORT = PEAK + textwrap.dedent("""
    import json, os, sys, time
    home, version, fmt = sys.argv[1:]
    os.environ["SYNAPSE_HOME"] = home
    for key in ("SYNAPSE_HOST", "SYNAPSE_ACCESS_TOKEN"):
        os.environ.pop(key, None)
    from synapse_sdk.plugins.categories.export.actions.export import ExportAction

    params = {
        "name": fmt, "storage": 1, "target": "ground_truth",
        "filter": {"ground_truth_dataset_version": int(version)},
        "save_original_file": False, "extra_params": {"output_format": fmt},
    }
    before = rss_mb("VmRSS")
    started = time.perf_counter()
    if fmt == "read":  # the control: the items streamed from the platform, nothing written
        from synapse_sdk.clients.backend import get_backend_client
        from synapse_sdk.plugins.categories.export.targets import get_export_items

        items = get_export_items(params, get_backend_client())
        seen = sum(1 for _ in items)
        result = {"total": seen, "success": seen, "failed": 0}
    else:
        result = ExportAction(params=params).run_action()
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "before_mb": before, "peak_mb": rss_mb("VmHWM"), "result": result}))
""")

DATUMARO = PEAK + textwrap.dedent("""
    import json, sys, time
    source, out = sys.argv[1:]
    import datumaro

    before = rss_mb("VmRSS")
    started = time.perf_counter()
    dataset = datumaro.Dataset.import_from(source, "coco_instances")
    dataset.export(out, "coco_instances", save_media=False)
    elapsed = time.perf_counter() - started
    result = {"total": len(dataset)}
    print(json.dumps({"seconds": elapsed, "before_mb": before, "peak_mb": rss_mb("VmHWM"), "result": result}))
""")


def boxes(n: int) -> list[list[float]]:
    """The ``BOXES`` boxes ``[x, y, w, h]`` of image ``n``, inside the image, varying with ``n``."""
    return [
        [float((n * 7 + k * 97) % 560), float((n * 3 + k * 53) % 400), 40.0 + k, 30.0 + k]
        for k in range(BOXES)
    ]


def label(n: int, k: int) -> str:
    return CLASSES[(n + k) % len(CLASSES)]


def split(n: int) -> str:
    return "val" if n % 10 == 9 else "train"


def annotation(n: int) -> dict[str, Any]:
    """Image ``n``'s DM v2 annotation."""
    return {
        "images": [
            {
                "bounding_box": [
                    {"id": f"b{k}", "classification": label(n, k), "attrs": [], "data": box}
                    for k, box in enumerate(boxes(n))
                ]
            }
        ]
    }


def file_name(n: int) -> str:
    return f"{n:06d}.jpg"


def populate(client: BackendClient, items: int, small: int) -> tuple[int, int, float]:
    """The dataset on the platform: ground-truth versions of the first ``items`` and ``small`` images."""
    started = time.perf_counter()
    storage = client.get_default_storage()["id"]
    collection = client.create_data_collection(
        {
            "name": "bench",
            "file_specifications": [
                {"name": "image", "file_type": "image", "is_primary": True, "is_required": True}
            ],
        }
    )["id"]
    # Records only: the keys do not exist in the storage (originals are not copied).
    files = client.backend.resource("data_files").create_many(
        [
            {
                "storage": storage,
                "path": f"bench/{file_name(n)}",
                "size": 1000,
                "checksum": hashlib.sha256(b"%d" % n).hexdigest(),
                "name": file_name(n),
                "mime_type": "image/jpeg",
                "meta": {"width": WIDTH, "height": HEIGHT},
            }
            for n in range(items)
        ]
    )
    units = client.create_data_units(
        [{"data_collection": collection, "files": {"image": {"data_file": f["id"]}}} for f in files]
    )
    project = client.create_project(
        {
            "title": "bench",
            "data_collection": collection,
            "configuration": {"bounding_box": [{"name": name} for name in CLASSES]},
        }
    )["id"]
    dataset = client.create_ground_truth_dataset({"name": "bench", "project": project})["id"]
    versions = []
    for name, count in (("large", items), ("small", small)):
        version = client.create_ground_truth_version(dataset, name)["id"]
        client.add_ground_truth_events(
            version,
            [
                {"data_unit": unit["id"], "data": annotation(n), "split": split(n)}
                for n, unit in enumerate(units[:count])
            ],
        )
        client.freeze_ground_truth_version(version)
        versions.append(version)
    return versions[0], versions[1], time.perf_counter() - started


def write_coco(folder: Path, items: int) -> None:
    """The same dataset as COCO files, as datumaro's ``coco_instances`` importer takes them."""
    categories = [{"id": i + 1, "name": name, "supercategory": ""} for i, name in enumerate(CLASSES)]
    ids = {name: i + 1 for i, name in enumerate(CLASSES)}
    for part in ("train", "val"):
        (folder / "images" / part).mkdir(parents=True)
        images, annotations = [], []
        for n in range(items):
            if split(n) != part:
                continue
            images.append({"id": n + 1, "file_name": file_name(n), "width": WIDTH, "height": HEIGHT})
            for k, box in enumerate(boxes(n)):
                annotations.append(
                    {
                        "id": len(annotations) + 1, "image_id": n + 1, "category_id": ids[label(n, k)],
                        "bbox": box, "area": box[2] * box[3], "iscrowd": 0, "segmentation": [],
                    }
                )  # fmt: skip
        document = {"images": images, "annotations": annotations, "categories": categories}
        (folder / "annotations").mkdir(exist_ok=True)
        (folder / "annotations" / f"instances_{part}.json").write_text(json.dumps(document))


def child(script: str, *args: str, cwd: Path) -> dict[str, Any]:
    """Run ``script`` in a fresh interpreter; its JSON report (seconds, before_mb, peak_mb, result)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SYNAPSE_HOST", "SYNAPSE_ACCESS_TOKEN")}
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=cwd, env=env
    )
    if out.returncode != 0:
        raise SystemExit(f"the benchmark's subprocess failed:\n{out.stderr[-4000:]}")
    found = json.loads(out.stdout.strip().splitlines()[-1])
    found["growth_mb"] = found["peak_mb"] - found["before_mb"]
    return found


def export(home: Path, version: int, fmt: str, expected: int) -> dict[str, Any]:
    found = child(EXPORT, str(home), str(version), fmt, cwd=home)
    result = found["result"]
    if (result["total"], result["success"], result["failed"]) != (expected, expected, 0):
        raise SystemExit(f"{fmt} export of {expected:,} items went wrong: {result}")
    return found


def coco_content(folder: Path) -> dict[str, tuple[int, int, float]]:
    """Per split: images, annotations, and the sum of every box's coordinates (the same data?)."""
    found = {}
    for file in sorted((folder / "annotations").glob("instances_*.json")):
        document = json.loads(file.read_text())
        total = sum(sum(a["bbox"]) for a in document["annotations"])
        found[file.stem] = (len(document["images"]), len(document["annotations"]), round(total, 3))
    return found


def count_files(folder: Path, suffix: str) -> int:
    return sum(1 for _, _, names in os.walk(folder) for name in names if name.endswith(suffix))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, default=ITEMS, help=f"images in the export (default {ITEMS:,})")
    parser.add_argument(
        "--small", type=int, default=SMALL, help=f"images of the small YOLO/VOC run (default {SMALL:,})"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (and say where)")
    args = parser.parse_args()
    import importlib.util

    if importlib.util.find_spec("datumaro") is None:
        raise SystemExit("datumaro is not installed (the baseline): pip install 'datumaro>=1.13'")
    items = args.items
    small = args.small if 0 < args.small < items else max(1, items // 10)
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    home = tmp / "home"
    try:
        home.mkdir()
        with EmbeddedBackend(home / "synapse.db") as backend:
            large, little, setup = populate(BackendClient(backend=backend), items, small)
        write_coco(tmp / "coco-in", items)
        print(
            f"{items:,} images x {BOXES} boxes ({items * BOXES:,} boxes, {len(CLASSES)} classes, "
            f"train/val 9:1) on the embedded platform in {setup:.1f}s; originals not copied"
        )
        read = export(home, large, "read", items)
        ours = export(home, large, "coco", items)
        theirs = child(DATUMARO, str(tmp / "coco-in"), str(tmp / "coco-dm"), cwd=tmp)
        exports = home / "storages" / "default" / "exports"
        ours_content, theirs_content = coco_content(exports / "coco"), coco_content(tmp / "coco-dm")
        if ours_content != theirs_content or theirs["result"]["total"] != items:
            raise SystemExit(f"the COCO outputs differ: ours {ours_content}, datumaro's {theirs_content}")
        flat: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for fmt, suffix in (("yolo", ".txt"), ("voc", ".xml")):
            runs = []
            for version, count in ((little, small), (large, items)):
                runs.append(export(home, version, fmt, count))
                written = count_files(exports / fmt, suffix)
                if written < count:
                    raise SystemExit(f"{fmt}: {written:,} {suffix} files for {count:,} items")
                shutil.rmtree(exports / fmt)  # the next run takes the same name
            flat[fmt] = (runs[0], runs[1])
    finally:
        if args.keep:
            print(f"(kept {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    speedup = theirs["seconds"] / ours["seconds"]
    ok = speedup >= COCO_SPEEDUP
    print(
        f"{'COCO, platform -> COCO':<28} {ours['seconds']:7.2f}s vs datumaro COCO -> COCO "
        f"{theirs['seconds']:7.2f}s = {speedup:5.2f}x faster (target >= {COCO_SPEEDUP:g}x) "
        f"-> {'OK' if ok else 'MISSED'}"
    )
    lower = ours["peak_mb"] < theirs["peak_mb"]
    ok &= lower
    print(
        f"{'COCO, peak RSS':<28} {ours['peak_mb']:7.0f} MB (+{ours['growth_mb']:.0f} MB over its start) "
        f"vs datumaro {theirs['peak_mb']:7.0f} MB (+{theirs['growth_mb']:.0f} MB) = "
        f"{ours['peak_mb'] / theirs['peak_mb']:.2f}x (target: lower) -> {'OK' if lower else 'MISSED'}"
    )
    for fmt, (few, many) in flat.items():
        grew = many["growth_mb"] - few["growth_mb"]
        within = grew <= FLAT_SLACK_MB
        ok &= within
        print(
            f"{'peak RSS growth, ' + fmt.upper():<28} {small:,}: +{few['growth_mb']:.1f} MB "
            f"(peak {few['peak_mb']:.0f} MB), {items:,}: +{many['growth_mb']:.1f} MB "
            f"(peak {many['peak_mb']:.0f} MB): {grew:+.1f} MB, "
            f"{grew * 2**20 / max(items - small, 1):.0f} B/item (target: within {FLAT_SLACK_MB} MB) "
            f"-> {'OK' if within else 'MISSED'}"
        )
    rates = ", ".join(
        f"{fmt} {items / run['seconds']:,.0f}"
        for fmt, run in (("coco", ours), ("yolo", flat["yolo"][1]), ("voc", flat["voc"][1]))
    )
    print(f"items/s: {rates}; datumaro coco {items / theirs['seconds']:,.0f}")
    print(
        f"(control) reading the {items:,} items from the platform alone: {read['seconds']:.2f}s "
        f"({read['seconds'] / ours['seconds']:.0%} of the COCO export)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
