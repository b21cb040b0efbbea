"""Model specs, the offline model, structured calls, error translation, the cache."""

from __future__ import annotations

import pytest
from langchain_core.globals import set_llm_cache
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration
from langchain_core.rate_limiters import InMemoryRateLimiter
from pydantic import BaseModel

from clientsim import OfflineChatModel
from clientsim.errors import ConfigError, ModelError, UnknownStrategyError
from clientsim.llm import (
    SQLiteCache,
    StructuredCall,
    Turn,
    complete,
    enable_cache,
    rate_limiter,
    resolve_model,
)


async def test_offline_spec_resolves_once_per_loop():
    model = resolve_model("offline")
    assert isinstance(model, OfflineChatModel)
    assert resolve_model("offline") is model
    assert resolve_model("offline:7").seed == 7  # type: ignore[attr-defined]


def test_a_model_object_passes_through():
    model = OfflineChatModel(seed=3)
    assert resolve_model(model) is model


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ("anthropik:claude", UnknownStrategyError, "did you mean 'openai'|available"),
        ("offlin", UnknownStrategyError, "did you mean 'offline'"),
        (":model", ConfigError, "provider:model"),
        ("offline:seven", ConfigError, "integer seed"),
    ],
)
def test_bad_specs_say_what_is_allowed(spec, error, match):
    with pytest.raises(error, match=match):
        resolve_model(spec)


def test_a_non_model_is_refused():
    with pytest.raises(ConfigError, match="BaseChatModel or a spec string"):
        resolve_model(42)  # type: ignore[arg-type]


async def test_offline_model_is_deterministic_and_counts_tokens():
    turns = [Turn("system", "You are the agent."), Turn("user", "I was charged twice")]
    first = await complete(OfflineChatModel(seed=1), turns)
    again = await complete(OfflineChatModel(seed=1), turns)
    assert first == again
    assert "order number" in first.text
    assert first.usage.calls == 1
    assert first.usage.input_tokens > 0
    assert (
        first.usage.total_tokens == first.usage.input_tokens + first.usage.output_tokens
    )


async def test_offline_model_fills_any_schema_for_structured_output():
    class Verdict(BaseModel):
        approved: bool
        score: int
        note: str

    model = OfflineChatModel().with_structured_output(Verdict)
    verdict = await model.ainvoke("Review this")
    assert isinstance(verdict, Verdict)


async def test_structured_call_needs_bind_tools():
    fake = GenericFakeChatModel(messages=iter(["x"]))
    call = StructuredCall(fake, {"title": "T", "type": "object", "properties": {}})
    with pytest.raises(ModelError, match="does not support structured output"):
        await call([Turn("user", "hi")])


async def test_provider_errors_become_model_errors():
    exhausted = GenericFakeChatModel(messages=iter([]))
    with pytest.raises(ModelError, match="failed"):
        await complete(exhausted, [Turn("user", "hi")])


async def test_sqlite_cache_persists_across_instances(tmp_path):
    path = tmp_path / "cache" / "llm.sqlite"
    cache = SQLiteCache(path)
    model = OfflineChatModel(seed=2, cache=cache)
    turns = [Turn("system", "You are the agent."), Turn("user", "Where is my package?")]
    first = await complete(model, turns)
    assert len(cache) == 1
    again = await complete(model, turns)
    assert again.text == first.text
    assert len(cache) == 1
    cache.close()

    reopened = SQLiteCache(path)
    assert len(reopened) == 1
    served = await complete(OfflineChatModel(seed=2, cache=reopened), turns)
    assert served.text == first.text
    reopened.clear()
    assert len(reopened) == 0
    reopened.close()


async def test_sqlite_cache_batches_async_writes_off_the_loop(tmp_path):
    path = tmp_path / "llm.sqlite"
    cache = SQLiteCache(path, flush_every=3)
    answer = [ChatGeneration(message=AIMessage("hello"), generation_info={"n": 1})]
    await cache.aupdate("prompt 1", "model", answer)
    await cache.aupdate("prompt 2", "model", answer)
    assert len(cache) == 2  # known in memory, not yet written

    def stored() -> int:
        other = SQLiteCache(path)
        try:
            return len(other)
        finally:
            other.close()

    assert stored() == 0
    await cache.aupdate("prompt 3", "model", answer)  # the third: one batch
    assert stored() == 3
    await cache.aupdate("prompt 4", "model", answer)
    await cache.aclose()  # writes what waits
    await cache.aclose()
    reopened = SQLiteCache(path)
    found = await reopened.alookup("prompt 4", "model")
    assert found is not None
    assert found[0].message.content == "hello"  # type: ignore[attr-defined]
    assert found[0].generation_info == {"n": 1}
    assert await reopened.alookup("prompt 4", "another model") is None
    assert (reopened.hits, reopened.misses) == (1, 1)
    await reopened.aclear()
    assert await reopened.alookup("prompt 4", "model") is None
    assert len(reopened) == 0
    await reopened.aclose()


