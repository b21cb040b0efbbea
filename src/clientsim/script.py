"""The steps of a scripted scenario, and the helpers to run and assert one.

A script is a list of steps, run in order against the agent under test by
:func:`clientsim.run_script` (one scenario) or ``clientsim.simulate(...,
script=[...])`` (and so the pytest ``simulate`` fixture: once per persona, intent and
repetition):

- :func:`user`: the customer says a fixed line, or the simulated customer its next;
- :func:`agent`: the agent's next turn (every message until its turn ends);
- :func:`judge`: the criteria judge reads the conversation so far; a failed
  criterion fails the scenario;
- :func:`proceed`: the simulated customer and the agent talk some turns on their own;
- :func:`check`: your function of the conversation; an ``AssertionError`` (or
  ``False``) fails the scenario;
- :func:`succeed` / :func:`fail`: end the scenario with that verdict.

A script that runs to its end without a verdict has passed.

Example:
    >>> import anyio
    >>> from clientsim import run_script
    >>> from clientsim.script import agent, check, fail, proceed, user
    >>> async def support_bot(message):
    ...     if "refund" in message.lower():
    ...         return "Which order is it? Please give me the order number."
    ...     return "Thanks, the refund for that order is on its way."
    >>> def asked_for_the_order(conversation):
    ...     assert "order number" in conversation.messages[-1].content
    >>> result = anyio.run(lambda: run_script(support_bot, [
    ...     user("I want a refund"),
    ...     agent(),
    ...     check(asked_for_the_order),
    ...     proceed(turns=1),
    ... ], intent="a refund for order 7781"))
    >>> result.verdict, result.reason
    ('passed', 'the script ran to its end (4 steps)')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from clientsim.models.conversation import ConversationResult
from clientsim.models.simulated import SimulatedRun, SimulationRuns
from clientsim.runners.script import ScriptResult
from clientsim.runners.script_steps import (
    AgentTurn,
    Check,
    CheckFunction,
    End,
    Judge,
    Proceed,
    Step,
    UserLine,
    check_script,
)
from clientsim.runners.scripted import as_script_result, run_script


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


__all__ = [
    "CheckFunction",
    "ScriptResult",
    "Step",
    "agent",
    "assert_passed",
    "check",
    "check_script",
    "fail",
    "judge",
    "proceed",
    "run_script",
    "succeed",
    "user",
]


def user(text: str | None = None) -> UserLine:
    """The customer's next line: ``text`` as it is, or (``None``) a line the
    simulated customer writes (seeded: the same seed gives the same line).

    Example:
        >>> user("Hi, my parcel never came")
        UserLine(text='Hi, my parcel never came')
    """
    return UserLine(text)


def agent() -> AgentTurn:
    """The agent's next turn: every message it sends until the turn ends (its
    channel says so, or it is quiet for the quiet period); an agent that answers
    nothing within the reply timeout ends the scenario as an error.

    Example:
        >>> agent()
        AgentTurn()
    """
    return AgentTurn()


def judge(
    criteria: Sequence[str], *, model: str | BaseChatModel | None = None
) -> Judge:
    """The criteria judge on the conversation so far: each criterion gets a verdict
    and a reason; one that fails fails the scenario, with the reasons.

    Args:
        criteria: what the conversation must show, one sentence each.
        model: the judge's chat model; ``None``: the script's judge model.

    Example:
        >>> judge(criteria=["The agent asks for the order number"]).criteria
        ('The agent asks for the order number',)
    """
    given: object = criteria
    kept = tuple(criteria) if isinstance(given, list | tuple) else given
    return Judge(kept, model)  # type: ignore[arg-type]  # checked with the script


def proceed(turns: int = 1, *, on_turn: CheckFunction | None = None) -> Proceed:
    """Let the simulated customer and the agent talk ``turns`` more turns (a customer
    line and the agent's reply each), fewer if the conversation ends first (the
    customer has nothing more to say, the agent closes the session or a termination
    strategy ends it). If the agent owes a reply when it starts, it answers first.

    Args:
        turns: how many turns, >= 1.
        on_turn: called with the conversation after each turn, like :func:`check`.

    Example:
        >>> proceed(turns=3)
        Proceed(turns=3, on_turn=None)
    """
    return Proceed(turns, on_turn)


def check(fn: CheckFunction) -> Check:
    """Call ``fn(conversation)`` (sync or async, within a turn's time): an
    ``AssertionError`` fails the scenario with its message, returning ``False``
    fails it too, any other exception is an error.

    Example:
        >>> def polite(conversation):
        ...     assert "sorry" in conversation.messages[-1].content.lower()
        >>> check(polite).fn is polite
        True
    """
    return Check(fn)


def succeed(reason: str = "") -> End:
    """End the scenario here: it passed.

    Example:
        >>> succeed("the refund was offered")
        End(verdict='passed', reason='the refund was offered')
    """
    return End("passed", reason)


def fail(reason: str = "") -> End:
    """End the scenario here: it failed.

    Example:
        >>> fail("the agent should have escalated by now")
        End(verdict='failed', reason='the agent should have escalated by now')
    """
    return End("failed", reason)


def assert_passed(
    results: ScriptResult | SimulatedRun | SimulationRuns | Sequence[SimulatedRun],
) -> None:
    """Fail the test unless every scripted conversation passed.

    The message names each one that did not: its verdict, the step that decided it,
    the reason, its seed and its transcript.

    Raises:
        AssertionError: a conversation failed or ended in an error.
        ConfigError: ``results`` holds something else than scripted conversations.
    """
    __tracebackhide__ = True
    from clientsim.errors import ConfigError  # noqa: PLC0415

    given: object = results
    if isinstance(given, ScriptResult):
        found: list[tuple[object, int]] = [(given, given.seed)]
    elif isinstance(given, SimulatedRun):
        found = [(given.result, given.seed)]
    elif isinstance(given, SimulationRuns | Sequence):
        found = [
            (getattr(run, "result", run), getattr(run, "seed", 0)) for run in given
        ]
    else:
        found = [(results, 0)]
    scripted = [
        item
        if isinstance(item, ScriptResult)
        else as_script_result(item, seed)  # the batch's timeout cut it short
        for item, seed in found
        if isinstance(item, ConversationResult)
        and (isinstance(item, ScriptResult) or item.error is not None)
    ]
    if len(scripted) != len(found) or not found:
        raise ConfigError(
            "assert_passed takes what run_script or simulate(..., script=[...]) "
            f"returned; got {type(results).__name__}"
        )
    failing = [result for result in scripted if not result.passed]
    if failing:
        shown = "\n".join(result.describe() for result in failing[:3])
        raise AssertionError(
            f"{len(failing)} of {len(scripted)} scripted conversation(s) did not "
            f"pass:\n{shown}"
        )
