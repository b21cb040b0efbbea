"""Requirement generators (seed 000): where a simulated client's work comes from.

Five strategies implement :class:`RequirementGenerator`; each returns
``tuple[TaskRequirement, ...]`` and gives the same output for the same seed:

* :class:`TemplateGenerator`: patterns with variable slots (cheap, low variety).
* :class:`LLMGenerator`: novel requirements written by a chat model.
* :class:`DatasetGenerator`: sampled from a curated corpus (shipped, or yours).
* :class:`HybridGenerator`: a weighted mix of other generators, built by hand.
* :class:`ProceduralGenerator`: algorithmic requirements with a dependency DAG.

:data:`BUILTINS` maps the config names to classes; ``"hybrid"`` is deliberately not
there (see :mod:`clientsim.requirements.hybrid`).

Example:
    >>> import anyio
    >>> reqs = anyio.run(lambda: DatasetGenerator().generate(3, seed=7))
    >>> len(reqs)
    3
"""

from __future__ import annotations

from typing import Final

from clientsim.requirements.base import DEFAULT_DOMAINS, RequirementGenerator
from clientsim.requirements.dataset import DatasetGenerator, load_requirements
from clientsim.requirements.hybrid import HybridGenerator, split_count
from clientsim.requirements.llm import LLMGenerator, RequirementPlan
from clientsim.requirements.procedural import ProceduralGenerator
from clientsim.requirements.template import RequirementTemplate, TemplateGenerator


__all__ = [
    "BUILTINS",
    "DEFAULT_DOMAINS",
    "DatasetGenerator",
    "HybridGenerator",
    "LLMGenerator",
    "ProceduralGenerator",
    "RequirementGenerator",
    "RequirementPlan",
    "RequirementTemplate",
    "TemplateGenerator",
    "load_requirements",
    "split_count",
]

BUILTINS: Final[
    dict[
        str,
        type[TemplateGenerator | LLMGenerator | DatasetGenerator | ProceduralGenerator],
    ]
] = {
    "template": TemplateGenerator,
    "llm": LLMGenerator,
    "dataset": DatasetGenerator,
    "procedural": ProceduralGenerator,
}
"""Config names to generator classes; each has ``from_config(**options)``.

``"hybrid"`` is absent on purpose: :class:`HybridGenerator` is composed of other
generators with weights and has no single-argument factory.
"""
