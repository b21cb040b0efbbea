"""Tool-call checks over transcripts: was a tool called, and in what trajectory.

The agent's tool calls ride on its messages (:attr:`Message.tool_calls
<clientsim.models.Message.tool_calls>`); a conversation's *trajectory* is all of them,
in order. This module finds calls (:func:`find_calls`) and matches a trajectory
against an expected one (:func:`match_trajectory`) with the four modes of
trajectory matching (openevals' semantics):

=============  ==============================================================
``strict``     the same calls in the same order
``unordered``  the same calls, in any order (the same multiset)
``subset``     every call the agent made is among the expected ones (it made
               no call beyond them; it may have skipped some)
``superset``   the agent made every expected call (and maybe others)
=============  ==============================================================

An expected call is a tool name (any arguments match), a mapping ``{"name": ...,
"arguments": {...}}``, a pair ``(name, arguments)`` or a :class:`ToolCall`; its
arguments match a call whose arguments include them (equal values; a call may have
more). Results are not compared. Each expected call stands for one call: in the
multiset modes calls are paired one to one.

The pytest-facing helpers are :func:`clientsim.assertions.assert_tool_called`,
:func:`~clientsim.assertions.assert_tool_not_called` and
:func:`~clientsim.assertions.assert_trajectory`.

Example:
    >>> from clientsim.models import ToolCall
    >>> made = [ToolCall("lookup_order", {"order_id": "123"}),
    ...         ToolCall("refund_order", {"order_id": "123"})]
    >>> match_trajectory(made, ["refund_order", "lookup_order"], "unordered").ok
    True
    >>> print(match_trajectory(made, ["refund_order", "lookup_order"], "strict").diff)
    tool-call trajectory does not match (mode 'strict': the same calls in the same order)
      expected (2 calls):
        1. refund_order
        2. lookup_order
      actual (2 calls):
        1. lookup_order(order_id='123')
        2. refund_order(order_id='123')
      first difference at call 1: expected refund_order, got lookup_order(order_id='123')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal, TypeAlias

import attrs

from clientsim.errors import ConfigError
from clientsim.models import Conversation, ConversationResult, ToolCall
from clientsim.models.simulated import SimulatedRun, SimulationRuns
from clientsim.models.tool_calls import json_arguments


__all__ = [
    "MODES",
    "ExpectedCall",
    "ExpectedTool",
    "ToolCallSource",
    "TrajectoryMatch",
    "TrajectoryMode",
    "expected_calls",
    "find_calls",
    "made_calls",
    "match_trajectory",
    "runs_of",
    "tool_calls_of",
]

TrajectoryMode: TypeAlias = Literal["strict", "unordered", "subset", "superset"]
MODES: Final[Mapping[str, str]] = {
    "strict": "the same calls in the same order",
    "unordered": "the same calls, in any order",
    "subset": "every call the agent made is among the expected ones",
    "superset": "the agent made every expected call",
}

ExpectedTool: TypeAlias = (
    "str | ToolCall | ExpectedCall | Mapping[str, object] | "
    "tuple[str, Mapping[str, object]]"
)
"""How a test names an expected call: see the module docs."""


@attrs.frozen
class ExpectedCall:
    """An expected call: the tool's name and the arguments it must have (a subset)."""

    name: str
    arguments: Mapping[str, object] = attrs.field(factory=dict)

    def matches(self, call: ToolCall) -> bool:
        """Whether ``call`` is this tool with (at least) these arguments."""
        if call.name != self.name:
            return False
        return all(
            key in call.arguments and call.arguments[key] == value
            for key, value in self.arguments.items()
        )

    def describe(self) -> str:
        """``name`` or ``name(key='value', ...)``."""
        if not self.arguments:
            return self.name
        return ToolCall(self.name, self.arguments).describe()


def _expected(item: object, index: int) -> ExpectedCall:
    where = f"expected call {index}"
    if isinstance(item, ExpectedCall):
        return item
    if isinstance(item, str):
        name, arguments = item, {}
    elif isinstance(item, ToolCall):
        name, arguments = item.name, dict(item.arguments)
    elif isinstance(item, Mapping):
        unknown = sorted(map(str, set(item) - {"name", "arguments"}))
        if unknown:
            raise ConfigError(
                f"{where} has unknown key(s) {unknown}; allowed: 'name', 'arguments'"
            )
        name, arguments = item.get("name"), item.get("arguments", {})  # type: ignore[assignment]
    elif isinstance(item, tuple) and len(item) == 2:
        name, arguments = item
    else:
        raise ConfigError(
            f"{where} must be a tool name, a mapping {{'name': ..., 'arguments': "
            f"{{...}}}}, a pair (name, arguments) or a ToolCall; got {item!r}"
        )
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where} needs a non-empty tool name; got {name!r}")
    try:
        frozen = json_arguments(arguments)
    except ConfigError as exc:
        raise ConfigError(f"{where} ({name}): {exc}") from exc
    return ExpectedCall(name, frozen)


def expected_calls(expected: Iterable[ExpectedTool]) -> tuple[ExpectedCall, ...]:
    """The expected calls a test gave, checked.

    Raises:
        ConfigError: ``expected`` is not a sequence of expected calls.
    """
    if isinstance(expected, str | bytes | Mapping) or not isinstance(
        expected, Iterable
    ):
        raise ConfigError(
            "expected must be a list of expected calls (tool names, mappings, "
            f"(name, arguments) pairs or ToolCall); got {type(expected).__name__}"
        )
    return tuple(_expected(item, index) for index, item in enumerate(expected, 1))


