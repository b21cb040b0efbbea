"""How a team session is put together: its members, policy, evaluator and store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clientsim import factory
from clientsim.errors import ConfigError
from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.models import Conversation, Outcome, Outcomes, RoleTemplate, TokenUsage
from clientsim.models.frozen import thaw
from clientsim.store.base import SimulationStore
from clientsim.teams.scenario import TeamConfig
from clientsim.turns.base import TurnPolicy


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "ReplayedOutcome",
    "evaluator_of",
    "open_store_for",
    "policy_of",
    "seeded",
    "team_of",
]


def team_of(
    entries: Sequence[str | RoleTemplate | Mapping[str, Any]],
) -> list[tuple[str, RoleTemplate]]:
    """``(name, role)`` pairs from role names, templates and role mappings."""
    from clientsim.teams.roles import load_team  # noqa: PLC0415

    members: list[tuple[str, RoleTemplate]] = []
    taken: set[str] = set()
    for template in load_team(list(entries)):
        name, number = template.name, 2
        while name in taken:
            name, number = f"{template.name} {number}", number + 1
        taken.add(name)
        members.append((name, template))
    if not members:
        raise ConfigError("a team needs at least one role; got an empty team")
    return members


def seeded(model: str | BaseChatModel, seed: int) -> str | BaseChatModel:
    """The offline model plays the session's seed: ``"offline"`` becomes
    ``"offline:<seed>"``, so another seed gives another discussion."""
    return f"offline:{seed}" if model == "offline" else model


def policy_of(config: object, model: str | BaseChatModel) -> TurnPolicy:
    """The turn policy a team file names; ``llm_selector`` uses the session's model
    unless it names its own."""
    data = thaw(config)
    if isinstance(data, dict) and data.get("strategy") == "llm_selector":
        return factory.build_turn_policy(_with_model(data, model))
    return factory.build_turn_policy(data)


def _with_model(data: dict[str, Any], model: str | BaseChatModel) -> dict[str, Any]:
    """``data`` with the session's model where it names none (a model object is
    passed as is: a file cannot hold one)."""
    if "model" not in data:
        return {**data, "model": model}
    return data


def evaluator_of(
    config: TeamConfig, model: str | BaseChatModel
) -> OutcomeEvaluator | None:
    """The outcome evaluator a team file names: ``llm`` (on the session's model) by
    default when the scenario has outcomes, none when it has none."""
    spec = config.outcome_evaluator
    if spec is None:
        if not config.scenario.outcomes:
            return None
        spec = "llm"
    data = thaw(spec)
    if data == "llm":
        data = {"strategy": "llm"}
    if isinstance(data, dict) and data.get("strategy") == "llm":
        data = _with_model(data, model)
    return factory.build_outcome_evaluator(data)


async def open_store_for(
    store: SimulationStore | str | Path | None,
) -> tuple[SimulationStore, bool]:
    """The store to use, and whether the session opened it (and so closes it)."""
    if isinstance(store, SimulationStore):
        return store, False
    from clientsim.store import open_store  # noqa: PLC0415

    if store is None:
        import os  # noqa: PLC0415

        if not os.environ.get("DATABASE_URL"):
            from clientsim.store import InMemoryStore  # noqa: PLC0415

            return InMemoryStore(), True
    return open_store(None if store is None else str(store)), True


class ReplayedOutcome(OutcomeEvaluator):
    """An outcome evaluator that answers for the replayed part of a session from its
    record (no model call) and asks ``evaluator`` about everything after it; it notes
    when an outcome is first reached, for the record.

    Args:
        evaluator: the session's evaluator.
        replayed: how many messages were replayed.
        outcome: the outcome the record says was reached, if one was.
        reached_at: how many messages the conversation had when it was reached.
    """

    def __init__(
        self,
        evaluator: OutcomeEvaluator,
        *,
        replayed: int,
        outcome: Outcome | None,
        reached_at: int | None,
    ) -> None:
        self.evaluator = evaluator
        self.replayed = replayed
        self.outcome = outcome
        self.reached_at = reached_at

    @property
    def token_usage(self) -> TokenUsage:
        """The wrapped evaluator's token usage (none is spent on the replay)."""
        usage = getattr(self.evaluator, "token_usage", None)
        return usage if isinstance(usage, TokenUsage) else TokenUsage()

    async def evaluate(
        self, conversation: Conversation, outcomes: Outcomes
    ) -> Outcome | None:
        count = len(conversation.messages)
        if count <= self.replayed:
            reached = self.reached_at is not None and count >= self.reached_at
            return self.outcome if reached else None
        outcome = await self.evaluator.evaluate(conversation, outcomes)
        if outcome is not None and self.reached_at is None:
            self.outcome, self.reached_at = outcome, count
        return outcome
