"""Participants: the two sides of a conversation."""

from clientsim.participants.base import Participant
from clientsim.participants.llm import END_MARKER, WAIT_MARKER, LLMParticipant
from clientsim.participants.scripted import ScriptedParticipant
from clientsim.participants.timing import Pacer, TypingModel, landed


__all__ = [
    "END_MARKER",
    "WAIT_MARKER",
    "LLMParticipant",
    "Pacer",
    "Participant",
    "ScriptedParticipant",
    "TypingModel",
    "landed",
]
