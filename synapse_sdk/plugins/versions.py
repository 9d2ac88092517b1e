"""Semantic-version ordering for plugin versions."""

from __future__ import annotations

from synapse_sdk.plugins.config import MAX_VERSION, SEMVER


def version_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Sort key: releases after their pre-releases, numeric identifiers compared as numbers."""
    match = SEMVER.match(version)
    if not match or len(version) > MAX_VERSION:  # int() refuses 4,300+ digits
        return (-1, -1, -1, -1, ())
    core, _, rest = version.partition("+")[0].partition("-")
    major, minor, patch = (int(p) for p in core.split("."))
    pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in rest.split(".")) if rest else ()
    return (major, minor, patch, 0 if pre else 1, pre)
