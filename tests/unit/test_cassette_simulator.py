"""The simulator-side cassette: the scope's digest checks, divergence reports and
rewrites, and ``simulate()`` with a ``replay="simulator"`` cassette (no pytest plugin).

The models are a counting chat model defined here (no clientsim code is patched);
the agents are plain async functions and a simulated agent (``LLMParticipant``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from clientsim import LLMParticipant, simulate
from clientsim.errors import CassetteDivergenceError, CassetteMissError, ConfigError
from clientsim.experiments.cassette import (
    AGENT_KIND,
    INPUT_PREFIX,
    Cassette,
    CassetteScope,
)
from clientsim.experiments.cassette_divergence import (
    first_divergence,
    reply_text,
    side_by_side,
)
from clientsim.llm.run_model import input_digest


BROKEN = "Let me transfer you..."
RESET = "I have sent you a reset link. Did that fix it?"


def turn(
    number: int, sent: str | None, *said: str, closed: bool = False
) -> dict[str, Any]:
    return {
        "turn": number,
        "sent": sent,
        "events": [{"type": "message", "content": text} for text in said],
        "closed": closed,
        "send_error": None,
    }


def answer(text: str) -> dict[str, Any]:
    return {"type": "ai", "data": {"content": text, "type": "ai"}}


RECORDED: dict[str, list[object]] = {
    AGENT_KIND: [turn(0, None), turn(1, "I forgot my password", RESET)],
    "model:customer": [answer("It did, thanks")],
    INPUT_PREFIX + "model:customer": ["digest-1"],
}


def simulator_scope(on_miss: str = "fail", **entries: list[object]) -> CassetteScope:
    return CassetteScope(
        "c1",
        mode="replay",
        replay="simulator",
        on_miss=on_miss,  # type: ignore[arg-type]
        path="tape.sqlite",
        entries={**RECORDED, **entries},
    )


def play_agent(scope: CassetteScope, *turns: dict[str, Any]) -> None:
    for entry in turns:
        scope.put(AGENT_KIND, entry)


# ----- the scope ----------------------------------------------------------------------


def test_recording_keeps_a_digest_of_each_input_next_to_the_answer() -> None:
    scope = CassetteScope("c1", mode="record")
    scope.put("model:customer", answer("a"), seen="d1")
    scope.put("model:customer", answer("b"), seen="d2")
    scope.put(AGENT_KIND, turn(0, None))
    assert scope.payloads(INPUT_PREFIX + "model:customer") == ["d1", "d2"]
    assert scope.kinds == (AGENT_KIND, "input:model:customer", "model:customer")


def test_a_simulator_replay_hands_out_answers_whose_input_matches() -> None:
    scope = simulator_scope()
    play_agent(scope, turn(0, None), turn(1, "I forgot my password", RESET))
    assert scope.take("model:customer", seen="digest-1") == answer("It did, thanks")
    assert (scope.hits, scope.misses, scope.changed) == (1, 0, False)
    # it records the run as it goes: the replayed answer with its digest, and the
    # agent's live turns
    assert scope.payloads("model:customer", recorded=True) == [answer("It did, thanks")]
    assert scope.payloads(INPUT_PREFIX + "model:customer", recorded=True) == [
        "digest-1"
    ]
    assert len(scope.payloads(AGENT_KIND, recorded=True)) == 2


def test_a_diverging_agent_fails_naming_the_turn_with_both_replies() -> None:
    scope = simulator_scope()
    play_agent(scope, turn(0, None), turn(1, "I forgot my password", BROKEN))
    with pytest.raises(CassetteDivergenceError) as caught:
        scope.take("model:customer", seen="another digest")
    message = str(caught.value)
    assert "conversation 'c1'" in message
    assert "'tape.sqlite'" in message
    assert "turn 1 (its reply to 'I forgot my password')" in message
    assert "'model:customer' call #0" in message
    rows = [line for line in message.splitlines() if RESET[:20] in line]
    assert len(rows) == 1
    assert BROKEN in rows[0]
    assert "on_miss='live'" in message
    assert isinstance(caught.value, CassetteMissError)


def test_the_turn_being_read_counts_for_the_report() -> None:
    """The customer speaks before the recorder flushes the agent's turn: the scope
    reads it through the view the channel's recorder gives."""
    scope = simulator_scope()
    play_agent(scope, turn(0, None))
    scope.follow_agent(lambda: turn(1, "I forgot my password", BROKEN))
    with pytest.raises(CassetteDivergenceError, match="at turn 1"):
        scope.take("model:customer", seen="another digest")


