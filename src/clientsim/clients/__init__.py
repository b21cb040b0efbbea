"""Simulated and human clients (seed 000)."""

from clientsim.clients.base import ClientInterface, ReviewContext, SubmitContext


__all__ = ["ClientInterface", "ReviewContext", "SubmitContext"]
