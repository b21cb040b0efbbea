"""Failures a test author can read: the forgotten ``await`` and short assertion output.

One inner suite (run once through ``pytester``) holds a failing rate assertion, a sync
test that passes the un-awaited call to a helper, and tests that never await their
``simulate`` call; each outer test reads its part of the output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import clientsim
from clientsim.assertions import (
    assert_no_outcome,
    assert_outcome_rate,
    assert_pass_hat_k,
    describe_run,
    outcome_rate,
    pass_hat_k,
)
from clientsim.errors import ConfigError
from clientsim.models import SimulationRuns
from clientsim.pytest_plugin import ClientsimSettings, Simulate


_ARGS = ("-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim")

_AGENT = """
def agent(message: str) -> str:
    return "Let me transfer you to a colleague who knows more about this. " * 4
"""

_TESTS = """
import pytest
from clientsim.pytest_plugin import assert_outcome_rate

from agent_under_test import agent

OUTCOMES = {"resolved": {"patterns": ["fixed"], "sender": "agent"}}


@pytest.mark.clientsim(runs=2, seed=5, threshold=0.9)
async def test_rate(simulate):
    results = await simulate(
        agent, intents=["my order is late"], outcomes=OUTCOMES
    )
    assert_outcome_rate(results, "resolved")  # the user's line


def test_sync_passes_the_call_on(simulate):
    results = simulate(agent, intents=["my order is late"], outcomes=OUTCOMES)
    assert_outcome_rate(results, "resolved", at_least=0.5)


def test_sync_discards_the_call(simulate):
    simulate(agent, intents=["my order is late"], outcomes=OUTCOMES)


async def test_async_forgets_await(simulate):
    results = simulate(agent, intents=["my order is late"], outcomes=OUTCOMES)
    assert results is not None


async def test_awaited_passes(simulate):
    results = await simulate(agent, intents=["my order is late"], outcomes=OUTCOMES)
    assert len(results) == 1
"""


@pytest.fixture(scope="module", name="output")
def _output(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The inner suite's output (one real pytest run shared by this module's tests)."""
    path = tmp_path_factory.mktemp("friendly")
    (path / "pytest.ini").write_text("[pytest]\nanyio_mode = auto\n")
    (path / "agent_under_test.py").write_text(_AGENT)
    (path / "test_inner.py").write_text(_TESTS)
    src = str(Path(clientsim.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, str(path)])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *_ARGS, "-W", "error::RuntimeWarning"],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout


def _section(output: str, test: str) -> list[str]:
    """The lines of ``test``'s failure section."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(rf"_ {test}\b", line))
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if re.match(r"^_{3,} \w|^={3,}", lines[i])
        ),
        len(lines),
    )
    return lines[start:end]


def test_a_failing_rate_shows_the_users_line_and_no_clientsim_source(
    output: str,
) -> None:
    section = _section(output, "test_rate")
    text = "\n".join(section)
    errors = [line for line in section if line.startswith("E ")]
    # The user's line is the one marked, and the message comes right after it.
    marked = next(i for i, line in enumerate(section) if line.startswith(">"))
    assert (
        'assert_outcome_rate(results, "resolved")  # the user\'s line'
        in (section[marked])
    )
    after = [line for line in section[marked + 1 :] if line.strip(" ^")]
    assert after[0].startswith("E ")
    # Rate and threshold first, then the run seed, then the trimmed transcripts.
    assert "rate 0% (0/2 runs) is below the threshold 90%" in errors[0]
    assert "run seed: 5" in errors[1]
    assert "simulate(seed=5, ...) re-runs these same conversations" in errors[1]
    assert re.search(r"iteration=0 seed=\d+ outcome=None", text)
    assert "[0] customer: my order is late" in text
    assert all(len(line) < 180 for line in errors)  # long messages are cut
    # None of clientsim's own source is printed.
    assert "clientsim/assertions/" not in text
    assert "def assert_outcome_rate" not in text
    assert "raise AssertionError" not in text
    assert re.search(r"^test_inner.py:\d+: AssertionError$", text, re.MULTILINE)
    # Before the frames were hidden this section took 77 lines; now it is short.
    assert len(section) < 30, text


def test_a_sync_test_passing_the_call_on_is_told_to_await(output: str) -> None:
    text = "\n".join(_section(output, "test_sync_passes_the_call_on"))
    assert "did you forget `await`? got a coroutine" in text
    assert "results must be a SimulationRuns" not in text
    assert "clientsim/assertions/" not in text


@pytest.mark.parametrize(
    ("test", "fix"),
    [
        ("test_sync_discards_the_call", "make the test `async def`"),
        ("test_async_forgets_await", "write `results = await simulate(...)`"),
    ],
)
def test_a_call_never_awaited_fails_the_test(output: str, test: str, fix: str) -> None:
    text = "\n".join(_section(output, test))
    assert "without awaiting it, so no conversation ran: did you forget `await`?" in (
        text
    )
    assert fix in text
    assert re.search(rf"FAILED test_inner.py::{test}\b", output)


def test_only_the_failures_fail_and_nothing_warns_never_awaited(output: str) -> None:
    assert "was never awaited" not in output
    assert re.search(r"\b4 failed, 1 passed\b", output), output


_COROUTINE_CALLS = [
    lambda runs: assert_outcome_rate(runs, "resolved", at_least=0.5),
    lambda runs: assert_outcome_rate(runs, "resolved"),
    lambda runs: assert_no_outcome(runs, "escalated"),
    lambda runs: assert_pass_hat_k(runs, 1, outcome="resolved", at_least=0.5),
    lambda runs: outcome_rate(runs, "resolved"),
    lambda runs: pass_hat_k(runs, 1, outcome="resolved"),
    describe_run,
]


@pytest.mark.parametrize("helper", _COROUTINE_CALLS)
def test_every_helper_names_the_missing_await_and_closes_the_call(
    helper: object,
) -> None:
    simulate = Simulate(settings=ClientsimSettings(), cassette=None)
    call = simulate(lambda message: "ok", intents=["hello"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a "never awaited" warning would fail here
        with pytest.raises(ConfigError, match="did you forget `await`"):
            helper(call)  # type: ignore[operator]
    assert call.cr_frame is None  # closed: nothing left to warn about


async def test_awaited_results_still_pass_through() -> None:
    simulate = Simulate(settings=ClientsimSettings(), cassette=None)
    results = await simulate(lambda message: "ok", intents=["hello"])
    assert isinstance(results, SimulationRuns)
    assert outcome_rate(results, "resolved") == 0.0
