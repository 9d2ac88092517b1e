"""One real local Ray cluster for the whole session (see ``tests/ray_cluster.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("ray")

from tests.ray_cluster import RayCluster, local_ray_cluster  # noqa: E402 - only once Ray is known to exist


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """``ray start --head`` on 127.0.0.1 with free ports and 2 CPUs, torn down after the session."""
    with local_ray_cluster(num_cpus=2) as cluster:
        yield cluster
