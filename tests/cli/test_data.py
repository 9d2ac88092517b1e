"""``synapse data``: create and list platform records, import COCO sets, survive an import killed half-way."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synapse_sdk.cli import main
from tests.cli.test_render import run_in_terminal
from tests.clients.samples import COCO, write_generated, write_samples
from tests.conftest import ROOT, SYNAPSE, run_cli


def synapse(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in this process, through its real entry point (errors become ``Error:`` lines)."""
    capsys.readouterr()
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def sample_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """scikit-image's photos as JPEG files and their hand-made COCO file."""
    return write_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture
def imported(capsys, sample_set) -> dict:
    """The sample set imported into project 'photos', with ground truth; the report as JSON."""
    images, coco = sample_set
    code, out, err = synapse(
        capsys, "data", "import", "coco", str(images), str(coco), "--project", "photos",
        "--ground-truth", "photos-gt", "--val-fraction", "0.25", "--json",
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out)


COMMANDS = [
    ["data"],
    ["data", "storages", "list"],
    ["data", "storages", "create"],
    ["data", "collections", "list"],
    ["data", "collections", "create"],
    ["data", "projects", "list"],
    ["data", "projects", "create"],
    ["data", "tasks", "list"],
    ["data", "data-units", "list"],
    ["data", "import", "coco"],
    ["data", "import", "yolo"],
    ["data", "import", "voc"],
    ["data", "import", "imagefolder"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_help_works_for_every_command(capsys, command):
    code, out, _ = synapse(capsys, *command, "--help")
    assert code == 0
    assert "Usage: synapse " + " ".join(command) in out


def test_help_through_the_console_script():
    proc = run_cli("data", "import", "coco", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--ground-truth" in proc.stdout and "--val-fraction" in proc.stdout


def test_create_and_list_storages_collections_and_projects(capsys, tmp_path):
    code, out, err = synapse(
        capsys, "data", "storages", "create", "--name", "archive", "--root", str(tmp_path / "a")
    )
    assert code == 0, err
    assert out.startswith(f"created storage 2 'archive' (local: {tmp_path / 'a'})")
    code, out, err = synapse(
        capsys, "data", "storages", "create", "--name", "team-s3", "--provider", "s3",
        "--bucket", "synapse-data", "--prefix", "team-a", "--endpoint-url", "http://127.0.0.1:8333",
        "--access-key-id", "K", "--secret-access-key", "S3CRET", "--json",
    )  # fmt: skip
    assert code == 0, err
    created = json.loads(out)
    assert created["configuration"]["secret_access_key"] == "***"
    code, out, _ = synapse(capsys, "data", "storages", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "PROVIDER", "DEFAULT", "LOCATION"]
    assert lines[1].split()[:4] == ["1", "default", "local", "yes"]
    assert lines[3].split()[:3] == ["3", "team-s3", "s3"]
    assert "s3://synapse-data/team-a at http://127.0.0.1:8333" in lines[3]
    code, out, _ = synapse(capsys, "data", "storages", "list", "--json")
    listed = json.loads(out)
    assert [s["name"] for s in listed] == ["default", "archive", "team-s3"]
    assert "S3CRET" not in out

    code, out, err = synapse(
        capsys, "data", "collections", "create", "--name", "scans", "--spec", "image:image:JPG,.png",
        "--spec", "report:text:txt",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == "created data collection 1 'scans' (image:image:jpg,png report:text:txt)"
    code, out, _ = synapse(capsys, "data", "collections", "list", "--json")
    (collection,) = json.loads(out)
    assert collection["file_specifications"][0] == {
        "name": "image", "file_type": "image", "is_required": True, "extensions": [".jpg", ".png"],
        "is_primary": True,
    }  # fmt: skip

    code, out, err = synapse(
        capsys, "data", "projects", "create", "--title", "defects", "--collection", "scans",
        "--labels", "bounding_box:scratch,dent", "--labels", "polygon:scratch",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == "created project 1 'defects'"
    code, out, _ = synapse(capsys, "data", "projects", "list")
    assert out.splitlines()[1].split()[:4] == ["1", "defects", "1", "0"]
    assert "bounding_box: scratch, dent; polygon: scratch" in out
    code, out, _ = synapse(capsys, "data", "projects", "list", "--json")
    assert json.loads(out)[0]["configuration"]["bounding_box"] == [
        {"name": "scratch", "attributes": []},
        {"name": "dent", "attributes": []},
    ]


def test_empty_listings_say_how_to_fill_them(capsys):
    code, out, err = synapse(capsys, "data", "tasks", "list")
    assert (code, out) == (0, "")
    assert "no tasks; import some with 'synapse data import coco" in err
    code, out, _ = synapse(capsys, "data", "tasks", "list", "--json")
    assert json.loads(out) == []


def test_import_then_list_tasks_and_data_units_with_filters(capsys, imported):
    assert imported["tasks_created"] == 4 and imported["annotations"] == len(COCO["annotations"])
    assert imported["splits"] == {"train": 3, "val": 1}
    code, out, _ = synapse(capsys, "data", "tasks", "list", "--project", "photos", "--json")
    tasks = json.loads(out)
    assert len(tasks) == 4
    boxes = sorted(b["data"] for t in tasks for b in t["data"]["images"][0]["bounding_box"])
    assert boxes == sorted(a["bbox"] for a in COCO["annotations"])
    code, out, _ = synapse(capsys, "data", "tasks", "list", "--project", str(imported["project"]))
    rows = [line.split() for line in out.splitlines()]
    assert rows[0][:5] == ["ID", "PROJECT", "DATA", "UNIT", "STATUS"]
    # DM v2 annotations per image, in file order: the coffee's spoon is a box, a polygon and their group.
    assert [r[4] for r in rows[1:]] == ["3", "2", "4", "1"]
    code, out, err = synapse(capsys, "data", "tasks", "list", "--status", "pending", "--limit", "2")
    assert len(out.splitlines()) == 3
    assert "showed 2 of 4 tasks; --limit 0 shows all" in err
    code, out, _ = synapse(capsys, "data", "tasks", "list", "--status", "completed", "--json")
    assert json.loads(out) == []
    code, out, _ = synapse(capsys, "data", "data-units", "list", "--collection", "photos", "--json")
    assert [u["meta"]["file_name"] for u in json.loads(out)] == [i["file_name"] for i in COCO["images"]]
    code, out, _ = synapse(
        capsys, "data", "data-units", "list", "--collection", str(imported["data_collection"])
    )
    assert out.splitlines()[1].split()[-1] == "astronaut.jpg"
    code, out, _ = synapse(capsys, "data", "collections", "list")
    assert out.splitlines()[1].split()[:3] == ["1", "photos", "4"]


def test_importing_again_reports_what_it_found(capsys, sample_set, imported):
    images, coco = sample_set
    code, out, err = synapse(
        capsys, "data", "import", "coco", str(images), str(coco), "--project", "photos",
        "--ground-truth", "photos-gt", "--val-fraction", "0.25",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == (
        f"imported 4 of 4 image(s) into project {imported['project']}: 0 data unit(s) created, 4 found; "
        f"0 task(s) created, 4 found; 8 annotation(s); ground truth version 1 "
        f"(id {imported['ground_truth_version']}) found frozen: 3 train, 1 val"
    )
    assert "[progress] upload: 4/4 (100%)" in err  # plain lines: stderr is not a terminal


def bad_coco(tmp_path: Path) -> Path:
    path = tmp_path / "broken.json"
    path.write_text('{"images": [')
    return path


def zero_box(coco: Path, tmp_path: Path) -> Path:
    document = json.loads(coco.read_text())
    document["annotations"][3]["bbox"][2] = 0
    path = tmp_path / "zero-box.json"
    path.write_text(json.dumps(document))
    return path


BAD_INPUT = {
    "missing-images-dir": (
        lambda images, coco, tmp: [
            "data",
            "import",
            "coco",
            str(tmp / "nowhere"),
            str(coco),
            "--project",
            "p",
        ],
        "no such folder; give the folder that holds the COCO file's images",
    ),
    "broken-coco": (
        lambda images, coco, tmp: [
            "data",
            "import",
            "coco",
            str(images),
            str(bad_coco(tmp)),
            "--project",
            "p",
        ],
        "broken.json: not valid JSON",
    ),
    "broken-annotation": (
        lambda images, coco, tmp: [
            "data",
            "import",
            "coco",
            str(images),
            str(zero_box(coco, tmp)),
            "--project",
            "p",
        ],
        "zero-box.json: annotation 4: bbox: expected [x, y, width, height]",
    ),
    "bad-val-fraction": (
        lambda images, coco, tmp: [
            "data",
            "import",
            "coco",
            str(images),
            str(coco),
            "--project",
            "p",
            "--val-fraction",
            "1",
        ],
        "val_fraction: expected a number from 0 to below 1",
    ),  # fmt: skip
    "unknown-storage": (
        lambda images, coco, tmp: [
            "data",
            "import",
            "coco",
            str(images),
            str(coco),
            "--project",
            "p",
            "--storage",
            "42",
        ],
        "storage 42 does not exist",
    ),  # fmt: skip
    "unknown-project-id": (
        lambda images, coco, tmp: ["data", "tasks", "list", "--project", "999"],
        "--project 999: no project has id 999; list them with 'synapse data projects list'",
    ),
    "unknown-project-title": (
        lambda images, coco, tmp: ["data", "tasks", "list", "--project", "photoz"],
        "--project 'photoz': no project is named 'photoz' (did you mean 'photos'?)",
    ),
    "unknown-status": (
        lambda images, coco, tmp: ["data", "tasks", "list", "--status", "done"],
        "--status 'done': expected one of pending, in_progress, completed, reviewed, rejected",
    ),
    "unknown-collection": (
        lambda images, coco, tmp: ["data", "data-units", "list", "--collection", "7"],
        "--collection 7: no data collection has id 7; list them with 'synapse data collections list'",
    ),
    "bad-spec": (
        lambda images, coco, tmp: ["data", "collections", "create", "--name", "c", "--spec", "image:imag"],
        "--spec 'image:imag': file type 'imag' is not one of image, video, text, audio, pcd, json, other "
        "(did you mean 'image'?)",
    ),
    "bad-labels": (
        lambda images, coco, tmp: ["data", "projects", "create", "--title", "t", "--labels", "box:car"],
        "--labels 'box:car': tool 'box' is not one of",
    ),
    "bad-provider": (
        lambda images, coco, tmp: ["data", "storages", "create", "--name", "x", "--provider", "locall"],
        "--provider 'locall': expected local or s3 (did you mean 'local'?)",
    ),
    "s3-option-on-local": (
        lambda images, coco, tmp: [
            "data",
            "storages",
            "create",
            "--name",
            "x",
            "--root",
            "/d",
            "--bucket",
            "b",
        ],
        "--bucket: only for --provider s3",
    ),
    "duplicate-project": (
        lambda images, coco, tmp: ["data", "projects", "create", "--title", "photos"],
        "exists already",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_bad_input_is_one_error_line_and_exit_2(capsys, sample_set, imported, tmp_path, case):
    build, message = BAD_INPUT[case]
    code, out, err = synapse(capsys, *build(*sample_set, tmp_path))
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("Error: ") and message in err, err
    assert "Traceback" not in err


def test_missing_image_files_are_each_named_and_nothing_is_imported(capsys, sample_set, tmp_path):
    images = tmp_path / "images"
    shutil.copytree(sample_set[0], images)
    (images / "coffee.jpg").unlink()
    code, _, err = synapse(
        capsys, "data", "import", "coco", str(images), str(sample_set[1]), "--project", "p"
    )
    assert code == 2
    assert err.splitlines() == [
        f"Error: {images / 'coffee.jpg'}: no such file (COCO image 3); nothing was imported "
        "(skip_missing=True, or --skip-missing, imports the other 3)",
    ]
    code, out, err = synapse(
        capsys, "data", "import", "coco", str(images), str(sample_set[1]), "--project", "p", "--skip-missing"
    )
    assert code == 0, err
    assert f"warning: skipped {images / 'coffee.jpg'}: no such file (COCO image 3)" in err
    assert "imported 3 of 4 image(s)" in out and "1 skipped (file missing)" in out


def test_a_terminal_gets_a_progress_bar_per_phase(sample_set, tmp_path):
    images, coco = sample_set
    code, screen = run_in_terminal(
        ["data", "import", "coco", str(images), str(coco), "--project", "photos", "--ground-truth", "gt"],
        tmp_path,
    )
    assert code == 0, screen
    for label in ("Uploading images", "Data units", "Tasks", "Ground truth"):
        assert label in screen
    assert "━" in screen and "4/4" in screen
    assert "imported 4 of 4 image(s)" in screen


def count(db: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_an_import_killed_half_way_finishes_without_duplicates(synapse_home, tmp_path):
    images, coco = write_generated(tmp_path / "generated", count=300)
    args = ["data", "import", "coco", str(images), str(coco), "--project", "generated",
            "--ground-truth", "generated-gt", "--batch-size", "10"]  # fmt: skip
    db = synapse_home / "synapse.db"
    proc = subprocess.Popen([SYNAPSE, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        tasks = 0
        while not tasks and proc.poll() is None and time.monotonic() < deadline:
            try:
                tasks = count(db, "tasks")
            except sqlite3.OperationalError:  # no database or no table yet
                tasks = 0
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the import ended before it could be killed"
    killed_at = count(db, "tasks")
    assert 0 < killed_at < 300

    again = run_cli(*args, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["tasks_reused"] == killed_at and report["tasks_created"] == 300 - killed_at
    assert report["data_units_created"] + report["data_units_reused"] == 300
    assert report["splits"] == {"train": 240, "val": 60}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT checksum) FROM data_units").fetchone() == (
            300,
            300,
        )
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT data_unit) FROM tasks").fetchone() == (300, 300)
        assert conn.execute("SELECT COUNT(*) FROM data_files").fetchone() == (300,)
        rows = conn.execute(
            "SELECT json_extract(u.meta, '$.coco_image_id'), t.data "
            "FROM tasks t JOIN data_units u ON u.id = t.data_unit"
        ).fetchall()
        versions = conn.execute("SELECT version, is_frozen FROM ground_truth_dataset_versions").fetchall()
        events = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT data_unit) FROM ground_truth_events"
        ).fetchone()
    expected = {a["image_id"]: a["bbox"] for a in json.loads(coco.read_text())["annotations"]}
    assert {
        image: json.loads(data)["images"][0]["bounding_box"][0]["data"] for image, data in rows
    } == expected
    assert versions == [("1", 1)]
    assert events == (300, 300)


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## The platform")
    return text[start : text.index("\n## ", start + 1)]


def test_the_readme_platform_section_runs_as_written(tmp_path):
    section = readme_section()
    commands = section.split("```bash\n", 1)[1].split("```", 1)[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for line in commands.splitlines():
        args = shlex.split(line, comments=True)
        if not args:
            continue
        program = {"python": sys.executable, "synapse": SYNAPSE}[args[0]]
        proc = subprocess.run([program, *args[1:]], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, f"{line}\n{proc.stderr}"
    source = section.split("```python\n", 1)[1].split("```", 1)[0]
    plugin = tmp_path / "count-boxes"
    (plugin / "plugin").mkdir(parents=True)
    (plugin / "plugin" / "__init__.py").write_text("")
    (plugin / "plugin" / "count.py").write_text(source)
    (plugin / "config.yaml").write_text(
        'code: "count-boxes"\nname: "Count boxes"\nversion: "0.1.0"\ncategory: "data_validation"\n'
        'actions:\n  count_boxes:\n    entrypoint: "plugin.count.CountBoxes"\n    method: "task"\n'
    )
    proc = run_cli("plugin", "run", "count_boxes", "--debug", cwd=plugin)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"tasks": 4, "boxes": 8}
    assert '`synapse plugin run count_boxes --debug` prints `{"tasks": 4, "boxes": 8}`' in " ".join(
        section.split()
    )
