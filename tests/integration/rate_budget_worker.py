"""One process of the shared rate budget test: ``CALLS`` model calls at once through
a run's model (:class:`~clientsim.llm.run_model.RunChatModel`) on a ``loopback:``
spec, whose provider budget comes from ``RATE_LIMIT_*`` as for any spec. It prints
``ready``, waits for a line on stdin (so that every process starts together), and
prints how many calls succeeded and how long they took.

The ``loopback:`` model is a small chat model on aiohttp that raises
:class:`~clientsim.errors.RateLimitedError` (with the ``Retry-After``) on a 429 and
never retries on its own, as the library's OpenAI-compatible model does; it keeps
the openai SDK (seconds to import) out of four processes."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import aiohttp
import anyio
import anyio.to_thread
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from clientsim.errors import RateLimitedError
from clientsim.llm import model_providers, resolve_model
from clientsim.llm.run_model import RunChatModel


class LoopbackChatModel(BaseChatModel):
    url: str
    session: Any = None

    @property
    def _llm_type(self) -> str:
        return "loopback"

    def _generate(self, messages: list[BaseMessage], *_: Any, **__: Any) -> ChatResult:
        raise NotImplementedError

    async def _agenerate(
        self, messages: list[BaseMessage], *_: Any, **__: Any
    ) -> ChatResult:
        body = {
            "model": "m",
            "messages": [{"role": "user", "content": str(m.content)} for m in messages],
        }
        async with self.session.post(
            f"{self.url}/chat/completions", json=body
        ) as response:
            if response.status == 429:
                after = response.headers.get("Retry-After")
                raise RateLimitedError(
                    "429",
                    provider="loopback",
                    retry_after=float(after) if after else None,
                )
            response.raise_for_status()
            data = await response.json()
        message = data["choices"][0]["message"]
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage(content=message["content"]))]
        )


async def make_calls(calls: int, url: str, ready: Any = None) -> int:
    """``calls`` calls at once; ``ready`` (awaited first, if given) holds them back."""
    async with aiohttp.ClientSession() as session:
        if "loopback" not in model_providers:
            model_providers.register(
                "loopback", lambda name: LoopbackChatModel(url=url, session=session)
            )
        inner = resolve_model("loopback:m")
        inner.session = session  # type: ignore[attr-defined]
        done = 0

        async def one(i: int) -> None:
            nonlocal done
            wrapper = RunChatModel(inner=inner, spec="loopback:m", label="customer")
            answer = await wrapper.ainvoke(f"call {i} of process {os.getpid()}")
            if answer.content:
                done += 1

        if ready is not None:
            await ready()
        async with anyio.create_task_group() as tasks:
            for i in range(calls):
                tasks.start_soon(one, i)
        return done


async def main(calls: int) -> None:
    started = time.monotonic()

    async def ready() -> None:
        nonlocal started
        print("ready", flush=True)
        await anyio.to_thread.run_sync(sys.stdin.readline)
        started = time.monotonic()

    done = await make_calls(calls, os.environ["LOOPBACK_URL"], ready)
    print(f"done {done} {time.monotonic() - started:.2f}", flush=True)


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]))
