"""Action: params validation, the recorded run lifecycle, runtime env and programmatic lookup."""

from __future__ import annotations

import datetime
import os
import re
import socket
import threading
import time

import pytest
from pydantic import BaseModel

from synapse_sdk.backend.schemas import RunStatus
from synapse_sdk.errors import ActionNotFound, ParamsError
from synapse_sdk.execution.lifecycle import new_run as run_record
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.neural_net import TrainAction
from synapse_sdk.plugins.utils import get_action_class


class Params(BaseModel):
    epochs: int = 2
    api_token: str = ""


class Train(TrainAction):
    params_model = Params

    def start(self):
        for epoch in range(self.params["epochs"]):
            self.run.set_progress(epoch + 1, self.params["epochs"], "training")
            self.run.set_metrics({"loss": 1.0 / (epoch + 1)}, "training")
        self.run.log_message(f"token is {self.params['api_token']}")
        return {"epochs": self.params["epochs"]}


class Boom(Action):
    name = "boom"

    def start(self):
        self.run.log_message("about to fail")
        raise RuntimeError("the GPU caught fire")


def test_run_action_records_a_succeeded_run(store):
    action = Train(params={"epochs": 3, "api_token": "tok-123456"})
    assert action.run_action() == {"epochs": 3}
    record = store.get_run(action.run.id)
    assert record.status is RunStatus.SUCCEEDED
    assert record.result == {"epochs": 3}
    assert record.params == {"epochs": 3, "api_token": "***"}
    assert record.progress["training"]["percent"] == 100.0
    assert record.metrics == {"training": {"loss": pytest.approx(1 / 3)}}
    assert len(store.metric_history(action.run.id)) == 3
    assert [e.message for e in store.get_logs(action.run.id)] == ["token is ***"]
    assert record.started_at and record.finished_at and record.lost_events == 0


def test_a_failing_start_ends_failed_with_error_and_all_logs(store):
    action = Boom()
    with pytest.raises(RuntimeError, match="caught fire"):
        action.run_action()
    record = store.get_run(action.run.id)
    assert record.status is RunStatus.FAILED
    assert record.error == "RuntimeError: the GPU caught fire"
    messages = [e.message for e in store.get_logs(action.run.id)]
    assert messages == ["about to fail", "action failed: RuntimeError: the GPU caught fire"]


def test_bad_params_fail_before_any_run_exists(store):
    with pytest.raises(ParamsError, match=r"params.epochs: input should be a valid integer.*got 'many'"):
        Train(params={"epochs": "many"})
    assert store.list_runs() == []


def test_params_are_a_dict_of_validated_values():
    assert Train(params={"epochs": "4"}).params == {"epochs": 4, "api_token": ""}


def test_a_run_record_is_redacted_and_keeps_what_the_executor_adds():
    params, envs = {"api_token": "abc123", "epochs": 2}, {"HF_TOKEN": "hf_x", "MODE": "fast"}
    record = run_record("r1", "train", None, params, envs, extra={"ray": {"kind": "task"}})
    assert record.params == {"api_token": "***", "epochs": 2}
    assert record.extra == {"envs": {"HF_TOKEN": "***", "MODE": "fast"}, "ray": {"kind": "task"}}
    assert run_record("r2", "train", None, {}, {}, extra={"ray": {}}).extra == {"ray": {}}


def test_runtime_env_has_envs_and_requirements(tmp_path):
    (tmp_path / "requirements.txt").write_text("# deps\nnumpy>=1.26  # arrays\n\ntqdm\n")
    env = Train(envs={"MODEL_DIR": "/models"}, plugin_path=tmp_path).get_runtime_env()
    assert env["env_vars"] == {"MODEL_DIR": "/models"}
    assert env["pip"]["packages"] == ["numpy>=1.26", "tqdm"]
    assert env["working_dir"] == str(tmp_path)


def test_get_action_class_finds_every_spec_action():
    assert get_action_class("neural_net", "train") is TrainAction
    for category, action in [("export", "export"), ("upload", "upload"), ("smart_tool", "auto_label"),
                             ("pre_annotation", "to_task"), ("post_annotation", "post_annotation"),
                             ("data_validation", "validation"), ("neural_net", "gradio")]:  # fmt: skip
        cls = get_action_class(category, action)
        assert issubclass(cls, Action)
        assert (cls.category, cls.name) == (category, action)


