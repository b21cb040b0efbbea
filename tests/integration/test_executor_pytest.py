"""``--clientsim-executor`` and the marker's ``executor=``: a test suite's ``simulate``
and ``run_study`` fixtures run on the executor chosen, through ``pytester``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import executor_plugin


_ARGS = ("-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim")

_CONFTEST = """
from clientsim.plugins import register_plugin

import recording_executor_plugin

register_plugin(recording_executor_plugin)
"""

_TESTS = """
import pytest

import recording_executor_plugin as recording


def agent(message: str) -> str:
    return "Your refund is on its way."


async def test_default(simulate):
    results = await simulate(agent, intents=["refund please"], runs=2)
    print("RAN", len(recording.RAN))
    assert len(results) == 2


@pytest.mark.clientsim(executor="local")
async def test_marker_wins(simulate):
    before = len(recording.RAN)
    await simulate(agent, intents=["refund please"], runs=2)
    assert len(recording.RAN) == before


async def test_study(run_study):
    before = len(recording.RAN)
    results = await run_study({
        "name": "s",
        "population": {"name": "Adults", "demographic_base": "usa", "size": 3},
        "questions": [{"id": "q", "text": "How interested are you?", "type": "scale"}],
    })
    print("STUDY", len(recording.RAN) - before)
    assert results.aggregate_results["total_responses"] == 3
"""


@pytest.fixture(name="suite")
def _suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nanyio_mode = auto\n")
    source = Path(executor_plugin.__file__).read_text(encoding="utf-8")
    pytester.makepyfile(recording_executor_plugin=source)
    pytester.makeconftest(_CONFTEST)
    pytester.makepyfile(test_suite=_TESTS)
    pytester.syspathinsert()
    return pytester


def test_the_option_runs_the_suites_simulations_on_that_executor(suite):
    result = suite.runpytest_subprocess(
        *_ARGS, "-s", "--clientsim-executor", "recording"
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*RAN 2*", "*STUDY 3*"])


def test_without_the_option_the_suite_runs_locally(suite):
    result = suite.runpytest_subprocess(*_ARGS, "-s")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*RAN 0*", "*STUDY 0*"])


def test_an_unknown_executor_stops_pytest_naming_the_known_ones(suite):
    result = suite.runpytest_subprocess(*_ARGS, "--clientsim-executor", "nosuch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--clientsim-executor nosuch: unknown executor 'nosuch'*'local'*"]
    )
