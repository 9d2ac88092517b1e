"""The ``deployment`` action: check a model, then publish it to a versioned deployment folder."""

import hashlib
import json
import shutil
import time

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.neural_net import DeploymentAction as BaseDeploymentAction

from .model import MODEL_PATH_HELP, load_model, model_file, output_path, predict_proba


class DeploymentParams(BaseModel):
    model_path: str | None = Field(None, description=MODEL_PATH_HELP)
    deployment_name: str = Field(
        "toy-classifier", pattern=r"^[a-z0-9][a-z0-9-]*$", description="The deployment's folder name"
    )
    target_dir: str | None = Field(
        None,
        description="The folder deployments go to, as <target_dir>/<deployment_name>/<version>/ "
        "(relative to the current folder). Default: deployments/ in the run's folder.",
    )
    smoke_input: list[float] = Field(
        default_factory=lambda: [2.5, 2.5], description="A point the model must predict before it is deployed"
    )


class DeploymentAction(BaseDeploymentAction):
    name = "deployment"
    params_model = DeploymentParams
    progress_categories = {"deployment": "Check, copy and register the model"}

    def start(self):
        source = model_file(self.params["model_path"])
        model = load_model(source)
        self.run.set_progress(1, 3, "deployment")

        started = time.perf_counter()
        smoke = predict_proba(model, self.params["smoke_input"])
        latency_ms = (time.perf_counter() - started) * 1000
        self.run.log_message(f"Smoke test: p={smoke:.3f} for {self.params['smoke_input']}")
        self.run.set_progress(2, 3, "deployment")

        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        version = digest[:12]
        target = output_path(self.params["target_dir"], self.run.path / "deployments")
        folder = target / self.params["deployment_name"] / version
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / "model.json")
        manifest = {
            "name": self.params["deployment_name"],
            "version": version,
            "sha256": digest,
            "deployed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "smoke_test": {"input": self.params["smoke_input"], "probability": round(smoke, 4)},
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        self.run.set_progress(3, 3, "deployment")
        self.run.set_metrics(
            {"model_bytes": source.stat().st_size, "smoke_latency_ms": latency_ms}, "performance"
        )
        self.run.log_message(f"Deployed {self.params['deployment_name']} version {version} to {folder}")
        return {"status": "success", "version": version, "path": str(folder), "sha256": digest}
