"""clientsim's pytest plugin, run on tiny inner test suites through ``pytester``."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.assertions import (
    SimulatedRun,
    SimulationRuns,
    assert_no_outcome,
    assert_outcome_rate,
    assert_pass_hat_k,
    outcome_rate,
    pass_hat_k,
)
from clientsim.errors import ConfigError
from clientsim.models import (
    Conversation,
    ConversationResult,
    Message,
    Outcome,
    ParticipantRole,
)
from clientsim.pytest_plugin import ClientsimSettings, Simulate


_ARGS = ("-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim")

_INI = """
[pytest]
anyio_mode = auto
markers =
"""

_AGENT = """
from pathlib import Path

CALLS = Path(__file__).with_name("agent_calls.txt")


def agent(message: str) -> str:
    with CALLS.open("a") as calls:
        calls.write("x")
    return "Your problem is fixed now. Anything else?"
"""


@pytest.fixture(name="suite")
def _suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(_INI)
    pytester.makepyfile(agent_under_test=_AGENT)
    pytester.syspathinsert()
    return pytester


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*_ARGS, *args)


def test_passing_suite(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_agent="""
        import pytest
        from clientsim.pytest_plugin import assert_no_outcome, assert_outcome_rate

        from agent_under_test import agent


        @pytest.mark.clientsim(runs=2, seed=3, threshold=0.9)
        async def test_resolves(simulate):
            results = await simulate(
                agent,
                personas=["terse", "chatty"],
                intents=["my order is late"],
                outcomes={"resolved": {"patterns": ["fixed"], "sender": "agent"}},
            )
            assert len(results) == 4
            assert {run.persona for run in results} == {"terse", "chatty"}
            assert len({run.seed for run in results}) == 4
            assert_outcome_rate(results, "resolved")
            assert_no_outcome(results, "escalated")


        def test_offline_model(clientsim_offline_model):
            assert type(clientsim_offline_model).__name__ == "OfflineChatModel"
        """
    )
    result = _run(suite, "--strict-markers")
    result.assert_outcomes(passed=2)


def test_failing_suite_shows_rate_transcript_and_seed(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_agent="""
        import pytest
        from clientsim.assertions import assert_outcome_rate

        from agent_under_test import agent


        @pytest.mark.clientsim(seed=11)
        async def test_escalates(simulate):
            results = await simulate(
                agent,
                intents=["I want to talk to a human manager"],
                outcomes={"escalated": {"patterns": ["transfer"], "sender": "agent"}},
            )
            assert_outcome_rate(results, "escalated", at_least=0.9)
        """
    )
    result = _run(suite)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*outcome 'escalated' rate 0% (0/1 runs) is below the threshold 90%*",
            "*run seed: 11*",
            "*seed=*outcome=None*",
            "*agent: Your problem is fixed now. Anything else?*",
        ]
    )


def test_record_then_replay_offline(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/unreachable")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    suite.makepyfile(
        test_agent="""
        import pytest
        from clientsim.assertions import assert_outcome_rate

        from agent_under_test import CALLS, agent


        # replay="all": the agent's replies are replayed too (the fixture's default,
        # "simulator", calls the agent live: tests/integration/test_cassette_simulator*)
        @pytest.mark.clientsim(runs=2, seed=5, replay="all")
        async def test_recorded(simulate, clientsim_cassette):
            before = CALLS.read_text() if CALLS.exists() else ""
            results = await simulate(
                agent,
                intents=["my order is late"],
                outcomes={"resolved": {"patterns": ["fixed"], "sender": "agent"}},
            )
            calls = len(CALLS.read_text() if CALLS.exists() else "") - len(before)
            print(f"MODE={clientsim_cassette.mode} AGENT_CALLS={calls}")
            assert_outcome_rate(results, "resolved", at_least=1.0)
        """
    )
    recorded = _run(suite, "--clientsim-record", "-s")
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["*MODE=record AGENT_CALLS=[1-9]*"])
    # anyio parametrizes the async test: its name is test_recorded[asyncio]
    cassettes = sorted(path.name for path in (suite.path / "cassettes").iterdir())
    assert cassettes == ["test_recorded_asyncio.sqlite"]

    replayed = _run(suite, "-s")
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*MODE=replay AGENT_CALLS=0*"])

    # A replay that needs a conversation the cassette lacks fails clearly.
    test_file = suite.path / "test_agent.py"
    test_file.write_text(test_file.read_text().replace("runs=2", "runs=3"))
    missed = _run(suite, "-s")
    missed.assert_outcomes(failed=1)
    missed.stdout.fnmatch_lines(["*CassetteMissError*--clientsim-record*"])


def test_marker_settings_and_strict_markers(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_agent="""
        import pytest
        from clientsim.assertions import assert_outcome_rate

        from agent_under_test import agent


        @pytest.mark.clientsim(runs=3, seed=42, threshold=0.5)
        async def test_marker(simulate, clientsim_offline_model):
            assert clientsim_offline_model.seed == 42
            results = await simulate(
                agent, intents=["hi"], outcomes={"resolved": "fixed"}
            )
            assert results.seed == 42 and results.threshold == 0.5
            assert [run.iteration for run in results] == [0, 1, 2]
            assert_outcome_rate(results, "resolved")


        @pytest.mark.clientsim(rnus=3)
        def test_typo(simulate):
            pass
        """
    )
    result = _run(suite, "--strict-markers")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*ConfigError*unknown keyword(s)*rnus*allowed: runs, seed, threshold*"]
    )


def test_plugin_start_up_is_import_light(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import sys


        def pytest_collection_modifyitems(items):
            assert "langchain_core" not in sys.modules
            assert "clientsim.experiments" not in sys.modules
            plugins = sys.modules.get("clientsim.plugins")
            # clientsim's own plugins (entry points) are not loaded either
            assert plugins is None or plugins._manager is None
        """
    )
    pytester.makepyfile(
        test_light="""
        import sys


        def test_light():
            assert "langchain_core" not in sys.modules
        """
    )
    result = _run(pytester)
    result.assert_outcomes(passed=1)