@pytest.mark.parametrize(
    ("category", "action", "message"),
    [
        ("neural_nets", "train", "unknown category 'neural_nets' (did you mean 'neural_net'?)"),
        ("neural_net", "trian", "category 'neural_net' has no action 'trian' (did you mean 'train'?)"),
    ],
    ids=["category", "action"],
)
def test_get_action_class_suggests_names(category, action, message):
    with pytest.raises(ActionNotFound, match=re.escape(message)):
        get_action_class(category, action)


def test_the_category_base_runs_the_plugin_entrypoint(demo_plugin, store):
    cls = get_action_class("neural_net", "train")
    action = cls(params={"dataset_path": "/data", "epochs": 2}, plugin_config=demo_plugin)
    assert type(action).__module__ == "plugin.train"
    assert action.run_action() == {"status": "success", "final_loss": 0.7071}


class DownSink:
    """A record sink whose storage is unreachable: every write raises."""

    def write(self, run_id, batch):
        raise ConnectionError("store unreachable")


def test_a_failing_sink_never_fails_the_action_and_the_loss_is_recorded(store):
    from synapse_sdk.plugins.run import Run

    action = Train(params={"epochs": 4}, run=Run("lossy", [DownSink()]))
    assert action.run_action() == {"epochs": 4}
    record = store.get_run("lossy")
    assert record.status is RunStatus.SUCCEEDED
    assert record.lost_events == 4 + 1 + 1  # metrics, the log line and the coalesced progress


def test_a_run_that_ended_cannot_start_again(store):
    from synapse_sdk.errors import RunConflict

    action = Train(params={"epochs": 1})
    action.run_action()
    with pytest.raises(RunConflict, match=r"run '\w+' is SUCCEEDED, not PENDING; it cannot start"):
        Train(params={"epochs": 1}, run_id=action.run.id).run_action()
    assert store.get_run(action.run.id).result == {"epochs": 1}


class Quick(Action):
    name = "quick"

    def start(self):
        return {"done": True}


def gated() -> type[Action]:
    """An action that runs until the test opens its ``gate``."""

    class Gated(Action):
        name = "gated"
        gate = threading.Event()
        entered = threading.Event()

        def start(self):
            self.entered.set()
            assert self.gate.wait(10)
            return {"done": True}

    return Gated


def test_a_short_run_stores_its_start_with_its_end(store):
    action = Quick()
    assert action.run_action() == {"done": True}
    record = store.get_run(action.run.id)
    assert record.status is RunStatus.SUCCEEDED
    assert record.started_at <= record.finished_at
    assert (record.pid, record.host) == (os.getpid(), socket.gethostname())


def test_a_long_run_is_running_while_it_runs(store):
    action = gated()()
    worker = threading.Thread(target=action.run_action)
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while store.run_status(action.run.id) is not RunStatus.RUNNING and time.monotonic() < deadline:
            time.sleep(0.005)
        record = store.get_run(action.run.id)
        assert record.status is RunStatus.RUNNING
        assert record.pid == os.getpid() and record.started_at <= time.time()
    finally:
        action.gate.set()
        worker.join(10)
    assert store.get_run(action.run.id).status is RunStatus.SUCCEEDED


def test_a_run_stopped_before_it_started_never_starts(store):
    from synapse_sdk.errors import RunConflict

    action = gated()()
    action.gate.set()  # were it to start, it would finish at once
    store.create_run(run_record(action.run.id, "gated", None, {}, {}))
    store.transition(action.run.id, [RunStatus.PENDING], RunStatus.STOPPED, error="stopped before it started")
    with pytest.raises(RunConflict, match="is STOPPED, not PENDING; it cannot start"):
        action.run_action()
    assert not action.entered.is_set()
    assert store.get_run(action.run.id).error == "stopped before it started"


@pytest.mark.parametrize(
    ("returned", "stored"),
    [
        ({"loss": 0.5, "tags": ["a"], "ok": True, "none": None},) * 2,
        ({"shape": (2, 3), 1: "one"}, {"shape": [2, 3], "1": "one"}),
        ({"when": datetime.date(2026, 12, 1)}, {"when": "2026-12-01"}),
    ],
    ids=["json-already", "tuple-and-int-key", "date"],
)
def test_the_result_is_what_json_gives_back(returned, stored, store):
    class Returns(Action):
        name = "returns"

        def start(self):
            return returned

    action = Returns()
    assert action.run_action() == stored
    assert store.get_run(action.run.id).result == stored
