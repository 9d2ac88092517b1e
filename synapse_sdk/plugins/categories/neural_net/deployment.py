"""The ``deployment`` base action of the ``neural_net`` category: a registered model as a service.

On this machine (the default) it starts the plugin's REST server (``synapse plugin run serve``)
as a detached process serving that model (``MODEL_ID``), waits until ``/health`` answers, and
returns the serving run: its own run in the store (RUNNING, with request counts, throughput and
latency as metrics) that lives as long as the server. With ``ray_address`` it deploys the same
app as a Ray Serve application on that cluster, replicas and autoscaling as the restapi actions
of ``config.yaml`` set them (``num_replicas``, ``autoscaling``, ``num_cpus``). Either way
``synapse job stop <serving_run>`` takes it down.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from synapse_sdk.errors import ExecutionError
from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action

#: Detached servers started by this process: held so that no ``Popen`` is collected while they run.
_SERVERS: list[subprocess.Popen[bytes]] = []


class DeploymentParams(BaseModel):
    """Which model, and where it is served."""

    model_config = ConfigDict(extra="forbid")

    model: int | None = Field(None, description="a registered model id; default: this plugin's newest")
    host: str = Field("127.0.0.1", description="the interface the server listens on")
    port: int = Field(0, ge=0, le=65535, description="the server's port; 0: a free one (Ray: 8000)")
    ray_address: str | None = Field(None, description="deploy as a Ray Serve app on this cluster instead")
    timeout: float = Field(120.0, gt=0, le=3600, description="seconds the server may take to come up")


class DeploymentAction(Action):
    """Serve a registered model until stopped; the result names the serving run and its URL."""

    name = "deployment"
    category = Category.NEURAL_NET
    method = "restapi"
    is_category_base = True
    params_model = DeploymentParams
    progress_categories = {"deployment": "Start the server and wait until it answers"}

    def start(self) -> Any:
        """Find the model, then serve it here or on Ray; the serving run, URL and model."""
        from synapse_sdk.plugins.categories.neural_net.predictor import MODEL_ENV, find_model

        config = self.plugin_config
        if config is None or self.plugin_path is None:
            raise ExecutionError("deployment serves a plugin's restapi actions: run it from a plugin folder")
        record = find_model(self.client, self.params["model"], config.code)
        envs = {**self.envs, MODEL_ENV: str(record["id"])}
        self.run.set_progress(0, 2, "deployment")
        served = self.deploy_on_ray(envs) if self.params["ray_address"] else self.serve_here(envs)
        self.run.set_progress(2, 2, "deployment")
        serving = served["serving_run"]
        self.run.log_message(
            f"model {record['id']} served at {served['url']} by serving run {serving}; "
            f"stop it with 'synapse job stop {serving}'"
        )
        return {**served, "model": record["id"], "inference": served["url"].rstrip("/") + "/inference"}

    def serve_here(self, envs: dict[str, str]) -> dict[str, Any]:
        """A detached ``synapse plugin run serve`` of this plugin; returns once ``/health`` answers."""
        import httpx

        from synapse_sdk.execution.serving.local import check_port_free

        host, port = self.params["host"], self.params["port"] or free_port(self.params["host"])
        check_port_free(host, port)
        log_path = self.run.path / f"server-{port}.log"
        command = [
            sys.executable, "-c", "import sys; from synapse_sdk.cli import main; main(sys.argv[1:])",
            "plugin", "run", "serve", "--path", str(self.plugin_path), "--host", host, "--port", str(port),
            *(arg for key, value in envs.items() for arg in ("--env", f"{key}={value}")),
        ]  # fmt: skip
        with open(log_path, "ab") as log:
            server = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                cwd=self.plugin_path,
            )  # fmt: skip
        _SERVERS.append(server)
        self.run.set_progress(1, 2, "deployment")
        url = f"http://{host}:{port}"
        deadline = time.monotonic() + self.params["timeout"]
        while time.monotonic() < deadline:
            if server.poll() is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise ExecutionError(f"the server exited with {server.returncode} before it answered: "
                                     f"{' | '.join(tail)} (log: {log_path})")  # fmt: skip
            try:
                reply = httpx.get(f"{url}/health", timeout=2)
                if reply.status_code == 200:
                    health = reply.json()
                    return {"serving_run": health["run_id"], "url": url, "pid": server.pid,
                            "routes": health["actions"], "log": str(log_path)}  # fmt: skip
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        server.terminate()
        raise ExecutionError(f"the server did not answer {url}/health within {self.params['timeout']:g}s "
                             f"(log: {log_path})")  # fmt: skip

    def deploy_on_ray(self, envs: dict[str, str]) -> dict[str, Any]:
        """The plugin's restapi actions as a Ray Serve app (``execution.serving.ray_serve.deploy``)."""
        from synapse_sdk.execution.serving.ray_serve import deploy
        from synapse_sdk.settings import Settings

        assert self.plugin_path is not None
        assert self.plugin_config is not None
        info = deploy(
            self.plugin_path, self.plugin_config, Settings.from_env(), self.params["ray_address"],
            host=self.params["host"], port=self.params["port"] or 8000, envs=envs,
        )  # fmt: skip
        return {
            "serving_run": info["run_id"],
            "url": info["url"],
            "routes": info["routes"],
            "app": info["app"],
        }


def free_port(host: str) -> int:
    """A TCP port free on ``host`` right now."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
