"""Checkpoints of a training run in its own folder, so a retried attempt resumes where the last one stopped.

A retried attempt runs under the same run id with the same run folder, so what an epoch saved
survives the worker that saved it. Each epoch is one file, ``<run folder>/checkpoints/epoch-0003.pt``,
written to a temporary name and renamed into place: a worker killed mid-write leaves the previous
checkpoint as the latest, never a torn file. PyTorch is imported only when a checkpoint is read or
written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The folder inside a run's folder that holds its checkpoints.
FOLDER = "checkpoints"
_NAME = re.compile(r"^epoch-(\d{4,})\.pt$")


@dataclass(frozen=True)
class Checkpoint:
    """One saved epoch: its number and file."""

    epoch: int
    path: Path

    def load(self) -> dict[str, Any]:
        """The state that was saved (tensors, numbers, strings, lists and dicts only)."""
        import torch

        state: dict[str, Any] = torch.load(self.path, map_location="cpu", weights_only=True)
        return state


def checkpoint_dir(run_path: str | Path) -> Path:
    """Where a run's checkpoints live: ``<run folder>/checkpoints``."""
    return Path(run_path) / FOLDER


def save_checkpoint(run_path: str | Path, epoch: int, state: dict[str, Any]) -> Checkpoint:
    """Save ``state`` (model and optimizer state dicts, metrics...) as epoch ``epoch``, atomically."""
    import torch

    if epoch < 1:
        raise ValueError(f"epoch: checkpoints are numbered from 1, got {epoch}")
    folder = checkpoint_dir(run_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"epoch-{epoch:04d}.pt"
    partial = folder / f".{path.name}.partial"
    torch.save({**state, "epoch": epoch}, partial)
    os.replace(partial, path)
    return Checkpoint(epoch, path)


def list_checkpoints(run_path: str | Path) -> list[Checkpoint]:
    """The run's checkpoints, oldest epoch first (none if it saved none)."""
    folder = checkpoint_dir(run_path)
    if not folder.is_dir():
        return []
    found = [(_NAME.match(path.name), path) for path in folder.iterdir()]
    return sorted(
        (Checkpoint(int(match.group(1)), path) for match, path in found if match), key=lambda c: c.epoch
    )


def latest_checkpoint(run_path: str | Path) -> Checkpoint | None:
    """The checkpoint of the highest epoch in the run's folder, or None."""
    saved = list_checkpoints(run_path)
    return saved[-1] if saved else None
