"""Populations of personas and the ways a study talks to them (seed 002).

- personas, demographic templates, fragments, populations and segments;
- communication modes (``survey``, ``focus_group``, ``interview``, ``sequence``), each
  a :class:`~clientsim.population.base.PopulationMode` run by
  :func:`~clientsim.population.engine.run_mode` on the batch runner.
"""

from __future__ import annotations

from clientsim.population.base import PopulationMode
from clientsim.population.direct import talk_to, think
from clientsim.population.engine import Arm, StudyRun, record_responses, run_mode
from clientsim.population.focus_group import FocusGroupMode, group_sizes


__all__ = ["Arm", "PopulationMode", "StudyRun", "record_responses", "run_mode"]
__all__ += ["FocusGroupMode", "group_sizes", "talk_to", "think"]
