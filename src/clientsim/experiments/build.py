"""From an experiment file to its conversations: the grid, and the runner of each cell.

:func:`grid` lays out the cells (inputs x personas x iterations); :func:`make_build`
turns a cell into a runner through the one agent resolver
(:func:`~clientsim.runners.agents.resolve_agent`) and the one runner builder
(:mod:`clientsim.runners.build`), so every strategy the file names, a plugin's as
well as a built-in's, is built through :mod:`clientsim.factory`:

- the agent: ``agent:`` (a URL, ``module:attr``, a channel strategy, or clientsim's
  simulated agent) or seed 003's ``runner.target`` (a function, a channel, a
  participant, a LangChain runnable or a compiled LangGraph graph);
- the customer: ``customer:``, else the seed's supervisor in multi-turn mode, else a
  customer who says the input and nothing more;
- the termination: ``termination:`` (any of them ends the talk) plus the
  supervisor's;
- the outcome: ``evaluator:`` decides after every message; without it, ``outcomes``
  with patterns are judged on the whole transcript when the conversation is over
  (:func:`make_finish`).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, overload

import attrs

from clientsim import factory
from clientsim.channels.base import Channel
from clientsim.errors import ConfigError
from clientsim.experiments.config import ExperimentConfig
from clientsim.experiments.schema import AgentConfig, InputItem, PersonaConfig
from clientsim.experiments.strategies import StrategySpec
from clientsim.models import (
    Conversation,
    ConversationResult,
    GridCell,
    Intent,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
)
from clientsim.participants.base import Participant
from clientsim.runners.agents import builds_a_channel, resolve_agent
from clientsim.runners.build import (
    build_agent_participant,
    build_customer,
    build_evaluator,
    build_runner,
    build_termination,
    criteria_finish,
    fresh_agent,
)
from clientsim.runners.work import (
    BatchCell,
    Build,
    ConversationJob,
    DistinctCells,
    Finish,
)


if TYPE_CHECKING:
    from clientsim.evaluation.base import OutcomeEvaluator
    from clientsim.runners.base import Runner
    from clientsim.termination.base import TerminationStrategy

__all__ = [
    "LARGE_GRID",
    "ExperimentBuild",
    "Grid",
    "check_grid_size",
    "grid",
    "make_build",
    "make_finish",
    "outcomes_of",
]

_CUSTOMER: Final = ParticipantRole.CUSTOMER
_DEFAULT_OUTCOMES: Final = Outcomes(
    (Outcome("completed", "The conversation ran to its end"),)
)


LARGE_GRID: Final = 100_000
"""The most conversations an experiment runs without being told twice: past it,
``clientsim run`` wants ``--yes`` and :func:`~clientsim.experiments.run_experiment`
wants ``allow_large_grid=True``."""


def check_grid_size(config: ExperimentConfig, *, allowed: bool) -> int:
    """The grid's size; past :data:`LARGE_GRID` only if ``allowed``.

    Counted by multiplication: no cell is made.

    Raises:
        ConfigError: the grid is larger than :data:`LARGE_GRID` and not ``allowed``;
            the message gives the sizes and how to confirm.
    """
    inputs = len(config.resolved_inputs())
    personas = len(config.selected_personas())
    size = inputs * personas * config.iterations
    if size > LARGE_GRID and not allowed:
        raise ConfigError(
            f"the experiment has {size:,} conversations ({inputs:,} inputs x "
            f"{personas:,} personas x {config.iterations:,} iterations), more than "
            f"{LARGE_GRID:,}: confirm with --yes (clientsim run) or "
            "allow_large_grid=True (run_experiment), or make the grid smaller"
        )
    return size


@attrs.frozen
class Grid(DistinctCells):
    """The experiment's cells, every input x persona x iteration in that nesting,
    made one at a time as they are asked for: its length is a multiplication, and a
    cell is made from its index, so a grid of millions costs nothing until it runs,
    and :class:`~clientsim.runners.batch.BatchRunner` makes each cell only as its
    conversation starts (its keys are distinct by construction, so nothing walks it
    up front).

    Attributes:
        inputs: the inputs, each with its id.
        personas: the personas.
        iterations: times through inputs x personas.
    """

    inputs: tuple[InputItem, ...]
    personas: tuple[PersonaConfig, ...]
    iterations: int

    def __len__(self) -> int:
        return self.iterations * len(self.inputs) * len(self.personas)

    @overload
    def __getitem__(self, index: int) -> BatchCell: ...

    @overload
    def __getitem__(self, index: slice) -> list[BatchCell]: ...

    def __getitem__(self, index: int | slice) -> BatchCell | list[BatchCell]:
        if isinstance(index, slice):
            return [self[at] for at in range(*index.indices(len(self)))]
        size = len(self)
        at = index + size if index < 0 else index
        if not 0 <= at < size:
            raise IndexError(f"grid cell {index} of {size}")
        iteration, rest = divmod(at, len(self.inputs) * len(self.personas))
        item, persona = divmod(rest, len(self.personas))
        return _cell(iteration, self.inputs[item], self.personas[persona])

    def __iter__(self) -> Iterator[BatchCell]:
        for iteration in range(self.iterations):
            for item in self.inputs:
                for persona in self.personas:
                    yield _cell(iteration, item, persona)


def _cell(iteration: int, item: InputItem, persona: PersonaConfig) -> BatchCell:
    return BatchCell(
        cell=GridCell(
            input_id=str(item.id), persona_id=persona.id, iteration=iteration
        ),
        input=item.content,
        persona=persona,
        item=item,
    )


def grid(config: ExperimentConfig) -> Grid:
    """The experiment's cells: every input x persona x iteration, in that nesting,
    made lazily (see :class:`Grid`).

    ``multi_turn.persona_override`` narrows the personas to the one it names.
    """
    return Grid(
        inputs=config.resolved_inputs(),
        personas=config.selected_personas(),
        iterations=config.iterations,
    )


def outcomes_of(config: ExperimentConfig) -> Outcomes:
    """The legal outcomes: the file's, or one ``completed`` when it declares none."""
    if not config.outcomes:
        return _DEFAULT_OUTCOMES
    return Outcomes(
        tuple(Outcome(item.name, item.description) for item in config.outcomes)
    )


