"""Simulated and human clients (seed 000)."""

from clientsim.clients.ai import AIClient
from clientsim.clients.base import ClientInterface, ReviewContext, SubmitContext
from clientsim.clients.human import (
    ConsoleHuman,
    DraftedReviewContext,
    HumanClient,
    HumanTimeoutError,
    Question,
    QueueHuman,
)
from clientsim.clients.hybrid import HybridClient


__all__ = [
    "AIClient",
    "ClientInterface",
    "ConsoleHuman",
    "DraftedReviewContext",
    "HumanClient",
    "HumanTimeoutError",
    "HybridClient",
    "Question",
    "QueueHuman",
    "ReviewContext",
    "SubmitContext",
]
