"""A judge that compares two transcripts (A and B) on written criteria.

Judges prefer whichever transcript they read first (or second) more often than
chance: *position bias*. So :meth:`PairwiseJudge.compare` asks its model twice, once
with A shown first and once with B shown first, and a criterion is won only when both
orders name the same transcript; when they disagree (or either says tie) the criterion
is a tie, and its reason says the orders disagreed. The overall winner is the side
that won more criteria.

With the offline model each transcript is judged with the keyword rules of
:mod:`clientsim.evaluation.offline_criteria`: a criterion is won by the transcript
that meets it when the other does not, so both orders always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.evaluation.criteria import WrittenCriteriaJudge, messages_of
from clientsim.evaluation.offline_criteria import (
    PAIRWISE_TITLE,
    criteria_prompt,
    transcript_block,
)
from clientsim.models import Conversation
from clientsim.models.criteria import PairwiseCriterionVerdict, PairwiseVerdict, Winner


__all__ = ["PairwiseCriterionVerdict", "PairwiseJudge", "PairwiseVerdict"]

_SYSTEM: Final = """\
You compare two chats between a customer and a support agent against written \
criteria. For every numbered criterion say which transcript meets it better: "first", \
"second", or "tie" when they are equally good or equally bad, with a short reason \
(one sentence). Judge only from what was said, not from length or from order.

{criteria}"""

_SCHEMA: Final[dict[str, Any]] = {
    "title": PAIRWISE_TITLE,
    "description": "Which transcript meets each criterion better.",
    "type": "object",
    "properties": {
        "verdicts": {
            "type": "array",
            "description": "One entry per criterion, in order.",
            "items": {
                "type": "object",
                "properties": {
                    "criterion": {
                        "type": "integer",
                        "description": "The criterion's number.",
                    },
                    "winner": {"type": "string", "enum": ["first", "second", "tie"]},
                    "reason": {"type": "string", "description": "One sentence: why."},
                },
                "required": ["criterion", "winner", "reason"],
            },
        }
    },
    "required": ["verdicts"],
}


class PairwiseJudge(WrittenCriteriaJudge):
    """Compares two transcripts on written criteria (see the module docstring).

    Example:
        >>> import anyio
        >>> from datetime import datetime, UTC
        >>> from clientsim import Conversation, Message, ParticipantRole
        >>> now = datetime(2026, 1, 1, tzinfo=UTC)
        >>> def chat(reply):
        ...     return Conversation((Message("My order is late", now, ParticipantRole.CUSTOMER),
        ...                          Message(reply, now, ParticipantRole.AGENT)))
        >>> judge = PairwiseJudge(["the agent apologises", "the agent asks for the order number"])
        >>> verdict = anyio.run(judge.compare, chat("Sorry! Your order number?"), chat("Wait."))
        >>> verdict.winner, [v.winner for v in verdict.verdicts]
        ('a', ['a', 'a'])

    Args:
        criteria: the criteria, each one line of plain words.
        model: a chat model with structured output, or a spec; ``"offline"`` uses the
            keyword rules.
        seed: the model's seed, for models that take one.
        timeouts: ``timeouts.model_call`` bounds each call.
    """

    schema = _SCHEMA

    async def _ask(
        self, first: Conversation, second: Conversation
    ) -> list[tuple[str, str]]:
        """``(winner, reason)`` per criterion, ``winner`` in first/second/tie."""
        from clientsim.llm import Turn  # noqa: PLC0415

        system = _SYSTEM.format(criteria=criteria_prompt(self.criteria))
        text = (
            f"Transcript first:\n{transcript_block(messages_of(first))}\n\n"
            f"Transcript second:\n{transcript_block(messages_of(second))}"
        )
        answer, usage = await self._structured()(
            [Turn("system", system), Turn("user", text)]
        )
        self.token_usage = self.token_usage + usage
        return _read(answer, self.criteria)

    async def compare(self, a: Conversation, b: Conversation) -> PairwiseVerdict:
        """Compare ``a`` and ``b``: the model is asked in both orders.

        Raises:
            ModelError: the model failed or timed out.
            InvalidModelOutputError: an answer misses or repeats a criterion, or
                names no allowed winner.
        """
        for name, value in (("a", a), ("b", b)):
            if not isinstance(value, Conversation):
                raise ConfigError(
                    f"compare() takes two Conversations; {name} is a "
                    f"{type(value).__name__}"
                )
        forward = await self._ask(a, b)
        backward = await self._ask(b, a)
        verdicts = []
        for criterion, (one, why_one), (two, why_two) in zip(
            self.criteria, forward, backward, strict=True
        ):
            first: Winner = _side(one, swapped=False)
            second: Winner = _side(two, swapped=True)
            if first == second:
                verdicts.append(PairwiseCriterionVerdict(criterion, first, why_one))
            else:
                verdicts.append(
                    PairwiseCriterionVerdict(
                        criterion,
                        "tie",
                        f"the two orders disagreed (A first: {first}, B first: "
                        f"{second}), so it counts as a tie: {why_one} / {why_two}",
                    )
                )
        return PairwiseVerdict(tuple(verdicts))


def _side(answer: str, *, swapped: bool) -> Winner:
    if answer == "tie":
        return "tie"
    first_is_a = not swapped
    return "a" if (answer == "first") == first_is_a else "b"


def _read(answer: dict[str, Any], criteria: Sequence[str]) -> list[tuple[str, str]]:
    items = answer.get("verdicts")
    if not isinstance(items, list):
        raise InvalidModelOutputError(
            f"the pairwise judge answered without a list of verdicts: {answer!r}"
        )
    found: dict[int, tuple[str, str]] = {}
    for item in items:
        number = item.get("criterion") if isinstance(item, dict) else None
        if (
            isinstance(number, bool)
            or not isinstance(number, int)
            or not 1 <= number <= len(criteria)
            or number in found
        ):
            raise InvalidModelOutputError(
                f"the pairwise judge answered an entry for no criterion, an unknown "
                f"one or a repeated one: {item!r}; criteria are numbered 1 to "
                f"{len(criteria)}"
            )
        winner, reason = item.get("winner"), item.get("reason")
        if winner not in ("first", "second", "tie") or not isinstance(reason, str):
            raise InvalidModelOutputError(
                f"the pairwise judge's verdict on {criteria[number - 1]!r} needs a "
                f"winner of 'first', 'second' or 'tie' and a string reason; got {item!r}"
            )
        found[number] = (winner, reason)
    missing = [n for n in range(1, len(criteria) + 1) if n not in found]
    if missing:
        raise InvalidModelOutputError(
            f"the pairwise judge gave no verdict on criteria {missing}"
        )
    return [found[n] for n in range(1, len(criteria) + 1)]
