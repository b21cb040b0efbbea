"""Intervention tests (A/B/n with a control group) on populations of personas.

- :class:`~clientsim.models.intervention.Intervention`: the arms, target segments,
  success metrics and the communication mode; loads from a mapping or a file;
- :func:`assign`: seeded assignment of personas to arms, stratified by segment;
- success metrics by name (:data:`clientsim.factory.metrics`);
- :func:`run_intervention`: runs every arm on the batch runner and analyses it into
  :class:`InterventionResults` (rates and means with intervals, differences, tests,
  effect sizes, Holm's correction, omnibus tests, segments);
- :func:`required_sample_size`: how many personas each arm needs, before a run.
"""

from __future__ import annotations

from clientsim.interventions.analysis import ArmMetric, Comparison, OmnibusTest
from clientsim.interventions.assignment import assign
from clientsim.interventions.metrics import Metric
from clientsim.interventions.power import required_sample_size
from clientsim.interventions.results import InterventionResults
from clientsim.interventions.run import (
    InterventionPlan,
    plan_intervention,
    run_intervention,
)
from clientsim.models.intervention import Intervention, load_intervention


__all__ = [
    "ArmMetric",
    "Comparison",
    "Intervention",
    "InterventionPlan",
    "InterventionResults",
    "Metric",
    "OmnibusTest",
    "assign",
    "load_intervention",
    "plan_intervention",
    "required_sample_size",
    "run_intervention",
]