def tool_calls_of(source: ConversationResult | Conversation) -> tuple[ToolCall, ...]:
    """Every tool call of a conversation, in order.

    Raises:
        ConfigError: ``source`` is neither a result nor a conversation.
    """
    if isinstance(source, ConversationResult):
        source = source.conversation
    if not isinstance(source, Conversation):
        raise ConfigError(
            "expected a ConversationResult or a Conversation; got "
            f"{type(source).__name__}"
        )
    return tuple(call for message in source.messages for call in message.tool_calls)


ToolCallSource: TypeAlias = (
    "ConversationResult | Conversation | SimulatedRun | SimulationRuns | "
    "Sequence[SimulatedRun]"
)
"""What the tool-call assertions read: one conversation (a result, a conversation,
one run) or many runs (every run must pass)."""


def runs_of(
    source: ToolCallSource,
) -> list[tuple[SimulatedRun | None, ConversationResult | Conversation]]:
    """Each conversation of ``source`` with its run (``None`` for a lone one).

    Raises:
        ConfigError: ``source`` is none of :data:`ToolCallSource`'s forms.
    """
    if isinstance(source, ConversationResult | Conversation):
        return [(None, source)]
    if isinstance(source, SimulatedRun):
        return [(source, source.result)]
    if isinstance(source, SimulationRuns | Sequence) and all(
        isinstance(run, SimulatedRun) for run in source
    ):
        return [(run, run.result) for run in source]
    raise ConfigError(
        "result must be a ConversationResult, a Conversation, a SimulatedRun or a "
        f"SimulationRuns (what simulate() returns); got {type(source).__name__}"
    )


def made_calls(calls: Sequence[ToolCall]) -> str:
    """``calls made: a(...), b(...)``, or that there were none."""
    if not calls:
        return "the agent made no tool calls"
    return "calls made: " + ", ".join(call.describe() for call in calls)


def find_calls(
    calls: Iterable[ToolCall], name: str, arguments: Mapping[str, object]
) -> tuple[ToolCall, ...]:
    """The calls of tool ``name`` whose arguments include ``arguments``."""
    wanted = ExpectedCall(name, json_arguments(arguments))
    return tuple(call for call in calls if wanted.matches(call))


@attrs.frozen
class TrajectoryMatch:
    """Whether a trajectory matched, and if not, a readable diff.

    Attributes:
        ok: it matched.
        diff: the expected and actual calls and what differs (``""`` when ``ok``).
    """

    ok: bool
    diff: str = ""


def _pairs(
    expected: Sequence[ExpectedCall], actual: Sequence[ToolCall]
) -> list[int | None]:
    """A largest one-to-one pairing: for each expected call, the index of the actual
    call paired with it (or ``None``). Augmenting paths (Kuhn's algorithm)."""
    owner: list[int | None] = [None] * len(actual)  # actual index -> expected index

    def augment(e: int, seen: set[int]) -> bool:
        for a, call in enumerate(actual):
            if a in seen or not expected[e].matches(call):
                continue
            seen.add(a)
            current = owner[a]
            if current is None or augment(current, seen):
                owner[a] = e
                return True
        return False

    for e in range(len(expected)):
        augment(e, set())
    paired: list[int | None] = [None] * len(expected)
    for a, owned in enumerate(owner):
        if owned is not None:
            paired[owned] = a
    return paired


def _problems(
    expected: Sequence[ExpectedCall], actual: Sequence[ToolCall], mode: str
) -> list[str]:
    if mode == "strict":
        for index, (want, call) in enumerate(zip(expected, actual, strict=False), 1):
            if not want.matches(call):
                first = (
                    f"first difference at call {index}: expected {want.describe()}, "
                    f"got {call.describe()}"
                )
                return [first]
        if len(expected) != len(actual):
            shorter = min(len(expected), len(actual))
            if len(actual) > shorter:
                more = ", ".join(call.describe() for call in actual[shorter:])
                return [f"the agent made {len(actual) - shorter} call(s) more: {more}"]
            short = ", ".join(want.describe() for want in expected[shorter:])
            return [f"the agent stopped short; missing: {short}"]
        return []
    paired = _pairs(expected, actual)
    used = {a for a in paired if a is not None}
    missing = [
        want.describe() for want, a in zip(expected, paired, strict=True) if a is None
    ]
    extra = [call.describe() for a, call in enumerate(actual) if a not in used]
    problems = []
    if missing and mode in {"unordered", "superset"}:
        problems.append(f"expected but not made: {', '.join(missing)}")
    if extra and mode in {"unordered", "subset"}:
        problems.append(f"made but not expected: {', '.join(extra)}")
    return problems


def _listing(title: str, items: Sequence[str]) -> list[str]:
    lines = [f"  {title} ({len(items)} call{'' if len(items) == 1 else 's'}):"]
    lines.extend(f"    {index}. {item}" for index, item in enumerate(items, 1))
    if not items:
        lines.append("    (none)")
    return lines


def match_trajectory(
    actual: Iterable[ToolCall], expected: Iterable[ExpectedTool], mode: str = "strict"
) -> TrajectoryMatch:
    """Match the calls the agent made against the expected ones, in ``mode``.

    Raises:
        ConfigError: an unknown mode, or malformed expected calls.
    """
    if mode not in MODES:
        raise ConfigError(
            f"mode must be one of {', '.join(map(repr, MODES))}; got {mode!r}"
        )
    made = tuple(actual)
    wanted = expected_calls(expected)
    problems = _problems(wanted, made, mode)
    if not problems:
        return TrajectoryMatch(ok=True)
    lines = [
        f"tool-call trajectory does not match (mode {mode!r}: {MODES[mode]})",
        *_listing("expected", [want.describe() for want in wanted]),
        *_listing("actual", [call.describe() for call in made]),
        *(f"  {problem}" for problem in problems),
    ]
    return TrajectoryMatch(ok=False, diff="\n".join(lines))
