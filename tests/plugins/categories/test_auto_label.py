"""auto_label on a real embedded platform: OpenCV's cascades on real photos, predictions beside the data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synapse_sdk.errors import ExecutionError, ParamsError
from synapse_sdk.plugins.categories.smart_tool import AutoLabelAction, Detection, Detector
from tests.plugins.categories.smart_tool_platform import (
    ASTRONAUT_FACE,
    CHELSEA_FACE,
    PhotoProject,
    boxes,
    inside,
    iou,
    photo_files,
    photo_project,
    prediction,
)

__all__ = ["photo_files", "photo_project"]  # the fixtures, imported for the tests below

SOURCE = "opencv:face,cat_face"


def test_faces_and_cat_faces_are_found_and_written_as_predictions(photo_project: PhotoProject) -> None:
    result = AutoLabelAction(params={"project": photo_project.project}).run_action()

    astronaut = prediction(photo_project.task("astronaut.jpg"), SOURCE)
    faces = [box for cls, box, _ in boxes(astronaut) if cls == "face"]
    assert any(iou(box, ASTRONAUT_FACE) > 0.5 for box in faces), faces
    assert all(score >= 0.5 for *_, score in boxes(astronaut))
    assert astronaut["score"] == pytest.approx(sum(s for *_, s in boxes(astronaut)) / len(boxes(astronaut)))
    chelsea = prediction(photo_project.task("chelsea.jpg"), SOURCE)
    cat_faces = [box for cls, box, _ in boxes(chelsea) if cls == "cat_face"]
    assert cat_faces, boxes(chelsea)
    assert all(inside(box, CHELSEA_FACE) for box in cat_faces)
    assert result["tasks"] == 4
    assert result["tasks_labelled"] + result["tasks_empty"] == 4
    assert result["tasks_failed"] == result["tasks_skipped"] == 0
    assert result["boxes_written"] == sum(len(boxes(prediction(photo_project.task(n), SOURCE)))
                                          for n in photo_project.tasks)  # fmt: skip
    assert result["label_map"] == {"face": "face", "cat_face": "cat_face"}


def test_the_tasks_own_annotation_is_kept_unless_asked(photo_project: PhotoProject) -> None:
    before = photo_project.task("coffee.jpg")["data"]
    AutoLabelAction(params={"project": photo_project.project}).run_action()
    assert photo_project.task("coffee.jpg")["data"] == before, "predictions go beside the data"

    AutoLabelAction(params={"project": photo_project.project, "overwrite_annotations": True}).run_action()
    astronaut = photo_project.task("astronaut.jpg")
    assert astronaut["data"] == prediction(astronaut, SOURCE)["data"]


def test_a_rerun_replaces_its_own_prediction_and_keeps_others(photo_project: PhotoProject) -> None:
    task = photo_project.task("astronaut.jpg")
    other = {"source": "human:draft", "data": {"images": []}, "scores": {}, "score": None}
    photo_project.client.update_task(task["id"], {"predictions": [other]})
    first = AutoLabelAction(params={"project": photo_project.project}).run_action()
    after_first = prediction(photo_project.task("astronaut.jpg"), SOURCE)
    second = AutoLabelAction(params={"project": photo_project.project}).run_action()

    task = photo_project.task("astronaut.jpg")
    assert [p["source"] for p in task["predictions"]] == ["human:draft", SOURCE]
    assert first["boxes_written"] == second["boxes_written"]
    again = prediction(task, SOURCE)
    assert (again["data"], again["scores"]) == (after_first["data"], after_first["scores"])
    assert again["run"] != after_first["run"], "the prediction names the run that wrote it"


def test_the_threshold_keeps_only_confident_boxes(photo_project: PhotoProject) -> None:
    strict = AutoLabelAction(params={"project": photo_project.project, "score_threshold": 0.95}).run_action()

    assert all(score >= 0.95 for *_, score in boxes(prediction(photo_project.task("astronaut.jpg"), SOURCE)))
    assert strict["boxes_below_threshold"] > 0


def test_unmatched_labels_are_refused_up_front_unless_allowed(photo_project: PhotoProject, store) -> None:
    params = {"project": photo_project.project, "model": {"cascades": ["face", "smile"]}}
    refused = r"label\(s\) 'smile' match no bounding_box class .*its classes: face, "
    with pytest.raises(ParamsError, match=refused):
        AutoLabelAction(params=params).run_action()
    assert all(not photo_project.task(name)["predictions"] for name in photo_project.tasks)

    allowed = AutoLabelAction(params={**params, "allow_unmatched_labels": True}).run_action()
    assert allowed["label_map"] == {"face": "face"}
    mapped = AutoLabelAction(params={**params, "label_map": {"smile": "face"}, "source": "s"}).run_action()
    assert mapped["label_map"] == {"face": "face", "smile": "face"}


def test_a_label_map_naming_no_class_says_which_are(photo_project: PhotoProject) -> None:
    with pytest.raises(ParamsError, match=r"params.label_map.face: 'fase' is no .*did you mean 'face'"):
        AutoLabelAction(params={"project": photo_project.project, "label_map": {"face": "fase"}}).run_action()


def test_an_unknown_cascade_is_a_params_error_with_a_suggestion() -> None:
    with pytest.raises(ParamsError, match=r"'cat_fase' is no OpenCV cascade \(did you mean 'cat_face'\?\)"):
        AutoLabelAction(params={"project": 1, "model": {"cascades": ["cat_fase"]}})


class Flaky(Detector):
    """Fails on the chelsea photo, finds a square elsewhere: a model error on one image."""

    source, labels = "toy:flaky", ("face",)

    def predict(self, images):  # type: ignore[no-untyped-def]
        if any(image.name == "chelsea.jpg" for image in images):
            raise RuntimeError("the model choked on a cat")
        return [[Detection("face", (1, 2, 30, 40), 0.9)] for _ in images]


class FlakyAutoLabel(AutoLabelAction):
    def load_model(self) -> Detector:
        return Flaky()


def test_one_failing_image_fails_its_task_only(photo_project: PhotoProject) -> None:
    result = FlakyAutoLabel(params={"project": photo_project.project, "batch_size": 4}).run_action()

    assert (result["tasks_labelled"], result["tasks_failed"]) == (3, 1)
    errors = json.loads(Path(result["error_file_list"]).read_text())
    assert errors == [{"task": photo_project.tasks["chelsea.jpg"]["id"], "step": "predict",
                       "error": "RuntimeError: the model choked on a cat"}]  # fmt: skip
    assert boxes(prediction(photo_project.task("rocket.jpg"), "toy:flaky")) == [("face", [1, 2, 30, 40], 0.9)]


def test_every_task_failing_fails_the_run(photo_project: PhotoProject) -> None:
    class Broken(FlakyAutoLabel):
        def predict(self, images):  # type: ignore[no-untyped-def]
            raise RuntimeError("no weights")

    with pytest.raises(ExecutionError, match="every task failed .*RuntimeError: no weights"):
        Broken(params={"project": photo_project.project}).run_action()


def test_status_and_limit_choose_the_tasks(photo_project: PhotoProject) -> None:
    astronaut = photo_project.tasks["astronaut.jpg"]["id"]
    photo_project.client.update_task(astronaut, {"status": "completed"})
    done = AutoLabelAction(params={"project": photo_project.project, "status": "completed"}).run_action()
    few = AutoLabelAction(params={"project": photo_project.project, "limit": 2, "source": "few"}).run_action()

    assert done["tasks"] == 1 and few["tasks"] == 2
    with pytest.raises(ParamsError, match="status"):
        AutoLabelAction(params={"project": photo_project.project, "status": "finished"})


AUTO_LABEL_CONFIG = """\
code: faces
name: Faces
version: 1.0.0
category: smart_tool
actions:
  auto_label:
    entrypoint: plugin.auto_label.AutoLabel
    method: task
