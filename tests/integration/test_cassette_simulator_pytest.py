"""The headline regression test of the simulator-side cassette, through ``pytester``.

A test recorded with the ``clientsim_cassette`` fixture must turn red when the agent
is broken afterwards: the fixture replays the simulated side (the customer's model)
and calls the agent live, so a broken agent changes what the customer's model is
asked, and the replay fails naming the first turn where the agent's reply diverged,
with the recorded and the new reply side by side.

Each outer test writes a tiny inner suite and runs it in a subprocess. The inner
suite counts the calls that reach its agent and its customer model in files, and
prints them.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from tests.channels import http_servers as http
from tests.integration.spine_agents import CLIENTSIM_SRC, cli_env, openai_agent


_ARGS = ("-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim")

_INI = """
[pytest]
anyio_mode = auto
"""

BROKEN = "Let me transfer you..."
RESET = "I have sent you a reset link to your email. Did that fix it?"


def shop_answer(message: str) -> str:
    """The working agent: a reset link for a password, a goodbye for the rest."""
    if "password" in message.lower():
        return RESET
    return "Glad I could help. Anything else?"


# The inner suite's helpers: a counting customer model (deterministic, independent of
# the offline model's wording) and the agent as an async function.
_HELPERS = f"""
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

import clientsim

assert clientsim.__file__.startswith({str(CLIENTSIM_SRC)!r})

HERE = Path(__file__).parent
AGENT_CALLS = HERE / "agent_calls.txt"
MODEL_CALLS = HERE / "model_calls.txt"
BROKEN_FLAG = HERE / "BROKEN"


def count(path):
    return len(path.read_text()) if path.exists() else 0


class CountingCustomer(BaseChatModel):
    '''Answers from the number of messages it is shown; counts every call.'''

    @property
    def _llm_type(self):
        return "counting-customer"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        raise NotImplementedError

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
        with MODEL_CALLS.open("a") as calls:
            calls.write("x")
        last = messages[-1].content
        text = f"Thanks. You said {{len(last)}} characters; one more question."
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])


async def agent(message: str) -> str:
    with AGENT_CALLS.open("a") as calls:
        calls.write("x")
    if BROKEN_FLAG.exists():
        return {BROKEN!r}
    if "password" in message.lower():
        return {RESET!r}
    return "Glad I could help. Anything else?"
"""

_SUITE = """
import pytest
from clientsim.assertions import assert_outcome_rate

from helpers import AGENT_CALLS, MODEL_CALLS, CountingCustomer, agent, count

AGENT = __AGENT__


@pytest.mark.clientsim(runs=2, seed=5__MARKER__)
async def test_password_reset(simulate, clientsim_cassette):
    agent_before, model_before = count(AGENT_CALLS), count(MODEL_CALLS)
    results = None
    try:
        results = await simulate(
            AGENT,
            intents=["I forgot my password"],
            customer_model=CountingCustomer(),
            outcomes={"reset": {"patterns": ["reset link"], "sender": "agent"}},
            max_messages=6,
        )
    finally:
        print(
            f"MODE={clientsim_cassette.mode} "
            f"AGENT_CALLS={count(AGENT_CALLS) - agent_before} "
            f"MODEL_CALLS={count(MODEL_CALLS) - model_before} "
            f"OK={results is not None and all(run.result.ok for run in results)}"
        )
    __CHECK__
"""

_STRICT_CHECK = 'assert_outcome_rate(results, "reset", at_least=1.0)'
_LENIENT_CHECK = "assert all(run.result.ok for run in results), results"


@pytest.fixture(name="suite")
def _suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    env = cli_env()
    for name in ("PYTHONPATH", "OPENAI_BASE_URL", "PYTHONDONTWRITEBYTECODE"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("CLIENTSIM_DISABLE_PLUGINS", raising=False)
    pytester.makeini(_INI)
    pytester.makepyfile(helpers=_HELPERS)
    pytester.syspathinsert()
    return pytester


def write_suite(
    suite: pytest.Pytester,
    *,
    agent: str = "agent",
    marker: str = "",
    check: str = _STRICT_CHECK,
) -> None:
    text = (
        _SUITE.replace("__AGENT__", agent)
        .replace("__MARKER__", marker)
        .replace("__CHECK__", check)
    )
    suite.makepyfile(test_agent=text)


async def run_suite(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The inner suite in a subprocess, from a worker thread (the loop keeps serving)."""
    with anyio.fail_after(120):
        return await anyio.to_thread.run_sync(
            lambda: pytester.runpytest_subprocess(*_ARGS, "-s", *args)
        )


def counts(result: pytest.RunResult) -> tuple[str, int, int, bool]:
    """MODE, AGENT_CALLS, MODEL_CALLS and OK as the inner test printed them."""
    found = re.search(
        r"MODE=(\w+) AGENT_CALLS=(\d+) MODEL_CALLS=(\d+) OK=(\w+)", result.stdout.str()
    )
    assert found is not None, result.stdout.str()
    return found[1], int(found[2]), int(found[3]), found[4] == "True"


