"""The ``model.called`` event: one per chat model call of clientsim's, with the
conversation it was made in."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

import clientsim
from clientsim import events, simulate
from clientsim.errors import ModelError
from clientsim.llm import Turn, complete
from clientsim.llm.offline import OfflineChatModel
from clientsim.plugins import register_plugin, unregister_plugin


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []

    @clientsim.hookimpl
    def clientsim_event(self, event: str, fields: Mapping[str, object]) -> None:
        self.events.append((event, dict(fields)))

    def of(self, name: str) -> list[dict[str, object]]:
        return [fields for event, fields in self.events if event == name]


@pytest.fixture(name="recorder")
def _recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    register_plugin(recorder)
    yield recorder
    unregister_plugin(recorder)


async def test_each_customer_call_names_its_conversation(recorder: Recorder) -> None:
    async def agent(message: str) -> str:
        return "Could you tell me your order number?"

    results = await simulate(
        agent, intents=["my order is late", "refund please"], max_messages=6
    )
    calls = recorder.of(events.MODEL_CALLED)
    started = {
        fields["conversation_id"] for fields in recorder.of(events.CONVERSATION_STARTED)
    }
    assert len(started) == 2
    assert calls
    assert {fields["conversation_id"] for fields in calls} == started
    customer_messages = sum(
        1
        for run in results
        for message in run.result.conversation.messages[1:]
        if message.sender.value == "customer"
    )
    assert len(calls) == customer_messages
    for fields in calls:
        assert fields["role"] == "customer"
        assert fields["model"] == "offline"
        assert fields["provider"] == "clientsim-offline"
        assert fields["error"] is None
        assert isinstance(fields["input_tokens"], int)
        assert fields["input_tokens"] > 0
        assert isinstance(fields["duration_seconds"], float)
    # The run is framed by the batch events.
    names = [event for event, _ in recorder.events]
    assert names[0] == events.BATCH_STARTED
    assert names[-1] == events.BATCH_FINISHED
    assert recorder.of(events.BATCH_FINISHED)[0]["status"] == "done"
    assert events.current_conversation.get() is None


async def test_a_call_outside_a_conversation_and_a_failed_call(
    recorder: Recorder,
) -> None:
    await complete(OfflineChatModel(), [Turn("user", "hello")])
    (fields,) = recorder.of(events.MODEL_CALLED)
    assert fields["conversation_id"] is None
    assert fields["role"] is None

    with pytest.raises(ModelError):
        await complete(OfflineChatModel(), [Turn("user", "x")], timeout=0)
    failed = recorder.of(events.MODEL_CALLED)[-1]
    assert failed["error"] is not None
    assert str(failed["error"]).startswith("ModelError")