async def test_sqlite_cache_reads_concurrent_hits_together_and_survives_cancellation(
    tmp_path,
):
    import anyio

    path = tmp_path / "llm.sqlite"
    writer = SQLiteCache(path, flush_every=100)
    for index in range(60):
        answer = [ChatGeneration(message=AIMessage(f"answer {index}"))]
        await writer.aupdate(f"prompt {index}", "model", answer)
    await writer.aclose()

    cache = SQLiteCache(path)
    found: dict[int, object] = {}

    async def ask(index: int) -> None:
        answer = await cache.alookup(f"prompt {index}", "model")
        assert answer is not None
        found[index] = answer[0].message.content  # type: ignore[attr-defined]

    async with anyio.create_task_group() as group:
        for index in range(60):
            group.start_soon(ask, index)
    assert found == {index: f"answer {index}" for index in range(60)}
    assert cache.hits == 60

    with anyio.move_on_after(0):  # cancelled at once, some reads in flight
        async with anyio.create_task_group() as group:
            for index in range(10):
                group.start_soon(ask, index)
    await ask(59)  # nothing is left waiting
    await cache.aclose()

    failures: list[BaseException] = []

    async def ask_closed(index: int) -> None:
        try:
            await cache.alookup(f"prompt {index}", "model")
        except ConfigError as exc:
            failures.append(exc)

    async with anyio.create_task_group() as group:
        for index in range(5):
            group.start_soon(ask_closed, index)
    assert len(failures) == 5  # the batch's error reaches every task that waited
    assert "is closed" in str(failures[0])


async def test_sqlite_cache_reads_an_older_files_single_messages(tmp_path):
    import json
    import sqlite3

    from langchain_core.messages import message_to_dict

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, message TEXT)")
        db.execute(
            "INSERT INTO responses VALUES (?, ?)",
            ("k", json.dumps(message_to_dict(AIMessage("from before")))),
        )
    db.close()
    cache = SQLiteCache(path)
    found = await cache.aget("k")
    assert found is not None
    assert found[0].message.content == "from before"  # type: ignore[attr-defined]
    cache.close()


async def test_enable_cache_caches_every_model(tmp_path):
    cache = enable_cache(tmp_path / "global.sqlite")
    try:
        await complete(OfflineChatModel(seed=4), [Turn("user", "hello")])
        assert len(cache) == 1
    finally:
        set_llm_cache(None)
        cache.close()


def test_chat_view_converts_each_message_once_and_restarts_on_another_conversation(
    base_time,
):
    from datetime import timedelta

    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    from clientsim import Conversation, Message, ParticipantRole
    from clientsim.llm import ChatView

    customer, agent = ParticipantRole.CUSTOMER, ParticipantRole.AGENT
    view = ChatView("You are the agent.", agent)
    first = Conversation((Message("hi", base_time, customer),))
    shown = view.messages(first)
    assert [type(m) for m in shown] == [SystemMessage, HumanMessage]
    longer = first.with_message(
        Message("hello", base_time + timedelta(seconds=1), agent)
    )
    again = view.messages(longer)
    assert [type(m) for m in again] == [SystemMessage, HumanMessage, AIMessage]
    assert again[1] is shown[1]  # converted once, reused
    other = Conversation((Message("something else", base_time, customer),))
    restarted = view.messages(other)
    assert [m.content for m in restarted] == ["You are the agent.", "something else"]


# -- the run's rate limiter ------------------------------------------------------------


def test_rate_limiter_builds_langchains_limiter_or_none():
    assert rate_limiter(None) is None
    limiter = rate_limiter(20)
    assert isinstance(limiter, InMemoryRateLimiter)
    assert limiter.requests_per_second == 20
    assert limiter.check_every_n_seconds == 0.05
    assert limiter.max_bucket_size == 20


@pytest.mark.parametrize("bad", [0, -1.5, True, "5", float("nan"), float("inf")])
def test_rate_limiter_refuses_what_is_not_a_positive_rate(bad):
    with pytest.raises(ConfigError, match="requests_per_second must be a number > 0"):
        rate_limiter(bad)
