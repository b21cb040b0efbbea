"""Runners: engines that drive conversations."""

from clientsim.runners.base import Runner
from clientsim.runners.full import FullSimulationRunner, ProgressCallback
from clientsim.runners.hybrid import HybridSimulationRunner


__all__ = [
    "FullSimulationRunner",
    "HybridSimulationRunner",
    "ProgressCallback",
    "Runner",
]
