"""The tune action with ``backend: "ray"``: Ray Tune trials (OptunaSearch) on the test cluster, recorded in
the run like Optuna's, the best trial's model registered from its Tune checkpoint."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from synapse_sdk.clients.backend import get_backend_client
from tests.conftest import run_cli
from tests.plugins.categories.neural_net.toy_tune import CONFIG, SPACE, TUNE

pytestmark = [pytest.mark.ray, pytest.mark.slow]

PARAMS = {
    "dataset": "toy",
    "epochs": 3,
    "hyperparameter": SPACE,
    "backend": "ray",
    "tune_config": {"num_samples": 4, "max_concurrent_trials": 2},
}


#: The median case runs one trial at a time, the second far behind the first: it must be pruned.
FIRST = [{"learning_rate": 0.5}, {"learning_rate": 0.02}]
MEDIAN = {"scheduler": {"name": "median", "min_samples": 1}, "max_concurrent_trials": 1,
          "search_alg": {"points_to_evaluate": FIRST}}  # fmt: skip
ASHA = {"scheduler": {"name": "asha"}}


@pytest.mark.parametrize(
    ("where", "search"), [("ray-job", MEDIAN), ("local-driver", ASHA)], ids=["job", "local"]
)
def test_ray_tune_trials_are_recorded_and_the_best_model_registered(
    ray_cluster, make_plugin: Callable[..., Path], synapse_home: Path, store, where: str, search: dict
) -> None:
    plugin = make_plugin(CONFIG, {"tune.py": TUNE}, name="toy-tune")
    # As a Ray job the driver is the job; with --debug it is this machine, connected to the cluster.
    debug = ["--debug"] if where == "local-driver" else []
    params = {**PARAMS, "tune_config": {**PARAMS["tune_config"], **search}}
    proc = run_cli("plugin", "run", "tune", json.dumps(params), *debug, cwd=plugin,
                   env={**ray_cluster.env, "SYNAPSE_HOME": str(synapse_home)}, timeout=240)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)

    (run,) = store.list_runs()
    trials = [e.data for e in store.get_logs(run.id) if e.event == "trial"]
    assert sorted(t["number"] for t in trials) == [0, 1, 2, 3]  # each once: no trial started over
    assert {t["state"] for t in trials} <= {"complete", "pruned"}
    rows = store.metric_history(run.id, "trials")
    assert sorted((r["values"]["trial"], r["values"]["epoch"]) for r in rows) == sorted(
        (t["number"], epoch) for t in trials for epoch in range(1, t["epochs"] + 1)
    )  # every epoch a trial trained, once
    complete = [t for t in trials if t["state"] == "complete"]
    best = max(complete, key=lambda t: t["metrics"]["val_accuracy"])
    assert result["best_trial"]["number"] == best["number"]
    assert result["best_params"] == best["params"]
    assert result["backend"] == "ray"
    model = get_backend_client().get_model(result["model"])
    assert model["run"] == run.id
    assert model["configuration"]["tuned"]["params"] == best["params"]
    if search is MEDIAN:
        second = next(t for t in trials if t["number"] == 1)
        assert (second["params"], second["state"], second["epochs"]) == ({"learning_rate": 0.02}, "pruned", 1)
    # The model file came back from the trial's checkpoint: what the trial wrote, its params.
    assert json.loads(Path(result["model_path"]).read_text()) == best["params"]


def test_a_ray_trial_that_raises_stops_the_search_and_is_recorded(
    ray_cluster, make_plugin: Callable[..., Path], synapse_home: Path, store
) -> None:
    plugin = make_plugin(CONFIG, {"tune.py": TUNE}, name="toy-tune")
    diverging = {"search_alg": {"points_to_evaluate": [{"learning_rate": 0.99}]}, "max_concurrent_trials": 1}
    params = {
        **PARAMS,
        "hyperparameter": [{**SPACE[0], "max": 1.0}],
        "tune_config": {**PARAMS["tune_config"], **diverging},
    }
    proc = run_cli("plugin", "run", "tune", json.dumps(params), cwd=plugin,
                   env={**ray_cluster.env, "SYNAPSE_HOME": str(synapse_home)}, timeout=240)  # fmt: skip

    assert proc.returncode == 1
    assert "Ray Tune search stopped: trial 0 failed: RuntimeError: diverged" in proc.stderr, proc.stderr[
        -3000:
    ]
    (run,) = store.list_runs()
    assert run.status.value == "FAILED"
    trials = [e.data for e in store.get_logs(run.id) if e.event == "trial"]
    assert (trials[0]["number"], trials[0]["state"]) == (0, "failed")
    assert "diverged" in trials[0]["error"]
