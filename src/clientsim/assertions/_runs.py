"""What every assertion helper shares: reading the results it is given (and naming a
forgotten ``await``), its threshold, and the failure message's transcripts and seeds."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Final

from clientsim._validators import check_number
from clientsim.errors import ConfigError
from clientsim.models.simulated import SimulatedRun, SimulationRuns


__all__ = [
    "MAX_SHOWN",
    "check_rate",
    "cut",
    "describe_run",
    "failure",
    "given_runs",
    "not_awaited",
    "seed_of",
    "threshold_of",
]

MAX_SHOWN: Final = 3
_MAX_CHARS: Final = 120
_EDGE_MESSAGES: Final = 2


def not_awaited(results: object) -> None:
    """Raise the "did you forget ``await``?" error if ``results`` is an awaitable.

    The common mistake: ``results = simulate(...)`` without ``await`` (or in a test
    that is not ``async def``) hands a coroutine to an assertion helper. The
    coroutine is closed, so Python does not also warn that it was never awaited.

    Raises:
        ConfigError: ``results`` is a coroutine or another awaitable.
    """
    __tracebackhide__ = True
    if not inspect.isawaitable(results):
        return
    if inspect.iscoroutine(results):
        results.close()
    raise ConfigError(
        f"did you forget `await`? got a {type(results).__name__} where the results "
        "of simulate() belong: write `results = await simulate(...)` inside an "
        "`async def` test or function"
    )


def given_runs(
    results: SimulationRuns | Sequence[SimulatedRun],
) -> tuple[SimulatedRun, ...]:
    """The runs of ``results``; the common entry of every helper that takes results.

    Raises:
        ConfigError: ``results`` is not awaited yet (see :func:`not_awaited`) or is
            not runs.
    """
    __tracebackhide__ = True
    not_awaited(results)
    if isinstance(results, SimulationRuns):
        return results.runs
    if isinstance(results, Sequence) and all(
        isinstance(run, SimulatedRun) for run in results
    ):
        return tuple(results)
    raise ConfigError(
        "results must be a SimulationRuns (what simulate() returns) or a sequence of "
        f"SimulatedRun; got {type(results).__name__}"
    )


def check_rate(name: str, value: object) -> float:
    __tracebackhide__ = True
    return check_number(name, value, low=0, high=1)


def threshold_of(
    results: SimulationRuns | Sequence[SimulatedRun], given: float | None, name: str
) -> float:
    __tracebackhide__ = True
    not_awaited(results)
    if given is not None:
        return check_rate(name, given)
    if isinstance(results, SimulationRuns) and results.threshold is not None:
        return check_rate("the clientsim marker's threshold", results.threshold)
    raise ConfigError(
        f"{name} is required (or set @pytest.mark.clientsim(threshold=...)); got None"
    )


def cut(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_CHARS else flat[: _MAX_CHARS - 3] + "..."


def describe_run(run: SimulatedRun) -> str:
    """A trimmed transcript of ``run``: its first and last messages, its seed.

    Example:
        >>> import anyio
        >>> from clientsim import simulate
        >>> from clientsim.assertions import describe_run
        >>> async def agent(message):
        ...     return "I've sent you a reset link."
        >>> results = anyio.run(lambda: simulate(
        ...     agent, intents=["reset my password"], outcomes={"resolved": "reset link"}
        ... ))
        >>> print(describe_run(results.runs[0]))
          persona='a typical customer' intent='reset my password' iteration=0 seed=... ...
            [0] customer: reset my password
            [1] agent: I've sent you a reset link.
            ... 2 more messages ...
            [4] customer: ...
            [5] agent: I've sent you a reset link.
    """
    __tracebackhide__ = True
    not_awaited(run)
    result = run.result
    ending = result.ending.reason if result.ending is not None else "-"
    header = (
        f"  persona={run.persona!r} intent={run.intent!r} iteration={run.iteration} "
        f"seed={run.seed} outcome={run.outcome} ending={ending}"
    )
    lines = [header]
    if result.error is not None:
        lines.append(f"    error: {result.error.type}: {cut(result.error.message)}")
    messages = result.conversation.messages
    edge = _EDGE_MESSAGES
    shown = (
        list(enumerate(messages))
        if len(messages) <= 2 * edge
        else [
            *enumerate(messages[:edge]),
            (-1, None),
            *enumerate(messages[-edge:], start=len(messages) - edge),
        ]
    )
    for index, message in shown:
        if message is None:
            lines.append(f"    ... {len(messages) - 2 * edge} more messages ...")
        else:
            lines.append(
                f"    [{index}] {message.sender.value}: {cut(message.content)}"
            )
    return "\n".join(lines)


def failure(summary: str, failing: Sequence[SimulatedRun], seed: int | None) -> str:
    __tracebackhide__ = True
    parts = [summary]
    if seed is not None:
        parts.append(
            f"run seed: {seed} (@pytest.mark.clientsim(seed={seed}) or "
            f"simulate(seed={seed}, ...) re-runs these same conversations)"
        )
    if failing:
        shown = failing[:MAX_SHOWN]
        parts.append(
            f"failing conversations ({len(shown)} of {len(failing)} shown; "
            "seed: the conversation's own seed, derived from the run seed):"
        )
        parts.extend(describe_run(run) for run in shown)
    return "\n".join(parts)


def seed_of(results: SimulationRuns | Sequence[SimulatedRun]) -> int | None:
    return results.seed if isinstance(results, SimulationRuns) else None
