"""`synapse plugin publish | list | releases` through the real console script."""

from __future__ import annotations

import json

from tests.conftest import run_cli


def test_dry_run_lists_files_and_checksum_without_a_token_or_a_write(demo_plugin, synapse_home):
    (demo_plugin / ".synapseignore").write_text("notes/\n")
    (demo_plugin / "notes").mkdir()
    (demo_plugin / "notes" / "todo.md").write_text("later")
    (demo_plugin / "plugin" / "__pycache__").mkdir()
    (demo_plugin / "plugin" / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\0")
    # A remote backend without a token: a real publish would refuse, a dry run never connects.
    env = {"SYNAPSE_HOST": "http://127.0.0.1:9", "SYNAPSE_ACCESS_TOKEN": ""}
    proc = run_cli("plugin", "publish", "--dry-run", cwd=demo_plugin, env=env)
    assert proc.returncode == 0, proc.stderr
    listed = [line.split()[-1] for line in proc.stdout.splitlines()]
    assert listed == [
        ".synapseignore",
        "config.yaml",
        "plugin/__init__.py",
        "plugin/train.py",
        "requirements.txt",
    ]
    assert "demo-train@1.0.0: 5 file(s), content sha256 " in proc.stderr
    assert "dry run: nothing written" in proc.stderr
    assert not synapse_home.exists()


def test_publish_list_releases(demo_plugin, synapse_home):
    proc = run_cli("plugin", "publish", "--path", str(demo_plugin))
    assert proc.returncode == 0, proc.stderr
    published = json.loads(proc.stdout)
    assert published["created"] and published["version"] == "1.0.0"
    assert (
        f"published demo-train@1.0.0 ({published['size']} B, sha256 {published['checksum']})" in proc.stderr
    )
    again = run_cli("plugin", "publish", cwd=demo_plugin)
    assert again.returncode == 0
    assert json.loads(again.stdout) == {**published, "created": False}
    assert "already published with the same content; nothing to do" in again.stderr
    config = demo_plugin / "config.yaml"
    config.write_text(config.read_text().replace('version: "1.0.0"', 'version: "1.1.0"'))
    assert run_cli("plugin", "publish", cwd=demo_plugin).returncode == 0
    listing = run_cli("plugin", "list")
    assert listing.returncode == 0
    assert listing.stdout.splitlines()[1].split()[:3] == ["demo-train", "1.1.0", "2"]
    releases = run_cli("plugin", "releases", "demo-train")
    assert [line.split()[0] for line in releases.stdout.splitlines()] == ["VERSION", "1.1.0", "1.0.0"]
    assert published["checksum"] in releases.stdout.splitlines()[2]


def test_publishing_other_content_under_a_published_version_is_refused(demo_plugin):
    assert run_cli("plugin", "publish", cwd=demo_plugin).returncode == 0
    train = demo_plugin / "plugin" / "train.py"
    train.write_text(train.read_text() + "# changed\n")
    proc = run_cli("plugin", "publish", cwd=demo_plugin)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: demo-train@1.0.0 is already published with different content")
    assert "bump 'version' in config.yaml" in proc.stderr


def test_publishing_an_invalid_config_is_exit_2_naming_the_key(demo_plugin, synapse_home):
    config = demo_plugin / "config.yaml"
    config.write_text(config.read_text().replace('category: "neural_net"', 'category: "neural_nets"'))
    proc = run_cli("plugin", "publish", cwd=demo_plugin)
    assert proc.returncode == 2
    assert "config.yaml: category: expected one of" in proc.stderr
    assert "(did you mean 'neural_net'?)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert run_cli("plugin", "list").stderr.startswith("no published plugins")


def test_releases_of_an_unknown_plugin(synapse_home):
    proc = run_cli("plugin", "releases", "nothing-here")
    assert proc.returncode == 2
    assert "plugin 'nothing-here' has no published release" in proc.stderr