"""


def test_the_cli_refuses_unmatched_labels_with_exit_2(photo_project: PhotoProject, make_plugin) -> None:
    from tests.conftest import run_cli

    source = "from synapse_sdk.plugins.categories.smart_tool import AutoLabelAction\n\n\n"
    source += "class AutoLabel(AutoLabelAction): ...\n"
    folder = make_plugin(AUTO_LABEL_CONFIG, {"auto_label.py": source})
    params = json.dumps({"project": photo_project.project, "model": {"cascades": ["smile"]}})
    proc = run_cli("plugin", "run", "auto_label", params, "--debug", cwd=folder)

    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: the model's label(s) 'smile' match no bounding_box class"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unreadable_image_fails_its_task_and_a_task_without_file_is_skipped(
    photo_project: PhotoProject,
) -> None:
    client = photo_project.client
    unit = client.get_data_unit(photo_project.tasks["rocket.jpg"]["data_unit"])
    stored = client.get_data_file(unit["files"]["image"]["data_file"])
    root = Path(client.get_default_storage()["configuration"]["root"])
    (root / stored["path"]).write_bytes(b"not a jpeg any more")
    client.create_tasks([{"project": photo_project.project}])

    result = AutoLabelAction(params={"project": photo_project.project}).run_action()

    assert (result["tasks"], result["tasks_skipped"], result["tasks_failed"]) == (5, 1, 1)
    (error,) = json.loads(Path(result["error_file_list"]).read_text())
    assert error["task"] == photo_project.tasks["rocket.jpg"]["id"]
    assert not photo_project.task("rocket.jpg")["predictions"]
    assert prediction(photo_project.task("astronaut.jpg"), SOURCE)
