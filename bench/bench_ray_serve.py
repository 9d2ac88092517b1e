"""Ray Serve throughput: our restapi deployment against a bare Serve deployment of the same handler.

Starts its own local Ray cluster (2 CPUs) and deploys, side by side on the same Serve
HTTP proxy, each with one replica of 0.5 CPU:

- bare: ``@serve.deployment`` whose ``__call__`` parses the JSON body and calls the handler;
- bare FastAPI (information only): a FastAPI ingress with a sync endpoint and a params model;
- ours: ``synapse_sdk.execution.serving.ray_serve.deploy`` of a plugin whose restapi action calls the
  same handler: FastAPI with params validation, request recording (log entries and metrics
  on the serving run in the embedded store) and the health/docs routes. Like the bare
  ``async def __call__``, the action's ``async def start()`` runs on the replica's event loop
  (a sync ``start()`` would be sent to the thread pool: see the FastAPI line for that cost).

Both are deployed side by side and loaded in alternating rounds (``ROUNDS`` each) of ``REQUESTS``
requests from 8 keep-alive client threads; the median round throughput is compared.
Target: ours at least 0.8x.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import post_load, write_plugin  # bench/ is on sys.path when a benchmark runs
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 0.8
THREADS = 8
REQUESTS = 400
ROUNDS = 5
CONFIG = """\
code: bench-serve
name: Bench Serve
version: 1.0.0
category: neural_net
actions:
  score:
    entrypoint: plugin.score.Score
    method: restapi
    num_cpus: 0.5
"""
SOURCE = """\
from pydantic import BaseModel
from synapse_sdk.plugins.categories.base import Action


def handler(text, times):
    return {"score": len(text) * times}


class Params(BaseModel):
    text: str
    times: int = 1


class Score(Action):
    name = "score"
    params_model = Params

    async def start(self):
        return handler(self.params["text"], self.params["times"])
"""


class Params(BaseModel):
    """The bare FastAPI baseline's params."""

    text: str
    times: int = 1


def handler(text: str, times: int) -> dict[str, int]:
    """The same work as the plugin's handler."""
    return {"score": len(text) * times}


def load(url: str) -> float:
    """Requests per second over ``REQUESTS`` POSTs from ``THREADS`` keep-alive clients."""
    return post_load(url, {"text": "hello world", "times": 2}, REQUESTS, THREADS)


def main() -> int:
    from tests.ray_cluster import local_ray_cluster

    root = Path(tempfile.mkdtemp(prefix="bench-ray-serve-"))
    plugin = write_plugin(root, CONFIG, {"score.py": SOURCE})
    os.environ["SYNAPSE_HOME"] = str(root / "home")
    try:
        with local_ray_cluster(num_cpus=2) as cluster:
            from ray import serve
            from starlette.requests import Request

            from synapse_sdk.backend import get_backend
            from synapse_sdk.execution.ray.cluster import connect
            from synapse_sdk.execution.serving.ray_serve import deploy
            from synapse_sdk.plugins.config import PluginConfig
            from synapse_sdk.settings import Settings

            connect(cluster.address)
            serve.start(http_options={"host": "127.0.0.1", "port": cluster.serve_port})

            @serve.deployment(ray_actor_options={"num_cpus": 0.5})
            class Bare:
                async def __call__(self, request: Request) -> dict[str, int]:
                    body = await request.json()
                    return handler(body["text"], body.get("times", 1))

            def bare_fastapi() -> Any:
                from fastapi import FastAPI

                app = FastAPI()

                def score(params: Params) -> dict[str, int]:
                    return handler(params.text, params.times)

                # real classes, not the strings __future__ makes: the replica gets this by value
                score.__annotations__ = {"params": Params, "return": dict}
                app.add_api_route("/score", score, methods=["POST"])
                return app

            serve.run(Bare.bind(), name="bare", route_prefix="/bare")
            fastapi_bare = serve.deployment(
                serve.ingress(bare_fastapi)(), ray_actor_options={"num_cpus": 0.5}
            )
            serve.run(fastapi_bare.bind(), name="bare-fastapi", route_prefix="/bare-fastapi")
            settings = Settings.from_env()
            config = PluginConfig.load(plugin)
            info = deploy(plugin, config, settings, cluster.address, port=cluster.serve_port)
            proxy = f"http://127.0.0.1:{cluster.serve_port}"
            urls = {
                "bare": f"{proxy}/bare",
                "fastapi": f"{proxy}/bare-fastapi/score",
                "ours": f"{info['url']}/score",
            }
            results: dict[str, list[float]] = {name: [] for name in urls}
            for url in urls.values():
                load(url)  # warm-up
            for _ in range(ROUNDS):  # interleaved, so load from elsewhere hits both alike
                for name, url in urls.items():
                    results[name].append(load(url))
            bare, fastapi, ours = results["bare"], results["fastapi"], results["ours"]
            time.sleep(1.5)  # let the replica's reporter write its last metrics window
            run = get_backend(settings).runs.get_run(info["run_id"])
            recorded = run.metrics.get("requests", {}).get("total", 0)
            serve.delete(info["app"])
            serve.delete("bare")
            serve.delete("bare-fastapi")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    bare_rps, ours_rps = statistics.median(bare), statistics.median(ours)
    ratio = ours_rps / bare_rps
    print(
        f"bare Ray Serve        {bare_rps:,.0f} req/s median (rounds: {', '.join(f'{r:,.0f}' for r in bare)})"
    )
    print(
        f"synapse Ray Serve     {ours_rps:,.0f} req/s median (rounds: {', '.join(f'{r:,.0f}' for r in ours)})"
    )
    fastapi_rps = statistics.median(fastapi)
    print(
        f"bare FastAPI ingress  {fastapi_rps:,.0f} req/s median, sync endpoint (information: "
        f"ours/that = {ours_rps / fastapi_rps:.2f}x)"
    )
    print(f"serving run {run.id}: {run.status.value}, {recorded:,} requests recorded")
    verdict = "OK" if ratio >= TARGET else "FAIL"
    print(f"ratio ours/bare = {ratio:.2f}x (target >= {TARGET}x)  {verdict}")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
