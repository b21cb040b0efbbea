"""The per-participant memory: window, rolling summary, facts, restore; offline and
with langchain-core's fake chat model for the model path."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import attrs
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim.errors import ConfigError, InvalidModelOutputError, ModelError
from clientsim.llm._offline_notes import SUMMARY_CHARS, SUMMARY_ITEMS
from clientsim.models import (
    Conversation,
    MemoryState,
    Message,
    ParticipantRole,
    Speaker,
    Timeouts,
    from_dict,
    to_dict,
)
from clientsim.teams.memory import MemoryManager, merge_facts, speaker_line


START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
ROLES = {
    "Ana": "CEO",
    "Priya": "Product Manager",
    "Eli": "Engineering Lead",
    "Dana": "Designer",
    "Sam": "Sales",
}


def meeting(*lines: tuple[str, str]) -> Conversation:
    return Conversation(
        tuple(
            Message(
                text,
                START + timedelta(minutes=i),
                ParticipantRole.AGENT,
                speaker=Speaker(name, ROLES[name]),
            )
            for i, (name, text) in enumerate(lines)
        )
    )


def grown(conversation: Conversation, count: int) -> Conversation:
    return Conversation(conversation.messages[:count])


FILLER = [
    ("Eli", "The payment bug is my main concern for QA."),
    ("Dana", "@Sam how do customers react to the new onboarding?"),
    ("Sam", "They like it, the feedback from the pilot was warm."),
    ("Priya", "Good, that matches what support told us."),
    ("Dana", "I can polish the empty states this sprint."),
    ("Ana", "Thanks, keep going."),
    ("Eli", "The team is busy with the migration."),
    ("Sam", "Two prospects asked about the mobile app."),
]

LAUNCH = meeting(
    ("Priya", "Proposal: the launch date is March 1 with the core features."),
    ("Ana", "Agreed. The budget is 250k, not more."),
    *[FILLER[i % len(FILLER)] for i in range(40)],
)


class ScriptedModel(GenericFakeChatModel):
    """langchain-core's fake chat model, able to answer structured-output calls: each
    scripted answer is a tool call with the given arguments; it records what it saw."""

    temperature: float = 0.7
    seen: list[Any] = Field(default_factory=list)

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(
            {
                "temperature": self.temperature,
                "tool": kwargs["tools"][0]["function"]["name"],
                "messages": [m.content for m in messages],
            }
        )
        return super()._generate(messages, stop=stop, run_manager=run_manager)


def summaries(*answers: dict[str, Any]) -> Iterator[AIMessage]:
    return iter(
        [
            AIMessage(
                content="",
                tool_calls=[
                    {
                        "name": "memory_summary",
                        "args": args,
                        "id": f"c{i}",
                        "type": "tool_call",
                    }
                ],
                usage_metadata={
                    "input_tokens": 100,
                    "output_tokens": 20,
                    "total_tokens": 120,
                },
            )
            for i, args in enumerate(answers)
        ]
    )


def scripted(*answers: dict[str, Any]) -> ScriptedModel:
    return ScriptedModel(messages=summaries(*answers), seen=[])


# ----- the window ---------------------------------------------------------------------


async def test_messages_stay_in_the_window_until_it_overflows():
    memory = MemoryManager(window=4)
    state = await memory.observe(grown(LAUNCH, 3))
    assert state == MemoryState(window=LAUNCH.messages[:3])
    assert memory.calls == 0
    state = await memory.observe(grown(LAUNCH, 7))
    assert state.window == LAUNCH.messages[3:7]
    assert state.summarized == 3
    assert memory.observed == 7
    assert memory.calls == 1  # the three that left were folded in one call
    assert "Priya (Product Manager): Proposal: the launch date is March 1" in (
        state.summary
    )


async def test_observing_the_same_conversation_again_changes_nothing():
    memory = MemoryManager(window=3)
    first = await memory.observe(grown(LAUNCH, 10))
    calls = memory.calls
    assert await memory.observe(grown(LAUNCH, 10)) is first
    assert memory.calls == calls


async def test_an_early_fact_is_remembered_forty_messages_later():
    memory = MemoryManager(window=6)
    for count in range(1, len(LAUNCH.messages) + 1):
        state = await memory.observe(grown(LAUNCH, count))
        assert len(state.window) <= 6
    assert state.summarized == len(LAUNCH.messages) - 6 == 36
    assert memory.calls == 36  # one fold per message that left the window
    assert "launch date is March 1" in state.summary
    assert "budget is 250k" in state.summary
    assert "Priya: Proposal: the launch date is March 1 with the core features." in (
        state.facts
    )
    assert "Ana: The budget is 250k, not more." in state.facts
    assert "Thanks, keep going." not in state.summary  # small talk is dropped
    assert memory.usage.calls == 36
    assert memory.usage.total_tokens > 0


async def test_the_stakes_outlast_forty_messages_full_of_other_numbers():
    busy = meeting(
        ("Priya", "The launch date is March 1."),
        ("Ana", "The budget is 250k."),
        *[("Eli", f"Ticket {n} is fixed in build {n + 100}.") for n in range(40)],
    )
    memory = MemoryManager(window=6)
    for count in range(1, len(busy.messages) + 1):
        state = await memory.observe(grown(busy, count))
    assert "Priya (Product Manager): The launch date is March 1." in state.summary
    assert "Ana (CEO): The budget is 250k." in state.summary
    assert state.summarized == 36  # tickets 34 to 39 are still in the window
    assert "Ticket 33 is fixed in build 133." in state.summary  # the latest stay too
    assert "Ticket 0 is fixed" not in state.summary  # the oldest of the least go


async def test_the_offline_summary_stays_within_its_bounds():
    chatter = meeting(
        *[
            ("Eli", f"Ticket {n} is a risk for the release on day {n}.")
            for n in range(80)
        ]
    )
    memory = MemoryManager(window=5)
    state = await memory.observe(chatter)
    lines = state.summary.splitlines()
    assert len(lines) <= SUMMARY_ITEMS
    assert len(state.summary) <= SUMMARY_CHARS
    assert (
        lines[-1]
        == "- Eli (Engineering Lead): Ticket 74 is a risk for the release on day 74."
    )
    assert len(state.facts) == 20  # max_facts: the newest
    assert state.facts[-1] == "Eli: Ticket 74 is a risk for the release on day 74."


async def test_the_summary_weighs_decisions_over_risks_when_it_must_drop_some():
    lines = [("Priya", "We agreed the launch date is March 1.")]
    lines += [("Eli", f"Worry number {'x' * n} about the build.") for n in range(30)]
    state = await MemoryManager(window=2).observe(meeting(*lines))
    assert state.summary.startswith(
        "- Priya (Product Manager): We agreed the launch date is March 1."
    )


# ----- facts --------------------------------------------------------------------------


def test_remember_keeps_a_fact_by_hand_deduplicated_newest_last():
    memory = MemoryManager(max_facts=2)
    memory.remember("Budget is 250k")
    memory.remember("Launch on March 1")
    state = memory.remember("budget is 250K.")
    assert state.facts == ("Launch on March 1", "budget is 250K.")
    assert memory.remember("Hire two engineers").facts == (
        "budget is 250K.",
        "Hire two engineers",
    )
    with pytest.raises(ConfigError, match="fact"):
        memory.remember("  ")


def test_merge_facts_keeps_the_newest_within_the_limit():
    assert merge_facts(["a b", "c"], ["A, b!", "d"], 2) == ("A, b!", "d")
    assert merge_facts(["a"], ["b"], 0) == ()
    assert merge_facts(["", "..."], ["x"], 5) == ("x",)


# ----- persistence and restore --------------------------------------------------------


async def test_a_restored_memory_goes_on_exactly_like_the_original():
    original = MemoryManager(window=4)
    await original.observe(grown(LAUNCH, 20))
    saved = to_dict(original.state)
    assert from_dict(saved, MemoryState) == original.state

    restarted = MemoryManager(window=4)  # a new process: only the stored data
    restarted.restore(from_dict(saved, MemoryState))
    assert restarted.observed == 20
    assert await restarted.observe(grown(LAUNCH, 20)) == original.state
    assert restarted.calls == 0
    assert await restarted.observe(LAUNCH) == await original.observe(LAUNCH)


async def test_a_conversation_that_does_not_continue_the_one_seen_is_refused():
    memory = MemoryManager(window=3)
    await memory.observe(grown(LAUNCH, 8))
    before = memory.state
    with pytest.raises(ConfigError, match=r"has seen 8 messages .* of 5"):
        await memory.observe(grown(LAUNCH, 5))
    other = meeting(*[("Sam", f"Line {n}.") for n in range(9)])
    with pytest.raises(ConfigError, match="does not continue"):
        await memory.observe(other)
    assert memory.state is before
    memory.restore(MemoryState())  # start over
    assert (await memory.observe(other)).window == other.messages[-3:]


async def test_a_larger_restored_window_is_folded_on_the_next_observe():
    memory = MemoryManager(window=2)
    memory.restore(MemoryState(window=LAUNCH.messages[:5]))
    state = await memory.observe(grown(LAUNCH, 6))
    assert state.window == LAUNCH.messages[4:6]
    assert state.summarized == 4


# ----- the model path -----------------------------------------------------------------


async def test_the_model_folds_with_the_summary_so_far_and_facts_merged():
    model = scripted(
        {"summary": "Launch is March 1.", "facts": ["Launch: March 1"]},
        {"summary": "Launch is March 1; budget 250k.", "facts": ["Budget: 250k"]},
    )
    memory = MemoryManager(window=2, model=model, max_facts=5)
    memory.remember("Sam owns the pricing page")
    await memory.observe(grown(LAUNCH, 3))
    state = await memory.observe(grown(LAUNCH, 4))
    assert state.summary == "Launch is March 1; budget 250k."
    assert state.facts == (
        "Sam owns the pricing page",
        "Launch: March 1",
        "Budget: 250k",
    )
    first, second = model.seen
    assert first["tool"] == "memory_summary"
    assert first["temperature"] == 0.0
    system, user = second["messages"]
    assert "fold them into the summary so far" in system
    assert user == (
        "Summary so far:\nLaunch is March 1.\n\n"
        "Facts so far:\n- Sam owns the pricing page\n- Launch: March 1\n\n"
        "Messages leaving the window:\n"
        "Ana (CEO): Agreed. The budget is 250k, not more."
    )
    assert memory.usage.total_tokens == 240
    assert memory.calls == 2


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        ({"summary": 3, "facts": []}, "string 'summary'"),
        ({"summary": "ok", "facts": "a fact"}, "list of strings"),
        ({"summary": "ok", "facts": ["a", 1]}, "list of strings"),
    ],
)
async def test_a_malformed_answer_is_an_error_and_the_state_is_kept(answer, match):
    memory = MemoryManager(window=2, model=scripted(answer))
    await memory.observe(grown(LAUNCH, 2))
    before = memory.state
    with pytest.raises(InvalidModelOutputError, match=match):
        await memory.observe(grown(LAUNCH, 3))
    assert memory.state is before


async def test_a_failing_model_is_a_model_error_and_the_state_is_kept():
    memory = MemoryManager(window=1, model=scripted())  # runs out: a RuntimeError
    await memory.observe(grown(LAUNCH, 1))
    before = memory.state
    with pytest.raises(ModelError, match="failed"):
        await memory.observe(grown(LAUNCH, 2))
    assert memory.state is before
    assert memory.calls == 0


async def test_the_summary_call_is_bounded_by_timeouts_model_call():
    class Hanging(ScriptedModel):
        async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
            await anyio.sleep_forever()

    memory = MemoryManager(
        window=1,
        model=Hanging(messages=iter([]), seen=[]),
        timeouts=Timeouts(model_call=0.05),
    )
    with anyio.fail_after(5), pytest.raises(ModelError, match="model_call"):
        await memory.observe(grown(LAUNCH, 2))
    assert memory.state == MemoryState()


async def test_a_restore_during_a_fold_wins():
    release = anyio.Event()

    class Slow(ScriptedModel):
        async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
            await release.wait()
            return self._generate(messages, stop, run_manager, **kwargs)

    model = Slow(messages=summaries({"summary": "s", "facts": []}), seen=[])
    memory = MemoryManager(window=1, model=model)
    restored = MemoryState(summary="restored", summarized=5)
    async with anyio.create_task_group() as group:
        group.start_soon(memory.observe, grown(LAUNCH, 2))
        await anyio.wait_all_tasks_blocked()
        memory.restore(restored)
        release.set()
    assert memory.state is restored


# ----- rendering and checks -----------------------------------------------------------


def test_messages_are_rendered_one_line_each_with_their_speaker():
    def message(content: str, speaker: Speaker | None = None) -> Message:
        return Message(content, START, ParticipantRole.AGENT, speaker=speaker)

    assert (
        speaker_line(message("Hi\n  all", Speaker("Ana", "CEO"))) == "Ana (CEO): Hi all"
    )
    assert (
        speaker_line(message("CEO: Ship it", Speaker("CEO", "CEO"))) == "CEO: Ship it"
    )
    assert speaker_line(message("Dana (Designer): Sure")) == "Dana (Designer): Sure"
    assert speaker_line(message("plain words")) == "Agent: plain words"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"window": 0}, "window"),
        ({"window": True}, "window"),
        ({"max_facts": -1}, "max_facts"),
        ({"model": ""}, "model"),
        ({"model": 3}, "model"),
        ({"timeouts": 5}, "timeouts"),
    ],
)
def test_bad_settings_are_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        MemoryManager(**kwargs)


async def test_bad_arguments_are_config_errors():
    memory = MemoryManager()
    with pytest.raises(ConfigError, match="observe\\(\\) takes a Conversation"):
        await memory.observe(LAUNCH.messages)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="restore\\(\\) takes a MemoryState"):
        memory.restore(to_dict(MemoryState()))  # type: ignore[arg-type]
    assert "window=12" in repr(memory)


def _names(state: MemoryState) -> Sequence[str]:
    return [m.speaker.name for m in state.window if m.speaker]


async def test_the_window_holds_the_latest_messages_in_order():
    state = await MemoryManager(window=3).observe(LAUNCH)
    assert _names(state) == [m.speaker.name for m in LAUNCH.messages[-3:]]
    assert attrs.evolve(state, summary="") != state