def test_a_changed_simulated_side_is_told_apart_from_a_changed_agent() -> None:
    scope = simulator_scope()
    play_agent(scope, turn(0, None), turn(1, "I forgot my password", RESET))
    with pytest.raises(CassetteDivergenceError, match="the simulated side changed"):
        scope.take("model:customer", seen="another digest")


def test_without_digests_the_agent_turns_are_compared() -> None:
    """A cassette recorded before digests were kept still catches a broken agent."""
    scope = simulator_scope(**{INPUT_PREFIX + "model:customer": []})
    scope.follow_agent(lambda: turn(1, "I forgot my password", RESET))
    play_agent(scope, turn(0, None))
    assert scope.take("model:customer", seen="new digest") == answer("It did, thanks")

    broken = simulator_scope(**{INPUT_PREFIX + "model:customer": []})
    play_agent(broken, turn(0, None), turn(1, "I forgot my password", BROKEN))
    with pytest.raises(CassetteDivergenceError, match="at turn 1"):
        broken.take("model:customer", seen="new digest")


def test_a_partly_read_turn_is_not_a_divergence() -> None:
    scope = simulator_scope(**{INPUT_PREFIX + "model:customer": []})
    play_agent(scope, turn(0, None))
    scope.follow_agent(lambda: turn(1, "I forgot my password"))  # nothing read yet
    assert scope.take("model:customer") == answer("It did, thanks")


def test_on_miss_live_goes_live_from_the_divergence_on() -> None:
    scope = simulator_scope(
        on_miss="live",
        **{
            "model:customer": [answer("one"), answer("two")],
            INPUT_PREFIX + "model:customer": ["digest-1", "digest-2"],
        },
    )
    play_agent(scope, turn(0, None), turn(1, "I forgot my password", BROKEN))
    assert scope.take("model:customer", seen="changed") is None
    assert scope.changed
    assert scope.misses == 1
    # from there on every model call is live, even one whose digest would match
    assert scope.take("model:customer", seen="digest-2") is None
    assert scope.take("model:judge") is None
    scope.put("model:customer", answer("live"), seen="changed")
    assert scope.payloads("model:customer", recorded=True) == [answer("live")]


def test_the_agent_side_is_live_in_a_simulator_replay() -> None:
    scope = simulator_scope(**{"model:agent": [answer("recorded agent")]})
    assert scope.take("model:agent", seen="x") is None
    assert scope.take("model:agent#2", seen="x") is None
    assert scope.agent_live
    assert scope.misses == 0
    assert not scope.changed


def test_running_past_the_recording() -> None:
    strict = simulator_scope()
    play_agent(strict, turn(0, None), turn(1, "I forgot my password", RESET))
    strict.take("model:customer", seen="digest-1")
    with pytest.raises(
        CassetteMissError, match="no recorded 'model:customer' entry #1"
    ):
        strict.take("model:customer", seen="digest-2")

    # past the end after the agent diverged: the divergence is what is reported
    diverged = simulator_scope(**{INPUT_PREFIX + "model:customer": []})
    play_agent(diverged, turn(0, None), turn(1, "I forgot my password", RESET))
    diverged.take("model:customer", seen="d")
    play_agent(diverged, turn(2, "It did, thanks", BROKEN))
    with pytest.raises(CassetteDivergenceError, match="turn 2"):
        diverged.take("model:customer", seen="e")


def test_a_replay_all_scope_ignores_digests_and_keeps_nothing() -> None:
    scope = CassetteScope("c1", mode="replay", entries=RECORDED)
    assert scope.take("model:customer", seen="anything") == answer("It did, thanks")
    scope.put("model:customer", answer("x"), seen="y")
    assert scope.rows() == []
    assert not scope.agent_live


