"""Checkpoints in a run's folder: one file per epoch, written atomically, the newest found to resume from."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synapse_sdk.plugins.categories.neural_net.checkpoints import (
    checkpoint_dir,
    latest_checkpoint,
    list_checkpoints,
    save_checkpoint,
)


def test_a_fresh_run_folder_has_nothing_to_resume(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path) is None
    assert list_checkpoints(tmp_path) == []


def test_the_newest_epoch_is_the_one_to_resume_from(tmp_path: Path) -> None:
    weights = torch.nn.Linear(2, 1)
    for epoch in (1, 2, 10):
        save_checkpoint(tmp_path, epoch, {"model": weights.state_dict(), "metrics": {"loss": 1 / epoch}})

    assert [c.path.name for c in list_checkpoints(tmp_path)] == [
        "epoch-0001.pt",
        "epoch-0002.pt",
        "epoch-0010.pt",
    ]
    latest = latest_checkpoint(tmp_path)
    assert latest is not None and latest.epoch == 10
    state = latest.load()
    assert state["epoch"] == 10 and state["metrics"] == {"loss": 0.1}
    restored = torch.nn.Linear(2, 1)
    restored.load_state_dict(state["model"])
    assert torch.equal(restored.weight, weights.weight)


def test_a_write_cut_short_leaves_the_previous_checkpoint_the_latest(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, 3, {"step": 3})
    # What a worker killed mid-write leaves: a partial file under the temporary name, and a stray file.
    (checkpoint_dir(tmp_path) / ".epoch-0004.pt.partial").write_bytes(b"\x80\x02torn")
    (checkpoint_dir(tmp_path) / "notes.txt").write_text("not a checkpoint")

    latest = latest_checkpoint(tmp_path)
    assert latest is not None and latest.epoch == 3
    assert latest.load()["step"] == 3
    assert not list(checkpoint_dir(tmp_path).glob("epoch-0003*.partial"))


def test_epochs_count_from_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="numbered from 1"):
        save_checkpoint(tmp_path, 0, {})
