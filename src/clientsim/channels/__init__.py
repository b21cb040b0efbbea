"""Channels: how a runner reaches a real agent (seed 004's Channel and Session)."""

from clientsim.channels.base import (
    Channel,
    QueueSession,
    Session,
    SessionEvent,
    TurnEnded,
)
from clientsim.channels.memory import AgentHandle, InMemoryChannel, InMemorySession


__all__ = [
    "AgentHandle",
    "Channel",
    "InMemoryChannel",
    "InMemorySession",
    "QueueSession",
    "Session",
    "SessionEvent",
    "TurnEnded",
]
