"""A toy job (no torch) that checkpoints each step in its run folder and resumes from it: retry tests."""

from __future__ import annotations

CONFIG = """\
code: steps
name: Steps
version: 0.1.0
category: neural_net
actions:
  count:
    entrypoint: plugin.count.Count
    method: job
    num_cpus: 0.5
    retry: {retry}
"""
SOURCE = """\
import json
import os
import time

from pydantic import BaseModel

from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.categories.base import Action


class Params(BaseModel):
    steps: int = 6
    sleep: float = 0.0
    raise_before_attempt: int = 0  # every try numbered below this one raises
    dataset: int = 0  # not 0: no such dataset, bad input found by the action itself


class Count(Action):
    name = "count"
    params_model = Params

    def start(self):
        checkpoint = self.run.path / "checkpoint.json"
        done = json.loads(checkpoint.read_text())["step"] if checkpoint.exists() else 0
        self.run.log_message(f"attempt {self.run.attempt} resumes after step {done}")
        if self.params["dataset"]:
            raise ParamsError(f"dataset: no dataset {self.params['dataset']}; give an existing id")
        if self.run.attempt < self.params["raise_before_attempt"]:
            raise RuntimeError(f"flaky failure in attempt {self.run.attempt}")
        for step in range(done + 1, self.params["steps"] + 1):
            time.sleep(self.params["sleep"])
            partial = checkpoint.with_suffix(".partial")
            partial.write_text(json.dumps({"step": step}))
            os.replace(partial, checkpoint)
            self.run.set_progress(step, self.params["steps"], "steps")
        return {"attempt": self.run.attempt, "resumed_after": done}
"""


def config(retry: str = "{max_attempts: 3}") -> str:
    """The plugin's config.yaml with ``retry`` as given (YAML flow text)."""
    return CONFIG.format(retry=retry)