# ----- the divergence report ------------------------------------------------------------


def test_side_by_side_wraps_and_trims_long_replies() -> None:
    long = " ".join(["word"] * 120)
    table = side_by_side(long, "short", width=20).splitlines()
    assert table[0].split() == ["recorded", "|", "now"]
    assert table[2].endswith("| short")
    assert len(table) == 2 + 6  # at most six lines a side
    assert "[...]" in table[-1]
    assert all(line.index("|") == table[0].index("|") for line in table[2:])


def test_first_divergence_reads_failures_hangups_and_missing_turns() -> None:
    failed = {
        "turn": 1,
        "sent": "hi",
        "events": [{"type": "failure", "message": "503 Service Unavailable"}],
    }
    assert reply_text(failed) == "[the agent failed: 503 Service Unavailable]"
    assert reply_text(turn(2, "bye", closed=True)) == "[the agent closed the session]"
    assert reply_text(answer("model text")) == "model text"
    recorded = [turn(1, "hi", "Hello")]
    extra = first_divergence(recorded, [turn(1, "hi", "Hello"), turn(2, "x", "More")])
    assert extra is not None
    assert (extra.number, extra.recorded, extra.now) == (2, "(no turn)", "More")
    assert first_divergence(recorded, [turn(1, "hi", "Hello")]) is None


# ----- the file: a replay that went live is written back ---------------------------------


async def test_a_live_simulator_replay_is_committed_and_an_unchanged_one_is_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tape.sqlite"
    async with Cassette(path, mode="record") as cassette:
        scope = await cassette.scope("c1")
        for kind, payloads in RECORDED.items():
            if not kind.startswith(INPUT_PREFIX):
                for payload in payloads:
                    scope.put(
                        kind, payload, seen="digest-1" if "model" in kind else None
                    )
        await cassette.commit(scope)

    async with Cassette(path, mode="replay", replay="simulator") as cassette:
        unchanged = await cassette.scope("c1")
        play_agent(unchanged, turn(0, None), turn(1, "I forgot my password", RESET))
        unchanged.take("model:customer", seen="digest-1")
        await cassette.commit(unchanged)  # nothing to write
        assert await cassette.entry_count("c1") == 4

    async with Cassette(
        path, mode="replay", replay="simulator", on_miss="live"
    ) as cassette:
        scope = await cassette.scope("c1")
        play_agent(scope, turn(0, None), turn(1, "I forgot my password", BROKEN))
        assert scope.take("model:customer", seen="digest-broken") is None
        scope.put("model:customer", answer("Transfer me then"), seen="digest-broken")
        await cassette.commit(scope)

    async with Cassette(path, mode="replay", replay="simulator") as cassette:
        scope = await cassette.scope("c1")
        assert reply_text(scope.payloads(AGENT_KIND)[1]) == BROKEN
        assert scope.payloads("model:customer") == [answer("Transfer me then")]


def test_the_cassette_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="replay must be 'simulator'"):
        Cassette("x.sqlite", mode="replay", replay="agent")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="on_miss must be 'fail'"):
        Cassette("x.sqlite", mode="replay", on_miss="skip")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="contradict each other"):
        Cassette("x.sqlite", mode="replay", on_miss="live", strict=True)
    legacy = Cassette("x.sqlite", mode="replay", strict=False)
    assert (legacy.on_miss, legacy.strict, legacy.replay) == ("live", False, "all")
    assert repr(legacy) == (
        "Cassette('x.sqlite', mode='replay', replay='all', on_miss='live')"
    )


# ----- simulate() with a simulator replay -------------------------------------------------


class CountingModel(BaseChatModel):
    """Answers from how many messages it is shown; counts the calls in ``calls``."""

    calls: list[int]
    prefix: str = "Thanks"

    @property
    def _llm_type(self) -> str:
        return "counting"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: Any = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise NotImplementedError

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: Any = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(len(messages))
        text = f"{self.prefix} ({len(messages)} messages so far)"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])


