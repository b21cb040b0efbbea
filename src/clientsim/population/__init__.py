"""Populations of personas and the ways a study talks to them (seed 002).

- personas, demographic templates, fragments, populations and segments;
- communication modes (``survey``, ``focus_group``, ``interview``, ``sequence``), each
  a :class:`~clientsim.population.base.PopulationMode` run by
  :func:`~clientsim.population.engine.run_mode` on the batch runner.
"""

from __future__ import annotations

from clientsim.population.base import PopulationMode
from clientsim.population.demographics import (
    DemographicTemplate,
    demographic_template,
    demographic_templates,
    load_demographic_template,
)
from clientsim.population.engine import Arm, StudyRun, record_responses, run_mode
from clientsim.population.enrich import enrich
from clientsim.population.fragments import (
    fragments,
    get_fragment,
    load_fragments,
    register_fragment,
)
from clientsim.population.generate import Population, generate_population
from clientsim.population.profile import PopulationProfile
from clientsim.population.spec import PopulationSpec, SegmentSpec, load_population_spec


__all__ = ["Arm", "PopulationMode", "StudyRun", "record_responses", "run_mode"]
__all__ += [
    "DemographicTemplate",
    "Population",
    "PopulationProfile",
    "PopulationSpec",
    "SegmentSpec",
    "demographic_template",
    "demographic_templates",
    "enrich",
    "fragments",
    "generate_population",
    "get_fragment",
    "load_demographic_template",
    "load_fragments",
    "load_population_spec",
    "register_fragment",
]
