"""The issue's test: four processes share one rate budget against a loopback
OpenAI-compatible server that enforces its limit and answers 429 beyond it.

The server stands for a provider allowing 600 requests a minute, scaled down in time
so that the test is short: at most 10 accepted requests in any 1-second sliding
window (600 a minute is 10 a second); a request beyond that gets a 429 with a
``Retry-After`` saying when the window frees. Each process makes its calls all at
once through a run's model; every call must succeed, the accepted rate must stay
under the limit (per second, and so per minute), and 429s must stay rare.
"""

from __future__ import annotations

import bisect
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from aiohttp import web

from tests.openai_server import Server


ROOT = Path(__file__).parents[2]
LIMIT, WINDOW = 10, 1.0  # 600 a minute, scaled to a second
PROCESSES, CALLS = 4, 15


class LimitedServer(Server):
    """The test server, refusing requests past ``LIMIT`` in any ``WINDOW``."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted: list[float] = []
        self.refused: list[float] = []

    async def handle(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        recent = self.accepted[bisect.bisect_right(self.accepted, now - WINDOW) :]
        if len(recent) >= LIMIT:
            self.refused.append(now)
            after = recent[-LIMIT] + WINDOW - now
            return web.json_response(
                {"error": {"message": "rate limited", "type": "rate_limit"}},
                status=429,
                headers={"Retry-After": f"{max(after, 0.01):.3f}"},
            )
        self.accepted.append(now)
        return await super().handle(request)


@asynccontextmanager
async def limited_server() -> AsyncIterator[LimitedServer]:
    server = LimitedServer()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    try:
        yield server
    finally:
        await runner.cleanup()


async def _run_processes(
    backend_env: dict[str, str], requests: int, seconds: float | None = None
) -> LimitedServer:
    async with limited_server() as server:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RATE_LIMIT_", "REDIS_URL", "OPENAI_"))
        }
        env |= {
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
            "LOOPBACK_URL": server.base_url,
            # A budget of its own (the key is a digest of LOOPBACK_API_KEY): a Redis
            # server or file that outlives one scenario keeps its budgets' state.
            "LOOPBACK_API_KEY": uuid.uuid4().hex,
            "RATE_LIMIT_REQUESTS": str(requests),
            "RATE_LIMIT_WINDOW": str(WINDOW),
            **backend_env,
        }
        worker = [sys.executable, "-P", "-m", "tests.integration.rate_budget_worker"]
        processes = [
            await anyio.open_process([*worker, str(CALLS)], env=env, cwd=ROOT)
            for _ in range(PROCESSES)
        ]
        outputs: list[str] = []
        try:
            with anyio.fail_after(seconds or 60 + 2 * CALLS * PROCESSES / LIMIT):
                for process in processes:  # every one ready before any starts
                    assert process.stdout is not None
                    line = await process.stdout.receive()
                    assert line.startswith(b"ready"), line
                for process in processes:
                    assert process.stdin is not None
                    await process.stdin.send(b"go\n")
                for process in processes:
                    assert process.stdout is not None
                    assert process.stderr is not None
                    await process.wait()
                    rest = b""
                    async for chunk in process.stdout:
                        rest += chunk
                    errors = b""
                    async for chunk in process.stderr:
                        errors += chunk
                    assert process.returncode == 0, errors.decode()[-3000:]
                    outputs.append(rest.decode())
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                await process.aclose()
    print("processes:", [o.split()[1:] for o in outputs])
    assert [o.split()[:2] for o in outputs] == [["done", str(CALLS)]] * PROCESSES
    return server


def _most_in_a_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(
        bisect.bisect_left(times, start + window) - i for i, start in enumerate(times)
    )


def _check(server: LimitedServer) -> None:
    accepted = sorted(server.accepted)
    print(
        f"accepted {len(accepted)} over {accepted[-1] - accepted[0]:.2f}s, "
        f"refused {len(server.refused)}"
    )
    assert len(accepted) == PROCESSES * CALLS
    assert _most_in_a_window(accepted, WINDOW) <= LIMIT  # the server's own rule
    span = accepted[-1] - accepted[0]
    per_minute = (len(accepted) - LIMIT) / span * 60 / WINDOW
    assert per_minute <= 600, per_minute  # the limit, as a provider states it
    assert per_minute >= 300, per_minute  # and the budget does not starve the calls


@pytest.mark.parametrize("shared", ["sqlite", "redis"])
async def test_four_processes_share_one_budget_under_the_limit(
    shared: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if shared == "sqlite":
        backend = {"RATE_LIMIT_BACKEND": f"sqlite:{tmp_path / 'budget.sqlite'}"}
    else:
        backend = {"REDIS_URL": request.getfixturevalue("redis_url")}
    server = await _run_processes(backend, requests=LIMIT)
    _check(server)
    # Starts are paced by the budget; only network jitter can bring a 429.
    assert len(server.refused) <= len(server.accepted) // 5, len(server.refused)


@pytest.mark.parametrize("shared", ["sqlite"])
async def test_a_budget_set_too_high_shrinks_on_429s_and_loses_no_call(
    shared: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Budgeted at twice what the server allows: the 429s halve the budget for every
    process, their Retry-After pauses all of them once, and every call succeeds."""
    if shared == "sqlite":
        backend = {"RATE_LIMIT_BACKEND": f"sqlite:{tmp_path / 'budget.sqlite'}"}
    else:
        backend = {"REDIS_URL": request.getfixturevalue("redis_url")}
    server = await _run_processes(backend, requests=2 * LIMIT)
    _check(server)
    print(f"{len(server.refused)} refused of {len(server.accepted)}")
    assert len(server.refused) <= PROCESSES * CALLS // 2, len(server.refused)


class _Caller:
    """A Ray actor making the worker's calls (the Ray executor runs conversations
    in such actors); its budget backend is ``ray``, chosen by itself."""

    async def calls(self, calls: int, url: str) -> int:
        from tests.integration.rate_budget_worker import make_calls

        return await make_calls(calls, url)


@pytest.mark.xdist_group("ray")
async def test_two_ray_actors_share_one_budget_through_the_ray_backend(
    ray_cluster: str,
) -> None:
    import ray

    env = {"RATE_LIMIT_REQUESTS": str(LIMIT), "RATE_LIMIT_WINDOW": str(WINDOW)}
    caller = ray.remote(num_cpus=1)(_Caller).options(runtime_env={"env_vars": env})
    async with limited_server() as server:
        actors = [caller.remote() for _ in range(2)]
        with anyio.fail_after(120):
            done = await _gather(
                [a.calls.remote(CALLS, server.base_url) for a in actors]
            )
        for actor in actors:
            ray.kill(actor)
    assert done == [CALLS, CALLS]
    accepted = sorted(server.accepted)
    print(f"ray: accepted {len(accepted)}, refused {len(server.refused)}")
    assert len(accepted) == 2 * CALLS
    assert _most_in_a_window(accepted, WINDOW) <= LIMIT
    assert len(server.refused) <= len(accepted) // 5


async def _gather(refs: list[object]) -> list[object]:
    return [await ref for ref in refs]  # type: ignore[misc]
