"""Runners: engines that drive conversations."""

from clientsim.runners.base import Runner
from clientsim.runners.full import FullSimulationRunner, ProgressCallback


__all__ = ["FullSimulationRunner", "ProgressCallback", "Runner"]
