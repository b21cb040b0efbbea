"""The pytest ``start_team`` fixture through ``pytester``: the marker's seed, a store
in memory, and a test that turns red when the team does not reach its decision."""

from __future__ import annotations

import anyio
import pytest

from tests.integration.spine_agents import CLIENTSIM_SRC, cli_env


_ARGS = ("-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim")

SUITE = f"""
import clientsim
import pytest
from clientsim.teams import TeamScenario

SCENARIO = TeamScenario(
    title="Mobile app v2 launch",
    brief="Version 2 is feature-complete; QA has 14 open crash bugs.",
    decision="Do we launch v2 on March 1?",
)
TEAM = ["CEO", "Product Manager", "Engineering Lead", "Designer", "Simulation Analyst"]
SEEN = []


def test_runs_the_clientsim_under_test():
    assert clientsim.__file__.startswith({str(CLIENTSIM_SRC)!r})


@pytest.mark.clientsim(seed=7)
@pytest.mark.parametrize("attempt", [1, 2])
async def test_the_marker_seed_gives_the_same_meeting(start_team, attempt):
    session = await start_team(SCENARIO, team=TEAM, max_turns=6)
    await session.run()
    SEEN.append([m.content for m in session.transcript.messages])
    assert session.turn == 6
    if attempt == 2:
        assert SEEN[0] == SEEN[1]


@pytest.mark.clientsim(seed=7)
async def test_the_team_backs_a_proposal(start_team):
    session = await start_team(SCENARIO, team=TEAM, max_turns=__TURNS__)
    await session.run()
    agreed = [d for d in session.analyses[-1].decisions if d.startswith("Agreed")]
    assert agreed, "the team backed no proposal"
"""


@pytest.fixture(name="suite")
def _suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    env = cli_env()
    for name in ("PYTHONPATH", "OPENAI_BASE_URL", "PYTHONDONTWRITEBYTECODE"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.delenv("DATABASE_URL", raising=False)
    pytester.makeini("[pytest]\nanyio_mode = auto\n")
    return pytester


async def run_suite(pytester: pytest.Pytester) -> pytest.RunResult:
    with anyio.fail_after(120):
        return await anyio.to_thread.run_sync(
            lambda: pytester.runpytest_subprocess(*_ARGS)
        )


@pytest.mark.anyio
async def test_start_team_uses_the_marker_seed_and_fails_when_nothing_is_decided(
    suite: pytest.Pytester, tmp_path
):
    suite.makepyfile(test_team=SUITE.replace("__TURNS__", "40"))
    passed = await run_suite(suite)
    passed.assert_outcomes(passed=4)
    suite.makepyfile(test_team=SUITE.replace("__TURNS__", "2"))
    failed = await run_suite(suite)
    failed.assert_outcomes(passed=3, failed=1)
    assert "the team backed no proposal" in failed.stdout.str()
    assert not list(tmp_path.glob("**/*.sqlite"))  # nothing written to a store file
