"""Populations of personas and the ways a study talks to them (seed 002).

- personas, demographic templates, fragments, populations and segments
  (:func:`generate_population`, :class:`Population`, :class:`PopulationProfile`);
- communication modes (``survey``, ``focus_group``, ``interview``, ``sequence``), each
  a :class:`~clientsim.population.base.PopulationMode` run by :func:`run_mode` on the
  batch runner;
- results: fields extracted from each transcript (:func:`extract_fields`,
  :func:`with_extraction`) and :class:`StudyResults` (individual and aggregate
  results, reweighting, themes, JSON/CSV/pandas export);
- study files and session control (:func:`load_study`, :func:`begin`,
  :class:`StudySession`: checkpoint, restore, end).
"""

from __future__ import annotations

from clientsim.population.base import PopulationMode
from clientsim.population.control import Checkpoint, StudySession, begin
from clientsim.population.demographics import (
    DemographicTemplate,
    demographic_template,
    demographic_templates,
    load_demographic_template,
)
from clientsim.population.direct import talk_to, think
from clientsim.population.engine import Arm, StudyRun, record_responses, run_mode
from clientsim.population.enrich import enrich
from clientsim.population.extract import (
    BUILTIN_FIELDS,
    ExtractionMode,
    extract_fields,
    with_extraction,
)
from clientsim.population.focus_group import FocusGroupMode, group_sizes
from clientsim.population.fragments import (
    fragments,
    get_fragment,
    load_fragments,
    register_fragment,
)
from clientsim.population.generate import Population, generate_population
from clientsim.population.interview import InterviewMode
from clientsim.population.participant import PersonaParticipant
from clientsim.population.profile import PopulationProfile
from clientsim.population.results import StudyResults
from clientsim.population.sequence import SequenceMode
from clientsim.population.spec import PopulationSpec, SegmentSpec, load_population_spec
from clientsim.population.state import PersonaState
from clientsim.population.study import StudyConfig, load_study
from clientsim.population.survey import SurveyMode, ask, shuffled_options
from clientsim.population.themes import Theme
from clientsim.population.triggers import Trigger


__all__ = [
    "BUILTIN_FIELDS",
    "Arm",
    "Checkpoint",
    "DemographicTemplate",
    "ExtractionMode",
    "FocusGroupMode",
    "InterviewMode",
    "PersonaParticipant",
    "PersonaState",
    "Population",
    "PopulationMode",
    "PopulationProfile",
    "PopulationSpec",
    "SegmentSpec",
    "SequenceMode",
    "StudyConfig",
    "StudyResults",
    "StudyRun",
    "StudySession",
    "SurveyMode",
    "Theme",
    "Trigger",
    "ask",
    "begin",
    "demographic_template",
    "demographic_templates",
    "enrich",
    "extract_fields",
    "fragments",
    "generate_population",
    "get_fragment",
    "group_sizes",
    "load_demographic_template",
    "load_fragments",
    "load_population_spec",
    "load_study",
    "record_responses",
    "register_fragment",
    "run_mode",
    "shuffled_options",
    "talk_to",
    "think",
    "with_extraction",
]
