"""The one runner builder: parts chosen by name or given as objects, into a runner.

Experiment files, :func:`clientsim.simulate` (and so the pytest fixture) and notebooks
all build their conversations here, so a strategy a plugin registers is usable from
every surface exactly like a built-in:

- :func:`build_customer` and :func:`build_agent_participant` build participants through
  :func:`clientsim.factory.build_participant`;
- :func:`build_termination` and :func:`build_evaluator` build the other strategy
  families through :mod:`clientsim.factory`;
- :func:`build_runner` puts a customer and an agent (a participant or a channel, as
  :func:`~clientsim.runners.agents.resolve_agent` gives it) into a Full or a Hybrid
  runner.

Each takes the conversation's :class:`~clientsim.runners.batch.ConversationModels`
when it runs inside a batch: models named in a config are then seeded, cached,
rate-limited and recorded or replayed like every other model call of the run.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from clientsim import factory
from clientsim.channels.base import Channel
from clientsim.errors import ConfigError
from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.models import Intent, MessageDraft, Outcomes, ParticipantRole, Timeouts
from clientsim.participants.base import Participant
from clientsim.registry import StrategyConfig
from clientsim.runners._core import check_first_value
from clientsim.runners.base import Runner
from clientsim.termination.base import TerminationStrategy


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.evaluation.criteria import CriteriaJudge
    from clientsim.models import ConversationResult
    from clientsim.runners.work import ConversationJob, ConversationModels, Finish


__all__ = [
    "HYBRID_OPTIONS",
    "build_agent_participant",
    "build_criteria_judge",
    "build_customer",
    "build_evaluator",
    "build_runner",
    "build_termination",
    "criteria_finish",
    "fresh_agent",
]

HYBRID_OPTIONS: Final = (
    "reply_timeout_seconds",
    "quiet_period_seconds",
    "max_turn_seconds",
    "max_duration_seconds",
)
"""The real-time settings of a Hybrid run a config may set (the ``hybrid:`` key)."""


def _with_model(
    config: StrategyConfig,
    models: ConversationModels | None,
    default_model: str | BaseChatModel | None,
    label: str,
) -> tuple[dict[str, object], dict[str, object]]:
    """Split a strategy config into options and a context holding its model.

    A model named in the options (or the default) goes through ``models`` so the run's
    seeding, cache, rate limit and cassette apply to it.
    """
    options: dict[str, object] = (
        {"strategy": config} if isinstance(config, str) else dict(config)
    )
    context: dict[str, object] = {}
    model = options.pop("model", None) or default_model
    if model is not None:
        if models is not None:
            model = models.model(model, label)  # type: ignore[arg-type]
        context["model"] = model
    return options, context


def build_customer(
    config: StrategyConfig,
    *,
    intent: Intent | None,
    persona: str | None = None,
    seed: int = 0,
    models: ConversationModels | None = None,
    default_model: str | BaseChatModel | None = None,
) -> Participant:
    """The simulated customer a config names (``llm``, ``scripted`` or a plugin's).

    The factory is offered ``role``, ``intent``, ``persona``, ``seed`` and ``model``;
    each reaches it only if it takes an argument of that name. A value the config
    sets itself wins over the offer, except ``role``, which is always the customer.

    Raises:
        UnknownStrategyError: the name is not a registered participant strategy.
        ConfigError: the options do not fit the strategy.
    """
    options, context = _with_model(config, models, default_model, "customer")
    offered: dict[str, object] = {
        "role": ParticipantRole.CUSTOMER.value,
        "intent": intent,
        "persona": persona,
        "seed": seed,
        **context,
    }
    given_role = options.pop("role", ParticipantRole.CUSTOMER.value)
    if given_role not in {ParticipantRole.CUSTOMER, ParticipantRole.CUSTOMER.value}:
        raise ConfigError(
            f"customer: role must be 'customer' (or left out); got {given_role!r}"
        )
    for key in list(offered):
        if key in options or offered[key] is None:
            offered.pop(key)
    return factory.build_participant(options, **offered)


def build_agent_participant(
    config: StrategyConfig,
    *,
    seed: int = 0,
    models: ConversationModels | None = None,
    default_model: str | BaseChatModel | None = None,
) -> Participant:
    """A simulated agent a config names, e.g. ``{"strategy": "llm", "system_prompt": ...}``.

    Raises:
        UnknownStrategyError: the name is not a registered participant strategy.
        ConfigError: the options do not fit the strategy.
    """
    options, context = _with_model(config, models, default_model, "agent")
    options.setdefault("role", ParticipantRole.AGENT.value)
    offered = {"seed": seed, **context}
    for key in list(offered):
        if key in options:
            offered.pop(key)
    return factory.build_participant(options, **offered)


def build_termination(
    configs: Sequence[StrategyConfig],
    *,
    models: ConversationModels | None = None,
    default_model: str | BaseChatModel | None = None,
) -> list[TerminationStrategy]:
    """The termination strategies ``configs`` name (a judge gets the run's model)."""
    built: list[TerminationStrategy] = []
    for config in configs:
        options, context = _with_model(config, models, default_model, "judge")
        built.append(factory.build_termination(options, **context))
    return built


def build_evaluator(
    config: StrategyConfig,
    *,
    models: ConversationModels | None = None,
    default_model: str | BaseChatModel | None = None,
) -> OutcomeEvaluator:
    """The outcome evaluator ``config`` names (``rules``, ``llm`` or a plugin's)."""
    options, context = _with_model(config, models, default_model, "judge")
    return factory.build_outcome_evaluator(options, **context)


def build_criteria_judge(
    spec: Sequence[str] | Mapping[str, object] | CriteriaJudge,
    *,
    models: ConversationModels | None = None,
    default_model: str | BaseChatModel | None = None,
    seed: int = 0,
    timeouts: Timeouts | None = None,
) -> CriteriaJudge:
    """A criteria judge for one conversation; its model goes through ``models`` (so
    it is seeded, cached, rate-limited and recorded or replayed like the others).

    ``spec`` is a list of criteria (judged on ``default_model``, else offline), a
    mapping with ``criteria`` and an optional ``model``, or a
    :class:`~clientsim.evaluation.criteria.CriteriaJudge` (its criteria and model).

    Raises:
        ConfigError: naming the key: ``criteria`` (not a list of one-line strings),
            an unknown key of the mapping, or a ``model`` that is not a spec.
    """
    from clientsim.evaluation.criteria import CriteriaJudge  # noqa: PLC0415

    model: object
    criteria: object
    if isinstance(spec, CriteriaJudge):
        criteria, model = spec.criteria, spec.model
        seed = spec.seed if models is None else seed
    elif isinstance(spec, Mapping):
        unknown = sorted(set(spec) - {"criteria", "model"})
        if unknown:
            raise ConfigError(
                f"criteria: unknown key(s) {unknown}; allowed: 'criteria', 'model'"
            )
        if "criteria" not in spec:
            raise ConfigError("criteria: a mapping needs a 'criteria' list")
        criteria = spec["criteria"]
        model = spec.get("model") or default_model or "offline"
    else:
        criteria, model = spec, default_model or "offline"
    if not isinstance(model, str) and not hasattr(model, "ainvoke"):
        raise ConfigError(
            f"criteria.model must be a model spec or a chat model; got {model!r}"
        )
    if models is not None:
        model = models.model(model, "judge")  # type: ignore[arg-type]
    return CriteriaJudge(criteria, model, seed=seed, timeouts=timeouts)  # type: ignore[arg-type]


def criteria_finish(
    spec: Sequence[str] | Mapping[str, object] | CriteriaJudge,
    *,
    default_model: str | BaseChatModel | None = None,
    then: Finish | None = None,
) -> Finish:
    """A batch ``finish`` that judges each finished conversation on ``spec``'s
    criteria and puts the verdict on its result (``result.criteria``); the judge's
    tokens count as the judge's. ``then`` runs first (e.g. an outcome judge).

    The spec is checked here, once, so a bad one fails before any conversation runs.
    """
    build_criteria_judge(spec, default_model=default_model)

    async def finish(
        job: ConversationJob, result: ConversationResult
    ) -> ConversationResult:
        import attrs  # noqa: PLC0415

        if then is not None:
            result = await then(job, result)
        judge = build_criteria_judge(
            spec,
            models=job.models,
            default_model=default_model,
            seed=job.seed,
            timeouts=job.timeouts,
        )
        verdict = await judge.judge(result.conversation)
        usage = result.token_usage
        usage = attrs.evolve(usage, judge=usage.judge + judge.token_usage)
        return attrs.evolve(result, criteria=verdict, token_usage=usage)

    return finish


def fresh_agent(agent: Participant, models: ConversationModels | None) -> Participant:
    """A new copy of a simulated agent for one conversation (participants keep
    per-conversation state).

    An :class:`~clientsim.participants.LLMParticipant` is rebuilt on the
    conversation's model wrapper (seeded, and recorded or replayed by a cassette),
    keeping its role, persona, intent, system prompt and double-texting, but not a
    custom typing model; any other participant is deep-copied.
    """
    from clientsim.participants.llm import LLMParticipant  # noqa: PLC0415

    if isinstance(agent, LLMParticipant) and models is not None:
        return LLMParticipant(
            agent.role,
            models.model(agent.model, "agent"),
            persona=agent.persona,
            intent=agent.intent,
            system_prompt=agent.system_prompt,
            seed=models.seed,
            double_texting=agent.double_texting,
            timeouts=agent.timeouts,
        )
    return copy.deepcopy(agent)


def build_runner(
    *,
    customer: Participant,
    agent: Participant | Channel,
    intent: Intent | None,
    outcomes: Outcomes,
    initial_message: MessageDraft | None,
    max_messages: int = 100,
    termination: Sequence[TerminationStrategy] | None = None,
    outcome_evaluator: OutcomeEvaluator | None = None,
    conversation_id: str | None = None,
    hybrid: Mapping[str, float | None] | None = None,
    models: ConversationModels | None = None,
    timeouts: Timeouts | None = None,
    first: str = "customer",
) -> Runner:
    """A Full runner for a simulated agent, a Hybrid runner for a channel.

    Args:
        customer: the simulated customer.
        agent: a participant (simulated time; give each conversation its own, see
            :func:`fresh_agent`) or a channel (real time).
        intent: the customer's intent.
        outcomes: the legal outcomes.
        initial_message: the customer's first message; a Full run needs one unless
            the agent speaks first (with ``None`` the customer participant writes it).
            With ``first="agent"`` it answers the agent's opening.
        max_messages: the longest the conversation may get.
        termination: strategies of which any ends the conversation.
        outcome_evaluator: decides the outcome after every message.
        conversation_id: the id the conversation is stored under.
        hybrid: the real-time settings of a Hybrid run (:data:`HYBRID_OPTIONS`);
            ignored for a Full run.
        models: the conversation's models inside a batch (a channel goes through
            its cassette).
        timeouts: a Full run's ``timeouts`` (each turn, the whole conversation);
            for a Hybrid run, ``timeouts.turn`` is the customer's
            ``customer_timeout_seconds``; ``None``: the runners' defaults.
        first: who opens the conversation, ``"customer"`` or ``"agent"`` (see the
            runners' ``first``).

    Raises:
        ConfigError: an unknown hybrid setting, a Full run without an opening, or
            ``first`` not one of ``"customer"``, ``"agent"``.
    """
    from clientsim.runners.full import FullSimulationRunner  # noqa: PLC0415
    from clientsim.runners.hybrid import HybridSimulationRunner  # noqa: PLC0415

    check_first_value("first", first)
    extra: dict[str, object] = {"first": first}
    if conversation_id is not None:
        extra["conversation_id"] = conversation_id
    if timeouts is not None and isinstance(agent, Participant):
        extra["timeouts"] = timeouts
    elif timeouts is not None:  # the conversation's limit is the batch's to keep
        extra["customer_timeout_seconds"] = timeouts.turn
    if isinstance(agent, Participant):
        if initial_message is None and first == "customer":
            raise ConfigError(
                "a simulated agent needs the customer's first message (an input)"
            )
        return FullSimulationRunner(
            customer,
            agent,
            initial_message,
            intent,
            outcomes,
            max_messages=max_messages,
            termination=list(termination) if termination else None,
            outcome_evaluator=outcome_evaluator,
            **extra,  # type: ignore[arg-type]
        )
    settings = {key: value for key, value in (hybrid or {}).items() if key not in extra}
    unknown = sorted(set(settings) - set(HYBRID_OPTIONS))
    if unknown:
        raise ConfigError(
            f"unknown hybrid setting(s) {unknown}; allowed: {', '.join(HYBRID_OPTIONS)}"
        )
    return HybridSimulationRunner(
        customer=customer,
        channel=models.channel(agent) if models is not None else agent,
        intent=intent,
        outcomes=outcomes,
        initial_message=initial_message,
        max_messages=max_messages,
        termination=list(termination) if termination else None,
        outcome_evaluator=outcome_evaluator,
        **settings,  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )
