"""A test-only communication mode whose personas truly convert at a known rate per arm.

Each persona's decision is drawn from the unit's seed (so it is reproducible and
independent of the run's concurrency), said by the scripted customer in the transcript,
and read back from the transcript by :meth:`ConvertMode.responses`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from clientsim import (
    FullSimulationRunner,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
)
from clientsim.models.conversation import ConversationResult
from clientsim.models.persona import Persona
from clientsim.models.survey import Answer, Response
from clientsim.participants.scripted import ScriptedParticipant
from clientsim.population.base import PopulationMode, unit_personas, unit_variant
from clientsim.runners.base import Runner
from clientsim.runners.batch import ConversationJob


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT
OUTCOMES = Outcomes(outcomes=(Outcome(name="answered", description="answered"),))


class ConvertMode(PopulationMode):
    """Arm ``a`` converts with probability ``rates[a]``; its satisfaction score is
    drawn around ``scores[a]`` (default 5)."""

    name = "test_convert"

    def __init__(
        self, rates: Mapping[str, float], scores: Mapping[str, float] | None = None
    ) -> None:
        self.rates = dict(rates)
        self.scores = dict(scores or {})
        self.built: list[str] = []

    def _decide(self, job: ConversationJob) -> tuple[bool, int]:
        rng = random.Random(job.seed)
        bought = rng.random() < self.rates[job.cell.input_id]
        centre = self.scores.get(job.cell.input_id, 5.0)
        score = min(10, max(1, round(rng.gauss(centre, 1.5))))
        return bought, score

    async def build(self, job: ConversationJob) -> Runner:
        (persona,) = unit_personas(job)
        self.built.append(persona.id)
        variant = unit_variant(job)
        bought, score = self._decide(job)
        shown = variant.content if variant is not None and variant.content else "hello"
        customer = ScriptedParticipant(
            CUSTOMER, [f"{'yes' if bought else 'no'}, {score}"], seed=job.seed
        )
        agent = ScriptedParticipant(AGENT, [shown], seed=job.seed)
        return FullSimulationRunner(
            customer=customer,
            agent=agent,
            initial_message=MessageDraft(f"I am {persona.name}", CUSTOMER),
            intent=None,
            outcomes=OUTCOMES,
            max_messages=3,
        )

    async def responses(
        self, job: ConversationJob, result: ConversationResult
    ) -> list[Response]:
        (persona,) = unit_personas(job)
        said = [
            m.content for m in result.conversation.messages if m.sender is CUSTOMER
        ][-1]
        decision, _, score = said.partition(", ")
        return [
            Response(
                persona_id=persona.id,
                answers={
                    "bought": Answer(question_id="bought", value=decision, text=said),
                    "satisfaction": Answer(
                        question_id="satisfaction", value=int(score)
                    ),
                },
                fields={"converted": decision == "yes"},
            )
        ]


def people(
    count: int, segments: tuple[str, ...] = ("young", "family")
) -> list[Persona]:
    """``count`` personas, spread over ``segments`` in turn."""
    return [
        Persona(
            id=f"p{index:04d}",
            name=f"Person {index}",
            demographics={"age_band": ("18-24", "35-44")[index % 2]},
            segment=segments[index % len(segments)],
        )
        for index in range(count)
    ]
