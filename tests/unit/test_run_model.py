"""The experiment model wrapper and the response cache, through real SQLite files."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from clientsim.errors import ConfigError
from clientsim.llm.cache import SQLiteCache
from clientsim.llm.offline import OfflineChatModel
from clientsim.llm.run_model import RunChatModel, seeded


class Counting(BaseChatModel):
    """Answers with the number of its calls; fails the first ``failures`` calls."""

    failures: int = 0
    error: Any = None
    state: Any = None  # a dict shared by copies

    @property
    def _llm_type(self) -> str:
        return "counting"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise NotImplementedError

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.state["calls"] += 1
        if self.state["calls"] <= self.failures:
            raise self.error
        message = AIMessage(content=f"answer {self.state['calls']}")
        message.usage_metadata = {
            "input_tokens": 3,
            "output_tokens": 2,
            "total_tokens": 5,
        }
        return ChatResult(generations=[ChatGeneration(message=message)])


def counting(**kwargs: Any) -> Counting:
    return Counting(state={"calls": 0}, **kwargs)


def wrap(inner: BaseChatModel, **kwargs: Any) -> RunChatModel:
    options: dict[str, Any] = {
        "spec": "test",
        "label": "agent",
        "retry_base_seconds": 0,
    }
    options.update(kwargs)
    return RunChatModel(inner=inner, **options)


PROMPT = [SystemMessage("You are the agent."), HumanMessage("My parcel is late")]


async def test_transient_errors_are_retried_and_counted_once():
    inner = counting(failures=2, error=ConnectionError("dropped"))
    model = wrap(inner, max_retries=3)
    reply = await model.ainvoke(PROMPT)
    assert reply.content == "answer 3"
    assert inner.state["calls"] == 3
    assert model.live_calls == 1
    assert model.usage.calls == 1
    assert model.usage.total_tokens == 5


async def test_logic_errors_are_not_retried():
    inner = counting(failures=5, error=ValueError("bad request"))
    model = wrap(inner, max_retries=3)
    with pytest.raises(ValueError, match="bad request"):
        await model.ainvoke(PROMPT)
    assert inner.state["calls"] == 1


async def test_retries_stop_after_max_retries():
    inner = counting(failures=10, error=TimeoutError("slow"))
    model = wrap(inner, max_retries=2)
    with pytest.raises(TimeoutError):
        await model.ainvoke(PROMPT)
    assert inner.state["calls"] == 3


async def test_the_cache_answers_a_repeated_prompt_and_persists(tmp_path):
    path = tmp_path / "cache.sqlite"
    cache = SQLiteCache(path)
    inner = counting()
    first = await wrap(inner, response_cache=cache).ainvoke(PROMPT)
    again = await wrap(inner, response_cache=cache).ainvoke(PROMPT)
    assert again.content == first.content
    assert inner.state["calls"] == 1
    await cache.flush()
    cache.close()
    reopened = SQLiteCache(path)
    model = wrap(inner, response_cache=reopened)
    assert (await model.ainvoke(PROMPT)).content == first.content
    assert model.live_calls == 0
    assert model.usage.calls == 1  # a cached answer still counts its tokens
    reopened.close()


async def test_the_cache_key_covers_seed_history_and_prompt(tmp_path):
    cache = SQLiteCache(tmp_path / "cache.sqlite")
    inner = counting()
    model = wrap(inner, response_cache=cache, conversation_seed=1)
    history = list(PROMPT)
    reply = await model.ainvoke(history)
    history += [reply, HumanMessage("It is order 42")]
    await model.ainvoke(history)  # a continuation: hashed incrementally
    assert inner.state["calls"] == 2
    other_seed = wrap(inner, response_cache=cache, conversation_seed=2)
    await other_seed.ainvoke(PROMPT)
    assert inner.state["calls"] == 3
    changed = [SystemMessage("You are a rude agent."), *history[1:]]
    await model.ainvoke(changed)  # same object count, another system prompt
    assert inner.state["calls"] == 4
    # The full history from a fresh wrapper hits what the incremental hash stored.
    fresh = wrap(inner, response_cache=cache, conversation_seed=1)
    await fresh.ainvoke([SystemMessage("You are the agent."), *history[1:]])
    assert inner.state["calls"] == 4
    cache.close()


async def test_a_file_that_is_not_a_cache_is_a_config_error(tmp_path):
    path = tmp_path / "cache.sqlite"
    path.write_text("not a database " * 100)
    cache = SQLiteCache(path)  # constructing does no I/O
    with pytest.raises(ConfigError, match="as a response cache"):
        await cache.open()
    with pytest.raises(ConfigError, match="as a response cache"):
        await wrap(counting(), response_cache=cache).ainvoke(PROMPT)
    assert path.read_text() == "not a database " * 100  # left untouched


async def test_structured_output_goes_through_the_wrapper():
    model = wrap(seeded(OfflineChatModel(), 3), spec="offline")
    judge = model.with_structured_output(
        {
            "title": "Verdict",
            "description": "Was the problem solved?",
            "properties": {"solved": {"type": "boolean"}},
        }
    )
    answer = await judge.ainvoke([HumanMessage("Thanks, that fixed it!")])
    assert isinstance(answer, dict)
    assert isinstance(answer["solved"], bool)
    assert model.live_calls == 1


def test_seeded_copies_only_models_with_a_seed():
    offline = OfflineChatModel(seed=0)
    copy = seeded(offline, 9)
    assert copy.seed == 9  # type: ignore[attr-defined]
    assert offline.seed == 0
    plain = counting()
    assert seeded(plain, 9) is plain
