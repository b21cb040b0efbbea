"""The built-in strategies, registered through the same hooks third parties use."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from clientsim._markers import Register, hookimpl


@hookimpl
def clientsim_register_participants(register: Register) -> None:
    from clientsim.participants.llm import LLMParticipant  # noqa: PLC0415
    from clientsim.participants.scripted import ScriptedParticipant  # noqa: PLC0415
    from clientsim.population.participant import PersonaParticipant  # noqa: PLC0415
    from clientsim.teams.participant import RoleParticipant  # noqa: PLC0415

    register("llm", LLMParticipant.from_config)
    register("scripted", ScriptedParticipant.from_config)
    register("team_role", RoleParticipant.from_config)
    register("persona", PersonaParticipant.from_config)


@hookimpl
def clientsim_register_outcome_evaluators(register: Register) -> None:
    from clientsim.evaluation.criteria import CriteriaOutcomeEvaluator  # noqa: PLC0415
    from clientsim.evaluation.llm import LLMOutcomeEvaluator  # noqa: PLC0415
    from clientsim.evaluation.rules import RuleBasedOutcomeEvaluator  # noqa: PLC0415

    register("rules", RuleBasedOutcomeEvaluator.from_config)
    register("llm", LLMOutcomeEvaluator.from_config)
    register("criteria", CriteriaOutcomeEvaluator.from_config)


@hookimpl
def clientsim_register_termination(register: Register) -> None:
    from clientsim.termination import strategies  # noqa: PLC0415
    from clientsim.termination.goal import GoalReached  # noqa: PLC0415
    from clientsim.termination.judge import ConversationComplete  # noqa: PLC0415

    def any_of(*, strategies: Sequence[Mapping[str, Any] | str], **context: Any) -> Any:
        from clientsim.errors import ConfigError  # noqa: PLC0415
        from clientsim.factory import build_termination  # noqa: PLC0415

        if isinstance(strategies, str) or not isinstance(strategies, Sequence):
            raise ConfigError(
                "any_of takes a list of termination strategy configs under "
                f"'strategies'; got {strategies!r}"
            )
        return build_termination(list(strategies), **context)

    register("max_messages", strategies.MaxMessages)
    register("closing_phrases", strategies.ClosingPhrases)
    register("outcome_reached", strategies.OutcomeReached)
    register("deadline", strategies.Deadline)
    register("goal_reached", GoalReached)
    register("conversation_complete", ConversationComplete)
    register("any_of", any_of)


@hookimpl
def clientsim_register_turn_policies(register: Register) -> None:
    from clientsim.turns import BUILTINS  # noqa: PLC0415

    for name, kind in BUILTINS.items():
        register(name, kind)


@hookimpl
def clientsim_register_executors(register: Register) -> None:
    """Where conversations run: this process, or Ray actors (imported when built)."""
    from clientsim.runners.executors import LocalExecutor  # noqa: PLC0415
    from clientsim.runners.ray_executor import RayExecutor  # noqa: PLC0415

    register("local", LocalExecutor)
    register("ray", RayExecutor)


@hookimpl
def clientsim_register_rate_budget_backends(register: Register) -> None:
    """Where rate budgets are shared (each backend imports its client when built)."""
    from clientsim.llm.budget import builtin_backends  # noqa: PLC0415

    for name, factory in builtin_backends().items():
        register(name, factory)


@hookimpl
def clientsim_register_population_modes(register: Register) -> None:
    """The communication modes of seed 002 (one import and one line per mode)."""
    from clientsim.population.focus_group import FocusGroupMode  # noqa: PLC0415
    from clientsim.population.interview import InterviewMode  # noqa: PLC0415
    from clientsim.population.sequence import SequenceMode  # noqa: PLC0415
    from clientsim.population.survey import SurveyMode  # noqa: PLC0415

    register("survey", SurveyMode)
    register("interview", InterviewMode)
    register("sequence", SequenceMode)
    register("focus_group", FocusGroupMode)


@hookimpl
def clientsim_register_demographics(register: Register) -> None:
    from clientsim.population import demographics  # noqa: PLC0415

    for name in demographics.BUILTIN_TEMPLATES:
        register(name, functools.partial(demographics.builtin_template, name))


@hookimpl
def clientsim_register_fragments(register: Register) -> None:
    from clientsim.population.fragments import builtin_fragments  # noqa: PLC0415

    for fragment in builtin_fragments():
        register(fragment.name, functools.partial(_same, fragment))


@hookimpl
def clientsim_register_metrics(register: Register) -> None:
    from clientsim.interventions.metrics import builtin_metrics  # noqa: PLC0415

    for name, factory in builtin_metrics().items():
        register(name, factory)


@hookimpl
def clientsim_register_roles(register: Register) -> None:
    from clientsim.teams.roles import builtin_roles  # noqa: PLC0415

    for role in builtin_roles():
        register(role.key, functools.partial(_same, role))


def _same(value: object) -> object:
    return value


@hookimpl
def clientsim_register_review_stages(register: Register) -> None:
    from clientsim.review import BUILTINS  # noqa: PLC0415
    from clientsim.teams.panel import StakeholderPanel  # noqa: PLC0415

    for name, kind in BUILTINS.items():
        register(name, kind.from_config)
    register("stakeholder_panel", StakeholderPanel.from_config)


@hookimpl
def clientsim_register_channels(register: Register) -> None:
    from clientsim.channels.http import HTTPChannel  # noqa: PLC0415
    from clientsim.channels.memory import InMemoryChannel  # noqa: PLC0415
    from clientsim.channels.runnable import RunnableChannel  # noqa: PLC0415
    from clientsim.channels.target import TargetChannel  # noqa: PLC0415
    from clientsim.channels.websocket import WebSocketChannel  # noqa: PLC0415

    register("memory", InMemoryChannel)
    register("http", HTTPChannel)
    register("target", TargetChannel.from_config)
    register("runnable", RunnableChannel.from_config)
    register("websocket", WebSocketChannel)


@hookimpl
def clientsim_register_models(register: Register) -> None:
    from clientsim.llm import specs  # noqa: PLC0415

    register("offline", specs.build_offline)
    register("openai", specs.build_openai)
    register("groq", specs.build_groq)


@hookimpl
def clientsim_register_requirement_generators(register: Register) -> None:
    from clientsim.requirements import BUILTINS  # noqa: PLC0415

    for name, kind in BUILTINS.items():  # "hybrid" is built by hand, as seed 000 says
        register(name, kind.from_config)


@hookimpl
def clientsim_register_feedback_strategies(register: Register) -> None:
    from clientsim.feedback import BUILTINS  # noqa: PLC0415

    for name, kind in BUILTINS.items():
        register(name, kind.from_config)


@hookimpl
def clientsim_register_report_strategies(register: Register) -> None:
    from clientsim.reports import BUILTINS  # noqa: PLC0415

    for name, kind in BUILTINS.items():
        register(name, kind.from_config)


@hookimpl
def clientsim_register_client_pool_strategies(register: Register) -> None:
    from clientsim.clients.pool import BUILTINS  # noqa: PLC0415

    for name, kind in BUILTINS.items():
        register(name, kind.from_config)


@hookimpl
def clientsim_register_intake_strategies(register: Register) -> None:
    from clientsim.intake import BUILTINS  # noqa: PLC0415

    for name, kind in BUILTINS.items():
        register(name, kind.from_config)


@hookimpl
def clientsim_register_entry_points(register: Register) -> None:
    from clientsim.intake.entry import ENTRY_POINTS  # noqa: PLC0415

    for name, kind in ENTRY_POINTS.items():
        register(name, kind)


@hookimpl
def clientsim_register_work_entry_adapters(register: Register) -> None:
    from clientsim.intake.entry import WORK_ENTRY_ADAPTERS  # noqa: PLC0415

    for name, kind in WORK_ENTRY_ADAPTERS.items():
        register(name, kind)