class Agent:
    def __init__(self) -> None:
        self.calls = 0
        self.broken = False

    async def __call__(self, message: str) -> str:
        self.calls += 1
        if self.broken:
            return BROKEN
        return RESET if "password" in message else "Glad I could help."


async def run(
    agent: object, model: BaseChatModel, path: Path, mode: str, **options: Any
) -> Sequence[Any]:
    cassette = Cassette(path, mode=mode, **options)  # type: ignore[arg-type]
    results = await simulate(
        agent,
        intents=["I forgot my password"],
        runs=2,
        seed=1,
        customer_model=model,
        max_messages=6,
        cassette=cassette,
    )
    return [
        [message.content for message in run.result.conversation.messages]
        for run in results
    ]


async def test_simulate_replays_the_customer_and_calls_the_agent(
    tmp_path: Path,
) -> None:
    path, agent, model = tmp_path / "tape.sqlite", Agent(), CountingModel(calls=[])
    calls = model.calls  # the model's own list (pydantic copies what it is given)
    recorded = await run(agent, model, path, "record")
    assert (agent.calls, len(calls)) == (6, 4)

    agent.calls, calls[:] = 0, []
    replayed = await run(agent, model, path, "replay", replay="simulator")
    assert replayed == recorded
    assert (agent.calls, len(calls)) == (6, 0)

    agent.broken = True
    with pytest.raises(CassetteDivergenceError, match=r"\(seed \d+\): the agent's"):
        await run(agent, model, path, "replay", replay="simulator")
    assert len(calls) == 0

    # replay="all" does not call the agent, broken or not
    agent.calls = 0
    assert await run(agent, model, path, "replay", replay="all") == recorded
    assert agent.calls == 0


async def test_on_miss_live_rewrites_the_conversations_that_diverged(
    tmp_path: Path,
) -> None:
    path, agent, model = tmp_path / "tape.sqlite", Agent(), CountingModel(calls=[])
    calls = model.calls  # the model's own list (pydantic copies what it is given)
    await run(agent, model, path, "record")
    agent.broken, calls[:] = True, []
    live = await run(agent, model, path, "replay", replay="simulator", on_miss="live")
    assert len(calls) == 4  # from turn 1 on, the customer's model is live
    assert all(talk[1] == BROKEN for talk in live)

    calls[:] = []
    again = await run(agent, model, path, "replay", replay="simulator")
    assert again == live
    assert calls == []


async def test_a_simulated_agent_is_live_and_its_answers_are_compared(
    tmp_path: Path,
) -> None:
    path, customer = tmp_path / "tape.sqlite", CountingModel(calls=[])
    agent_model = CountingModel(calls=[], prefix="Sure")
    agent = LLMParticipant("agent", agent_model)
    customer_calls, agent_calls = customer.calls, agent_model.calls
    await run(agent, customer, path, "record")
    customer_calls[:], agent_calls[:] = [], []
    await run(agent, customer, path, "replay", replay="simulator")
    assert customer_calls == []
    assert len(agent_calls) == 6

    changed = LLMParticipant("agent", CountingModel(calls=[], prefix=BROKEN))
    with pytest.raises(CassetteDivergenceError) as caught:
        await run(changed, customer, path, "replay", replay="simulator")
    assert BROKEN in str(caught.value)
    assert "Sure (" in str(caught.value)


def test_the_input_digest_sees_content_and_roles() -> None:
    human, ai = [HumanMessage("hi")], [AIMessage("hi")]
    assert input_digest(human) != input_digest(ai)
    assert input_digest(human) == input_digest([HumanMessage("hi", id="other")])


def test_a_conversation_the_cassette_lacks_is_a_miss_not_a_divergence() -> None:
    scope = CassetteScope("c2", mode="replay", replay="simulator", entries={})
    play_agent(scope, turn(0, None), turn(1, "I forgot my password", RESET))
    with pytest.raises(CassetteMissError) as caught:
        scope.take("model:customer", seen="d")
    assert not isinstance(caught.value, CassetteDivergenceError)
    assert "no recorded 'model:customer' entry #0 (it holds 0)" in str(caught.value)
