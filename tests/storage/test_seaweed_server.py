"""The test S3 server is real, checks credentials, and listens on 127.0.0.1 only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from botocore.exceptions import ClientError


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket ``pid`` listens on, read from /proc (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            address, port = local.split(":")
            raw = bytes.fromhex(address)
            if width == 8:
                host = ".".join(str(b) for b in reversed(raw))
            else:  # four little-endian 32-bit words
                words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
                host = ":".join(b"".join(words).hex()[i : i + 4] for i in range(0, 32, 4))
            found.add((host, int(port, 16)))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/net"), reason="reads listening sockets from Linux /proc")
def test_every_listener_is_on_127_0_0_1(s3_server):
    addresses = listening_addresses(s3_server.proc.pid)
    assert (("127.0.0.1", s3_server.s3_port)) in addresses
    assert {host for host, _ in addresses} == {"127.0.0.1"}, sorted(addresses)
    assert not {port for _, port in addresses} & {
        7333,
        8181,
        9101,
        23646,
    }  # WebDAV, Iceberg, Lance, admin off


def test_it_starts_in_seconds_and_refuses_wrong_keys(s3_server, s3_bucket):
    assert s3_server.started_in is not None and s3_server.started_in < 10
    client = s3_server.client(secret_key="not-the-secret")
    with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
        client.put_object(Bucket=s3_bucket, Key="x", Body=b"x")


def test_buckets_are_not_created_on_upload(s3_server):
    with pytest.raises(ClientError, match="NoSuchBucket"):
        s3_server.client().put_object(Bucket="never-created", Key="x", Body=b"x")
