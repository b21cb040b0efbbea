"""The protocol of a communication mode: how a population study talks to personas.

A mode (``survey``, ``focus_group``, ``interview``, ``sequence``, or a plugin's,
registered through the ``clientsim_register_population_modes`` hook and built with
:func:`clientsim.factory.build_population_mode`) splits an arm of a study into units
(one persona each, or a group of them), builds each unit's runner, and reads each
finished unit's individual results (:class:`~clientsim.models.survey.Response`).
:func:`clientsim.population.engine.run_mode` runs the units on the batch runner, so
every mode is seeded, bounded in concurrency, timed out, retried, written to the run
store as each unit finishes, and resumable.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from typing import ClassVar

from clientsim.models import GridCell
from clientsim.models.conversation import ConversationResult
from clientsim.models.persona import Persona
from clientsim.models.survey import Response, Variant
from clientsim.runners.base import Runner
from clientsim.runners.batch import BatchCell, ConversationJob


__all__ = ["PopulationMode", "unit_personas", "unit_variant"]


def unit_personas(job: ConversationJob) -> tuple[Persona, ...]:
    """The personas of a unit: ``job.persona`` is one :class:`Persona` or a tuple."""
    if isinstance(job.persona, Persona):
        return (job.persona,)
    return tuple(p for p in job.persona if isinstance(p, Persona))  # type: ignore[attr-defined]


def unit_variant(job: ConversationJob) -> Variant | None:
    """The arm's :class:`Variant` of a unit (``None`` outside an intervention)."""
    return job.item if isinstance(job.item, Variant) else None


class PopulationMode(abc.ABC):
    """A communication mode; see the module docstring.

    Subclasses implement :meth:`build` and :meth:`responses`; the default
    :meth:`units` makes one unit per persona.
    """

    name: ClassVar[str] = ""

    def units(
        self, personas: Sequence[Persona], *, arm: str, variant: Variant | None
    ) -> Iterable[BatchCell]:
        """The units of one arm: by default one per persona, keyed
        ``arm/persona id/0`` (so a persona is asked once per arm, and a resumed run
        skips the personas already stored)."""
        for persona in personas:
            yield BatchCell(
                cell=GridCell(input_id=arm, persona_id=persona.id, iteration=0),
                input=variant.content if variant is not None else "",
                persona=persona,
                item=variant,
            )

    @abc.abstractmethod
    async def build(self, job: ConversationJob) -> Runner:
        """A fresh runner for one unit (use ``job.models.model(...)`` for every model,
        so seeds, cache, cassette, rate limits and retries apply)."""

    @abc.abstractmethod
    async def responses(
        self, job: ConversationJob, result: ConversationResult
    ) -> list[Response]:
        """The individual results of a finished unit (one per persona in it)."""
