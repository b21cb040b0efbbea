"""Turn policies of the group runner: who speaks next (see :mod:`clientsim.turns.base`).

Built in: ``round_robin`` (:class:`RoundRobin`), ``earliest`` (:class:`Earliest`),
``moderator`` (:class:`Moderator`), ``llm_selector`` (:class:`LLMSelector`) and
``addressed`` (:class:`Addressed`); plugins add more through the
``clientsim_register_turn_policies`` hook.
"""

from __future__ import annotations

from typing import Final

from clientsim.turns.addressed import Addressed, addressee
from clientsim.turns.base import MemberInfo, TurnContext, TurnPolicy
from clientsim.turns.earliest import Earliest
from clientsim.turns.llm_selector import LLMSelector
from clientsim.turns.moderator import Moderator
from clientsim.turns.round_robin import RoundRobin


__all__ = [
    "BUILTINS",
    "Addressed",
    "Earliest",
    "LLMSelector",
    "MemberInfo",
    "Moderator",
    "RoundRobin",
    "TurnContext",
    "TurnPolicy",
    "addressee",
]

BUILTINS: Final[dict[str, type[TurnPolicy]]] = {
    "round_robin": RoundRobin,
    "earliest": Earliest,
    "moderator": Moderator,
    "llm_selector": LLMSelector,
    "addressed": Addressed,
}
"""The built-in turn policies by registry name."""
