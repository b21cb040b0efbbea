"""A lone surrogate is not text: every Python surface that takes a customer's words
refuses it when it is given, naming where, instead of failing every conversation later
with ``UnicodeEncodeError``."""

from __future__ import annotations

import pytest

import clientsim
from clientsim.errors import ConfigError
from clientsim.models import Intent, ParticipantRole
from clientsim.participants import LLMParticipant


BAD = "reset my password \udc80 please"


async def _agent(message: str) -> str:
    return "Done."


@pytest.mark.parametrize("field", ["intents", "personas"])
async def test_simulate_refuses_a_lone_surrogate_in_its_texts(field):
    texts = {"intents": ["hello"], "personas": ["a typical customer"], field: [BAD]}
    with pytest.raises(ConfigError, match=rf"{field}\[0\].*lone surrogate"):
        await clientsim.simulate(_agent, **texts)


def test_an_intent_refuses_a_lone_surrogate():
    with pytest.raises(ConfigError, match="description holds a lone surrogate"):
        Intent(ParticipantRole.CUSTOMER, BAD)


@pytest.mark.parametrize("field", ["persona", "instructions", "system_prompt"])
def test_an_llm_participant_refuses_a_lone_surrogate(field):
    with pytest.raises(ConfigError, match=f"{field} must be a string.*lone surrogate"):
        LLMParticipant(ParticipantRole.CUSTOMER, "offline", **{field: BAD})


def test_real_text_outside_ascii_is_fine():
    intent = Intent(ParticipantRole.CUSTOMER, "Ma commande n'est pas arrivée 📦")
    assert intent.description.endswith("📦")
