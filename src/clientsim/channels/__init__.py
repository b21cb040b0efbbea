"""Channels: how a runner reaches a real agent (seed 004's Channel and Session).

``InMemoryChannel`` (tests), ``TargetChannel`` (a Python callable or ``module:function``),
``RunnableChannel`` (any LangChain Runnable, e.g. a LangGraph graph), ``HTTPChannel``
(an OpenAI-compatible endpoint or a JSON webhook) and ``WebSocketChannel``. The
transports load on first use, so ``import clientsim`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from clientsim.channels.base import (
    AgentInterrupted,
    Channel,
    QueueSession,
    Session,
    SessionEvent,
    TurnEnded,
)
from clientsim.channels.memory import AgentHandle, InMemoryChannel, InMemorySession


if TYPE_CHECKING:
    from clientsim.channels.http import HTTPChannel
    from clientsim.channels.runnable import RunnableChannel
    from clientsim.channels.target import TargetChannel
    from clientsim.channels.websocket import WebSocketChannel

__all__ = [
    "AgentHandle",
    "AgentInterrupted",
    "Channel",
    "HTTPChannel",
    "InMemoryChannel",
    "InMemorySession",
    "QueueSession",
    "RunnableChannel",
    "Session",
    "SessionEvent",
    "TargetChannel",
    "TurnEnded",
    "WebSocketChannel",
]

_LAZY = {
    "HTTPChannel": "clientsim.channels.http",
    "RunnableChannel": "clientsim.channels.runnable",
    "TargetChannel": "clientsim.channels.target",
    "WebSocketChannel": "clientsim.channels.websocket",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clientsim.channels' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
