"""The feedback contract (seed 000) and the offline judging heuristics behind it.

A :class:`FeedbackStrategy` turns a deliverable into :class:`~clientsim.models.client.
ClientFeedback`. Without a model, every built-in strategy judges with the same
deterministic heuristic, defined here:

* A criterion's **coverage** is the share of its content words (lower-cased words of
  three letters or more, minus common stop words, with a plural ``s`` dropped) that
  appear in the deliverable. A criterion without content words is covered.
* A criterion is **met** when its coverage reaches :func:`threshold`, which rises with
  the client's ``strictness_level`` (0.35 at 0.0, 0.85 at 1.0).
* A strict client is also sometimes **picky** (:func:`picky_chance`): it rejects work
  that would otherwise pass, naming the weakest criterion.

Every random choice comes from :func:`review_rng`, seeded from the review's seed, the
client and the deliverable, so the same review gives the same feedback every time.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from clientsim._validators import check_number
from clientsim.errors import ConfigError


if TYPE_CHECKING:
    from clientsim.models.client import (
        ClientFeedback,
        ClientProfile,
        TaskRequirement,
    )
    from clientsim.models.contexts import ReviewContext


__all__ = [
    "FeedbackStrategy",
    "content_words",
    "coverage",
    "criteria_of",
    "picky_chance",
    "review_rng",
    "threshold",
]

_WORD: Final = re.compile(r"[a-z0-9]+")
_STOP: Final = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "into",
        "onto",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "not",
        "but",
        "all",
        "any",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "must",
        "may",
        "might",
        "its",
        "it's",
        "our",
        "your",
        "their",
        "them",
        "they",
        "you",
        "his",
        "her",
        "him",
        "she",
        "who",
        "whom",
        "which",
        "what",
        "when",
        "where",
        "why",
        "how",
        "than",
        "then",
        "there",
        "here",
        "also",
        "each",
        "every",
        "per",
        "via",
        "use",
        "used",
        "using",
        "able",
        "only",
        "just",
        "more",
        "most",
        "some",
        "such",
        "very",
        "been",
        "being",
        "does",
        "did",
        "done",
        "make",
        "makes",
        "made",
        "get",
        "gets",
        "got",
        "out",
        "off",
        "over",
        "under",
        "about",
    ]
)


@runtime_checkable
class FeedbackStrategy(Protocol):
    """Judges a deliverable for a client and says whether the client accepts it.

    Example:
        >>> from clientsim.models.client import ClientFeedback
        >>> class AlwaysYes:
        ...     async def evaluate(self, context, profile):
        ...         return ClientFeedback(accepted=True, reason="fine",
        ...                               client_id=profile.client_id)
        >>> isinstance(AlwaysYes(), FeedbackStrategy)
        True
    """

    async def evaluate(
        self, context: ReviewContext, profile: ClientProfile
    ) -> ClientFeedback:
        """The client's feedback on ``context.deliverable``.

        Args:
            context: the task, its requirement and the deliverable to judge.
            profile: the client judging (its strictness drives the verdict).
        """
        ...


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str) -> frozenset[str]:
    """The content words of ``text``: lower-cased, stop words and short words dropped.

    Example:
        >>> sorted(content_words("Add tests for the login forms"))
        ['add', 'form', 'login', 'test']
    """
    return frozenset(
        _stem(word)
        for word in _WORD.findall(text.lower())
        if len(word) >= 3 and word not in _STOP
    )


def coverage(criterion: str, deliverable: str | frozenset[str]) -> float:
    """The share (0.0-1.0) of ``criterion``'s content words found in ``deliverable``.

    Args:
        criterion: an acceptance criterion.
        deliverable: the deliverable's text, or its :func:`content_words`.

    Example:
        >>> coverage("Handles empty input", "It handles the empty case and any input.")
        1.0
    """
    wanted = content_words(criterion)
    if not wanted:
        return 1.0
    found = (
        deliverable
        if isinstance(deliverable, frozenset)
        else content_words(deliverable)
    )
    return len(wanted & found) / len(wanted)


def threshold(strictness: float) -> float:
    """The coverage a criterion needs to count as met, for a client this strict.

    Example:
        >>> threshold(0.0), threshold(1.0)
        (0.35, 0.85)
    """
    return round(0.35 + 0.5 * strictness, 6)


def picky_chance(strictness: float) -> float:
    """How often a client this strict rejects work that would otherwise pass.

    Example:
        >>> picky_chance(0.0), picky_chance(1.0)
        (0.0, 0.2)
    """
    return 0.2 * strictness * strictness


def criteria_of(requirement: TaskRequirement) -> tuple[str, ...]:
    """The criteria a deliverable is judged against: the acceptance criteria, or the
    requirement's title when it has none."""
    return requirement.acceptance_criteria or (requirement.title,)


def review_rng(context: ReviewContext, client_id: str, *extra: str) -> random.Random:
    """A random generator for one review, the same in every process.

    It is seeded from ``context.seed``, the client, the task, the attempt, the
    deliverable and ``extra``.
    """
    parts = (
        client_id,
        context.task.task_id,
        str(context.attempt),
        context.deliverable,
        *extra,
    )
    digest = zlib.crc32("\x1f".join(parts).encode("utf-8"), context.seed & 0xFFFFFFFF)
    return random.Random(digest)


def check_unit(name: str, value: object) -> float:
    """``value`` if it is a number from 0.0 to 1.0.

    Raises:
        ConfigError: it is not.
    """
    return check_number(name, value, low=0, high=1)


def check_client_id(value: object) -> str | None:
    """``value`` if it is ``None`` or a non-blank string.

    Raises:
        ConfigError: it is not.
    """
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(
            f"client_id must be a non-blank string or None; got {value!r}"
        )
    return value


def quoted(items: Sequence[str]) -> str:
    """``items`` quoted and joined with commas, for reasons."""
    return ", ".join(repr(item) for item in items)
