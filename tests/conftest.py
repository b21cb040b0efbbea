"""Shared test setup: asyncio only (LangChain's chat models do not run under trio).

The suite runs in parallel (``pytest -n 2 --dist loadgroup``, as ``nox -s tests``
does) and serially (plain ``pytest``). Every test keeps its files in ``tmp_path``, its
servers on ports the system picks, and its environment changes in ``monkeypatch``, so
that two workers never meet.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clientsim import Intent, MessageDraft, Outcome, Outcomes, ParticipantRole


pytest_plugins = [
    "tests.services.postgres",
    "tests.services.ray_cluster",
    "tests.services.redis_server",
]


#: The xdist group of every Ray test: one worker runs them all, on one local cluster.
RAY_GROUP = "ray"


def module_setup(item: pytest.Item) -> str | None:
    """The name of a module-scoped fixture of the test's own module that the test
    uses (a shared, often costly setup: a CLI run, an inner pytest run), if any."""
    info = getattr(item, "_fixtureinfo", None)
    definitions = getattr(info, "name2fixturedefs", {})
    for name in getattr(item, "fixturenames", ()):
        for definition in definitions.get(name, ()):
            if definition.scope == "module" and definition.baseid.endswith(".py"):
                return str(name)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give pytest-xdist's ``--dist loadgroup`` the groups that save work.

    Every test that uses the Ray cluster (or lives in a ``test_ray_*.py``) goes to the
    ``ray`` group, marked or not, so that a parallel run never starts a second cluster:
    one takes about 1 GiB, and two on 2 cores starve each other. The tests that share
    a module-scoped fixture of their module go to one group per fixture, so that its
    setup runs once, not once per worker. (Runs before xdist reads the groups;
    harmless without xdist.)
    """
    for item in items:
        if any(item.iter_markers("xdist_group")):
            continue
        uses_ray = "ray_cluster" in getattr(item, "fixturenames", ())
        if uses_ray or item.path.name.startswith("test_ray"):
            item.add_marker(pytest.mark.xdist_group(RAY_GROUP))
        elif (setup := module_setup(item)) is not None:
            item.add_marker(pytest.mark.xdist_group(f"{item.path.stem}.{setup}"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under ``--dist loadgroup``, fail a Ray test that pytest-xdist did not group:
    some pytest and xdist versions together silently drop the groups, and the Ray
    tests would then start a cluster in every worker. (The other groups only save
    time; without them the tests still pass.)"""
    if not item.config.getoption("loadgroup", default=False):
        return  # not an xdist worker under --dist loadgroup
    groups = {mark.args[0] for mark in item.iter_markers("xdist_group") if mark.args}
    if RAY_GROUP in groups and "@" not in item.nodeid:
        pytest.fail(
            f"pytest-xdist did not put this test in the {RAY_GROUP!r} group: pytest"
            f" {pytest.__version__} and this pytest-xdist do not group tests"
            " (pytest-dev/pytest-xdist#1386); install pytest<9.2, or run with -n 0",
            pytrace=False,
        )


@pytest.fixture(name="anyio_backend", scope="session")
def _anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(name="base_time")
def _base_time() -> datetime:
    return datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(name="outcomes")
def _outcomes() -> Outcomes:
    return Outcomes(
        outcomes=(
            Outcome(name="resolved", description="Customer issue was fully resolved"),
            Outcome(
                name="escalated", description="Issue was escalated to a specialist"
            ),
            Outcome(name="abandoned", description="Customer left without resolution"),
        )
    )


@pytest.fixture(name="intent")
def _intent() -> Intent:
    return Intent(role=ParticipantRole.CUSTOMER, description="Reset my password")


@pytest.fixture(name="hello")
def _hello() -> MessageDraft:
    return MessageDraft(content="Hello, I need help", sender=ParticipantRole.CUSTOMER)
