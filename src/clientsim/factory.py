"""Build strategies by name from config: one ``build_*`` function per family.

A config is a strategy name, or a mapping with a ``strategy`` key naming it plus that
strategy's options::

    build_termination({"strategy": "closing_phrases", "phrases": ["bye"]})
    build_termination(["outcome_reached", {"strategy": "deadline", "seconds": 30}])
    build_participant({"strategy": "llm", "role": "customer", "model": "offline",
                       "intent": "Reset my password"})

An unknown name raises :class:`~clientsim.errors.UnknownStrategyError` listing the names
there are and the closest match; never a silent fallback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from clientsim.channels.base import Channel
from clientsim.errors import ConfigError
from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.participants.base import Participant
from clientsim.registry import Registry, StrategyConfig
from clientsim.termination.base import TerminationStrategy


__all__ = [
    "build_channel",
    "build_client_pool_strategy",
    "build_entry_point_strategy",
    "build_feedback_strategy",
    "build_intake_strategy",
    "build_outcome_evaluator",
    "build_participant",
    "build_report_strategy",
    "build_requirement_generator",
    "build_termination",
    "build_work_entry_adapter",
    "channels",
    "client_pool_strategies",
    "entry_point_strategies",
    "feedback_strategies",
    "intake_strategies",
    "outcome_evaluators",
    "participants",
    "report_strategies",
    "requirement_generators",
    "termination_strategies",
    "work_entry_adapters",
]

channels: Final[Registry[Channel]] = Registry(
    family="channel", hook="clientsim_register_channels"
)
"""Channel factories by name (``memory``, ``target``, ``runnable``, ``http``,
``websocket``, and plugins')."""
participants: Final[Registry[Participant]] = Registry(
    family="participant", hook="clientsim_register_participants"
)
"""Participant factories by name (``llm``, ``scripted``, and plugins')."""
termination_strategies: Final[Registry[TerminationStrategy]] = Registry(
    family="termination strategy", hook="clientsim_register_termination"
)
"""Termination strategy factories by name."""
outcome_evaluators: Final[Registry[OutcomeEvaluator]] = Registry(
    family="outcome evaluator", hook="clientsim_register_outcome_evaluators"
)
"""Outcome evaluator factories by name (``rules``, ``llm``, and plugins')."""

# Client simulation (seed 000): one registry per strategy family of its factory table.
requirement_generators: Final[Registry[Any]] = Registry(
    family="requirement generator", hook="clientsim_register_requirement_generators"
)
"""``template``, ``llm``, ``dataset``, ``procedural`` (``hybrid`` is built by hand)."""
feedback_strategies: Final[Registry[Any]] = Registry(
    family="feedback strategy", hook="clientsim_register_feedback_strategies"
)
"""``binary``, ``scored``, ``criteria_check``, ``adversarial``."""
report_strategies: Final[Registry[Any]] = Registry(
    family="report strategy", hook="clientsim_register_report_strategies"
)
"""``summary``, ``detailed``, ``json_export``, ``metrics_only``."""
client_pool_strategies: Final[Registry[Any]] = Registry(
    family="client pool strategy", hook="clientsim_register_client_pool_strategies"
)
"""``round_robin``, ``weighted_random``, ``domain_matched``."""
intake_strategies: Final[Registry[Any]] = Registry(
    family="intake strategy", hook="clientsim_register_intake_strategies"
)
"""``direct``, ``agent``."""
entry_point_strategies: Final[Registry[Any]] = Registry(
    family="entry point strategy", hook="clientsim_register_entry_points"
)
"""``direct``, ``project``, ``intake``."""
work_entry_adapters: Final[Registry[Any]] = Registry(
    family="work-entry adapter", hook="clientsim_register_work_entry_adapters"
)
"""``intake``, ``task_board``."""


def build_channel(config: StrategyConfig, /, **context: object) -> Channel:
    """Build a channel, e.g. ``{"strategy": "http", "base_url": "http://127.0.0.1:8000/v1"}``.

    ``context`` passes objects a config file cannot hold, such as ``target=my_agent``.
    """
    channel = channels.build(config, **context)
    if not callable(getattr(channel, "create_session", None)):
        raise ConfigError(
            f"channel factory for {config!r} returned {type(channel).__name__}, which "
            "has no create_session method"
        )
    return channel


def build_participant(config: StrategyConfig, /, **context: object) -> Participant:
    """Build a participant, e.g. ``{"strategy": "scripted", "role": "agent", "lines": [...]}``.

    ``context`` passes objects a config file cannot hold, such as ``model=my_chat_model``.
    """
    participant = participants.build(config, **context)
    if not callable(getattr(participant, "get_next_message", None)):
        raise ConfigError(
            f"participant factory for {config!r} returned {type(participant).__name__}, "
            "which has no get_next_message method"
        )
    return participant


def build_termination(
    config: StrategyConfig | Sequence[StrategyConfig], /, **context: object
) -> TerminationStrategy:
    """Build a termination strategy; a list builds ``any_of`` its items."""
    if isinstance(config, Sequence) and not isinstance(config, str):
        from clientsim.termination.strategies import AnyOf  # noqa: PLC0415

        return AnyOf(*(build_termination(item, **context) for item in config))
    strategy = termination_strategies.build(config, **context)
    if not isinstance(strategy, TerminationStrategy):
        raise ConfigError(
            f"termination factory for {config!r} returned {type(strategy).__name__}, "
            "which has no async check(context) method"
        )
    return strategy


def build_outcome_evaluator(
    config: StrategyConfig, /, **context: object
) -> OutcomeEvaluator:
    """Build an outcome evaluator, e.g. ``{"strategy": "rules", "rules": {...}}``."""
    evaluator = outcome_evaluators.build(config, **context)
    if not isinstance(evaluator, OutcomeEvaluator):
        raise ConfigError(
            f"outcome evaluator factory for {config!r} returned "
            f"{type(evaluator).__name__}, which has no async evaluate method"
        )
    return evaluator


def _config_of(
    config: object, name_field: str, options: Mapping[str, Any]
) -> StrategyConfig:
    """A strategy config from a config class (its name field plus options) or as is."""
    if isinstance(config, str | Mapping):
        return config
    name = getattr(config, name_field, None)
    if not isinstance(name, str):
        raise ConfigError(
            f"expected a strategy name, a mapping with 'strategy', or a config object "
            f"with a {name_field!r} field; got {type(config).__name__}"
        )
    return {"strategy": name, **options}


def _has(value: object, method: str, family: str, config: object) -> None:
    if not callable(getattr(value, method, None)):
        raise ConfigError(
            f"{family} factory for {config!r} returned {type(value).__name__}, which "
            f"has no {method} method"
        )


def build_requirement_generator(config: Any) -> Any:
    """A requirement generator from a ``RequirementGeneratorConfig``, a name or a
    mapping: ``template``, ``llm``, ``dataset`` or ``procedural``.

    ``"hybrid"`` is refused on purpose (seed 000): a ``HybridGenerator`` composes
    weighted generators and is built by hand.

    Raises:
        UnknownStrategyError: the name is not registered (``hybrid`` included).
    """
    options = dict(getattr(config, "options", {}) or {})
    built = requirement_generators.build(_config_of(config, "strategy", options))
    _has(built, "generate", "requirement generator", config)
    return built


def build_feedback_strategy(config: Any, *, client_id: str) -> Any:
    """A feedback strategy for the client ``client_id`` from a ``FeedbackConfig``, a
    name or a mapping: ``binary``, ``scored``, ``criteria_check``, ``adversarial``.

    Raises:
        UnknownStrategyError: the name is not registered.
    """
    options = dict(getattr(config, "options", {}) or {})
    rubric = getattr(config, "rubric", None)
    if rubric is not None:
        options["rubric"] = dict(rubric)
    built = feedback_strategies.build(
        _config_of(config, "strategy", options), client_id=client_id
    )
    _has(built, "evaluate", "feedback strategy", config)
    return built


def build_report_strategy(config: Any) -> Any:
    """A report style from a ``ReportConfig``, a name or a mapping: ``summary``,
    ``detailed``, ``json_export``, ``metrics_only``.

    Raises:
        UnknownStrategyError: the name is not registered.
    """
    built = report_strategies.build(_config_of(config, "strategy", {}))
    _has(built, "render", "report strategy", config)
    return built


def build_client_pool_strategy(config: Any) -> Any:
    """A client selection strategy from a ``ClientPoolConfig`` (its
    ``selection_strategy``), a name or a mapping: ``round_robin``,
    ``weighted_random``, ``domain_matched``.

    Raises:
        UnknownStrategyError: the name is not registered.
    """
    built = client_pool_strategies.build(_config_of(config, "selection_strategy", {}))
    _has(built, "select", "client pool strategy", config)
    return built


def build_entry_point_strategy(
    adapter: StrategyConfig, *, project_id: str | None = None
) -> Any:
    """How a requirement enters: ``direct`` (straight to the task engine),
    ``project`` (into ``project_id``), ``intake`` (through the intake engine).

    Raises:
        UnknownStrategyError: the adapter name is not registered.
        ConfigError: ``project`` without a ``project_id``.
    """
    built = entry_point_strategies.build(adapter, project_id=project_id)
    _has(built, "enter", "entry point strategy", adapter)
    return built


class _CostTracked:
    """An intake strategy that reports each call's token usage to a cost tracker."""

    def __init__(self, strategy: Any, tracker: Callable[[Any], object]) -> None:
        self.strategy = strategy
        self.tracker = tracker

    def __getattr__(self, name: str) -> Any:
        return getattr(self.strategy, name)

    async def process(self, request: Any) -> Any:
        before = getattr(self.strategy, "token_usage", None)
        decision = await self.strategy.process(request)
        after = getattr(self.strategy, "token_usage", None)
        if before is not None and after is not None and after != before:
            self.tracker(after - before)
        return decision


def build_intake_strategy(
    config: Any,
    *,
    task_engine: Any,
    default_project: str,
    provider: Any = None,
    cost_tracker: Callable[[Any], object] | None = None,
) -> Any:
    """An intake strategy from an ``IntakeConfig``, a name or a mapping: ``direct``
    or ``agent`` (an ``agent`` without a model or provider degrades to direct with
    a warning, as seed 000 says).

    clientsim's strategies decide and the :class:`~clientsim.intake.IntakeEngine`
    files the task, so ``task_engine`` and ``default_project`` are checked here and
    belong to the engine: ``IntakeEngine(strategy, task_engine,
    default_project=default_project)``.

    Args:
        config: the strategy.
        task_engine: the task engine the intake engine will file into.
        default_project: the project tasks go to.
        provider: the intake agent's model when the config names none.
        cost_tracker: called with the token usage of each intake decision.

    Raises:
        UnknownStrategyError: the name is not registered.
        ConfigError: a task engine without ``create_task``, a blank project, or a
            cost tracker that is not callable.
    """
    if not callable(getattr(task_engine, "create_task", None)):
        raise ConfigError(
            "task_engine must be a TaskEngine with async create_task(...); got "
            f"{type(task_engine).__name__}"
        )
    if not isinstance(default_project, str) or not default_project.strip():
        raise ConfigError(
            f"default_project must be a non-blank string; got {default_project!r}"
        )
    if cost_tracker is not None and not callable(cost_tracker):
        raise ConfigError(
            "cost_tracker must be callable(usage) or None; got "
            f"{type(cost_tracker).__name__}"
        )
    options: dict[str, Any] = {}
    model = getattr(config, "model", None)
    if model is not None:
        options["model"] = model
    built = intake_strategies.build(
        _config_of(config, "strategy", options), provider=provider
    )
    _has(built, "process", "intake strategy", config)
    return built if cost_tracker is None else _CostTracked(built, cost_tracker)


def build_work_entry_adapter(
    source: Any, *, work_pipeline: Any, default_project: str
) -> Any:
    """A real work-entry path: ``intake`` (an approved request becomes a work item,
    scoping notes folded in) or ``task_board`` (a board filing), driving
    ``work_pipeline`` (e.g. ``TaskEngineWorkPipeline(task_engine)``).

    Raises:
        UnknownStrategyError: the source is not registered.
        ConfigError: a pipeline without ``run`` or a blank project.
    """
    name = getattr(source, "value", source)
    return work_entry_adapters.build(
        name, work_pipeline=work_pipeline, default_project=default_project
    )