def _judge(config: ExperimentConfig, job: ConversationJob) -> OutcomeEvaluator:
    """The default judge of the whole transcript: rules from the outcomes' patterns,
    else an LLM judge on the experiment's model."""
    if any(item.patterns for item in config.outcomes):
        from clientsim.evaluation.rules import (  # noqa: PLC0415
            OutcomeRule,
            RuleBasedOutcomeEvaluator,
        )

        return RuleBasedOutcomeEvaluator(
            [
                OutcomeRule(
                    item.name,
                    item.patterns,
                    sender=ParticipantRole(item.sender) if item.sender else None,
                )
                for item in config.outcomes
                if item.patterns
            ]
        )
    from clientsim.evaluation.llm import LLMOutcomeEvaluator  # noqa: PLC0415

    return LLMOutcomeEvaluator(job.models.model(config.model, "judge"))


def make_finish(config: ExperimentConfig) -> Finish | None:
    """Judge each finished conversation: its outcome (as below), then the file's
    ``criteria`` (the verdict goes on the result); ``None``: nothing to do.

    The outcome is judged on the whole transcript when the file has outcomes and no
    ``evaluator``: with rules, the latest message that matches a rule decides (a
    refund offered and then an escalation is an escalation); with an LLM judge, one
    call on the whole transcript.
    """
    finish = _outcome_finish(config)
    if not config.criteria:
        return finish
    return criteria_finish(config.criteria, default_model=config.model, then=finish)


def _outcome_finish(config: ExperimentConfig) -> Finish | None:
    """Judge each finished conversation's outcome on its whole transcript.

    Rules: the latest message that matches a rule decides (a refund offered and then
    an escalation is an escalation). An LLM judge: one call on the whole transcript.
    ``None`` (nothing to do) without outcomes, or when the file's ``evaluator``
    already decided the outcome during the conversation.
    """
    if not config.outcomes or config.evaluator is not None:
        return None
    outcomes = outcomes_of(config)
    by_rules = any(item.patterns for item in config.outcomes)

    async def finish(
        job: ConversationJob, result: ConversationResult
    ) -> ConversationResult:
        evaluator = _judge(config, job)
        conversation = result.conversation
        messages = conversation.messages
        outcome = None
        if by_rules:
            for end in range(len(messages), 0, -1):
                outcome = await evaluator.evaluate(
                    Conversation(messages[:end]), outcomes
                )
                if outcome is not None:
                    break
        else:
            outcome = await evaluator.evaluate(conversation, outcomes)
        usage = getattr(evaluator, "token_usage", None)
        report = result.token_usage
        if usage is not None:
            report = attrs.evolve(report, judge=report.judge + usage)
        return attrs.evolve(
            result, conversation=conversation.with_outcome(outcome), token_usage=report
        )

    return finish


