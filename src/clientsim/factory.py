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

from collections.abc import Sequence
from typing import Final

from clientsim.channels.base import Channel
from clientsim.errors import ConfigError
from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.participants.base import Participant
from clientsim.registry import Registry, StrategyConfig
from clientsim.termination.base import TerminationStrategy


__all__ = [
    "build_channel",
    "build_outcome_evaluator",
    "build_participant",
    "build_termination",
    "channels",
    "outcome_evaluators",
    "participants",
    "termination_strategies",
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