def assert_names_the_divergence(result: pytest.RunResult) -> None:
    """Red, naming turn 1 and showing both replies on one line, and how to fix it."""
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "CassetteDivergenceError" in out, out
    assert "turn 1" in out, out
    assert "I forgot my password" in out, out
    side_by_side = [
        line
        for line in out.splitlines()
        if "I have sent you" in line and BROKEN in line
    ]
    assert side_by_side, out
    assert "--clientsim-record" in out, out
    assert "on_miss" in out, out


def break_agent(suite: pytest.Pytester) -> None:
    (suite.path / "BROKEN").write_text("")


# ------------------------------------------------ an async function as the agent


async def test_breaking_a_function_agent_turns_the_recorded_test_red(
    suite: pytest.Pytester,
) -> None:
    write_suite(suite)
    recorded = await run_suite(suite)
    recorded.assert_outcomes(passed=1)
    # 2 runs x 3 agent turns; 2 runs x 2 customer model calls (the first customer
    # message is the intent)
    assert counts(recorded) == ("record", 6, 4, True)

    replayed = await run_suite(suite)
    replayed.assert_outcomes(passed=1)
    # the agent is called live, the simulated side is replayed: no model call
    assert counts(replayed) == ("replay", 6, 0, True)

    break_agent(suite)
    broken = await run_suite(suite)
    assert_names_the_divergence(broken)
    # the agent was called (once per conversation: it diverged at once), the
    # customer's model never: the replay stopped where its input changed
    assert counts(broken) == ("replay", 2, 0, False)


async def test_the_replay_all_mode_keeps_the_two_sided_replay(
    suite: pytest.Pytester,
) -> None:
    write_suite(suite, marker=', replay="all"')
    recorded = await run_suite(suite)
    assert counts(recorded) == ("record", 6, 4, True)
    break_agent(suite)
    # the agent's replies come from the cassette too: it is not called, and the
    # broken agent goes unnoticed (this is what replay="all" is for: everything
    # around the agent)
    replayed = await run_suite(suite)
    replayed.assert_outcomes(passed=1)
    assert counts(replayed) == ("replay", 0, 0, True)
    # the command line option picks the mode for tests whose marker does not
    write_suite(suite)
    chosen = await run_suite(suite, "--clientsim-replay=all")
    chosen.assert_outcomes(passed=1)
    assert counts(chosen) == ("replay", 0, 0, True)
    assert_names_the_divergence(await run_suite(suite))


async def test_on_miss_live_rerecords_from_the_divergence_on(
    suite: pytest.Pytester,
) -> None:
    write_suite(suite, check=_LENIENT_CHECK)
    recorded = await run_suite(suite)
    assert counts(recorded) == ("record", 6, 4, True)
    cassette = suite.path / "cassettes" / "test_password_reset_asyncio.sqlite"
    assert BROKEN not in agent_texts(cassette)

    break_agent(suite)
    write_suite(suite, marker=', on_miss="live"', check=_LENIENT_CHECK)
    updated = await run_suite(suite)
    updated.assert_outcomes(passed=1)
    # from the divergence (turn 1) on, the customer's model is called live
    assert counts(updated) == ("replay", 6, 4, True)
    assert BROKEN in agent_texts(cassette)
    assert RESET not in agent_texts(cassette)

    # the cassette now holds the new recording: a strict replay passes, offline
    write_suite(suite, check=_LENIENT_CHECK)
    again = await run_suite(suite)
    again.assert_outcomes(passed=1)
    assert counts(again) == ("replay", 6, 0, True)

    # the command line option does the same for every test
    (suite.path / "BROKEN").unlink()
    fixed = await run_suite(suite, "--clientsim-on-miss=live")
    fixed.assert_outcomes(passed=1)
    assert counts(fixed) == ("replay", 6, 4, True)
    assert RESET in agent_texts(cassette)


def agent_texts(cassette: Path) -> str:
    """Every recorded agent turn of the cassette file, as its JSON text."""
    connection = sqlite3.connect(cassette)
    try:
        rows = connection.execute(
            "SELECT payload FROM entries WHERE kind = 'agent'"
        ).fetchall()
    finally:
        connection.close()
    return "\n".join(row[0] for row in rows)


# ------------------------------------------------------ an HTTP agent on loopback


@pytest.mark.parametrize("broken", [False, True], ids=["working", "broken"])
async def test_breaking_an_http_agent_turns_the_recorded_test_red(
    suite: pytest.Pytester, broken: bool
) -> None:
    async def run_against(answer: Callable[[str], str]) -> tuple[pytest.RunResult, int]:
        async with http.serve(openai_agent(answer)) as server:
            write_suite(suite, agent=repr(f"{server.url}/v1"))
            result = await run_suite(suite)
        return result, len(server.requests)

    recorded, requests = await run_against(shop_answer)
    recorded.assert_outcomes(passed=1)
    assert requests == 6
    assert counts(recorded)[2] == 4

    if not broken:
        replayed, requests = await run_against(shop_answer)
        replayed.assert_outcomes(passed=1)
        assert requests == 6  # the agent is called live
        assert counts(replayed)[2] == 0  # the customer's model is not
        return
    failed, requests = await run_against(lambda _: BROKEN)
    assert requests >= 1
    assert_names_the_divergence(failed)
