"""GROQ_API_KEY (the `groq:` spec) and RATE_LIMIT_REQUESTS / RATE_LIMIT_WINDOW, against
a real OpenAI-compatible server on 127.0.0.1 that records what arrives and when."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim import (
    FullSimulationRunner,
    LLMOutcomeEvaluator,
    LLMParticipant,
    ParticipantRole,
)
from clientsim.errors import ConfigError
from clientsim.llm import aclose_models, resolve_model
from clientsim.llm._budget_limiter import BudgetRateLimiter
from clientsim.llm.groq import GroqChatModel
from clientsim.llm.rates import RateLimit, provider_rate_limiter, rate_limit_from_env
from clientsim.llm.window import WindowRateLimiter
from clientsim.models import to_json
from tests.openai_server import serve


ROOT = Path(__file__).parents[2]
KEY = "gsk_test_5b8e0d1f9a7c4e2b"  # a made-up key: it must reach the server, only
VARIABLES = (
    "GROQ_API_KEY",
    "GROQ_BASE_URL",
    "RATE_LIMIT_REQUESTS",
    "RATE_LIMIT_WINDOW",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)


@pytest.fixture(name="env")
async def _env(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    await aclose_models()


# --- groq: -----------------------------------------------------------------------------


async def test_groq_needs_a_key_and_says_where_to_get_one(env):
    with pytest.raises(ConfigError) as caught:
        resolve_model("groq:llama-3.3-70b-versatile")
    assert str(caught.value) == (
        "'groq:llama-3.3-70b-versatile' needs GROQ_API_KEY: create a key at "
        "https://console.groq.com/keys and set GROQ_API_KEY to it, or use the "
        "'offline' model"
    )
    env.setenv("GROQ_API_KEY", "   ")
    with pytest.raises(ConfigError, match="needs GROQ_API_KEY"):
        resolve_model("groq:llama-3.3-70b-versatile")


async def test_groq_names_the_model(env):
    env.setenv("GROQ_API_KEY", KEY)
    with pytest.raises(ConfigError, match=r"e\.g\. 'groq:llama-3\.3-70b-versatile'"):
        resolve_model("groq:")


async def test_groq_talks_to_groqs_endpoint_by_default(env):
    env.setenv("GROQ_API_KEY", KEY)
    model = resolve_model("groq:llama-3.3-70b-versatile")
    assert isinstance(model, GroqChatModel)
    assert model.openai_api_base == "https://api.groq.com/openai/v1"
    assert model.model_name == "llama-3.3-70b-versatile"
    assert resolve_model("groq:llama-3.3-70b-versatile") is model  # one per spec
    assert KEY not in repr(model)
    assert KEY not in str(model.model_dump())
    assert model.rate_limiter is None  # no RATE_LIMIT_REQUESTS: no limit


async def test_a_groq_participant_sends_the_key_only_as_a_bearer_token(
    env, hello, intent, outcomes, base_time, caplog
):
    caplog.set_level("DEBUG", logger="clientsim")
    async with serve() as server:
        env.setenv("GROQ_API_KEY", KEY)
        env.setenv("GROQ_BASE_URL", server.base_url)
        customer = LLMParticipant(
            ParticipantRole.CUSTOMER, "groq:llama-3.3-70b-versatile", intent=intent
        )
        agent = LLMParticipant(ParticipantRole.AGENT, "groq:llama-3.1-8b-instant")
        result = await FullSimulationRunner(
            customer,
            agent,
            hello,
            intent,
            outcomes,
            base_timestamp=base_time,
            max_messages=6,
            outcome_evaluator=LLMOutcomeEvaluator("groq:llama-3.1-8b-instant"),
        ).run()
    assert result.ok, result.error
    chat = [r for r in server.requests if "tools" not in r]
    judged = [r for r in server.requests if "tools" in r]
    assert len(chat) == 5
    assert len(judged) == len(result.conversation.messages)
    # Structured output by tool calling: not every Groq model takes json_schema.
    assert not any("response_format" in r for r in server.requests)
    assert {h["Authorization"] for h in server.headers} == {f"Bearer {KEY}"}
    assert {r["model"] for r in server.requests} == {
        "llama-3.3-70b-versatile",
        "llama-3.1-8b-instant",
    }
    assert result.token_usage.agent.total_tokens > 0
    seen = to_json(result) + repr(result) + caplog.text
    assert "model.called" in caplog.text  # the debug events were logged
    assert KEY not in seen


async def test_a_run_on_groq_from_the_command_line_never_writes_the_key(env, tmp_path):
    """The CLI on `--model groq:...`, with every event logged and a rate limit on the
    run's models (the experiment path wraps each model): the key reaches the server
    as a bearer token and nowhere else - not stdout, stderr, or any file of the run."""
    cli = [sys.executable, "-P", "-m", "clientsim"]
    base = {key: value for key, value in os.environ.items() if key not in VARIABLES}
    base["PYTHONPATH"] = str(ROOT / "src")
    with anyio.fail_after(60):
        init = await anyio.run_process([*cli, "init", "agent"], cwd=tmp_path, env=base)
    assert init.returncode == 0
    async with serve() as server:
        env_vars = {
            **base,
            "GROQ_API_KEY": KEY,
            "GROQ_BASE_URL": server.base_url,
            "LOG_LEVEL": "DEBUG",
            "RATE_LIMIT_REQUESTS": "5",
            "RATE_LIMIT_WINDOW": "1",
        }
        with anyio.fail_after(120):
            done = await anyio.run_process(
                [
                    *cli,
                    *("run", "configs/simulation.yaml", "--persona", "patient"),
                    *("--model", "groq:llama-3.3-70b-versatile"),
                ],
                cwd=tmp_path / "agent",
                env=env_vars,
                check=False,
            )
    stdout, stderr = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, stderr
    calls = len(server.requests)
    assert calls >= 10
    assert {h["Authorization"] for h in server.headers} == {f"Bearer {KEY}"}
    assert "model.called" in stderr
    assert KEY not in stdout + stderr
    written = [p for p in (tmp_path / "agent").rglob("*") if p.is_file()]
    assert any(p.name == "run.log" for p in written)
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path
    _assert_window(server.arrivals, requests=5, window=1.0)


# --- RATE_LIMIT_REQUESTS / RATE_LIMIT_WINDOW -------------------------------------------


SLACK = 0.25  # seconds


def _assert_window(arrivals: list[float], *, requests: int, window: float) -> None:
    """No more than ``requests`` arrivals in any ``window`` seconds, and so at least
    ``(n - 1) // requests`` windows overall. The calls start on time and arrive a
    little after: 30 ms here, more for a first call on a new connection on a busy
    machine, hence 0.25 s of slack (unlimited, the same calls arrive within 0.1 s)."""
    times = sorted(arrivals)
    for first, later in zip(times, times[requests:], strict=False):
        assert later - first >= window - SLACK, (later - first, times)
    expected = (len(times) - 1) // requests * window
    assert times[-1] - times[0] >= expected - SLACK


async def _conversations(server, env, hello, intent, outcomes) -> None:
    """Three conversations at once, each between two participants on two groq
    models (a customer model and an agent model): more than 20 model calls."""
    env.setenv("GROQ_API_KEY", KEY)
    env.setenv("GROQ_BASE_URL", server.base_url)

    async def talk() -> None:
        customer = LLMParticipant(
            ParticipantRole.CUSTOMER, "groq:customer-model", intent=intent
        )
        agent = LLMParticipant(ParticipantRole.AGENT, "groq:agent-model")
        result = await FullSimulationRunner(
            customer, agent, hello, intent, outcomes, max_messages=21
        ).run()
        assert result.ok, result.error

    async with anyio.create_task_group() as tasks:
        for _ in range(3):
            tasks.start_soon(talk)
    await aclose_models()


async def test_participants_share_one_limit_per_provider(env, hello, intent, outcomes):
    env.setenv("RATE_LIMIT_REQUESTS", "5")
    env.setenv("RATE_LIMIT_WINDOW", "1")
    async with serve() as server:
        await _conversations(server, env, hello, intent, outcomes)
    calls = len(server.arrivals)
    assert calls >= 20
    assert {r["model"] for r in server.requests} == {"customer-model", "agent-model"}
    _assert_window(server.arrivals, requests=5, window=1.0)
    span = max(server.arrivals) - min(server.arrivals)
    assert span >= 3 - SLACK, span  # >= 20 calls, 5 a second: at 0, 1, 2, 3 s and on
    assert span < (calls - 1) // 5 + 1.5, span  # and no slower than the limit needs


async def test_without_rate_limit_requests_nothing_waits(env, hello, intent, outcomes):
    env.setenv("RATE_LIMIT_WINDOW", "1")  # a window alone sets no limit
    async with serve() as server:
        await _conversations(server, env, hello, intent, outcomes)
    assert len(server.arrivals) >= 20
    span = max(server.arrivals) - min(server.arrivals)
    assert span < 1.5, span  # the same calls, unlimited


async def test_one_limiter_per_provider_and_process(env):
    env.setenv("GROQ_API_KEY", KEY)
    env.setenv("OPENAI_API_KEY", "sk-test")
    env.setenv("RATE_LIMIT_REQUESTS", "100")
    groq_a = resolve_model("groq:model-a")
    groq_b = resolve_model("groq:model-b")
    openai = resolve_model("openai:gpt-4o-mini")
    assert isinstance(groq_a.rate_limiter, BudgetRateLimiter)
    assert groq_a.rate_limiter is groq_b.rate_limiter
    assert openai.rate_limiter is not groq_a.rate_limiter
    assert (groq_a.rate_limiter.requests, groq_a.rate_limiter.window) == (100, 60.0)
    assert resolve_model("offline").rate_limiter is None  # makes no requests
    assert provider_rate_limiter("groq") is groq_a.rate_limiter


async def test_a_bad_limit_fails_resolving_a_model_naming_the_variable(env):
    env.setenv("GROQ_API_KEY", KEY)
    env.setenv("RATE_LIMIT_REQUESTS", "lots")
    with pytest.raises(ConfigError, match=r"^RATE_LIMIT_REQUESTS must be a whole"):
        resolve_model("groq:model-a")


@given(st.integers(min_value=1, max_value=1_000_000), st.floats(0.001, 86_400.0))
def test_any_valid_limit_is_read(requests, window):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RATE_LIMIT_REQUESTS", f" {requests} ")
        env.setenv("RATE_LIMIT_WINDOW", repr(window))
        assert rate_limit_from_env() == RateLimit(requests, window)
        env.delenv("RATE_LIMIT_WINDOW")
        assert rate_limit_from_env() == RateLimit(requests, 60.0)
        env.delenv("RATE_LIMIT_REQUESTS")
        assert rate_limit_from_env() is None


@given(
    st.one_of(
        st.text(
            st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
            max_size=8,
        ).filter(lambda t: not (t.strip().isdecimal() and t.strip().isascii())),
        st.sampled_from(["0", "-5", "1000001", "1.5", "1e3", "\uff15"]),
    ).filter(lambda t: t.strip() != "")
)
def test_a_bad_request_count_is_refused_naming_the_variable(text):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RATE_LIMIT_REQUESTS", text)
        env.delenv("RATE_LIMIT_WINDOW", raising=False)
        with pytest.raises(ConfigError) as caught:
            rate_limit_from_env()
    assert str(caught.value).startswith(
        "RATE_LIMIT_REQUESTS must be a whole number of model calls per window, "
        "from 1 to 1,000,000, e.g. 100; got "
    )


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "soon", "1s", "-0.0"])
def test_a_bad_window_is_refused_naming_the_variable(text):
    with pytest.MonkeyPatch.context() as env:
        env.delenv("RATE_LIMIT_REQUESTS", raising=False)  # checked even alone
        env.setenv("RATE_LIMIT_WINDOW", text)
        with pytest.raises(ConfigError, match=r"^RATE_LIMIT_WINDOW must be a number"):
            rate_limit_from_env()


def test_the_window_limiter_books_starts_in_order():
    limiter = WindowRateLimiter(3, 3600)
    assert [limiter.acquire(blocking=False) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    with pytest.raises(ConfigError, match="requests must be a whole number"):
        WindowRateLimiter(0, 1)
    with pytest.raises(ConfigError, match="window must be a number of seconds"):
        WindowRateLimiter(1, float("nan"))


async def test_the_window_limiter_lets_calls_start_exactly_on_the_window():
    limiter = WindowRateLimiter(5, 0.5)
    started: list[float] = []

    async def call() -> None:
        await limiter.aacquire()
        started.append(time.monotonic())

    async with anyio.create_task_group() as tasks:
        for _ in range(20):
            tasks.start_soon(call)
    started.sort()
    gaps = [later - first for first, later in zip(started, started[5:], strict=False)]
    assert min(gaps) >= 0.5 - 0.005, gaps  # the event loop's clock resolution
    assert started[-1] - started[0] >= 1.5 - 0.005
    assert started[-1] - started[0] < 1.5 + SLACK
