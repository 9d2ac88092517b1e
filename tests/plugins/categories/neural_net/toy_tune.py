"""A toy tune plugin for the tune tests: its "training" is a formula of the learning rate, no torch.

Its val_accuracy after epoch ``e`` is ``min(0.9, learning_rate * e)``, so which trial wins and which
one a median pruner stops is known in advance; a learning rate above 0.95 raises ("diverged").
"""

from __future__ import annotations

CONFIG = """\
code: toy-tune
name: Toy tune
version: 1.0.0
category: neural_net
actions:
  tune:
    entrypoint: plugin.tune.Tune
    method: job
"""
TUNE = """\
import json

from synapse_sdk.plugins.categories.neural_net import TuneAction


class Tune(TuneAction):
    def load_data(self):
        return {"ceiling": 0.9}  # what every trial trains on, read once

    def train_trial(self, trial, data):
        learning_rate = trial.params["learning_rate"]
        if learning_rate > 0.95:
            raise RuntimeError("diverged")
        for epoch in range(1, self.params["epochs"] + 1):
            accuracy = min(data["ceiling"], learning_rate * epoch)
            trial.report({"val_accuracy": accuracy, "val_loss": 1 - accuracy}, epoch)
        (trial.path / self.model_file).write_text(json.dumps(trial.params))
"""
SPACE = [{"name": "learning_rate", "type": "loguniform", "min": 0.01, "max": 0.9}]
#: The toy whose first attempt's worker dies (SIGKILL) in the middle of trial 2.
KILLED_ONCE = TUNE.replace("import json\n", "import json\nimport os\nimport signal\n").replace(
    '        for epoch in range(1, self.params["epochs"] + 1):\n',
    '        for epoch in range(1, self.params["epochs"] + 1):\n'
    "            if self.run.attempt == 1 and trial.number == 2 and epoch == 2:\n"
    "                os.kill(os.getpid(), signal.SIGKILL)\n",
)
RETRIED = CONFIG + "    retry: {max_attempts: 2}\n"
