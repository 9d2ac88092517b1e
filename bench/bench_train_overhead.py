"""The SDK's recording must not slow a training down.

The neural_net template's PyTorch loop (its ``model.py``: the CNN, ``make_loader``,
``train_epoch``, ``evaluate``) on the 1,257 + 180 digits of a train/val split, run bare and with
what the template's train action records: per-batch progress, per-epoch metrics (loss, accuracy,
learning rate, val loss and accuracy) and a checkpoint per epoch (model + optimizer + scheduler
state) in the run folder, through a real ``Run`` into a real embedded store. The two alternate,
epoch by epoch (so that other work on the machine slows both alike), several rounds, one torch
thread; the ratio is the recorded side's total wall time over the bare side's (the CPU-time ratio,
printed too, is steadier on a busy machine). Target: at most 1.03.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

TARGET_RATIO = 1.03
EPOCHS = 5
ROUNDS = 6
MODEL_PY = (
    Path(__file__).resolve().parents[1]
    / "synapse_sdk/plugins/templates/neural_net/{{cookiecutter.project_slug}}/plugin/model.py"
)


def template_model() -> ModuleType:
    """The template's ``plugin/model.py`` (plain Python: nothing in it is rendered)."""
    spec = importlib.util.spec_from_file_location("bench_template_model", MODEL_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def digits() -> tuple[list[Any], list[int], list[Any], list[int]]:
    """The digits as 8x8 PNG-like images (bright ink), split 1,257 train / 180 val by a fixed permutation."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    data = load_digits()
    images = [Image.fromarray((x * (255 / 16)).round().astype("uint8")) for x in data.images]
    order = np.random.default_rng(0).permutation(len(images)).tolist()
    train, val = order[:1257], order[1257:1437]
    labels = data.target.tolist()
    return (
        [images[i] for i in train],
        [labels[i] for i in train],
        [images[i] for i in val],
        [labels[i] for i in val],
    )


def training(
    model_py: ModuleType, data: tuple[Any, ...], run: Any = None, folder: Path | None = None
) -> Iterator[None]:
    """The template's loop for ``EPOCHS`` epochs, pausing after each (setup counts in the first epoch, the
    run's final flush in the last); with ``run``, recorded as the train action does."""
    import torch

    from synapse_sdk.plugins.categories.neural_net.checkpoints import save_checkpoint

    train_images, train_labels, val_images, val_labels = data
    torch.manual_seed(0)
    model = model_py.build_model(10)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)
    loader = model_py.make_loader(train_images, train_labels, 32, shuffle=True)
    val = model_py.make_loader(val_images, val_labels, 256)
    on_batch = None if run is None else (lambda done, total: run.set_progress(done, total, "batch"))
    for epoch in range(1, EPOCHS + 1):
        torch.manual_seed(epoch)
        loader.generator.manual_seed(epoch)
        learning_rate = optimizer.param_groups[0]["lr"]
        result = model_py.train_epoch(model, loader, optimizer, on_batch)
        scheduler.step()
        checked = model_py.evaluate(model, val)
        if run is not None:
            metrics = {"epoch": epoch, **result, "learning_rate": learning_rate,
                       "val_loss": checked["loss"], "val_accuracy": checked["accuracy"]}  # fmt: skip
            run.set_metrics(metrics, "train")
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "scheduler": scheduler.state_dict(), "metrics": metrics}  # fmt: skip
            saved = save_checkpoint(folder, epoch, state)
            run.log("checkpoint", {"epoch": epoch, "path": str(saved.path)})
            run.set_progress(epoch, EPOCHS, "train")
            if epoch == EPOCHS:
                run.close()
        yield


def main() -> int:
    import torch

    from synapse_sdk.backend.schemas import NewRun
    from synapse_sdk.backend.store.runs import RunStore
    from synapse_sdk.plugins.run import BackendSink, Run

    torch.set_num_threads(1)
    model_py, data = template_model(), digits()
    totals = {"bare": 0.0, "recorded": 0.0}
    cpu = {"bare": 0.0, "recorded": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "synapse.db")
        for _ in training(model_py, data):  # warm-up: torch's first-call costs belong to neither side
            pass
        for number in range(ROUNDS):
            run_id = f"bench-{number}"
            store.create_run(NewRun(id=run_id, action="train"))
            folder = Path(tmp) / run_id
            run = Run(run_id, [BackendSink(store)])
            sides = {"bare": training(model_py, data), "recorded": training(model_py, data, run, folder)}
            timings = {"bare": 0.0, "recorded": 0.0}
            for epoch in range(EPOCHS):
                # Epoch by epoch, in turn: a burst of other work on the machine falls on both sides alike.
                for side in ("bare", "recorded") if (number + epoch) % 2 == 0 else ("recorded", "bare"):
                    started, used = time.perf_counter(), time.process_time()
                    next(sides[side])
                    timings[side] += time.perf_counter() - started
                    cpu[side] += time.process_time() - used
            checkpoints = len(list((folder / "checkpoints").glob("epoch-*.pt")))
            recorded = store.get_run(run_id)
            if checkpoints != EPOCHS or recorded.progress["batch"]["percent"] != 100:
                print(f"FAIL: round {number}: {checkpoints} checkpoints, progress {recorded.progress}")
                return 1
            for side, seconds in timings.items():
                totals[side] += seconds
            bare, recorded_time = timings["bare"], timings["recorded"]
            print(f"round {number}: bare {bare:.3f}s, recorded {recorded_time:.3f}s "
                  f"({EPOCHS} epochs, {EPOCHS} checkpoints), ratio {recorded_time / bare:.3f}")  # fmt: skip
    ratio = totals["recorded"] / totals["bare"]
    ok = ratio <= TARGET_RATIO
    # CPU time (all of this process's threads: the run's flusher too) is less swayed by other work.
    cpu_ratio = cpu["recorded"] / cpu["bare"]
    print(f"recorded / bare CPU time: {cpu['recorded']:.3f}s / {cpu['bare']:.3f}s = {cpu_ratio:.3f}")
    print(
        f"recorded / bare wall time, {ROUNDS} rounds: {totals['recorded']:.3f}s / {totals['bare']:.3f}s = "
        f"{ratio:.3f} (target <= {TARGET_RATIO:.2f}) -> {'OK' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
