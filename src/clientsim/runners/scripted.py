"""``await clientsim.run_script(agent, [...])``: one scripted scenario against any agent.

Also the one place a ``ScriptRunner`` (:mod:`clientsim.runners.script`) is built for a
conversation of a batch, so :func:`run_script` and ``simulate(..., script=[...])``
play a script the same way (seeds, cassettes, timeouts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

import anyio
import attrs

from clientsim.channels.base import Channel
from clientsim.errors import ConfigError
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    Conversation,
    ConversationResult,
    GridCell,
    Intent,
    ParticipantRole,
    Timeouts,
)
from clientsim.participants.base import Participant
from clientsim.registry import StrategyConfig
from clientsim.runners.agents import builds_a_channel, resolve_agent
from clientsim.runners.batch import BatchCell, BatchRunner, ConversationJob
from clientsim.runners.build import (
    HYBRID_OPTIONS,
    build_customer,
    build_termination,
    fresh_agent,
)
from clientsim.runners.script import ScriptResult, ScriptRunner
from clientsim.runners.script_steps import Proceed, UserLine, check_script


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.experiments.cassette import Cassette
    from clientsim.runners.script_steps import Step


__all__ = ["as_script_result", "run_script", "script_runner", "scripted"]

_CUSTOMER: Final = ParticipantRole.CUSTOMER
_GRACE_SECONDS: Final = 1.0
"""How long past the scenario's limit the batch waits for the runner to end it."""
_NO_INTENT: Final = "follow the scripted lines"
"""The recorded intent of a script without simulated lines and without an intent."""


def script_runner(
    job: ConversationJob,
    steps: tuple[Step, ...],
    *,
    agent: Participant | Channel,
    intent: str,
    persona: str | None,
    customer: StrategyConfig = "llm",
    customer_model: str | BaseChatModel = "offline",
    judge_model: str | BaseChatModel | None = None,
    termination: Sequence[StrategyConfig] = (),
    hybrid: Mapping[str, float | None] | None = None,
) -> ScriptRunner:
    """The runner that plays ``steps`` as conversation ``job`` of a batch.

    ``judge_model`` ``None``: the customer's model. ``hybrid``: the real-time settings
    (``reply_timeout_seconds``, ``quiet_period_seconds``, ``max_turn_seconds``;
    ``max_duration_seconds`` shortens ``timeouts.conversation``).

    Raises:
        ConfigError: an unknown hybrid setting, or a strategy's options do not fit.
        UnknownStrategyError: a strategy name that is not registered.
    """
    settings = dict(hybrid or {})
    unknown = sorted(set(settings) - set(HYBRID_OPTIONS))
    if unknown:
        raise ConfigError(
            f"unknown hybrid setting(s) {unknown}; allowed: {', '.join(HYBRID_OPTIONS)}"
        )
    timeouts = job.timeouts
    longest = settings.pop("max_duration_seconds", None)
    if longest is not None and longest < timeouts.conversation:
        timeouts = attrs.evolve(timeouts, conversation=longest)
    goal = Intent(_CUSTOMER, intent)
    return ScriptRunner(
        steps,
        build_customer(
            customer,
            intent=goal,
            persona=persona,
            seed=job.seed,
            models=job.models,
            default_model=customer_model,
        ),
        fresh_agent(agent, job.models) if isinstance(agent, Participant) else agent,
        goal,
        timeouts=timeouts,
        termination=build_termination(termination, models=job.models) or None,
        judge_model=customer_model if judge_model is None else judge_model,
        models=job.models,
        seed=job.seed,
        conversation_id=f"{job.run_id}/{job.cell.key}",
        **settings,
    )


