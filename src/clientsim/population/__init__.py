"""Populations of personas and the ways a study talks to them (seed 002).

- personas, demographic templates, fragments, populations and segments;
- communication modes (``survey``, ``focus_group``, ``interview``, ``sequence``), each
  a :class:`~clientsim.population.base.PopulationMode` run by
  :func:`~clientsim.population.engine.run_mode` on the batch runner;
- results: fields extracted from each transcript (:func:`extract_fields`,
  :func:`with_extraction`) and :class:`StudyResults` (individual and aggregate
  results, reweighting, themes, JSON/CSV/pandas export).
"""

from __future__ import annotations

from clientsim.population.base import PopulationMode
from clientsim.population.engine import Arm, StudyRun, record_responses, run_mode
from clientsim.population.extract import (
    BUILTIN_FIELDS,
    ExtractionMode,
    extract_fields,
    with_extraction,
)
from clientsim.population.results import StudyResults
from clientsim.population.themes import Theme


__all__ = [
    "BUILTIN_FIELDS",
    "Arm",
    "ExtractionMode",
    "PopulationMode",
    "StudyResults",
    "StudyRun",
    "Theme",
    "extract_fields",
    "record_responses",
    "run_mode",
    "with_extraction",
]
