"""The ``pre_annotation`` action: a collection's real photos checked, de-duplicated, fixed and marked.

Every test runs the real action of a plugin folder written inline against the test's embedded
platform, on scikit-image's sample photos plus planted problems (``pre_annotation_platform.py``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.errors import ExecutionError, ParamsError
from synapse_sdk.plugins.categories.pre_annotation.duplicates import HashIndex
from synapse_sdk.plugins.testing import run_action
from tests.plugins.categories.pre_annotation_platform import (
    CLEAN,
    PLANTED,
    ROTATED,
    photo_folder,
    photo_units,
    pre_plugin,
    units_by_name,
)

__all__ = ["photo_folder", "pre_plugin"]  # the fixtures, imported for the tests below


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    return get_backend_client()


@pytest.fixture
def photos(client, photo_folder):  # type: ignore[no-untyped-def]
    """The photos as data units of a fresh collection: (collection, units by file name)."""
    return photo_units(client, photo_folder)


def test_planted_problems_are_dropped_and_the_photos_kept(pre_plugin, client, photos, synapse_home):
    collection, units = photos

    run = run_action(pre_plugin(), "pre_annotation", {"data_collection": collection["id"]}, home=synapse_home)

    result = run.result
    assert (result["total"], result["kept"], result["dropped"], result["failed"]) == (10, 6, 4, 0)
    assert result["reasons"] == {"duplicate": 1, "near_duplicate": 1, "unreadable": 2}
    marks = {
        name: unit["meta"]["pre_annotation"] for name, unit in units_by_name(client, collection["id"]).items()
    }
    assert {name for name, mark in marks.items() if mark["status"] == "kept"} == {*CLEAN, ROTATED}
    assert {name: marks[name]["reason"] for name in PLANTED} == PLANTED
    assert marks["camera-again.png"]["duplicate_of"] == units["camera.png"]["id"]
    assert marks["chelsea-small.jpg"]["duplicate_of"] == units["chelsea.jpg"]["id"]
    assert marks["truncated.jpg"]["detail"].startswith("image file is truncated")
    assert all(mark["run"] == run.id for mark in marks.values())
    report = json.loads(Path(result["report_file"]).read_text())
    assert report["summary"] == result and len(report["units"]) == 10
    assert run.progress["scan"]["percent"] == run.progress["mark"]["percent"] == 100
    assert run.metrics["data_unit"] == {"kept": 6, "dropped": 4, "failed": 0, "stand_by": 0}


def test_a_sideways_photo_is_stored_again_upright_and_its_original_left(
    pre_plugin, client, photos, synapse_home
):
    collection, units = photos
    original = units[ROTATED]["files"]["image"]
    before = client.open_data_file(original["data_file"]).read()

    run = run_action(pre_plugin(), "pre_annotation", {"data_collection": collection["id"]}, home=synapse_home)

    assert run.result["fixed"] == 1
    fixed = units_by_name(client, collection["id"])[ROTATED]["meta"]["pre_annotation"]["fixed"]
    assert (fixed["orientation"], fixed["original_data_file"]) == (6, original["data_file"])
    upright = Image.open(io.BytesIO(client.open_data_file(fixed["data_file"]).read()))
    assert upright.size == (384, 303) == tuple(fixed["size"])  # skimage's coins photo, upright
    assert upright.getexif().get(0x0112) in (None, 1)
    assert client.open_data_file(original["data_file"]).read() == before
    unit = units_by_name(client, collection["id"])[ROTATED]
    assert unit["files"]["image"]["data_file"] == fixed["data_file"]  # the unit shows the upright copy
    assert unit["checksum"] == units[ROTATED]["checksum"]  # and is still known by its uploaded bytes


def test_running_twice_decides_the_same_and_stores_nothing_new(pre_plugin, client, photos, synapse_home):
    collection, _ = photos
    plugin = pre_plugin()
    params = {"data_collection": collection["id"]}

    first = run_action(plugin, "pre_annotation", params, home=synapse_home).result
    files = client.list_data_files()["count"]
    again = run_action(plugin, "pre_annotation", params, home=synapse_home).result

    assert {k: again[k] for k in ("kept", "dropped", "reasons", "fixed")} == {
        k: first[k] for k in ("kept", "dropped", "reasons", "fixed")
    }
    assert client.list_data_files()["count"] == files  # the upright copy is stored by content, once


def test_max_side_stores_large_photos_again_smaller(pre_plugin, client, photos, synapse_home):
    collection, _ = photos
    params = {"data_collection": collection["id"], "max_side": 256}

    result = run_action(pre_plugin(), "pre_annotation", params, home=synapse_home).result

    assert result["fixed"] == 6  # every kept photo is larger than 256 px
    marks = [u["meta"]["pre_annotation"] for u in units_by_name(client, collection["id"]).values()]
    sizes = [mark["fixed"]["size"] for mark in marks if mark["status"] == "kept"]
    assert len(sizes) == 6 and all(max(size) == 256 for size in sizes)


def test_near_duplicates_are_kept_when_the_threshold_is_off(pre_plugin, photos, synapse_home):
    collection, _ = photos
    params = {"data_collection": collection["id"], "near_duplicate_threshold": -1}

    result = run_action(pre_plugin(), "pre_annotation", params, home=synapse_home).result

    assert result["reasons"] == {"duplicate": 1, "unreadable": 2} and result["kept"] == 7


def test_check_unit_drops_with_the_plugin_s_own_reason(pre_plugin, client, photos, synapse_home):
    collection, _ = photos
    plugin = pre_plugin(
        pre_annotation="""
        from synapse_sdk.plugins.categories.pre_annotation import PreAnnotationAction


        class PreAnnotation(PreAnnotationAction):
            def check_unit(self, unit, image):
                return "grey" if image.mode == "L" else None
        """
    )

    result = run_action(
        plugin, "pre_annotation", {"data_collection": collection["id"]}, home=synapse_home
    ).result

    # camera, coins, and camera-again: its original was dropped, so it is no duplicate of a kept one
    assert result["reasons"]["grey"] == 3
    mark = units_by_name(client, collection["id"])["camera.png"]["meta"]["pre_annotation"]
    assert (mark["status"], mark["reason"], mark["detail"]) == ("dropped", "grey", "check_unit")


def test_a_hook_that_raises_fails_its_units_only_and_all_failing_fails_the_run(
    pre_plugin, client, photos, synapse_home
):
    collection, _ = photos
    source = """
    from synapse_sdk.plugins.categories.pre_annotation import PreAnnotationAction


    class PreAnnotation(PreAnnotationAction):
        def check_unit(self, unit, image):
            if {condition}:
                raise RuntimeError("no model for this one")
    """
    some = pre_plugin(source.replace("{condition}", 'unit["meta"]["file_name"] == "rocket.jpg"'), code="some")
    every = pre_plugin(source.replace("{condition}", "True"), code="every")
    params = {"data_collection": collection["id"], "near_duplicate_threshold": -1}

    partly = run_action(some, "pre_annotation", params, home=synapse_home)

    assert (partly.status, partly.result["failed"], partly.result["kept"]) == ("SUCCEEDED", 1, 6)
    assert "pre_annotation" not in units_by_name(client, collection["id"])["rocket.jpg"]["meta"]
    assert any("1 of 10 data unit(s) failed" in m for m in partly.messages)
    fresh, _ = photo_units(client, _only_photos(synapse_home), name="photos-only")
    with pytest.raises(ExecutionError, match="every data unit failed .*no model for this one"):
        run_action(every, "pre_annotation", {"data_collection": fresh["id"]}, home=synapse_home)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"data_collection": 999}, "params.data_collection: there is no data collection 999"),
        ({"spec": "imgae"}, "params.spec: 'imgae' is not a file specification .*did you mean 'image'"),
        ({"near_duplicate_threshold": 99}, "params.near_duplicate_threshold"),
    ],
    ids=["unknown-collection", "unknown-spec", "threshold-too-large"],
)
def test_bad_params_name_the_param(pre_plugin, photos, synapse_home, params, message):
    collection, _ = photos
    with pytest.raises(ParamsError, match=message):
        run_action(
            pre_plugin(), "pre_annotation", {"data_collection": collection["id"], **params}, home=synapse_home
        )


def test_the_hash_index_finds_the_closest_hash_within_the_threshold():
    index: HashIndex[str] = HashIndex(threshold=3)
    index.add(0b1111_0000, "a")
    index.add(0b1111_1111 << 40, "b")

    assert index.nearest(0b1111_0001) == ("a", 1)
    assert index.nearest(0b0000_1111) is None  # 8 bits away
    assert index.nearest((0b1111_1111 << 40) | 0b11) == ("b", 2)


def _only_photos(home: Path) -> Path:
    """A folder of the clean photos only (every unit readable, none duplicated)."""
    import skimage.data

    folder = home / "only-photos"
    folder.mkdir(exist_ok=True)
    for name, photo in list(CLEAN.items())[:2]:
        Image.fromarray(getattr(skimage.data, photo)()).save(folder / name, quality=90)
    return folder


def test_a_subclassed_params_field_given_in_extra_params_is_used(pre_plugin, photos, synapse_home):
    collection, _ = photos
    plugin = pre_plugin(
        pre_annotation="""
        from synapse_sdk.plugins.categories.pre_annotation import PreAnnotationAction, PreAnnotationParams


        class SmallParams(PreAnnotationParams):
            min_side: int = 1


        class PreAnnotation(PreAnnotationAction):
            params_model = SmallParams

            def check_unit(self, unit, image):
                return "too_small" if min(image.size) < self.params["min_side"] else None
        """
    )
    params = {"data_collection": collection["id"], "extra_params": {"min_side": 400}}

    result = run_action(plugin, "pre_annotation", params, home=synapse_home).result

    assert result["reasons"]["too_small"] == 3  # chelsea (300 px high), its small copy, and coins (303)