async def run_script(
    agent: object,
    script: Sequence[Step],
    *,
    intent: str | None = None,
    persona: str | None = "a typical customer",
    customer: StrategyConfig = "llm",
    customer_model: str | BaseChatModel = "offline",
    judge_model: str | BaseChatModel | None = None,
    seed: int = 0,
    termination: StrategyConfig | Sequence[StrategyConfig] | None = None,
    hybrid: Mapping[str, float | None] | None = None,
    cassette: Cassette | None = None,
    timeouts: Timeouts | None = None,
) -> ScriptResult:
    """Play ``script`` against ``agent`` once and return the conversation and verdict.

    Example:
        >>> import anyio
        >>> from clientsim import run_script
        >>> from clientsim.script import agent, proceed, user
        >>> async def support_bot(message):
        ...     return "Could you give me your order number?"
        >>> result = anyio.run(lambda: run_script(
        ...     support_bot,
        ...     [user("Where is my parcel?"), agent(), proceed(turns=1)],
        ...     intent="find out where order 4417 is",
        ...     seed=3,
        ... ))
        >>> result.verdict, len(result.conversation.messages)
        ('passed', 4)

    Args:
        agent: the agent under test, in any form
            :func:`~clientsim.runners.agents.resolve_agent` takes (a participant,
            a channel, a callable, a LangChain runnable or LangGraph graph, an
            ``http(s)://`` or ``ws(s)://`` URL, ``"module:attr"``, a strategy mapping).
        script: the steps (see :mod:`clientsim.script`).
        intent: what the simulated customer wants; required when the script has
            simulated lines (``user()`` or ``proceed()``).
        persona: the simulated customer's persona.
        customer: the customer's participant strategy (``"llm"`` by default).
        customer_model: the simulated customer's chat model (a spec or a model).
        judge_model: the model of ``judge()`` steps that name none (``None``: the
            customer's model).
        seed: the run seed; the same seed gives the same simulated lines.
        termination: strategies that end the conversation (``proceed()`` stops).
        hybrid: real-time settings for a channel (``quiet_period_seconds``,
            ``reply_timeout_seconds``, ``max_turn_seconds``, ``max_duration_seconds``).
        cassette: records or replays the model calls and agent replies.
        timeouts: every step's and the scenario's bounds; ``None``: the defaults.

    Returns:
        The conversation, the verdict (``"passed"``, ``"failed"``, ``"error"``), its
        reason and the step that decided it.

    Raises:
        ConfigError: a bad script (the message names the step) or argument.
        UnknownStrategyError: a strategy name that is not registered.
        CassetteMissError: a strict replay needed a call the cassette lacks.
    """
    steps = check_script(script)
    goal = _intent(intent, steps)
    if timeouts is not None and not isinstance(timeouts, Timeouts):
        raise ConfigError(
            f"timeouts must be a clientsim.Timeouts or None; got {timeouts!r}"
        )
    limits = timeouts or DEFAULT_TIMEOUTS
    resolved = resolve_agent(agent)
    terminations: Sequence[StrategyConfig] = (
        ()
        if termination is None
        else [termination]
        if isinstance(termination, str | Mapping)
        else list(termination)
    )
    cell = GridCell(input_id="script", persona_id="p0", iteration=0)

    def build(job: ConversationJob) -> ScriptRunner:
        return script_runner(
            job,
            steps,
            agent=resolved,
            intent=goal,
            persona=persona,
            customer=customer,
            customer_model=customer_model,
            judge_model=judge_model,
            termination=terminations,
            hybrid=hybrid,
        )

    owned = resolved if builds_a_channel(agent) else None
    try:
        batch = await BatchRunner(
            build,
            [BatchCell(cell=cell, input=goal, persona=persona, item=goal)],
            run_id="script",
            seed=seed,
            parallel_runs=1,
            max_retries=0,
            cassette=cassette,
            timeouts=limits,
            # the runner keeps the conversation's limit itself (naming the step)
            timeout_seconds=limits.conversation + _GRACE_SECONDS,
        ).run()
    finally:
        with anyio.CancelScope(shield=True):
            if cassette is not None:
                await cassette.aclose()
            if isinstance(owned, Channel):
                await owned.aclose()
    record = batch.records[0]
    from clientsim.runners.simulate import _raise_cassette_miss  # noqa: PLC0415

    _raise_cassette_miss({record.key: record}, cassette)
    result = record.result
    if isinstance(result, ScriptResult):
        return result
    return as_script_result(result, record.seed)


def as_script_result(result: ConversationResult | None, seed: int) -> ScriptResult:
    """A result the script did not finish itself (the batch's timeout cut it, or it
    could not be built) as a :class:`ScriptResult` with the verdict ``"error"``."""
    if result is None:  # pragma: no cover - the batch gives every cell a result
        result = ConversationResult(Conversation(()))
    detail = result.ending.detail if result.ending is not None else "it did not run"
    return ScriptResult(
        result.conversation,
        result.duration_seconds,
        ending=result.ending,
        token_usage=result.token_usage,
        error=result.error,
        verdict="error",
        reason=detail,
        seed=seed,
    )


def scripted(script: object, outcomes: object, evaluator: object) -> tuple[Step, ...]:
    """``simulate``'s ``script``, checked: a script decides its verdict itself.

    Raises:
        ConfigError: a bad script, or outcomes or an evaluator beside it.
    """
    steps = check_script(script)
    if outcomes or evaluator is not None:
        raise ConfigError(
            "a script decides each conversation's verdict ('passed' or 'failed') "
            "itself: leave out outcomes= and evaluator= and use check() or judge() "
            "steps instead"
        )
    return steps


def _intent(intent: str | None, steps: tuple[Step, ...]) -> str:
    if intent is not None:
        if not isinstance(intent, str) or not intent.strip():
            raise ConfigError(f"intent must be a non-empty string; got {intent!r}")
        return intent
    for index, step in enumerate(steps):
        if isinstance(step, Proceed) or (
            isinstance(step, UserLine) and step.text is None
        ):
            raise ConfigError(
                f"script[{index}] asks the simulated customer for lines: give "
                "run_script an intent= (what the customer wants)"
            )
    return _NO_INTENT
