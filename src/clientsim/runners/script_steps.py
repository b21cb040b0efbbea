"""The steps of a scripted scenario: frozen values, and the check of a whole script.

A script is a list of steps (see :mod:`clientsim.script` for the constructors users
call). The constructors take what they are given; :func:`check_script` checks the
whole list before anything runs, so that a mistake is reported with the index of the
step it is in and what that step allows.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import attrs

from clientsim.errors import ConfigError
from clientsim.evaluation.criteria import check_criteria
from clientsim.models import Conversation


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


__all__ = [
    "AgentTurn",
    "Check",
    "CheckFunction",
    "End",
    "Judge",
    "Proceed",
    "Step",
    "UserLine",
    "check_script",
    "describe_step",
]

CheckFunction: TypeAlias = Callable[[Conversation], "object | Awaitable[object]"]
"""``fn(conversation)``, sync or async: an ``AssertionError`` (or returning
``False``) fails the scenario; any other return value lets it go on."""

_STEPS: Final = (
    "user(text=None), agent(), judge(criteria=[...]), proceed(turns=N), check(fn), "
    "succeed(reason='') or fail(reason='')"
)


@attrs.frozen
class UserLine:
    """The customer's next line: ``text`` verbatim, or (``None``) the simulated
    customer's next message."""

    text: str | None = None


@attrs.frozen
class AgentTurn:
    """The agent's next turn: every message it sends until its turn ends."""


@attrs.frozen
class Judge:
    """The criteria judge on the conversation so far; a failed criterion fails the
    scenario. ``model``: the judge's chat model (``None``: the script's judge model)."""

    criteria: tuple[str, ...]
    model: str | BaseChatModel | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Proceed:
    """Let the simulated customer and the agent talk ``turns`` more turns (a
    customer line and the agent's reply each), or until the conversation ends;
    ``on_turn(conversation)`` is called after each turn, like a :class:`Check`."""

    turns: int = 1
    on_turn: CheckFunction | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Check:
    """``fn(conversation)`` on the conversation so far (see :data:`CheckFunction`)."""

    fn: CheckFunction = attrs.field(eq=False)


@attrs.frozen
class End:
    """End the scenario now with ``verdict`` (``"passed"`` or ``"failed"``)."""

    verdict: str
    reason: str = ""


Step: TypeAlias = UserLine | AgentTurn | Judge | Proceed | Check | End
"""One step of a script."""

_STEP_TYPES: Final = (UserLine, AgentTurn, Judge, Proceed, Check, End)


def describe_step(step: Step) -> str:
    """How a step reads in a script, e.g. ``check(no_refund_yet)``, for messages."""
    if isinstance(step, UserLine):
        return "user()" if step.text is None else f"user({_short(step.text)!r})"
    if isinstance(step, AgentTurn):
        return "agent()"
    if isinstance(step, Judge):
        return f"judge(criteria=[{len(step.criteria)} criteria])"
    if isinstance(step, Proceed):
        return f"proceed(turns={step.turns!r})"
    if isinstance(step, Check):
        return f"check({_name(step.fn)})"
    verb = "succeed" if step.verdict == "passed" else "fail"
    return f"{verb}({_short(step.reason)!r})" if step.reason else f"{verb}()"


def check_script(script: object, where: str = "script") -> tuple[Step, ...]:
    """The steps of ``script``, checked.

    Raises:
        ConfigError: ``script`` is not a non-empty list of steps, or a step holds a
            value it does not allow; the message names the step's index.
    """
    if isinstance(script, str | bytes) or not isinstance(script, Sequence):
        raise ConfigError(
            f"{where} must be a list of steps ({_STEPS}); got {type(script).__name__}"
        )
    steps = tuple(script)
    if not steps:
        raise ConfigError(f"{where} has no steps; give at least one of: {_STEPS}")
    for index, step in enumerate(steps):
        problem = _problem(step)
        if problem is not None:
            raise ConfigError(f"{where}[{index}]: {problem}")
    return steps  # each was checked above


def _problem(step: object) -> str | None:
    """What is wrong with ``step``, or ``None``."""
    if not isinstance(step, _STEP_TYPES):
        hint = " (a fixed line is user('...'))" if isinstance(step, str) else ""
        return f"{_what(step)} is not a step{hint}; allowed: {_STEPS}"
    check = _CHECKS.get(type(step))
    return None if check is None else check(step)


def _user_problem(step: UserLine) -> str | None:
    text: object = step.text
    if text is not None and (not isinstance(text, str) or not text):
        return f"user(text) takes a non-empty string or None; got {text!r}"
    return None


def _judge_problem(step: Judge) -> str | None:
    criteria: object = step.criteria
    if not isinstance(criteria, tuple):
        return (
            "judge(criteria=[...]) takes a non-empty list of criteria (strings); "
            f"got {criteria!r}"
        )
    try:
        check_criteria(criteria, "judge(criteria=[...])")
    except ConfigError as exc:
        return str(exc)
    return None


def _proceed_problem(step: Proceed) -> str | None:
    turns: object = step.turns
    if isinstance(turns, bool) or not isinstance(turns, int) or turns < 1:
        return f"proceed(turns=N) takes an int >= 1; got {turns!r}"
    on_turn: object = step.on_turn
    if on_turn is not None and not callable(on_turn):
        return (
            "proceed(on_turn=fn) takes a function of the conversation or None; "
            f"got {_what(on_turn)}"
        )
    return None


def _check_problem(step: Check) -> str | None:
    fn: object = step.fn
    if callable(fn):
        return None
    return (
        "check(fn) takes a function of the conversation (sync or async); "
        f"got {_what(fn)}"
    )


def _end_problem(step: End) -> str | None:
    reason: object = step.reason
    if step.verdict in {"passed", "failed"} and isinstance(reason, str):
        return None
    return f"succeed(reason) and fail(reason) take a string reason; got {reason!r}"


_CHECKS: Final[dict[type, Callable[[Any], str | None]]] = {
    UserLine: _user_problem,
    Judge: _judge_problem,
    Proceed: _proceed_problem,
    Check: _check_problem,
    End: _end_problem,
}


def _what(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {_short(text)}"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _name(function: object) -> str:
    name = getattr(function, "__qualname__", None) or type(function).__name__
    return "<lambda>" if name.endswith("<lambda>") else str(name)


def is_async(function: object) -> bool:
    """Whether calling ``function`` gives a coroutine (an ``async def``, or an object
    whose ``__call__`` is one)."""
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - the method, not callable()
    )