def _add_import_paths(config: ExperimentConfig) -> None:
    runner = config.runner
    if runner is None:
        return
    root = config.resolve_path(runner.working_directory)
    paths = [root, *(config.resolve_path(entry) for entry in runner.python_path or ())]
    for path in reversed(paths):
        text = str(path.resolve())
        if text not in sys.path:
            sys.path.insert(0, text)


AgentFor = Callable[[ConversationJob], "Participant | Channel"]


def _agent_source(config: ExperimentConfig, owned: list[Channel]) -> AgentFor:
    """How each conversation gets its agent: the file's ``agent`` or ``runner.target``.

    A channel made here (from a URL or a channel strategy) is added to ``owned``.
    """
    agent = config.agent
    approve = config.multi_turn.auto_approve_tools
    if isinstance(agent, AgentConfig):
        simulated = agent

        def simulated_agent(job: ConversationJob) -> Participant:
            return build_agent_participant(
                {"strategy": "llm", "system_prompt": simulated.system_prompt},
                seed=job.seed,
                models=job.models,
                default_model=simulated.model or config.model,
            )

        return simulated_agent
    if isinstance(agent, StrategySpec):
        _add_import_paths(config)
        options = agent.to_config()
        if agent.strategy not in factory.channels:  # a participant strategy
            return lambda job: build_agent_participant(
                options,
                seed=job.seed,
                models=job.models,
                default_model=config.model,
            )
        channel = factory.build_channel(options)
        owned.append(channel)
        return lambda _job: channel
    if isinstance(agent, str):
        _add_import_paths(config)
        resolved = resolve_agent(agent, auto_approve_tools=approve, where="agent")
        if builds_a_channel(agent) and isinstance(resolved, Channel):
            owned.append(resolved)
        return _shared(resolved)
    runner = config.runner
    target = runner.resolved_target if runner is not None else None
    if target is None:  # pragma: no cover - the config refuses this
        raise ConfigError("set either 'agent' or 'runner.target'")
    _add_import_paths(config)
    if config.replay_args.enabled:
        return _replayed(config, target)
    return _shared(
        resolve_agent(target, auto_approve_tools=approve, where="runner.target")
    )


def _shared(agent: Participant | Channel) -> AgentFor:
    """One agent for every conversation: a channel as it is, a participant copied."""
    if isinstance(agent, Participant):
        return lambda job: fresh_agent(agent, job.models)
    return lambda _job: agent


def _replayed(config: ExperimentConfig, target: str) -> AgentFor:
    """Seed 003's ``replay_args``: the target called with recorded arguments."""
    from clientsim.channels.target import TargetChannel, import_target  # noqa: PLC0415
    from clientsim.experiments.recording import (  # noqa: PLC0415
        ReplayTarget,
        load_recording,
    )

    function = import_target(target, instantiate=True)
    if not callable(function):
        raise ConfigError(
            f"runner.target {target!r} is a {type(function).__name__}; replay_args "
            "needs a function to call with the recorded arguments"
        )
    calls = load_recording(config.resolve_path(config.replay_args.recording_file))
    replay = ReplayTarget(function, calls, config.replay_args.override_param_path)
    inputs = {item.id: index for index, item in enumerate(config.resolved_inputs())}

    def channel_for(job: ConversationJob) -> Channel:
        return TargetChannel(replay.as_agent(inputs.get(job.cell.input_id, 0)))

    return channel_for


