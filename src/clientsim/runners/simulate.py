"""``await clientsim.simulate(agent, ...)``: simulated customers against any agent.

The quickest way to test an agent from a script, a notebook or a test: one
conversation per persona x intent x run, each seeded from the run seed and its cell,
through the :class:`~clientsim.runners.batch.BatchRunner`. The pytest plugin's
``simulate`` fixture is a thin wrapper over this function (it adds the marker's
settings and the test's cassette).

Example:
    >>> import anyio
    >>> from clientsim import simulate
    >>> async def reply(message):  # or "my_app.agent:reply", a URL, a graph, ...
    ...     return "I've sent you a reset link."
    >>> results = anyio.run(lambda: simulate(
    ...     reply,
    ...     personas=["terse"],
    ...     intents=["reset my password"],
    ...     outcomes={"resolved": "reset link"},
    ...     runs=3,
    ... ))
    >>> [result.outcome.name for result in results.results]
    ['resolved', 'resolved', 'resolved']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final, Literal

import anyio

from clientsim import events
from clientsim._validators import check_text
from clientsim.channels.base import Channel
from clientsim.errors import CassetteDivergenceError, CassetteMissError, ConfigError
from clientsim.models import (
    Conversation,
    ConversationRecord,
    ConversationResult,
    GridCell,
    Intent,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
    SimulatedRun,
    SimulationRuns,
    Timeouts,
)
from clientsim.models.persona import Persona
from clientsim.participants.base import Participant
from clientsim.registry import StrategyConfig
from clientsim.runners._core import check_first_value
from clientsim.runners.agents import builds_a_channel, resolve_agent
from clientsim.runners.batch import BatchCell, BatchRunner, ConversationJob
from clientsim.runners.build import (
    build_customer,
    build_evaluator,
    build_runner,
    build_termination,
    criteria_finish,
    fresh_agent,
)
from clientsim.runners.scripted import script_runner, scripted


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.evaluation.base import OutcomeEvaluator
    from clientsim.evaluation.criteria import CriteriaJudge
    from clientsim.experiments.cassette import Cassette
    from clientsim.runners.base import Runner
    from clientsim.runners.executors import Executor
    from clientsim.runners.script_steps import Step


__all__ = ["simulate"]

_CUSTOMER: Final = ParticipantRole.CUSTOMER
_COMPLETED: Final = Outcome("completed", "The conversation ran to its end")


async def simulate(
    agent: object,
    *,
    personas: Sequence[str | Persona] = ("a typical customer",),
    intents: Sequence[str],
    runs: int = 1,
    seed: int = 0,
    outcomes: Mapping[str, object] | None = None,
    evaluator: StrategyConfig | OutcomeEvaluator | None = None,
    termination: StrategyConfig | Sequence[StrategyConfig] | None = None,
    customer: StrategyConfig = "llm",
    customer_model: str | BaseChatModel = "offline",
    max_messages: int = 6,
    hybrid: Mapping[str, float | None] | None = None,
    parallel_runs: int = 10,
    cassette: Cassette | None = None,
    threshold: float | None = None,
    run_id: str = "simulate",
    timeouts: Timeouts | None = None,
    first: Literal["customer", "agent"] = "customer",
    script: Sequence[Step] | None = None,
    criteria: Sequence[str] | CriteriaJudge | None = None,
    executor: Executor | StrategyConfig | None = None,
) -> SimulationRuns:
    """Run simulated customers against ``agent`` and return their conversations.

    Args:
        agent: the agent under test, in any form
            :func:`~clientsim.runners.agents.resolve_agent` takes: a participant
            (a Full run, fully simulated; each conversation gets its own copy), a
            channel, a callable, a LangChain runnable or compiled LangGraph graph, an
            ``http(s)://`` or ``ws(s)://`` URL, a ``"module:attr"`` string or a
            ``{"strategy": <channel>, ...}`` mapping (a Hybrid run).
        personas: the customers' personas: descriptions, or structured
            :class:`~clientsim.models.persona.Persona` values (told as their
            ``prompt()``).
        intents: what the customers want; each is also the customer's first message.
        runs: repetitions of each persona and intent.
        seed: the run seed; the same seed gives the same conversations.
        outcomes: outcome name to the patterns (regular expressions) that reach it,
            judged by the rule evaluator; ``None`` reaches no outcome.
        evaluator: another outcome evaluator: a strategy config (``"llm"``, a
            plugin's name, a mapping with options) or an evaluator object. The
            outcomes are then the names of ``outcomes``.
        termination: termination strategies by config (one or a list); any of them
            ends a conversation.
        customer: the customer's participant strategy (``"llm"`` by default).
        customer_model: the customers' chat model (a spec or a model).
        max_messages: the longest a conversation may get.
        hybrid: real-time settings of a Hybrid run (``reply_timeout_seconds``,
            ``quiet_period_seconds``, ``max_turn_seconds``, ``max_duration_seconds``).
        parallel_runs: conversations at once.
        cassette: an open or unopened cassette that records or replays the model
            calls and the agent's replies (a ``replay="simulator"`` cassette calls
            the agent live; see :class:`~clientsim.experiments.cassette.Cassette`).
        threshold: the default threshold of the assertion helpers.
        run_id: the batch's id; it prefixes the grid cells (and so the cassette
            entries), so calls with different ids never share entries.
        timeouts: bounds on each model call, turn and conversation
            (:class:`~clientsim.models.Timeouts`); ``None``: the defaults (a Hybrid
            run then keeps its own real-time settings).
        first: who opens each conversation: ``"customer"`` (its intent is its
            first message) or ``"agent"`` (the agent's opening, e.g. a greeting,
            comes first; the customer then writes its first message from its
            intent; a Hybrid run waits ``reply_timeout_seconds`` for the opening).
        script: play these steps (:mod:`clientsim.script`) in each conversation
            instead of letting it run free: each result is then a
            :class:`~clientsim.runners.script.ScriptResult` whose outcome is its
            verdict, ``"passed"`` or ``"failed"`` (``outcomes`` and ``evaluator``
            do not apply; neither does ``max_messages``: the script sets the length).
        criteria: written criteria to judge each finished conversation on (a list of
            strings, judged on ``customer_model``; or a
            :class:`~clientsim.evaluation.criteria.CriteriaJudge` for another model);
            each result then carries its verdict as ``result.criteria``.
        executor: where the conversations run: ``"local"`` (the default: tasks in
            this process), ``"ray"``, ``{"strategy": "ray", "workers": 2}``, a
            plugin's name, or an :class:`~clientsim.runners.executors.Executor`
            (yours to close). On another process the agent, the customer's model and
            the strategies travel pickled, so they must pickle.

    Returns:
        The conversations in grid order (intent, persona, repetition), each with its
        persona, intent, repetition and seed.

    Raises:
        ConfigError: a bad argument, or an agent of no known form.
        UnknownStrategyError: a strategy name that is not registered.
        CassetteMissError: a strict replay needed a call the cassette lacks.
        CassetteDivergenceError: a strict ``replay="simulator"`` replay saw the
            agent answer otherwise than recorded (the message names the turn and
            shows both replies).
    """
    persona_list = _texts("personas", _described(personas))
    intent_list = _texts("intents", intents)
    _check(runs, outcomes, timeouts)
    steps = _steps(script, first, outcomes, evaluator)
    resolved = resolve_agent(agent)
    cells: list[BatchCell] = []
    where: dict[str, tuple[str, str, int]] = {}
    for i, intent in enumerate(intent_list):
        for p, persona in enumerate(persona_list):
            for iteration in range(runs):
                cell = GridCell(
                    input_id=f"{run_id}.i{i}", persona_id=f"p{p}", iteration=iteration
                )
                cells.append(
                    BatchCell(cell=cell, input=intent, persona=persona, item=intent)
                )
                where[cell.key] = (persona, intent, iteration)
    rules = dict(outcomes or {})
    legal = Outcomes(
        tuple(Outcome(name, name.replace("_", " ")) for name in rules) or (_COMPLETED,)
    )
    if evaluator is None and rules:
        evaluator = {"strategy": "rules", "rules": rules}
    terminations: Sequence[StrategyConfig] = (
        ()
        if termination is None
        else [termination]
        if isinstance(termination, str | Mapping)
        else list(termination)
    )

    def build(job: ConversationJob) -> Runner:
        if steps is not None:
            return script_runner(
                job,
                steps,
                agent=resolved,
                intent=str(job.item),
                persona=str(job.persona),
                customer=customer,
                customer_model=customer_model,
                termination=terminations,
                hybrid=hybrid,
            )
        intent = Intent(_CUSTOMER, str(job.item))
        return build_runner(
            customer=build_customer(
                customer,
                intent=intent,
                persona=str(job.persona),
                seed=job.seed,
                models=job.models,
                default_model=customer_model,
            ),
            agent=fresh_agent(resolved, job.models)
            if isinstance(resolved, Participant)
            else resolved,
            intent=intent,
            outcomes=legal,
            initial_message=None
            if first == "agent"
            else MessageDraft(str(job.item), _CUSTOMER),
            max_messages=max_messages,
            termination=build_termination(terminations, models=job.models),
            outcome_evaluator=_evaluator(evaluator, job),
            conversation_id=f"{job.run_id}/{job.cell.key}",
            hybrid=hybrid,
            models=job.models,
            timeouts=timeouts,
            first=first,
        )

    finish = (
        None
        if criteria is None
        else criteria_finish(criteria, default_model=customer_model)
    )
    owned = resolved if builds_a_channel(agent) else None
    status, stored = "interrupted", 0
    events.emit(
        events.BATCH_STARTED,
        run_id=run_id,
        total=len(cells),
        pending=len(cells),
        parallel_runs=parallel_runs,
    )
    try:
        batch = await BatchRunner(
            build,
            cells,
            run_id=run_id,
            seed=seed,
            parallel_runs=parallel_runs,
            max_retries=0,
            cassette=cassette,
            timeouts=timeouts or Timeouts(),
            finish=finish,
            executor=executor,
        ).run()
        status, stored = "done", len(batch.records)
    except Exception:
        status = "failed"
        raise
    finally:
        with anyio.CancelScope(shield=True):
            if cassette is not None:
                await cassette.aclose()
            if isinstance(owned, Channel):
                await owned.aclose()
        events.emit(
            events.BATCH_FINISHED,
            run_id=run_id,
            status=status,
            stored=stored,
            skipped=0,
        )
    records = {record.key: record for record in batch.records}
    _raise_cassette_miss(records, cassette)
    return _collect(records, where, seed, threshold)


def _check(runs: object, outcomes: object, timeouts: object) -> None:
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ConfigError(f"runs must be an int >= 1; got {runs!r}")
    if outcomes is not None and not isinstance(outcomes, Mapping):
        raise ConfigError(
            "outcomes must be a mapping of outcome name to patterns, e.g. "
            f"{{'resolved': ['fixed', 'solved']}}; got {outcomes!r}"
        )
    if timeouts is not None and not isinstance(timeouts, Timeouts):
        raise ConfigError(
            f"timeouts must be a clientsim.Timeouts or None; got {timeouts!r}"
        )


def _steps(
    script: Sequence[Step] | None,
    first: object,
    outcomes: Mapping[str, object] | None,
    evaluator: object,
) -> tuple[Step, ...] | None:
    """The checked script (``None``: no script), and who opens the conversation."""
    check_first_value("first", first)
    if script is None:
        return None
    if first == "agent":
        raise ConfigError(
            "first='agent' does not apply to a script: start the script with agent() "
            "to let the agent speak first"
        )
    return scripted(script, outcomes, evaluator)


def _evaluator(
    evaluator: StrategyConfig | OutcomeEvaluator | None, job: ConversationJob
) -> OutcomeEvaluator | None:
    if evaluator is None:
        return None
    if isinstance(evaluator, str | Mapping):
        return build_evaluator(evaluator, models=job.models)
    return evaluator


def _described(personas: object) -> object:
    """Personas as text: a structured Persona becomes its prompt."""
    if isinstance(personas, Sequence) and not isinstance(personas, str):
        return [p.prompt() if isinstance(p, Persona) else p for p in personas]
    return personas


def _texts(name: str, value: object) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(f"{name} must be a list of strings; got {value!r}")
    texts = list(value)
    if not texts or not all(isinstance(text, str) and text for text in texts):
        raise ConfigError(
            f"{name} must be a non-empty list of non-empty strings; got {value!r}"
        )
    for index, text in enumerate(texts):
        check_text(f"{name}[{index}]", text)
    return texts


def _raise_cassette_miss(
    records: Mapping[str, ConversationRecord], cassette: Cassette | None
) -> None:
    for record in records.values():
        error = record.error or (record.result.error if record.result else None)
        if error is not None and error.type.endswith("CassetteDivergenceError"):
            named = f"conversation {record.key!r}"
            raise CassetteDivergenceError(
                error.message.replace(named, f"{named} (seed {record.seed})", 1)
            )
        if error is not None and error.type.endswith("CassetteMissError"):
            file = "" if cassette is None else f" {str(cassette.path)!r}"
            raise CassetteMissError(
                f"conversation {record.key!r} (seed {record.seed}) needed a call the "
                f"cassette{file} does not hold: {error.message}"
            )


def _collect(
    records: Mapping[str, ConversationRecord],
    where: Mapping[str, tuple[str, str, int]],
    run_seed: int,
    threshold: float | None,
) -> SimulationRuns:
    runs: list[SimulatedRun] = []
    for key, (persona, intent, iteration) in where.items():
        record = records.get(key)
        if record is None:  # pragma: no cover - the batch stores every cell
            continue
        result = record.result or ConversationResult(
            Conversation(()), error=record.error
        )
        runs.append(
            SimulatedRun(
                persona=persona,
                intent=intent,
                iteration=iteration,
                seed=record.seed,
                result=result,
            )
        )
    return SimulationRuns(runs=runs, seed=run_seed, threshold=threshold)
