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
from typing import TYPE_CHECKING, Final

from clientsim.channels.base import Channel
from clientsim.clients.pool import ClientPoolConfig, ClientSelectionStrategy
from clientsim.errors import ConfigError
from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.feedback.base import FeedbackStrategy
from clientsim.intake.base import (
    EntryPointStrategy,
    IntakeDecision,
    IntakeStrategy,
    WorkEntryAdapter,
    WorkPipeline,
    WorkSource,
)
from clientsim.participants.base import Participant
from clientsim.registry import Registry, StrategyConfig
from clientsim.reports.base import ReportStrategy
from clientsim.requirements.base import RequirementGenerator
from clientsim.termination.base import TerminationStrategy
from clientsim.turns.base import TurnPolicy


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.interventions.metrics import Metric
    from clientsim.models import TokenUsage
    from clientsim.models.client import ClientRequest
    from clientsim.models.persona import Fragment
    from clientsim.models.team import RoleTemplate
    from clientsim.population.base import PopulationMode
    from clientsim.population.demographics import DemographicTemplate
    from clientsim.review.pipeline import ReviewStage
    from clientsim.runners.executors import Executor
    from clientsim.simulation.config import (
        FeedbackConfig,
        IntakeConfig,
        ReportConfig,
        RequirementGeneratorConfig,
    )
    from clientsim.tasks.engine import TaskEngine

