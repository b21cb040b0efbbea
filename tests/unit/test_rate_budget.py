"""The rate budget's arithmetic (hypothesis properties), its backends, the
environment that sets it up, and a run's model reacting to 429s."""

from __future__ import annotations

import bisect
import email.utils
import itertools
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from clientsim.errors import ConfigError, RateLimitedError, UnknownStrategyError
from clientsim.llm._budget_core import BudgetLimits, BudgetState
from clientsim.llm._budget_limiter import BudgetRateLimiter
from clientsim.llm._budget_sqlite import SQLiteBudgetBackend
from clientsim.llm.budget import (
    RateBudget,
    budget_key,
    build_backend,
    rate_limited,
)
from clientsim.llm.rates import (
    budget_settings_from_env,
    provider_budget,
    provider_rate_limiter,
)
from clientsim.llm.run_model import RunChatModel


def _most_in_a_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(
        (bisect.bisect_left(times, t + window - 1e-9) - i for i, t in enumerate(times)),
        default=0,
    )


# --- the arithmetic ---------------------------------------------------------------

steps = st.lists(
    st.tuples(
        st.floats(0, 2.0),  # seconds before the next step
        st.sampled_from(["reserve", "reserve", "reserve", "ok", "limited", "cancel"]),
        st.floats(0, 3.0) | st.none(),  # a 429's Retry-After
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@example(
    1,
    1 / 3,
    [(0.0, "reserve", None)] * 2
    + [(0.0, "ok", None)]
    + [(0.0, "reserve", None)]
    + [(0.0, "cancel", None)] * 2
    + [(0.0, "reserve", None)],
)
@given(st.integers(1, 12), st.floats(0.1, 10.0), steps)
def test_never_more_starts_in_any_window_than_the_limit(requests, window, plan):
    """Whatever the calls, 429s, pauses and cancellations, no window of ``window``
    seconds holds more than ``requests`` booked starts; every start is at or after
    the moment it was asked for; the scale stays within its bounds."""
    limits = BudgetLimits(requests=requests, window=window)
    state = BudgetState()
    now, booked, held, leases = 1000.0, [], [], 0
    for pause, action, after in plan:
        now += pause
        if action == "reserve":
            leases += 1
            ok, delay = state.reserve(now, limits, lease=str(leases))
            assert ok
            assert delay >= 0
            booked.append(now + delay)
            held.append((str(leases), now + delay))
        elif held:
            lease, start = held.pop(0)
            outcome = {"ok": "ok", "limited": "limited", "cancel": "cancelled"}[action]
            state.release(now, limits, lease, outcome=outcome, retry_after=after)
            if outcome == "cancelled":
                booked.remove(start)
        assert limits.min_scale <= state.scale <= 1.0
    assert _most_in_a_window(booked, window) <= requests


@given(st.integers(1, 50), st.integers(1, 40))
def test_a_fixed_budget_starts_evenly_at_its_rate(requests, calls):
    limits = BudgetLimits(requests=requests, window=1.0)
    state = BudgetState()
    starts = [1.0 + state.reserve(1.0, limits)[1] for _ in range(calls)]
    assert starts == sorted(starts)
    assert starts[-1] - starts[0] == pytest.approx((calls - 1) / requests)


@given(st.lists(st.sampled_from(["ok", "limited"]), max_size=200), st.integers(1, 100))
def test_aimd_stays_in_bounds_halves_on_429_and_grows_on_success(outcomes, requests):
    limits = BudgetLimits(requests=requests, concurrency=4, window=1.0)
    state = BudgetState()
    now = 0.0
    for i, outcome in enumerate(outcomes):
        now += 0.01
        before = state.scale
        state.reserve(now, limits, lease=str(i))
        now += 0.01
        state.release(now, limits, str(i), outcome=outcome)
        if outcome == "ok":
            assert before <= state.scale <= min(1.0, before + limits.increase)
        else:  # each call was booked after the last decrease: a new episode
            assert state.scale == pytest.approx(max(limits.min_scale, before / 2))
        assert limits.min_scale <= state.scale <= 1.0
        assert limits.scaled(requests, state.scale) >= 1


def test_429s_of_one_episode_shrink_the_budget_once_and_pause_everyone_once():
    limits = BudgetLimits(requests=10, window=1.0)
    state = BudgetState()
    for lease in "abcde":  # five calls booked, then all refused
        state.reserve(100.0, limits, lease=lease)
    state.release(100.5, limits, "a", outcome="limited", retry_after=2.0)
    assert state.scale == 0.5
    assert state.paused_until == 102.5
    for lease in "bcde":  # the same episode: no further cut, no new pause
        state.release(100.6, limits, lease, outcome="limited", retry_after=2.0)
    assert state.scale == 0.5
    assert state.paused_until == 102.5
    assert state.pause_left(101.0) == 1.5
    ok, delay = state.reserve(101.0, limits, lease="f")  # waits out the pause
    assert ok
    assert delay >= 1.5


def test_a_full_concurrency_books_nothing_and_an_expired_lease_frees_its_slot():
    limits = BudgetLimits(concurrency=2, window=60.0)
    state = BudgetState()
    assert state.reserve(0.0, limits, lease="a", hold=10.0) == (True, 0.0)
    assert state.reserve(0.0, limits, lease="b", hold=30.0) == (True, 0.0)
    assert state.reserve(5.0, limits, lease="c") == (False, 5.0)  # a's lease ends at 10
    assert state.reserve(10.0, limits, lease="c") == (True, 0.0)  # a's process died
    state.release(11.0, limits, "b", outcome="ok")
    assert state.reserve(11.0, limits, lease="d") == (True, 0.0)


def test_tokens_are_reserved_up_front_and_corrected_to_those_used():
    limits = BudgetLimits(tokens=1000, window=10.0)  # 100 tokens a second
    state = BudgetState()
    assert state.reserve(0.0, limits, tokens=800, lease="a") == (True, 0.0)
    ok, delay = state.reserve(0.0, limits, tokens=400, lease="b")  # 200 short
    assert ok
    assert delay == pytest.approx(2.0)
    state.release(0.0, limits, "a", outcome="ok", used=300)  # 500 given back
    ok, delay = state.reserve(0.0, limits, tokens=300, lease="c")
    assert ok
    assert delay == pytest.approx(0.0)


# --- 429s as providers raise them ---------------------------------------------------


class _Response:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


class _StatusError(Exception):
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        super().__init__(f"HTTP {status}")
        self.status_code = status
        self.response = _Response(headers)


def test_a_429_is_recognised_with_its_retry_after_in_seconds_or_as_a_date():
    assert rate_limited(RateLimitedError("x", retry_after=1.5)) == (True, 1.5)
    assert rate_limited(RateLimitedError("x")) == (True, None)
    assert rate_limited(_StatusError(429, {"retry-after": "3"})) == (True, 3.0)
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    limited, after = rate_limited(_StatusError(429, {"Retry-After": later}))
    assert limited
    assert 25 < after <= 31
    assert rate_limited(_StatusError(503, {"retry-after": "3"})) == (False, None)
    outer = RuntimeError("wrapped")
    outer.__cause__ = _StatusError(429, {})
    assert rate_limited(outer) == (True, None)


def test_the_budget_key_never_holds_the_api_key():
    key = budget_key("openai", api_key="sk-secret-123", base_url="https://x")
    assert "sk-secret" not in key
    assert key != budget_key("openai", api_key="sk-other", base_url="https://x")
    assert key != budget_key("groq", api_key="sk-secret-123", base_url="https://x")


# --- the budget object and its backends ----------------------------------------------


def test_bad_limits_are_refused_naming_them():
    with pytest.raises(ConfigError, match="requests must be a whole number"):
        RateBudget("openai", requests=0)
    with pytest.raises(ConfigError, match="window must be a number of seconds"):
        RateBudget("openai", requests=1, window=float("inf"))
    with pytest.raises(ConfigError, match=r"decrease must be a number in \(0, 1\)"):
        RateBudget("openai", requests=1, decrease=1.0)
    with pytest.raises(UnknownStrategyError, match="did you mean 'redis'"):
        build_backend("rediss")
    with pytest.raises(ConfigError, match="takes no argument"):
        build_backend("local:x")


async def test_a_pause_makes_every_waiting_call_wait_for_the_same_time():
    budget = RateBudget("t", requests=100, window=1.0, key="pause")
    started: list[float] = []

    async def call(refuse: bool) -> None:
        try:
            async with budget.acquire():
                started.append(time.monotonic())
                if refuse:
                    raise RateLimitedError("busy", retry_after=0.3)
        except RateLimitedError:
            pass

    begin = time.monotonic()
    await call(refuse=True)
    async with anyio.create_task_group() as tasks:
        for _ in range(5):
            tasks.start_soon(call, False)
    assert all(t - begin >= 0.29 for t in started[1:]), started
    state = await budget.state()
    assert 0.5 <= state.scale < 0.6  # halved, then five successes
    assert state.leases == {}


async def test_two_sqlite_backends_on_one_file_share_the_budget(tmp_path: Path):
    path = tmp_path / "budget.sqlite"
    first, second = SQLiteBudgetBackend(path), SQLiteBudgetBackend(path)
    a = RateBudget("t", requests=2, window=0.4, key="k", backend=first)
    b = RateBudget("t", requests=2, window=0.4, key="k", backend=second)
    async with a.acquire():
        pass
    async with b.acquire():
        pass
    starts = (await second.state("k")).starts
    assert len(starts) == 2
    assert starts[1] - starts[0] == pytest.approx(0.2)  # b waited a's turn
    assert await a.next_start_in() > 0.1
    await first.aclose()
    await second.aclose()


async def test_the_redis_backend_shares_one_budget(redis_url: str):
    a = RateBudget("t", requests=3, window=0.6, key="r1", backend=f"redis:{redis_url}")
    b = RateBudget("t", requests=3, window=0.6, key="r1", backend=f"redis:{redis_url}")
    assert a.backend is not b.backend
    async with anyio.create_task_group() as tasks:
        for budget in (a, b, a):
            tasks.start_soon(_one_call, budget)
    starts = (await b.state()).starts
    assert len(starts) == 3
    assert [y - x for x, y in itertools.pairwise(starts)] == pytest.approx([0.2, 0.2])
    with pytest.raises(RateLimitedError):
        async with b.acquire():
            raise RateLimitedError("busy", retry_after=5)
    assert (await a.state()).scale == 0.5
    assert 4 < await a.backend.pause_left("r1") <= 5
    await a.backend.aclose()
    await b.backend.aclose()


async def _one_call(budget: RateBudget) -> None:
    async with budget.acquire():
        pass


@pytest.mark.xdist_group("ray")
async def test_the_ray_backend_keeps_the_budget_in_one_actor(ray_cluster: str):
    budget = RateBudget("t", requests=2, window=0.4, key="ray-test", backend="ray")
    async with budget.acquire(tokens=5):
        pass
    again = RateBudget("t", requests=2, window=0.4, key="ray-test", backend="ray")
    async with again.acquire():
        pass
    starts = (await again.state()).starts
    assert len(starts) == 2
    assert starts[1] - starts[0] == pytest.approx(0.2)


# --- the environment ------------------------------------------------------------------

VARIABLES = (
    "RATE_LIMIT_REQUESTS",
    "RATE_LIMIT_TOKENS",
    "RATE_LIMIT_CONCURRENCY",
    "RATE_LIMIT_WINDOW",
    "RATE_LIMIT_BACKEND",
    "REDIS_URL",
)


@pytest.fixture(name="env")
def _env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_environment_chooses_limits_and_backend(env, tmp_path):
    assert budget_settings_from_env() is None
    env.setenv("RATE_LIMIT_TOKENS", "90000")
    env.setenv("RATE_LIMIT_CONCURRENCY", "8")
    settings = budget_settings_from_env()
    assert settings is not None
    assert (settings.requests, settings.tokens, settings.concurrency) == (
        None,
        90000,
        8,
    )
    assert settings.backend == "local"
    env.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert budget_settings_from_env().backend == "redis"
    env.setenv("RATE_LIMIT_BACKEND", f"sqlite:{tmp_path / 'b.sqlite'}")
    assert budget_settings_from_env().backend.startswith("sqlite:")
    budget = provider_budget("someprovider")
    assert isinstance(budget.backend, SQLiteBudgetBackend)
    limiter = provider_rate_limiter("someprovider")
    assert isinstance(limiter, BudgetRateLimiter)
    assert limiter.budget is budget
    assert provider_rate_limiter("offline") is None


ENV_TEXT = st.text(
    st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12
)


@given(
    ENV_TEXT.filter(
        lambda t: (
            t.strip()
            and t.partition(":")[0].strip().lower()
            not in {"local", "sqlite", "redis", "ray"}
        )
    )
)
def test_an_unknown_backend_is_refused_naming_the_variable(text):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RATE_LIMIT_BACKEND", text)
        with pytest.raises(ConfigError) as caught:
            budget_settings_from_env()
    assert str(caught.value).startswith("RATE_LIMIT_BACKEND must name a rate budget")
    assert "(one of: local, ray, redis, sqlite)" in str(caught.value)


@given(st.sampled_from(["RATE_LIMIT_TOKENS", "RATE_LIMIT_CONCURRENCY"]), ENV_TEXT)
def test_a_bad_count_is_refused_naming_the_variable(name, text):
    if text.strip().isdecimal() and text.strip().isascii() and 0 < int(text) <= 10**6:
        return
    if not text.strip():
        return
    with pytest.MonkeyPatch.context() as env:
        for other in VARIABLES:
            env.delenv(other, raising=False)
        env.setenv(name, text)
        with pytest.raises(ConfigError) as caught:
            budget_settings_from_env()
    assert str(caught.value).startswith(f"{name} must be a whole number of ")


# --- a run's model --------------------------------------------------------------------


class _Crowded(BaseChatModel):
    """Refuses its first ``refusals`` calls with a 429, then answers."""

    refusals: int = 0
    calls: list[float] = []  # noqa: RUF012 - pydantic copies it per instance

    @property
    def _llm_type(self) -> str:
        return "crowded"

    def _generate(self, messages: list[BaseMessage], *_: Any, **__: Any) -> ChatResult:
        raise NotImplementedError

    async def _agenerate(
        self, messages: list[BaseMessage], *_: Any, **__: Any
    ) -> ChatResult:
        self.calls.append(time.monotonic())
        if len(self.calls) <= self.refusals:
            raise RateLimitedError("busy", provider="crowded", retry_after=0.2)
        message = AIMessage(
            "fine",
            usage_metadata={"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


async def test_a_runs_model_waits_out_a_429_through_the_budget_and_loses_no_call():
    budget = RateBudget("crowded", requests=50, tokens=100_000, window=1.0, key="run")
    inner = _Crowded(refusals=3, rate_limiter=budget.limiter(), calls=[])
    answers: list[str] = []

    async def call() -> None:
        model = RunChatModel(inner=inner, spec="crowded:m", label="customer")
        answers.append(str((await model.ainvoke("hello")).content))

    async with anyio.create_task_group() as tasks:
        for _ in range(6):
            tasks.start_soon(call)
    assert answers == ["fine"] * 6
    state = await budget.state()
    assert state.scale < 1.0  # the 429s shrank it (once per episode)
    assert state.leases == {}
    first = inner.calls[0]
    later = list(inner.calls[3:])
    assert all(t - first >= 0.19 for t in later), inner.calls  # all waited the pause


def test_the_limiter_waits_for_a_start_from_synchronous_code_too():
    # LangChain's synchronous calls (model.invoke) acquire from a thread with no loop.
    limiter = RateBudget("sync", requests=1, window=30, key="sync-test").limiter()
    assert limiter.acquire(blocking=False) is True
    assert limiter.acquire(blocking=False) is False  # the next start is 30 s away
