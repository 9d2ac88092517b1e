"""The annotation workflow on real photos, on the embedded platform: ``make demo``.

scikit-image's sample photos (an astronaut, a cat, a coffee cup, ...) are uploaded into a data
collection, checked by pre_annotation, turned into tasks of a project, pre-labelled by OpenCV's
face and cat-face detectors (auto_label), the confident predictions accepted as reviewed work,
merged by post_annotation into a frozen ground-truth version, validated, and exported to COCO.
Then a short training: scikit-learn's handwritten digits imported as images with image-level
labels, the neural_net template's CNN trained on them for a few seconds and tested. Every step is
a run of the SDK's own base action (train and test: the template plugin's), recorded under
``SYNAPSE_HOME``.

Run: ``SYNAPSE_HOME=... python scripts/demo.py FOLDER`` (``FOLDER`` receives the photos).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

#: scikit-image's photos the demo uploads (``skimage.data.<name>()``), as ``<name>.jpg``.
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "immunohistochemistry", "coins", "page")
#: The project's classes: what OpenCV's cascades find.
CLASSES = ("face", "cat_face")
#: Predictions scored this or more are accepted as the reviewer's annotation.
ACCEPT = 0.5


def write_photos(folder: Path) -> Path:
    """The sample photos as JPEG files in ``folder/image/`` (one sub-folder per file specification)."""
    from PIL import Image
    from skimage import data

    images = folder / "image"
    images.mkdir(parents=True, exist_ok=True)
    for name in PHOTOS:
        pixels = getattr(data, name)()
        Image.fromarray(pixels).convert("RGB").save(images / f"{name}.jpg", quality=90)
    # A smaller copy of one photo: pre_annotation finds it a near duplicate and leaves it out.
    with Image.open(images / "astronaut.jpg") as photo:
        photo.resize((256, 256)).save(images / "astronaut_small.jpg", quality=80)
    return folder


def run(action: type, params: dict[str, Any]) -> tuple[str, Any]:
    """Run a base action as a recorded run; its id and result (an ``ExecutionError`` fails the demo)."""
    from synapse_sdk.plugins.categories.base import Action

    instance: Action = action(params=params)
    result = instance.run_action()
    return str(instance.run.id), result


def accept_predictions(client: Any, project: int) -> tuple[int, int]:
    """The reviewer's step: each task's confident boxes become an approved assignment; how many
    tasks and boxes."""
    tasks, _ = client.list_tasks({"project": project}, list_all=True)
    accepted, boxes = [], 0
    for task in tasks:
        for prediction in task["predictions"]:
            scores = prediction.get("scores") or {}
            images = [
                {"bounding_box": [b for b in image["bounding_box"] if scores.get(b["id"], 0) >= ACCEPT]}
                for image in prediction["data"]["images"]
            ]
            boxes += sum(len(image["bounding_box"]) for image in images)
            data = {"classification": {"bounding_box": list(CLASSES)}, "images": images}
            accepted.append(
                {"project": project, "task": task["id"], "annotator": "reviewer", "status": "approved",
                 "data": data}
            )  # fmt: skip
    client.create_assignments(accepted)
    return len(accepted), boxes


def train_digits(client: Any, folder: Path) -> dict[str, Any]:
    """A few seconds of training on the platform's data: scikit-learn's digits imported as ImageFolder
    (project and frozen ground truth ``digits``), the neural_net template's CNN trained on them for
    three epochs and the registered model tested on the held-out split."""
    from synapse_sdk.plugins.categories.neural_net import TestAction, TrainAction
    from synapse_sdk.plugins.categories.neural_net.digits import import_digits
    from synapse_sdk.plugins.templates import render_plugin

    imported = import_digits(client, folder / "digits")
    print(f"== {'import digits':<16} {imported.images} image(s), ground-truth version "
          f"{imported.ground_truth_version}: {imported.splits}")  # fmt: skip
    plugin = render_plugin("digits", "neural_net", output_dir=folder / "plugins")
    trained = TrainAction(params={"dataset": "digits", "epochs": 3}, plugin_path=plugin)
    result = trained.run_action()
    print(f"== {'train':<16} 3 epochs, val accuracy {result['val_accuracy']:.3f}, model {result['model']} "
          f"registered  (run {trained.run.id})")  # fmt: skip
    tested = TestAction(params={"model": result["model"]}, plugin_path=plugin)
    report = tested.run_action()
    images = sum(map(sum, report["confusion_matrix"]))
    print(f"== {'test':<16} test accuracy {report['accuracy']:.3f} on {images} held-out image(s), "
          f"macro F1 {report['f1']:.3f}  (run {tested.run.id})")  # fmt: skip
    return {"model": result["model"], "accuracy": report["accuracy"]}


def main(folder: Path) -> int:
    """Make the collection and the project, run each step, say what was made and where."""
    from synapse_sdk.clients.backend import get_backend_client
    from synapse_sdk.plugins.categories.data_validation import ValidationAction
    from synapse_sdk.plugins.categories.export import ExportAction
    from synapse_sdk.plugins.categories.post_annotation import PostAnnotationAction
    from synapse_sdk.plugins.categories.pre_annotation import PreAnnotationAction, ToTaskAction
    from synapse_sdk.plugins.categories.smart_tool import AutoLabelAction
    from synapse_sdk.plugins.categories.upload import UploadAction

    began = time.perf_counter()
    client = get_backend_client()
    photos = write_photos(folder)
    spec = {"name": "image", "file_type": "image", "is_required": True, "is_primary": True,
            "extensions": [".jpg"]}  # fmt: skip
    collection = client.create_data_collection({"name": "demo photos", "file_specifications": [spec]})
    configuration = {"bounding_box": [{"name": name} for name in CLASSES]}
    project = client.create_project(
        {"title": "demo faces", "data_collection": collection["id"], "configuration": configuration}
    )
    units, tasks = {"data_collection": collection["id"]}, {"project": project["id"]}

    def step(name: str, action: type, params: dict[str, Any], say: str) -> Any:
        run_id, result = run(action, params)
        print(f"== {name:<16} {say.format(**result)}  (run {run_id})")
        return result

    step("upload", UploadAction, {"name": "demo photos", "path": str(photos), **units},
         "{uploaded} photo(s) stored, {data_units} data unit(s)")  # fmt: skip
    step("pre_annotation", PreAnnotationAction, units, "{kept} kept, {dropped} dropped, {fixed} fixed")
    step("to_task", ToTaskAction, {**tasks, **units, "meta_filter": {"pre_annotation.status": "kept"}},
         "{tasks_created} task(s) created")  # fmt: skip
    step("auto_label", AutoLabelAction, {**tasks, "model": {"type": "opencv", "cascades": list(CLASSES)}},
         "{boxes_written} box(es) predicted on {tasks_labelled} task(s)")  # fmt: skip
    reviewed, boxes = accept_predictions(client, project["id"])
    print(f"== {'review':<16} {boxes} box(es) scored {ACCEPT} or more accepted on {reviewed} task(s)")
    truth = step("post_annotation", PostAnnotationAction,
                 {**tasks, "min_annotators": 1, "ground_truth_dataset": "demo faces", "seed": 0},
                 "ground-truth version {ground_truth_version}: {reviewed} task(s), {splits}")  # fmt: skip
    version = {"ground_truth_dataset_version": truth["ground_truth_version"]}
    step(
        "validation",
        ValidationAction,
        {**version, "fail_on": "error"},
        "{errors} error(s), {warnings} warning(s)",
    )
    export = {"name": "demo_coco", "storage": 1, "target": "ground_truth", "path": "exports",
              "filter": version, "extra_params": {"output_format": "coco"}}  # fmt: skip
    exported = step("export", ExportAction, export, "{success} image(s) to COCO")
    digits = train_digits(client, folder)
    print()
    print(f"Done in {time.perf_counter() - began:.1f}s. What was made:")
    print(f"  data collection {collection['id']}, project {project['id']}, "
          f"ground-truth version {truth['ground_truth_version']}")  # fmt: skip
    print(f"  COCO export: {exported['export_path']}")
    print(f"  digits model {digits['model']}: test accuracy {digits['accuracy']:.3f}")
    print("  each step's run: synapse job get <run id>   (all: synapse job list)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