__all__ = [
    "build_channel",
    "build_client_pool_strategy",
    "build_entry_point_strategy",
    "build_executor",
    "build_feedback_strategy",
    "build_intake_strategy",
    "build_metric",
    "build_outcome_evaluator",
    "build_participant",
    "build_population_mode",
    "build_report_strategy",
    "build_requirement_generator",
    "build_review_stage",
    "build_role",
    "build_termination",
    "build_turn_policy",
    "build_work_entry_adapter",
    "channels",
    "client_pool_strategies",
    "demographic_templates",
    "entry_point_strategies",
    "executors",
    "feedback_strategies",
    "fragments",
    "intake_strategies",
    "metrics",
    "outcome_evaluators",
    "participants",
    "population_modes",
    "report_strategies",
    "requirement_generators",
    "review_stages",
    "roles",
    "termination_strategies",
    "turn_policies",
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
turn_policies: Final[Registry[TurnPolicy]] = Registry(
    family="turn policy", hook="clientsim_register_turn_policies"
)
"""Who speaks next in a group conversation: ``round_robin``, ``earliest``,
``moderator``, ``llm_selector``, ``addressed``, and plugins'."""

executors: Final[Registry[Executor]] = Registry(
    family="executor", hook="clientsim_register_executors"
)
"""Where a batch's conversations run: ``local`` (this process, the default), ``ray``
(Ray actors; the ``ray`` extra), and plugins'; each builds a
:class:`~clientsim.runners.executors.Executor`."""

# Teams (seed 001).
roles: Final[Registry[RoleTemplate]] = Registry(
    family="role", hook="clientsim_register_roles"
)
"""Role templates by key (``ceo``, ``product_manager``, ``engineering_lead``,
``designer``, ``sales``, ``support``, ``simulation_analyst``, and plugins'); each
factory takes no argument and returns a :class:`~clientsim.models.team.RoleTemplate`."""

# Populations (seed 002).
population_modes: Final[Registry[PopulationMode]] = Registry(
    family="communication mode", hook="clientsim_register_population_modes"
)
"""How a population study talks to its personas: ``survey``, ``focus_group``,
``interview``, ``sequence``, and plugins'; each builds a
:class:`~clientsim.population.base.PopulationMode`."""
demographic_templates: Final[Registry[DemographicTemplate]] = Registry(
    family="demographic template", hook="clientsim_register_demographics"
)
"""Demographic templates by name (``usa``, ``eu``, ``uk``, and plugins'); each factory
takes no argument and returns a
:class:`~clientsim.population.demographics.DemographicTemplate`."""
fragments: Final[Registry[Fragment]] = Registry(
    family="fragment", hook="clientsim_register_fragments"
)
"""Personality fragments by name (the shipped ones, plugins' and
:func:`~clientsim.population.fragments.register_fragment`'s); each factory takes no
argument and returns a :class:`~clientsim.models.persona.Fragment`."""
metrics: Final[Registry[Metric]] = Registry(
    family="metric", hook="clientsim_register_metrics"
)
"""Success metrics of interventions: ``response_rate``, ``open_rate``,
``click_through``, ``purchase_intent``, ``conversion``, ``mean_score``, ``field``,
``question``, and plugins'; each builds a
:class:`~clientsim.interventions.metrics.Metric`."""

review_stages: Final[Registry[ReviewStage]] = Registry(
    family="review stage", hook="clientsim_register_review_stages"
)
"""Stages of the review pipeline by name (``internal``, ``client``,
``stakeholder_panel``, and plugins')."""

# Client simulation (seed 000): one registry per strategy family of its factory table.
requirement_generators: Final[Registry[RequirementGenerator]] = Registry(
    family="requirement generator", hook="clientsim_register_requirement_generators"
)
"""``template``, ``llm``, ``dataset``, ``procedural`` (``hybrid`` is built by hand)."""
feedback_strategies: Final[Registry[FeedbackStrategy]] = Registry(
    family="feedback strategy", hook="clientsim_register_feedback_strategies"
)
"""``binary``, ``scored``, ``criteria_check``, ``adversarial``."""
report_strategies: Final[Registry[ReportStrategy]] = Registry(
    family="report strategy", hook="clientsim_register_report_strategies"
)
"""``summary``, ``detailed``, ``json_export``, ``metrics_only``."""
client_pool_strategies: Final[Registry[ClientSelectionStrategy]] = Registry(
    family="client pool strategy", hook="clientsim_register_client_pool_strategies"
)
"""``round_robin``, ``weighted_random``, ``domain_matched``."""
intake_strategies: Final[Registry[IntakeStrategy]] = Registry(
    family="intake strategy", hook="clientsim_register_intake_strategies"
)
"""``direct``, ``agent``."""
entry_point_strategies: Final[Registry[EntryPointStrategy]] = Registry(
    family="entry point strategy", hook="clientsim_register_entry_points"
)
"""``direct``, ``project``, ``intake``."""
work_entry_adapters: Final[Registry[WorkEntryAdapter]] = Registry(
    family="work-entry adapter", hook="clientsim_register_work_entry_adapters"
)
"""``intake``, ``task_board``."""


def _wrong_kind(family: str, config: object, built: object, lacks: str) -> ConfigError:
    """The error for a factory that built something not of its family."""
    return ConfigError(
        f"{family} factory for {config!r} returned {type(built).__name__}, which has "
        f"no {lacks}"
    )


def build_channel(config: StrategyConfig, /, **context: object) -> Channel:
    """Build a channel, e.g. ``{"strategy": "http", "base_url": "http://127.0.0.1:8000/v1"}``.

    ``context`` passes objects a config file cannot hold, such as ``target=my_agent``.
    """
    channel = channels.build(config, **context)
    if not callable(getattr(channel, "create_session", None)):
        raise _wrong_kind("channel", config, channel, "create_session method")
    return channel


def build_participant(config: StrategyConfig, /, **context: object) -> Participant:
    """Build a participant, e.g. ``{"strategy": "scripted", "role": "agent", "lines": [...]}``.

    ``context`` passes objects a config file cannot hold, such as ``model=my_chat_model``.
    """
    participant = participants.build(config, **context)
    if not callable(getattr(participant, "get_next_message", None)):
        raise _wrong_kind("participant", config, participant, "get_next_message method")
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
        raise _wrong_kind(
            "termination", config, strategy, "async check(context) method"
        )
    return strategy


def build_outcome_evaluator(
    config: StrategyConfig, /, **context: object
) -> OutcomeEvaluator:
    """Build an outcome evaluator, e.g. ``{"strategy": "rules", "rules": {...}}``."""
    evaluator = outcome_evaluators.build(config, **context)
    if not isinstance(evaluator, OutcomeEvaluator):
        raise _wrong_kind(
            "outcome evaluator", config, evaluator, "async evaluate method"
        )
    return evaluator


def build_turn_policy(config: StrategyConfig, /, **context: object) -> TurnPolicy:
    """Build a turn policy, e.g. ``"round_robin"`` or
    ``{"strategy": "moderator", "moderator": "Facilitator"}``."""
    policy = turn_policies.build(config, **context)
    if not callable(getattr(policy, "take_turn", None)):
        raise _wrong_kind("turn policy", config, policy, "async take_turn method")
    return policy


def build_executor(config: StrategyConfig, /, **context: object) -> Executor:
    """Build an executor, e.g. ``"local"``, ``"ray"`` or ``{"strategy": "ray",
    "address": "auto", "workers": 2}``."""
    from clientsim.runners.executors import Executor  # noqa: PLC0415

    executor = executors.build(config, **context)
    if not isinstance(executor, Executor):
        raise _wrong_kind("executor", config, executor, "Executor base class")
    return executor


def build_population_mode(
    config: StrategyConfig, /, **context: object
) -> PopulationMode:
    """Build a communication mode, e.g. ``{"strategy": "survey", "questions":
    [...]}`` or ``"focus_group"``."""
    from clientsim.population.base import PopulationMode  # noqa: PLC0415

    mode = population_modes.build(config, **context)
    if not isinstance(mode, PopulationMode):
        raise _wrong_kind(
            "communication mode", config, mode, "PopulationMode base class"
        )
    return mode


def build_metric(config: StrategyConfig, /, **context: object) -> Metric:
    """Build a success metric: a name (``"purchase_intent"``), a shorthand
    (``"field:rating"``, ``"question:nps"``, ``"question:buy=yes"``) or a mapping
    (``{"strategy": "purchase_intent", "threshold": 8, "label": "intent_8"}``;
    ``label`` names it in results); ``context`` offers the study's ``questions`` and
    ``fields``.

    Raises:
        UnknownStrategyError: no metric has that name; the message lists the known ones.
    """
    import attrs  # noqa: PLC0415

    from clientsim.interventions.metrics import Metric, metric_config  # noqa: PLC0415

    label = config if isinstance(config, str) else None
    if isinstance(config, Mapping) and "label" in config:
        label = str(config["label"])
        config = {k: v for k, v in config.items() if k != "label"}
    built = metrics.build(metric_config(config), **context)
    if not isinstance(built, Metric):
        raise _wrong_kind("metric", config, built, "Metric value")
    if label:
        built = attrs.evolve(built, name=label)
    return built


def build_role(name: str, /) -> RoleTemplate:
    """The role template registered under ``name``: a key (``"product_manager"``) or
    the role's title in any case (``"Product Manager"``, ``"CEO"``).

    Raises:
        UnknownStrategyError: no role has that key; the message lists the known ones.
    """
    from clientsim.models.team import RoleTemplate, role_key  # noqa: PLC0415

    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"a role name must be a non-empty string; got {name!r}")
    role = roles.build(role_key(name))
    if not isinstance(role, RoleTemplate):
        raise _wrong_kind("role", name, role, "RoleTemplate value")
    return role


