"""The results of simulated conversations of one persona x intent grid, as
:func:`clientsim.simulate` (and the pytest plugin's ``simulate`` fixture) returns them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from clientsim.models.conversation import ConversationResult


__all__ = ["SimulatedRun", "SimulationRuns"]


@attrs.frozen(kw_only=True)
class SimulatedRun:
    """One simulated conversation and how to reproduce it.

    Attributes:
        persona: the simulated customer's persona.
        intent: what the customer wanted.
        iteration: which repetition of this persona and intent, from 0.
        seed: the conversation's seed (derived from the run seed and its cell).
        result: the conversation, its ending and its outcome.
    """

    persona: str
    intent: str
    iteration: int
    seed: int
    result: ConversationResult

    @property
    def outcome(self) -> str | None:
        """The name of the outcome reached, or ``None``."""
        outcome = self.result.outcome
        return None if outcome is None else outcome.name

    @property
    def task(self) -> tuple[str, str]:
        """The scenario this run repeats: ``(persona, intent)``."""
        return (self.persona, self.intent)


def _to_runs(value: Iterable[SimulatedRun]) -> tuple[SimulatedRun, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class SimulationRuns:
    """The results of a batch of simulated conversations.

    Iterating yields the :class:`SimulatedRun` s in grid order.

    Example:
        >>> runs = SimulationRuns(runs=(), seed=7, threshold=0.9)
        >>> len(runs), runs.seed
        (0, 7)

    Attributes:
        runs: one entry per conversation.
        seed: the run seed every conversation's seed was derived from.
        threshold: the default rate the assertion helpers require (from the
            ``clientsim`` marker), or ``None``.
    """

    runs: tuple[SimulatedRun, ...] = attrs.field(converter=_to_runs)
    seed: int = 0
    threshold: float | None = None

    def __iter__(self) -> Iterator[SimulatedRun]:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    @property
    def results(self) -> tuple[ConversationResult, ...]:
        """Every conversation's result, in grid order."""
        return tuple(run.result for run in self.runs)

    def by_task(self) -> dict[tuple[str, str], list[SimulatedRun]]:
        """The runs grouped by ``(persona, intent)``, in grid order."""
        groups: dict[tuple[str, str], list[SimulatedRun]] = {}
        for run in self.runs:
            groups.setdefault(run.task, []).append(run)
        return groups
