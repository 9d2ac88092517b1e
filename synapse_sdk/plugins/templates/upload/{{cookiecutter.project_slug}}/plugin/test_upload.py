"""Tests of the ``upload`` action, on the photos in sample_data/."""

from pathlib import Path

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.testing import embedded_backend

PLUGIN_DIR = Path(__file__).resolve().parents[1]
PHOTOS = {
    "astronaut": (102, 102),
    "camera": (64, 64),
    "chelsea": (90, 60),
    "coffee": (120, 80),
    "rocket": (128, 85),
}


def plugin_files():
    """Every file in the plugin folder (but Python's caches), with its modification time."""
    return {
        path: path.stat().st_mtime_ns
        for path in PLUGIN_DIR.rglob("*")
        if path.is_file() and not {"__pycache__", ".pytest_cache"} & set(path.parts)
    }


def data_units(home, collection):
    """The data units of a collection in the test's platform: file name -> (spec names, meta)."""
    with embedded_backend(home):
        client = get_backend_client()
        units = list(client.list_data_units({"data_collection": collection}, list_all=True)[0])
        return {
            client.get_data_file(unit["files"]["image"]["data_file"])["name"]: (
                sorted(unit["files"]),
                unit["meta"],
            )
            for unit in units
        }


def test_upload_makes_a_data_unit_per_photo_with_its_caption_and_metadata(synapse_run, tmp_path):
    run = synapse_run("upload")

    assert run.succeeded
    assert (run.result["uploaded"], run.result["data_units"], run.result["failed"]) == (10, 5, 0)
    units = data_units(tmp_path / "synapse-home", run.result["data_collection"])
    assert sorted(units) == [f"{stem}.jpg" for stem in sorted(PHOTOS)]
    files, meta = units["chelsea.jpg"]
    assert files == ["caption", "image"]
    assert meta == {"source": "scikit-image sample data", "license": "BSD-3-Clause",
                    "width": PHOTOS["chelsea"][0], "height": PHOTOS["chelsea"][1]}  # fmt: skip
    assert run.progress["upload"]["percent"] == 100
    assert run.metrics["data_unit"]["created"] == 5


def test_upload_again_sends_nothing(synapse_run):
    synapse_run("upload")
    again = synapse_run("upload")

    assert (again.result["uploaded"], again.result["skipped"], again.result["bytes_uploaded"]) == (0, 10, 0)
    assert (again.result["data_units_created"], again.result["data_units_existing"]) == (0, 5)


def test_small_photos_are_left_out(synapse_run):
    run = synapse_run("upload", {"min_side": 70})

    assert run.result["data_units"] == 3  # camera and chelsea are smaller


def test_a_folder_that_does_not_exist_fails_clearly(synapse_run, tmp_path):
    run = synapse_run("upload", {"path": str(tmp_path / "nowhere")}, check=False)

    assert run.status == "FAILED"
    assert "does not exist" in run.error


def test_upload_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("upload")

    assert plugin_files() == before
