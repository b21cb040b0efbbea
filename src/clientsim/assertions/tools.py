"""Tool-call assertions: thin wrappers over :mod:`clientsim.evaluation.trajectory`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from clientsim.assertions._runs import MAX_SHOWN, describe_run, seed_of
from clientsim.evaluation.trajectory import (
    ExpectedTool,
    ToolCallSource,
    TrajectoryMode,
    expected_calls,
    find_calls,
    made_calls,
    match_trajectory,
    runs_of,
    tool_calls_of,
)
from clientsim.models import ToolCall
from clientsim.models.simulated import SimulationRuns


__all__ = ["assert_tool_called", "assert_tool_not_called", "assert_trajectory"]


def _check_each(
    source: ToolCallSource, what: str, check: Callable[[tuple[ToolCall, ...]], str]
) -> None:
    """Run ``check`` (a problem, or ``""``) on each conversation's calls; raise
    AssertionError naming the failing runs and their seeds."""
    __tracebackhide__ = True
    conversations = runs_of(source)
    failing = [
        (run, problem)
        for run, conversation in conversations
        if (problem := check(tool_calls_of(conversation)))
    ]
    if not failing:
        return
    if len(conversations) == 1 and failing[0][0] is None:
        raise AssertionError(f"{what}\n{failing[0][1]}")
    parts = [f"{what}: fails in {len(failing)} of {len(conversations)} runs"]
    seed = seed_of(source) if isinstance(source, SimulationRuns) else None
    if seed is not None:
        parts.append(f"run seed: {seed} (set @pytest.mark.clientsim(seed={seed}))")
    for run, problem in failing[:MAX_SHOWN]:
        if run is not None:
            parts.append(describe_run(run))
        parts.append("    " + problem.replace("\n", "\n    "))
    if len(failing) > MAX_SHOWN:
        parts.append(f"... and {len(failing) - MAX_SHOWN} more failing runs")
    raise AssertionError("\n".join(parts))


def assert_tool_called(
    result: ToolCallSource, name: str, /, **arguments: object
) -> tuple[ToolCall, ...]:
    """Check that the agent called tool ``name`` with (at least) ``arguments``.

    Example:
        >>> from datetime import UTC, datetime
        >>> from clientsim.models import Conversation, Message, ParticipantRole, ToolCall
        >>> reply = Message("Refunded.", datetime.now(UTC), ParticipantRole.AGENT,
        ...     tool_calls=[ToolCall("refund_order", {"order_id": "123"})])
        >>> found = assert_tool_called(Conversation([reply]), "refund_order",
        ...                            order_id="123")
        >>> found[0].describe()
        "refund_order(order_id='123')"
        >>> assert_tool_called(Conversation([reply]), "refund_order", order_id="9")
        Traceback (most recent call last):
        ...
        AssertionError: expected a call to refund_order(order_id='9')
        calls made: refund_order(order_id='123')

    Args:
        result: a :class:`~clientsim.models.ConversationResult`, a
            :class:`~clientsim.models.Conversation`, a :class:`SimulatedRun`, or
            many runs (a :class:`SimulationRuns`): then every run must have the call.
        name: the tool's name.
        arguments: arguments the call must have, with these values (it may have
            more).

    Returns:
        The matching calls, in order (of every run).

    Raises:
        AssertionError: no such call (in some run); the message lists the calls
            that were made.
        ConfigError: ``result`` is none of the above, or an argument is not JSON data.
    """
    __tracebackhide__ = True
    found: list[ToolCall] = []

    def check(calls: tuple[ToolCall, ...]) -> str:
        matched = find_calls(calls, name, arguments)
        found.extend(matched)
        return "" if matched else made_calls(calls)

    wanted = ToolCall(name, arguments).describe() if arguments else name
    _check_each(result, f"expected a call to {wanted}", check)
    return tuple(found)


def assert_tool_not_called(result: ToolCallSource, name: str, /) -> None:
    """Check that the agent never called tool ``name`` (in any run).

    Raises:
        AssertionError: it did; the message shows the calls.
        ConfigError: ``result`` is not a result, a conversation or runs.
    """
    __tracebackhide__ = True

    def check(calls: tuple[ToolCall, ...]) -> str:
        made = [call for call in calls if call.name == name]
        return made_calls(made) if made else ""

    _check_each(result, f"expected no call to {name}", check)


def assert_trajectory(
    result: ToolCallSource,
    expected: Sequence[ExpectedTool],
    *,
    mode: TrajectoryMode = "strict",
) -> None:
    """Check the agent's tool calls against ``expected`` (every run must match).

    The modes follow openevals' trajectory match: ``"strict"`` (same calls, same
    order), ``"unordered"`` (same calls, any order), ``"subset"`` (the agent made
    no call beyond the expected ones) and ``"superset"`` (it made every expected
    call); see :mod:`clientsim.evaluation.trajectory` for how expected calls are
    written.

    Example:
        >>> from datetime import UTC, datetime
        >>> from clientsim.models import Conversation, Message, ParticipantRole, ToolCall
        >>> reply = Message("Refunded.", datetime.now(UTC), ParticipantRole.AGENT,
        ...     tool_calls=[ToolCall("refund_order", {"order_id": "123"})])
        >>> assert_trajectory(Conversation([reply]), ["lookup_order", "refund_order"],
        ...                   mode="subset")
        >>> assert_trajectory(Conversation([reply]), ["lookup_order", "refund_order"])
        Traceback (most recent call last):
        ...
        AssertionError: tool-call trajectory (strict)
        tool-call trajectory does not match (mode 'strict': the same calls in the same order)
        ...

    Raises:
        AssertionError: the trajectory does not match; the message shows the
            expected and actual calls and what differs (per failing run, with its
            seed).
        ConfigError: an unknown mode, malformed expected calls, or a ``result``
            that is not a result, a conversation or runs.
    """
    __tracebackhide__ = True
    wanted = expected_calls(expected)  # checked once, before any run
    match_trajectory((), wanted, mode)  # checks the mode

    def check(calls: tuple[ToolCall, ...]) -> str:
        return match_trajectory(calls, wanted, mode).diff

    _check_each(result, f"tool-call trajectory ({mode})", check)
