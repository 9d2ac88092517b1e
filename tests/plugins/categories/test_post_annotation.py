"""post_annotation: annotators' boxes matched and merged, agreement measured, ground truth split by image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.categories.post_annotation import PostAnnotationAction
from synapse_sdk.plugins.categories.post_annotation.agreement import (
    cohen_kappa,
    fleiss_kappa,
    iou,
    kappa,
    match_greedy,
)
from synapse_sdk.plugins.categories.post_annotation.split import split_groups
from synapse_sdk.plugins.testing import run_action
from tests.plugins.categories.annotation_platform import (
    PLUGIN_CONFIG,
    add_unit,
    annotation,
    assign,
    box,
    build_project,
    png,
)

PLAIN = """
from synapse_sdk.plugins.categories.post_annotation import PostAnnotationAction


class Action(PostAnnotationAction):
    pass
"""


@pytest.fixture
def merge(make_plugin, synapse_home):  # type: ignore[no-untyped-def]
    """``merge(params, source=PLAIN)``: run a post_annotation plugin; the recorded run."""

    def run(params: dict, source: str = PLAIN, check: bool = True):  # type: ignore[no-untyped-def]
        config = PLUGIN_CONFIG.format(code="merge", category="post_annotation", action="post_annotation")
        plugin = make_plugin(config, {"post_annotation.py": source}, name="merge-plugin")
        return run_action(plugin, "post_annotation", params, home=synapse_home, check=check)

    return run


def report_of(run) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(Path(run.result["report"]).read_text())


def test_the_formulas_on_numbers_worked_by_hand():
    # Boxes 10x10 and 10x12 from the same corner: 100 shared of 120 -> 5/6.
    assert iou([0, 0, 10, 10], [0, 0, 10, 12]) == pytest.approx(5 / 6)
    assert iou([0, 0, 10, 10], [20, 20, 5, 5]) == 0.0
    # The best pair first: box 0 of the second list overlaps both, goes to its closest.
    assert match_greedy([[0, 0, 10, 10], [2, 0, 10, 10]], [[2, 0, 10, 10]], 0.5) == [(1, 0, 1.0)]
    # 4 units, raters agree on 2: p_o = 0.5; a = car x2, person, none; b = car x2, person x2:
    # p_e = (2*2 + 1*2 + 1*0) / 16 = 0.375; kappa = (0.5 - 0.375) / 0.625 = 0.2.
    assert cohen_kappa(["car", "car", "person", None], ["car", "person", "person", "car"]) == pytest.approx(
        0.2
    )
    # 3 raters, units [a,a,a] and [a,a,b]: P = (1 + 1/3) / 2 = 2/3; p_a = 5/6, p_b = 1/6, P_e = 26/36;
    # kappa = (2/3 - 13/18) / (5/18) = -0.2.
    assert fleiss_kappa([["a", "a", "a"], ["a", "a", "b"]]) == pytest.approx(-0.2)
    assert cohen_kappa(["car"] * 3, ["car"] * 3) == 1.0  # one label only: perfect agreement
    assert kappa([["car"], ["person"]]) is None  # one annotator: no agreement to measure


def test_two_annotators_give_the_agreement_worked_by_hand(tmp_path, merge):
    client = get_backend_client()
    project = build_project(client, tmp_path / "images", {"street": (200, 30, 30)})
    # Units: (car, car) IoU 5/6; (car, person) IoU 1; (person, person) IoU 1; (none, car) bob only.
    assign(project, "street", "alice", annotation(
        box("a1", "car", [0, 0, 10, 10], color="red"), box("a2", "car", [50, 50, 20, 20], color="blue"),
        box("a3", "person", [20, 60, 10, 20]),
    ))  # fmt: skip
    assign(project, "street", "bob", annotation(
        box("b1", "car", [0, 0, 10, 12], color="red"), box("b2", "person", [50, 50, 20, 20]),
        box("b3", "person", [20, 60, 10, 20]), box("b4", "car", [80, 0, 10, 10], color="red"),
    ))  # fmt: skip

    run = merge({"project": project.id, "review_threshold": 0.7})

    assert run.succeeded
    task = report_of(run)["tasks"][0]
    assert task["annotators"] == ["alice", "bob"]
    # kappa as in the hand-worked Cohen example above: 0.2.
    assert task["kappa"] == pytest.approx(0.2)
    # Ratings equal to the consensus: 2 + 1 (tie car/person -> car) + 2 + 1 of 8 = 0.75.
    assert task["agreement"] == 0.75
    assert task["mean_iou"] == pytest.approx((5 / 6 + 1 + 1) / 3, abs=1e-4)
    assert task["match_rate"] == pytest.approx(2 * 3 / (3 + 4), abs=1e-4)  # 3 matched of 3 + 4 boxes
    assert (task["objects"], task["kept"], task["status"]) == (4, 4, "reviewed")
    merged = client.get_task(project.tasks["street"]["id"])
    assert merged["status"] == "reviewed"
    boxes = merged["data"]["images"][0]["bounding_box"]
    assert [(b["classification"], b["data"]) for b in boxes] == [
        ("car", [0, 0, 10, 11]),  # the mean of 10 and 12
        ("car", [50, 50, 20, 20]),
        ("person", [20, 60, 10, 20]),
        ("car", [80, 0, 10, 10]),
    ]
    assert boxes[0]["attrs"] == [{"name": "color", "value": "red"}]
    classes = report_of(run)["classes"]
    assert classes["person"] == {"objects": 1, "kept": 1, "mean_iou": 1.0, "match_rate": 1.0,
                                 "kappa": classes["person"]["kappa"]}  # fmt: skip
    assert run.progress["consensus"]["percent"] == 100
    assert run.metrics["agreement"]["reviewed"] == 1


def test_a_box_is_kept_when_enough_annotators_have_it_and_merges_by_median(tmp_path, merge):
    client = get_backend_client()
    project = build_project(client, tmp_path / "images", {"road": (10, 200, 10)})
    for name, x in (("ann1", 10), ("ann2", 11), ("ann3", 16)):
        extra = [box("lone", "person", [70, 70, 10, 10])] if name == "ann3" else []
        tags = ("night",) if name == "ann2" else ("day",)
        assign(
            project,
            "road",
            name,
            annotation(box("c", "car", [x, 10, 40, 40], color="red"), *extra, tags=tags),
        )

    run = merge({"project": project.id, "min_agreement": 0.6, "merge": "median"})

    data = client.get_task(project.tasks["road"]["id"])["data"]["images"][0]
    # The car: all three (x = 10, 11, 16; median 11); the person only by ann3 (1/3 < 0.6): dropped.
    assert [(b["classification"], b["data"]) for b in data["bounding_box"]] == [("car", [11, 10, 40, 40])]
    assert [t["classification"] for t in data["tags"]] == ["day"]  # 2 of 3; night 1 of 3
    task = report_of(run)["tasks"][0]
    # Units: car (3 agree), person (kept none: 2 agree on "not there"), day (2), night (2 on absent).
    assert task["agreement"] == pytest.approx((3 + 2 + 2 + 2) / 12)
    assert task["status"] == "needs_review"  # 0.75 < 0.8
    stored = client.get_task(project.tasks["road"]["id"])
    assert (stored["status"], stored["tags"]) == ("rejected", ["needs_review"])


def test_reviewed_tasks_become_a_frozen_version_split_by_image_the_same_for_the_same_seed(tmp_path, merge):
    client = get_backend_client()
    colours = {f"img{n:02d}": (n * 10, 255 - n * 10, 0) for n in range(20)}
    project = build_project(client, tmp_path / "images", colours)
    # Two data units with the same image (and different notes): one image, so one split.
    add_unit(project, tmp_path, "twin-a", png(tmp_path / "twin.png", (1, 2, 3)), note="first")
    add_unit(project, tmp_path, "twin-b", png(tmp_path / "twin.png", (1, 2, 3)), note="second")
    for name in project.tasks:
        for annotator in ("alice", "bob"):
            assign(project, name, annotator, annotation(box("p", "person", [5, 5, 20, 30])))
    params = {"project": project.id, "splits": {"train": 0.5, "val": 0.25, "test": 0.25}, "seed": 3}

    first = merge(params)
    again = merge(params)
    other = merge({**params, "seed": 4})

    assert first.result["reviewed"] == 22
    version = first.result["ground_truth_version"]
    events = list(
        client.list_ground_truth_events({"ground_truth_dataset_version": version}, list_all=True)[0]
    )
    assert len(events) == 22 and client.get_ground_truth_version(version)["is_frozen"]
    # 21 distinct images: round(21 x 0.25) = 5 val, 5 test, 11 train (the twins count once).
    split_of = {e["data_unit"]: e["split"] for e in events}
    twins = [project.units[n]["id"] for n in ("twin-a", "twin-b")]
    assert split_of[twins[0]] == split_of[twins[1]]
    images: dict[str, set[str]] = {"train": set(), "val": set(), "test": set()}
    for name, unit in project.units.items():
        images[split_of[unit["id"]]].add(project.files[name]["checksum"])
    assert [len(images[s]) for s in ("train", "val", "test")] == [11, 5, 5]
    assert not (
        images["train"] & images["val"] or images["train"] & images["test"] or images["val"] & images["test"]
    )
    assert again.result["ground_truth_version"] == version  # the same items: the version is reused
    assert other.result["ground_truth_version"] != version
    assert sum(first.result["splits"].values()) == 22  # items: the twins are two
    other_events = client.list_ground_truth_events(
        {"ground_truth_dataset_version": other.result["ground_truth_version"]}, list_all=True
    )[0]
    assert {e["data_unit"]: e["split"] for e in other_events} != split_of


def test_the_split_depends_only_on_the_images_and_the_seed():
    groups = [f"sha256:{n}" for n in range(50)]
    fractions = {"train": 0.7, "val": 0.2, "test": 0.1}
    chosen = split_groups(groups, fractions, seed=1)

    assert split_groups(list(reversed(groups)), fractions, seed=1) == chosen
    assert sorted(chosen.values()).count("val") == 10 and list(chosen.values()).count("test") == 5
    assert split_groups(groups, fractions, seed=2) != chosen


def test_a_plugin_overrides_one_method_to_match_boxes_of_the_same_class_only(tmp_path, merge):
    source = PLAIN + (
        "\n\nclass Action(Action):\n"
        "    def match_boxes(self, objects, boxes):\n"
        "        pairs = super().match_boxes(objects, boxes)\n"
        "        same = lambda o, b: objects[o]['classification'] == boxes[b]['classification']\n"
        "        return [(o, b) for o, b in pairs if same(o, b)]\n"
    )
    client = get_backend_client()
    project = build_project(client, tmp_path / "images", {"street": (200, 30, 30)})
    assign(project, "street", "alice", annotation(box("a", "car", [0, 0, 10, 10], color="red")))
    assign(project, "street", "bob", annotation(box("b", "person", [0, 0, 10, 10])))

    run = merge({"project": project.id}, source)

    task = report_of(run)["tasks"][0]
    assert (task["objects"], task["agreement"]) == (2, 0.5)  # two objects, each by one annotator


def test_tasks_with_one_annotator_are_skipped_and_bad_params_are_refused(tmp_path, merge):
    client = get_backend_client()
    project = build_project(client, tmp_path / "images", {"street": (200, 30, 30)})
    assign(project, "street", "alice", annotation(box("a", "car", [0, 0, 10, 10], color="red")))

    run = merge({"project": project.id})

    assert run.succeeded and (run.result["skipped"], run.result["ground_truth_version"]) == (1, None)
    assert any("Nothing to merge" in m for m in run.messages)
    with pytest.raises(ParamsError, match="params.splits: .*sum to 1"):
        PostAnnotationAction(params={"project": 1, "splits": {"train": 0.5}})


def test_over_http_the_tasks_and_the_version_are_written_on_the_server(tmp_path, backend_server):
    from synapse_sdk.clients.backend import BackendClient

    client = BackendClient(backend_server.url, access_token=backend_server.token)
    try:
        project = build_project(client, tmp_path / "images", {"a": (1, 1, 1), "b": (2, 2, 2)})
        for name in project.tasks:
            for annotator in ("alice", "bob"):
                assign(project, name, annotator, annotation(box("p", "person", [5, 5, 20, 30])))
        action = PostAnnotationAction(params={"project": project.id, "splits": {"train": 1.0}})
        action.client = client
        result = action.run_action()
        statuses = [client.get_task(t["id"])["status"] for t in project.tasks.values()]
        version = client.get_ground_truth_version(result["ground_truth_version"])
    finally:
        client.backend.close()
    assert (result["reviewed"], result["splits"]) == (2, {"train": 2, "val": 0, "test": 0})
    assert statuses == ["reviewed", "reviewed"] and version["is_frozen"]