def build_review_stage(config: StrategyConfig, /, **context: object) -> ReviewStage:
    """Build a review stage, e.g. ``{"strategy": "stakeholder_panel", "team": ["CEO",
    "Designer"], "rule": "majority"}``; ``context`` passes what a config cannot hold
    (``model=my_chat_model``, ``client=my_client``)."""
    stage = review_stages.build(config, **context)
    if not isinstance(getattr(stage, "name", None), str) or not callable(
        getattr(stage, "review", None)
    ):
        raise _wrong_kind("review stage", config, stage, "name and async review method")
    return stage


def _config_of(
    config: object, name_field: str, options: Mapping[str, object]
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


def _options_of(config: object) -> dict[str, object]:
    """A config class's ``options`` mapping (empty for a name or a mapping)."""
    return dict(getattr(config, "options", None) or {})


def build_requirement_generator(
    config: RequirementGeneratorConfig | StrategyConfig,
) -> RequirementGenerator:
    """A requirement generator from a ``RequirementGeneratorConfig``, a name or a
    mapping: ``template``, ``llm``, ``dataset`` or ``procedural``.

    ``"hybrid"`` is refused on purpose (seed 000): a ``HybridGenerator`` composes
    weighted generators and is built by hand.

    Raises:
        UnknownStrategyError: the name is not registered (``hybrid`` included).
        ConfigError: the options do not fit, or a plugin's factory built something
            without ``generate``.
    """
    built = requirement_generators.build(
        _config_of(config, "strategy", _options_of(config))
    )
    if not isinstance(built, RequirementGenerator):
        raise _wrong_kind(
            "requirement generator",
            config,
            built,
            "async generate(count, *, seed) method",
        )
    return built


def build_feedback_strategy(
    config: FeedbackConfig | StrategyConfig, *, client_id: str
) -> FeedbackStrategy:
    """A feedback strategy for the client ``client_id`` from a ``FeedbackConfig``, a
    name or a mapping: ``binary``, ``scored``, ``criteria_check``, ``adversarial``.

    Raises:
        UnknownStrategyError: the name is not registered.
        ConfigError: the options do not fit, or a plugin's factory built something
            without ``evaluate``.
    """
    options = _options_of(config)
    rubric = getattr(config, "rubric", None)
    if rubric is not None:
        options["rubric"] = dict(rubric)
    built = feedback_strategies.build(
        _config_of(config, "strategy", options), client_id=client_id
    )
    if not isinstance(built, FeedbackStrategy):
        raise _wrong_kind(
            "feedback strategy",
            config,
            built,
            "async evaluate(context, profile) method",
        )
    return built


def build_report_strategy(config: ReportConfig | StrategyConfig) -> ReportStrategy:
    """A report style from a ``ReportConfig``, a name or a mapping: ``summary``,
    ``detailed``, ``json_export``, ``metrics_only``.

    Raises:
        UnknownStrategyError: the name is not registered.
        ConfigError: a plugin's factory built something without ``render``.
    """
    built = report_strategies.build(_config_of(config, "strategy", {}))
    if not isinstance(built, ReportStrategy):
        raise _wrong_kind("report strategy", config, built, "render(result) method")
    return built


def build_client_pool_strategy(
    config: ClientPoolConfig | StrategyConfig,
) -> ClientSelectionStrategy:
    """A client selection strategy from a ``ClientPoolConfig`` (its
    ``selection_strategy``), a name or a mapping: ``round_robin``,
    ``weighted_random``, ``domain_matched``.

    Raises:
        UnknownStrategyError: the name is not registered.
        ConfigError: the options do not fit, or a plugin's factory built something
            without ``select``.
    """
    built = client_pool_strategies.build(_config_of(config, "selection_strategy", {}))
    if not isinstance(built, ClientSelectionStrategy):
        raise _wrong_kind(
            "client pool strategy", config, built, "select(clients, requirement) method"
        )
    return built


def build_entry_point_strategy(
    adapter: StrategyConfig, *, project_id: str | None = None
) -> EntryPointStrategy:
    """How a requirement enters: ``direct`` (straight to the task engine),
    ``project`` (into ``project_id``), ``intake`` (through the intake engine).

    Raises:
        UnknownStrategyError: the adapter name is not registered.
        ConfigError: ``project`` without a ``project_id``, or a plugin's factory
            built something without ``enter``.
    """
    built = entry_point_strategies.build(adapter, project_id=project_id)
    if not isinstance(built, EntryPointStrategy):
        raise _wrong_kind(
            "entry point strategy",
            adapter,
            built,
            "async enter(client_id, requirement, *, intake) method",
        )
    return built


class _CostTracked:
    """An intake strategy that reports each call's token usage to a cost tracker.

    Any other attribute (``name``, ``degraded``, ``token_usage``, ...) is the wrapped
    strategy's.
    """

    def __init__(
        self, strategy: IntakeStrategy, tracker: Callable[[TokenUsage], object]
    ) -> None:
        self.strategy = strategy
        self.tracker = tracker

    def __getattr__(self, name: str) -> object:
        return getattr(self.strategy, name)

    async def process(self, request: ClientRequest) -> IntakeDecision:
        """The wrapped strategy's decision; its token usage goes to the tracker."""
        before = getattr(self.strategy, "token_usage", None)
        decision = await self.strategy.process(request)
        after = getattr(self.strategy, "token_usage", None)
        if before is not None and after is not None and after != before:
            self.tracker(after - before)
        return decision


def build_intake_strategy(
    config: IntakeConfig | StrategyConfig,
    *,
    task_engine: TaskEngine,
    default_project: str,
    provider: str | BaseChatModel | None = None,
    cost_tracker: Callable[[TokenUsage], object] | None = None,
) -> IntakeStrategy:
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
        ConfigError: a task engine without ``create_task``, a blank project, a
            cost tracker that is not callable, or a plugin's factory that built
            something without ``process``.
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
    options: dict[str, object] = {}
    model = getattr(config, "model", None)
    if model is not None:
        options["model"] = model
    built = intake_strategies.build(
        _config_of(config, "strategy", options), provider=provider
    )
    if not isinstance(built, IntakeStrategy):
        raise _wrong_kind(
            "intake strategy", config, built, "async process(request) method"
        )
    return built if cost_tracker is None else _CostTracked(built, cost_tracker)


_WORK_ENTRY_MEMBERS: Final = ("source", "work_pipeline", "default_project")


def build_work_entry_adapter(
    source: WorkSource | str, *, work_pipeline: WorkPipeline, default_project: str
) -> WorkEntryAdapter:
    """A real work-entry path: ``intake`` (an approved request becomes a work item,
    scoping notes folded in) or ``task_board`` (a board filing), driving
    ``work_pipeline`` (e.g. ``TaskEngineWorkPipeline(task_engine)``).

    Raises:
        UnknownStrategyError: the source is not registered.
        ConfigError: a pipeline without ``run``, a blank project, or a plugin's
            factory that built something without ``source``, ``work_pipeline`` or
            ``default_project``.
    """
    name = source.value if isinstance(source, WorkSource) else source
    # Typed as object: mypy trusts the registry's type, the check is for plugins.
    built: object = work_entry_adapters.build(
        name, work_pipeline=work_pipeline, default_project=default_project
    )
    if not isinstance(built, WorkEntryAdapter):
        missing = [
            member for member in _WORK_ENTRY_MEMBERS if not hasattr(built, member)
        ]
        raise _wrong_kind(
            "work-entry adapter", source, built, f"{' or '.join(missing)} attribute"
        )
    return built