def test_help_lists_the_record_option(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--help")
    result.stdout.fnmatch_lines(["*--clientsim-record*"])


def test_full_runner_records_and_replays_the_agent_model(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.makepyfile(
        test_agent=textwrap.dedent(
            """
            import os

            import pytest
            from langchain_core.language_models import GenericFakeChatModel

            from clientsim import LLMParticipant
            from clientsim.assertions import outcome_rate


            @pytest.mark.clientsim(replay="all")  # the agent's model is replayed too
            async def test_full(simulate, clientsim_offline_model, clientsim_cassette):
                # On replay the agent's model must not be called: this one would fail.
                model = (
                    clientsim_offline_model
                    if clientsim_cassette.recording
                    else GenericFakeChatModel(messages=iter([]))
                )
                agent = LLMParticipant("agent", model)
                results = await simulate(
                    agent, intents=["reset my password"], runs=2, max_messages=4
                )
                assert len(results) == 2
                for run in results:
                    assert run.result.ok, run.result.error
                    assert len(run.result.conversation.messages) == 4
                assert outcome_rate(results, "resolved") == 0.0
                said = [m.content for m in results.runs[1].result.conversation.messages]
                print("TRANSCRIPT", said)
            """
        )
    )
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    first = _run(suite, "-s")
    first.assert_outcomes(passed=1)
    replayed = _run(suite, "-s")
    replayed.assert_outcomes(passed=1)

    def transcript(result: pytest.RunResult) -> list[str]:
        return [line for line in result.outlines if "TRANSCRIPT [" in line]

    assert len(transcript(first)) == 1
    assert transcript(first) == transcript(replayed)


# The assertion helpers on results made by hand.

_START = datetime(2026, 1, 1, tzinfo=UTC)


def _run_of(
    outcome: str | None, *, intent: str = "refund", seed: int = 1, words: int = 3
) -> SimulatedRun:
    roles = [ParticipantRole.CUSTOMER, ParticipantRole.AGENT] * 3
    messages = [
        Message(f"message {index} " + "word " * words, _START, role)
        for index, role in enumerate(roles)
    ]
    reached = None if outcome is None else Outcome(outcome, outcome)
    return SimulatedRun(
        persona="terse",
        intent=intent,
        iteration=0,
        seed=seed,
        result=ConversationResult(Conversation(messages, reached)),
    )


def test_outcome_rate_and_its_assertion() -> None:
    runs = SimulationRuns(
        runs=[_run_of("resolved"), _run_of("resolved"), _run_of(None, seed=99)],
        seed=4,
        threshold=0.5,
    )
    assert outcome_rate(runs, "resolved") == pytest.approx(2 / 3)
    assert assert_outcome_rate(runs, "resolved") == pytest.approx(2 / 3)
    with pytest.raises(AssertionError) as caught:
        assert_outcome_rate(runs, "resolved", at_least=0.9)
    message = str(caught.value)
    assert (
        "outcome 'resolved' rate 67% (2/3 runs) is below the threshold 90%" in message
    )
    assert "run seed: 4" in message
    assert "seed=99" in message
    assert "... 2 more messages ..." in message


def test_failing_transcripts_are_trimmed() -> None:
    runs = SimulationRuns(runs=[_run_of(None, seed=s, words=100) for s in range(5)])
    with pytest.raises(AssertionError) as caught:
        assert_outcome_rate(runs, "resolved", at_least=1.0)
    message = str(caught.value)
    assert "(3 of 5 shown" in message
    assert message.count(" seed=") == 3
    assert max(len(line) for line in message.splitlines()[3:]) < 140


def test_assert_no_outcome() -> None:
    assert_no_outcome(SimulationRuns(runs=[_run_of("resolved")]), "escalated")
    runs = SimulationRuns(runs=[_run_of("resolved"), _run_of("escalated", seed=7)])
    with pytest.raises(AssertionError, match=r"'escalated' rate 50% \(1/2 runs\)"):
        assert_no_outcome(runs, "escalated")


def test_pass_hat_k_matches_tau_bench() -> None:
    trials = {"a": [True, True, False, True], "b": [True, False, False, False]}
    # task a: C(3,2)/C(4,2) = 3/6; task b: C(1,2)/C(4,2) = 0
    assert pass_hat_k(trials, 2) == pytest.approx(0.25)
    assert pass_hat_k(trials, 1) == pytest.approx((3 / 4 + 1 / 4) / 2)
    runs = SimulationRuns(
        runs=[_run_of("resolved", intent="a"), _run_of(None, intent="a")]
        + [_run_of("resolved", intent="b")] * 2
    )
    assert pass_hat_k(runs, 2, outcome="resolved") == pytest.approx(0.5)
    assert assert_pass_hat_k(runs, 1, outcome="resolved", at_least=0.7) == 0.75
    with pytest.raises(AssertionError, match=r"pass\^2 for outcome 'resolved' is 0.50"):
        assert_pass_hat_k(runs, 2, outcome="resolved", at_least=0.9)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: pass_hat_k({"a": [True]}, 2), "at least 2 trials per task"),
        (lambda: pass_hat_k({"a": [True]}, 0), "k must be an int >= 1"),
        (lambda: pass_hat_k({}, 1), "at least one task"),
        (lambda: pass_hat_k(SimulationRuns(runs=()), 1), "outcome is required"),
        (lambda: assert_outcome_rate(SimulationRuns(runs=()), "x"), "at_least"),
        (lambda: assert_outcome_rate([], "x", at_least=2), "from 0 to 1"),
        (lambda: outcome_rate("nope", "x"), "SimulationRuns"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_raise_config_error(call: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        call()  # type: ignore[operator]


@given(
    st.lists(st.lists(st.booleans(), min_size=3, max_size=6), min_size=1, max_size=4),
    st.integers(1, 3),
)
def test_pass_hat_k_is_a_probability_and_falls_with_k(
    tasks: list[list[bool]], k: int
) -> None:
    trials = {str(index): values for index, values in enumerate(tasks)}
    value = pass_hat_k(trials, k)
    assert 0.0 <= value <= 1.0
    assert pass_hat_k(trials, 1) == pytest.approx(
        sum(sum(values) / len(values) for values in tasks) / len(tasks)
    )
    if k > 1:
        assert value <= pass_hat_k(trials, k - 1) + 1e-12


def _reply(message: str) -> str:
    return f"You said: {message}"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"intents": []}, "intents must be a non-empty list"),
        ({"intents": "refund"}, "intents must be a list of strings"),
        ({"intents": ["x"], "personas": [""]}, "personas must be a non-empty list"),
        ({"intents": ["x"], "runs": 0}, "runs must be an int >= 1"),
        ({"intents": ["x"], "outcomes": ["resolved"]}, "outcomes must be a mapping"),
        ({"intents": ["x"], "agent": 42}, "agent must be a Participant, a Channel"),
    ],
)
async def test_simulate_rejects_bad_arguments(
    kwargs: dict[str, object], match: str
) -> None:
    simulate = Simulate(settings=ClientsimSettings(), cassette=None)
    agent = kwargs.pop("agent", _reply)
    with pytest.raises(ConfigError, match=match):
        await simulate(agent, **kwargs)  # type: ignore[arg-type]


async def test_simulate_outside_pytest_is_seeded() -> None:
    settings = ClientsimSettings(runs=2, seed=9)
    first = await Simulate(settings=settings, cassette=None)(
        _reply, intents=["refund"], max_messages=4
    )
    # a test run again gives the same conversations
    again = await Simulate(settings=settings, cassette=None)(
        _reply, intents=["refund"], max_messages=4
    )
    assert [run.seed for run in first] == [run.seed for run in again]
    assert [run.result.conversation.messages[0].content for run in first] == [
        run.result.conversation.messages[0].content for run in again
    ]
    assert first.seed == 9
    assert first.threshold is None
