"""Release archives: ignore files, reproducible bytes, and extraction that refuses to escape its folder."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from synapse_sdk.errors import ReleaseError, UnsafeArchive
from synapse_sdk.packaging.archive import build_archive, collect_files
from synapse_sdk.packaging.checksum import sha256_bytes
from synapse_sdk.packaging.extract import extract_archive, extract_once


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_collect_files_honours_ignore_files_and_skips_caches_vcs_and_venvs(tmp_path: Path) -> None:
    write(tmp_path, {
        "config.yaml": "code: x\n",
        "plugin/__init__.py": "",
        "plugin/train.py": "x = 1\n",
        "plugin/__pycache__/train.cpython-311.pyc": "",
        "plugin/stale.pyc": "",
        ".git/HEAD": "ref\n",
        ".venv/bin/python": "",
        "myenv/pyvenv.cfg": "home = /usr\n",
        "myenv/lib/site.py": "",
        "logs/run.log": "",
        "debug.log": "",
        "keep.log": "",
        ".gitignore": "*.log\n!keep.log\nlogs/\n",
        "data/big.bin": "0" * 100,
        "data/small.txt": "ok\n",
        "data/.gitignore": "*.bin\n",
        "secret.env": "TOKEN=1\n",
        ".synapseignore": "secret.env\n",
        ".pytest_cache/v": "",
    })  # fmt: skip
    files = collect_files(tmp_path)
    assert files == [
        ".gitignore", ".synapseignore", "config.yaml", "data/.gitignore", "data/small.txt", "keep.log",
        "plugin/__init__.py", "plugin/train.py",
    ]  # fmt: skip


def test_archive_is_reproducible_and_ignores_mtimes(tmp_path: Path) -> None:
    write(tmp_path, {"config.yaml": "code: x\n", "plugin/a.py": "a = 1\n"})
    first = build_archive(tmp_path, collect_files(tmp_path))
    os.utime(tmp_path / "plugin" / "a.py", (1_000_000, 1_000_000))
    second = build_archive(tmp_path, collect_files(tmp_path))
    assert sha256_bytes(first) == sha256_bytes(second)
    (tmp_path / "plugin" / "a.py").write_text("a = 2\n")
    assert sha256_bytes(build_archive(tmp_path, collect_files(tmp_path))) != sha256_bytes(first)


def test_symlink_inside_is_packaged_as_its_file_and_one_outside_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "plugin-dir"
    write(root, {"config.yaml": "code: x\n", "plugin/real.py": "r = 1\n"})
    (root / "plugin" / "alias.py").symlink_to(root / "plugin" / "real.py")
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(build_archive(root, collect_files(root)))
    with tarfile.open(archive) as tar:
        alias = tar.getmember("plugin/alias.py")
        assert alias.isfile()
        assert tar.extractfile(alias).read() == b"r = 1\n"  # type: ignore[union-attr]
    (tmp_path / "outside.txt").write_text("secret")
    (root / "leak.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(ReleaseError, match=r"leak.txt: symlink to .*outside"):
        collect_files(root)


def test_extract_round_trip(tmp_path: Path) -> None:
    write(tmp_path / "src", {"config.yaml": "code: x\n", "plugin/a.py": "a = 1\n"})
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(build_archive(tmp_path / "src", collect_files(tmp_path / "src")))
    out = extract_once(archive, tmp_path / "cache" / "abc")
    assert (out / "plugin" / "a.py").read_text() == "a = 1\n"
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["abc"]


def _tar_with(tmp_path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        ok = tarfile.TarInfo("plugin/ok.py")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"ok"))
        member.size = len(data) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def _link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    "member",
    [
        tarfile.TarInfo("/tmp/evil-absolute.py"),
        tarfile.TarInfo("../evil-parent.py"),
        tarfile.TarInfo("plugin/../../evil-nested.py"),
        _link("plugin/escape", "../../../etc/passwd", tarfile.SYMTYPE),
        _link("plugin/abs-link", "/etc/passwd", tarfile.SYMTYPE),
        _link("plugin/hard", "../../outside.txt", tarfile.LNKTYPE),
    ],
    ids=["absolute", "dotdot", "nested-dotdot", "symlink-escape", "symlink-absolute", "hardlink-escape"],
)
def test_tar_slip_entries_are_refused_before_anything_is_written(
    tmp_path: Path, member: tarfile.TarInfo
) -> None:
    archive = _tar_with(tmp_path, member, b"pwned")
    dest = tmp_path / "cache" / "release"
    with pytest.raises(UnsafeArchive, match=r"entry '.*' is unsafe"):
        extract_once(archive, dest)
    assert not dest.exists()
    assert list((tmp_path / "cache").iterdir()) == []  # no half-extracted temp folder either
    assert not list(tmp_path.rglob("evil-*"))


@pytest.mark.parametrize(
    ("name", "symlink"),
    [("../evil.py", False), ("/abs/evil.py", False), ("plugin/../../evil.py", False), ("plugin/link", True)],
    ids=["dotdot", "absolute", "nested-dotdot", "symlink"],
)
def test_zip_slip_entries_are_refused(tmp_path: Path, name: str, symlink: bool) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("config.yaml", "code: x\n")
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = 0o120777 << 16
        zf.writestr(info, "../../etc/passwd" if symlink else "pwned")
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchive, match="is unsafe"):
        extract_archive(archive, dest)
    assert not dest.exists()


def test_a_safe_zip_extracts(tmp_path: Path) -> None:
    archive = tmp_path / "ok.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("config.yaml", "code: x\n")
        zf.writestr("plugin/a.py", "a = 1\n")
    extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "plugin" / "a.py").read_text() == "a = 1\n"


def test_garbage_is_not_an_archive(tmp_path: Path) -> None:
    archive = tmp_path / "junk.tar.gz"
    archive.write_bytes(b"not an archive at all")
    with pytest.raises(ReleaseError, match="not a readable tar.gz or zip archive"):
        extract_once(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_whatever_publish_packages_extraction_accepts(tmp_path: Path) -> None:
    """No false alarms: executables, dotfiles, empty and non-ASCII files, deep folders all come back."""
    from synapse_sdk.packaging.manifest import problems

    src = tmp_path / "src"
    deep = "/".join(f"level{i}" for i in range(12))
    write(src, {
        "config.yaml": "code: x\n", "plugin/__init__.py": "", ".gitignore": "*.log\n", "data/empty.txt": "",
        "data/한글 파일 (1).txt": "annyeong\n", f"data/{deep}/leaf.json": "{}",
        "scripts/run.sh": "#!/bin/sh\n", f"data/{'n' * 200}.txt": "long name\n",
    })  # fmt: skip
    (src / "scripts" / "run.sh").chmod(0o755)
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(build_archive(src, collect_files(src)))
    out = extract_once(archive, tmp_path / "releases" / sha256_bytes(archive.read_bytes()))
    assert sorted(collect_files(out)) == sorted(collect_files(src))
    assert (out / "data" / "한글 파일 (1).txt").read_text() == "annyeong\n"
    assert os.access(out / "scripts" / "run.sh", os.X_OK)
    assert not (out / "config.yaml").stat().st_mode & 0o111
    assert problems(out) == []
