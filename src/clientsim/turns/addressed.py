"""``addressed``: a message that names a member hands them the turn.

A member is named by ``@Name`` (or ``@Role``, spaces optional: ``@ProductManager``),
or by its name or role title followed by a comma, a question mark or a colon
(``"Designer, what do you think?"``, ``"What now, Dana?"``). When the last message
names nobody (or the one it names passes), another policy decides: the ``fallback``
(``round_robin`` by default).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from clientsim.errors import ConfigError
from clientsim.models import Message
from clientsim.registry import StrategyConfig
from clientsim.turns._order import last_speaker
from clientsim.turns.base import MemberInfo, TurnContext, TurnPolicy


__all__ = ["Addressed", "addressee"]

_CALLED: Final = r"(?<![\w@]){}\s*[,?:]"
_AT: Final = r"(?<!\w)@{}(?!\w)"


def _forms(member: MemberInfo) -> list[str]:
    forms = [member.name]
    if member.role and member.role != member.name:
        forms.append(member.role)
    return forms


def _spaced(form: str) -> str:
    """``form`` as a pattern whose spaces are optional (or underscores)."""
    return r"[\s_]*".join(re.escape(part) for part in form.split())


def addressee(
    text: str, members: Sequence[MemberInfo], *, exclude: str | None = None
) -> str | None:
    """The name of the member ``text`` addresses, if any (see the module docs); the
    one named first when several are; never ``exclude`` (the message's author).

    Example:
        >>> team = [MemberInfo("Ana", "CEO"), MemberInfo("Dana", "Designer")]
        >>> addressee("Designer, what do you think?", team)
        'Dana'
        >>> addressee("Over to you @ana", team)
        'Ana'
        >>> addressee("The designer said so.", team) is None
        True
    """
    best: tuple[int, int, str] | None = None
    for order, member in enumerate(members):
        if member.name == exclude:
            continue
        for form in _forms(member):
            spaced = _spaced(form)
            for pattern in (_AT.format(spaced), _CALLED.format(spaced)):
                found = re.search(pattern, text, re.IGNORECASE)
                if found is not None and (
                    best is None or (found.start(), order) < best[:2]
                ):
                    best = (found.start(), order, member.name)
    return None if best is None else best[2]


class Addressed(TurnPolicy):
    """A member the last message names speaks next; else the ``fallback`` decides.

    Example:
        >>> Addressed()
        Addressed(fallback='round_robin')

    Args:
        fallback: the policy for a message that names nobody: a turn policy, or a
            name or config of one (``"earliest"``, ``{"strategy": "moderator",
            "moderator": "Chair"}``).
    """

    def __init__(self, fallback: TurnPolicy | StrategyConfig = "round_robin") -> None:
        if isinstance(fallback, TurnPolicy):
            self.fallback = fallback
        elif fallback == "addressed" or (
            isinstance(fallback, dict) and fallback.get("strategy") == "addressed"
        ):
            raise ConfigError(
                "addressed: fallback must be another turn policy (round_robin, "
                "earliest, moderator, llm_selector, ...), not addressed itself"
            )
        else:
            from clientsim.factory import build_turn_policy  # noqa: PLC0415

            self.fallback = build_turn_policy(fallback)
        self._config = fallback

    def __repr__(self) -> str:
        return f"Addressed(fallback={self._config!r})"

    def check_members(self, members: Sequence[MemberInfo]) -> None:
        """Check the fallback against the group (a moderator must be a member)."""
        check = getattr(self.fallback, "check_members", None)
        if callable(check):
            check(members)

    async def take_turn(self, context: TurnContext) -> Message | None:
        transcript = context.transcript
        last = transcript.last_message
        if last is not None:
            named = addressee(
                last.content, context.members, exclude=last_speaker(transcript)
            )
            if named is not None:
                message = await context.ask(named)
                if message is not None:
                    return message
        return await self.fallback.take_turn(context)
