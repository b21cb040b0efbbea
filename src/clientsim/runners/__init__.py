"""Runners: engines that drive conversations, and the one path from an agent to them.

- :class:`FullSimulationRunner` (simulated time) and :class:`HybridSimulationRunner`
  (a real agent over a channel, in real time);
- :class:`GroupSimulationRunner`: N named members, one transcript, a turn policy;
- :class:`~clientsim.runners.batch.BatchRunner`: many conversations at once, stored
  as they finish, resumable;
- :func:`resolve_agent`: any form of agent into a participant or a channel;
  :func:`build_runner`: a customer and an agent into the right runner;
- :func:`simulate`: simulated customers against any agent, in one call.
"""

from clientsim.runners.agents import AgentLike, resolve_agent
from clientsim.runners.base import Runner
from clientsim.runners.batch import BatchCell, BatchResult, BatchRunner, ConversationJob
from clientsim.runners.build import build_runner
from clientsim.runners.full import FullSimulationRunner, ProgressCallback
from clientsim.runners.group import GroupMember, GroupSimulationRunner, GroupStep
from clientsim.runners.hybrid import HybridSimulationRunner
from clientsim.runners.simulate import simulate


__all__ = [
    "AgentLike",
    "BatchCell",
    "BatchResult",
    "BatchRunner",
    "ConversationJob",
    "FullSimulationRunner",
    "GroupMember",
    "GroupSimulationRunner",
    "GroupStep",
    "HybridSimulationRunner",
    "ProgressCallback",
    "Runner",
    "build_runner",
    "resolve_agent",
    "simulate",
]
