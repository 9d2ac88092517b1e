"""The sample data collection and project both actions use when no id is given.

``sample_collection`` makes (on first use) a data collection with a data unit per photo in
``sample_data/photos/``: scikit-image's sample photos plus planted problems for
``pre_annotation`` to find (a truncated JPEG, a recompressed copy, a photo stored sideways with
an EXIF orientation). Files are stored by content and data units found by it, so calling it
again creates nothing. ``sample_project`` makes a project over that collection.
"""

from pathlib import Path

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
COLLECTION = "{{ cookiecutter.name }} sample photos"
PROJECT = "{{ cookiecutter.name }} sample project"
SPECIFICATIONS = [{"name": "image", "file_type": "image", "is_required": True, "is_primary": True}]
LABELS = {"bounding_box": [{"name": "face", "attributes": []}, {"name": "cat", "attributes": []}]}


def sample_collection(client, run):
    """The id of the sample data collection, made with its data units on first use."""
    found = client.list_data_collections({"name": COLLECTION})["results"]
    if found:
        return found[0]["id"]
    collection = client.create_data_collection({"name": COLLECTION, "file_specifications": SPECIFICATIONS})
    rows = []
    for path in sorted((SAMPLE_DATA / "photos").iterdir()):
        stored = client.create_data_file(path)
        image = {"data_file": stored["id"], "path": stored["path"], "checksum": stored["checksum"]}
        rows.append(
            {"data_collection": collection["id"], "files": {"image": image}, "meta": {"file_name": path.name}}
        )
    client.create_data_units(rows)
    run.log_message(
        f"Created the data collection {COLLECTION!r} ({collection['id']}) with {len(rows)} photos"
    )
    return collection["id"]


def sample_project(client, run):
    """The id of the sample project (over the sample collection), made on first use."""
    found = client.list_projects({"title": PROJECT})["results"]
    if found:
        return found[0]["id"]
    collection = sample_collection(client, run)
    project = client.create_project(
        {"title": PROJECT, "data_collection": collection, "configuration": LABELS}
    )
    run.log_message(f"Created the project {PROJECT!r} ({project['id']})")
    return project["id"]