def _customer(
    config: ExperimentConfig,
    job: ConversationJob,
    item: InputItem,
    persona: PersonaConfig,
    intent: Intent,
) -> tuple[Participant, list[TerminationStrategy]]:
    """The file's ``customer``, else the supervisor (multi-turn), else a one-liner."""
    multi = config.multi_turn
    if config.customer is not None:
        customer = build_customer(
            config.customer.to_config(),
            intent=intent,
            persona=persona.description or None,
            seed=job.seed,
            models=job.models,
            default_model=config.model,
        )
        return customer, []
    if not multi.enabled:
        from clientsim.participants.scripted import ScriptedParticipant  # noqa: PLC0415

        return ScriptedParticipant(_CUSTOMER, []), []
    from clientsim.participants.supervised import (  # noqa: PLC0415
        SupervisorParticipant,
        SupervisorTermination,
    )
    from clientsim.participants.supervisor import (  # noqa: PLC0415
        LLMSupervisor,
        MockSupervisor,
    )

    supervisor = multi.supervisor
    decider: Any
    if supervisor.provider == "mock":
        meta = supervisor.metadata
        decider = MockSupervisor(
            meta.scripted_questions,
            mock_decision=meta.mock_decision,
            mock_reason=meta.mock_reason,
            mock_closing=meta.mock_closing,
        )
    else:
        decider = LLMSupervisor(
            job.models.model(supervisor.model_spec, "supervisor"),
            system_prompt=supervisor.system_prompt,
            persona=persona.description,
            intent=item.intent,
            temperature=supervisor.temperature,
        )
    participant = SupervisorParticipant(
        decider, max_turns=multi.max_turns, seed=job.seed
    )
    return participant, [SupervisorTermination(participant)]


class ExperimentBuild:
    """What :func:`make_build` gives: called with a job, it builds that conversation's
    runner; :meth:`aclose` closes the channels it made (from a URL or a channel
    strategy) once the run is over."""

    def __init__(self, build: Build, owned: list[Channel]) -> None:
        self._build = build
        self._owned = owned

    def __call__(self, job: ConversationJob) -> Runner | Awaitable[Runner]:
        return self._build(job)

    async def aclose(self) -> None:
        """Close the channels this builder made."""
        for channel in self._owned:
            await channel.aclose()


def make_build(config: ExperimentConfig) -> ExperimentBuild:
    """The factory that builds each conversation of ``config``'s experiment.

    The agent is resolved once (a target is imported, a channel opened lazily) and
    shared by every conversation; a simulated agent is built per conversation.

    Raises:
        ConfigError: the agent cannot be resolved (e.g. the target does not import).
    """
    outcomes = outcomes_of(config)
    owned: list[Channel] = []
    agent_for = _agent_source(config, owned)
    multi = config.multi_turn
    conversational = multi.enabled or config.customer is not None
    opening = int(config.first == "agent")  # the agent's opening comes on top
    full_limit = (4 * multi.max_turns + 2 if conversational else 2) + opening
    hybrid_limit = 4 * multi.max_turns + 2 + opening if conversational else 100
    termination = [spec.to_config() for spec in config.termination]
    hybrid = config.hybrid.settings()

    def build(job: ConversationJob) -> Runner:
        item = job.item
        persona = job.persona
        if not isinstance(item, InputItem) or not isinstance(persona, PersonaConfig):
            raise ConfigError("experiment cells carry an InputItem and a PersonaConfig")
        intent = Intent(_CUSTOMER, item.intent or item.content)
        customer, stops = _customer(config, job, item, persona, intent)
        stops += build_termination(
            termination, models=job.models, default_model=config.model
        )
        evaluator = (
            build_evaluator(
                config.evaluator.to_config(),
                models=job.models,
                default_model=config.model,
            )
            if config.evaluator is not None
            else None
        )
        agent = agent_for(job)
        return build_runner(
            customer=customer,
            agent=agent,
            intent=intent,
            outcomes=outcomes,
            initial_message=MessageDraft(item.content, _CUSTOMER),
            max_messages=full_limit if isinstance(agent, Participant) else hybrid_limit,
            termination=stops,
            outcome_evaluator=evaluator,
            conversation_id=f"{job.run_id}/{job.cell.key}",
            hybrid=hybrid,
            models=job.models,
            timeouts=job.timeouts,
            first=config.first,
        )

    return ExperimentBuild(build, owned)
