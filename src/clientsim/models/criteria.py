"""Verdicts of a judge that reads a transcript against written criteria.

Pure values: :class:`~clientsim.evaluation.criteria.CriteriaJudge` makes them, a
:class:`~clientsim.models.ConversationResult` carries them (``result.criteria``), and
stores, traces and assertions read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import attrs

from clientsim._validators import typed
from clientsim.errors import ConfigError


__all__ = [
    "CriteriaVerdict",
    "CriterionVerdict",
    "PairwiseCriterionVerdict",
    "PairwiseVerdict",
    "Winner",
]

Winner = Literal["a", "b", "tie"]
"""Which transcript of a pairwise comparison did better: ``"a"``, ``"b"`` or ``"tie"``."""

_WINNERS = ("a", "b", "tie")


def _indices(value: Iterable[int]) -> tuple[int, ...]:
    items = tuple(value)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or item < 0:
            raise ConfigError(
                f"messages must be 0-based message indices (ints >= 0); got {items!r}"
            )
    return items


@attrs.frozen
class CriterionVerdict:
    """One criterion, judged.

    Example:
        >>> verdict = CriterionVerdict("the agent apologises", True, "said sorry", (1,))
        >>> verdict.passed, verdict.messages
        (True, (1,))

    Attributes:
        criterion: the criterion as written.
        passed: whether the conversation meets it.
        reason: a short reason, in words.
        messages: 0-based indices into ``conversation.messages`` the verdict rests on
            (empty when it rests on an absence).
    """

    criterion: str = attrs.field(validator=typed(str))
    passed: bool = attrs.field(validator=typed(bool))
    reason: str = attrs.field(validator=typed(str))
    messages: tuple[int, ...] = attrs.field(default=(), converter=_indices)


def _verdicts(value: Iterable[CriterionVerdict]) -> tuple[CriterionVerdict, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, CriterionVerdict):
            raise ConfigError(
                f"verdicts must be CriterionVerdict values; got {type(item).__name__}"
            )
    return items


@attrs.frozen
class CriteriaVerdict:
    """Every criterion of one transcript, judged.

    Example:
        >>> verdict = CriteriaVerdict((
        ...     CriterionVerdict("the agent apologises", True, "said sorry", (1,)),
        ...     CriterionVerdict("the agent asks for the order number", False, "never asked"),
        ... ))
        >>> verdict.passed, [v.criterion for v in verdict.failed]
        (False, ['the agent asks for the order number'])
    """

    verdicts: tuple[CriterionVerdict, ...] = attrs.field(converter=_verdicts)

    @property
    def passed(self) -> bool:
        """``True`` when every criterion passed (and so when there are none)."""
        return all(verdict.passed for verdict in self.verdicts)

    @property
    def failed(self) -> tuple[CriterionVerdict, ...]:
        """The criteria that did not pass, in order."""
        return tuple(verdict for verdict in self.verdicts if not verdict.passed)

    def get(self, criterion: str) -> CriterionVerdict | None:
        """The verdict on ``criterion`` (as written), or ``None`` if it was not judged."""
        for verdict in self.verdicts:
            if verdict.criterion == criterion:
                return verdict
        return None


def _winner(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if value not in _WINNERS:
        raise ConfigError(
            f"{attribute.name} must be one of 'a', 'b', 'tie'; got {value!r}"
        )


@attrs.frozen
class PairwiseCriterionVerdict:
    """One criterion, compared across two transcripts.

    Attributes:
        criterion: the criterion as written.
        winner: ``"a"``, ``"b"`` or ``"tie"``.
        reason: a short reason, in words.
    """

    criterion: str = attrs.field(validator=typed(str))
    winner: Winner = attrs.field(validator=_winner)
    reason: str = attrs.field(validator=typed(str))


def _pairwise(
    value: Iterable[PairwiseCriterionVerdict],
) -> tuple[PairwiseCriterionVerdict, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, PairwiseCriterionVerdict):
            raise ConfigError(
                "verdicts must be PairwiseCriterionVerdict values; got "
                f"{type(item).__name__}"
            )
    return items


@attrs.frozen
class PairwiseVerdict:
    """Two transcripts compared on every criterion.

    The overall :attr:`winner` is the transcript that won more criteria (``"tie"``
    when they won as many).

    Example:
        >>> PairwiseVerdict((
        ...     PairwiseCriterionVerdict("the agent apologises", "a", "only A did"),
        ...     PairwiseCriterionVerdict("the agent greets", "tie", "both did"),
        ... )).winner
        'a'
    """

    verdicts: tuple[PairwiseCriterionVerdict, ...] = attrs.field(converter=_pairwise)

    @property
    def wins(self) -> dict[Winner, int]:
        """How many criteria each side won, and how many were ties."""
        counts: dict[Winner, int] = {"a": 0, "b": 0, "tie": 0}
        for verdict in self.verdicts:
            counts[verdict.winner] += 1
        return counts

    @property
    def winner(self) -> Winner:
        """``"a"`` or ``"b"``, whichever won more criteria; else ``"tie"``."""
        wins = self.wins
        if wins["a"] == wins["b"]:
            return "tie"
        return "a" if wins["a"] > wins["b"] else "b"
