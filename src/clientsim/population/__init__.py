"""Populations of personas and the ways a study talks to them (seed 002).

- personas, demographic templates, fragments, populations and segments;
- communication modes (``survey``, ``focus_group``, ``interview``, ``sequence``), each
  a :class:`~clientsim.population.base.PopulationMode` run by
  :func:`~clientsim.population.engine.run_mode` on the batch runner.
"""

from __future__ import annotations

from clientsim.population.base import PopulationMode
from clientsim.population.engine import Arm, StudyRun, record_responses, run_mode
from clientsim.population.interview import InterviewMode
from clientsim.population.participant import PersonaParticipant
from clientsim.population.survey import SurveyMode, ask, shuffled_options


__all__ = [
    "Arm",
    "InterviewMode",
    "PersonaParticipant",
    "PopulationMode",
    "StudyRun",
    "SurveyMode",
    "ask",
    "record_responses",
    "run_mode",
    "shuffled_options",
]
