"""A local Ray cluster of 2 worker CPUs, started once per test session.

Ray takes seconds to start and about 1 GiB, so every Ray test shares this one cluster;
the tests that use it carry ``@pytest.mark.xdist_group("ray")`` so that, under
pytest-xdist, they all run in the same worker process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(name="ray_cluster", scope="session")
def _ray_cluster() -> Iterator[str]:
    """The address of a local Ray cluster (2 CPUs), shut down after the session."""
    try:
        import ray
    except ImportError as exc:
        pytest.skip(f"ray is not installed ({exc}); pip install 'clientsim[ray]'")
    # Workers import the tests' fakes by module name, so they see the project too.
    path = os.pathsep.join(
        [str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    if ray.is_initialized():
        ray.shutdown()
    context = ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    try:
        yield str(context.address_info["address"])
    finally:
        ray.shutdown()
