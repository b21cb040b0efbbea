"""Test-only pieces for population results: a canned communication mode on a real
batch run, and study runs built by hand from known responses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from clientsim.config.values import to_dict
from clientsim.models import (
    Conversation,
    ConversationRecord,
    ConversationResult,
    GridCell,
    Message,
    ParticipantRole,
    RunStatus,
    Speaker,
)
from clientsim.models.conversation import Ending, ErrorRecord
from clientsim.models.persona import Persona
from clientsim.models.survey import Answer, Question, Response
from clientsim.population import PopulationMode, StudyRun
from clientsim.population.base import unit_personas, unit_variant
from clientsim.runners.base import Runner


START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

QUESTIONS = (
    Question(id="score", text="How would you rate it?", type="scale"),
    Question(id="plan", text="Which plan?", type="choice", options=("basic", "pro")),
    Question(id="why", text="Why?", type="free_text"),
)


class CannedRunner(Runner):
    """A runner whose conversation is fixed in advance (a real Runner, no model)."""

    def __init__(
        self,
        lines: Sequence[tuple[ParticipantRole, str]],
        *,
        speakers: Sequence[str] | None = None,
    ) -> None:
        self._lines = lines
        self._speakers = speakers
        self._conversation = Conversation(())
        self._done = False

    async def run(self) -> ConversationResult:
        for index, (sender, text) in enumerate(self._lines):
            speaker = (
                Speaker(self._speakers[index], "participant")
                if self._speakers
                else None
            )
            message = Message(
                text, START + timedelta(seconds=index), sender, speaker=speaker
            )
            self._conversation = self._conversation.with_message(message)
        self._done = True
        ending = Ending(reason="max_messages", message_count=len(self._lines))
        return ConversationResult(self._conversation, ending=ending)

    @property
    def conversation(self) -> Conversation:
        return self._conversation

    @property
    def is_complete(self) -> bool:
        return self._done

    def get_progress(self) -> dict[str, Any]:
        return {"message_count": len(self._conversation), "is_complete": self._done}


class CannedMode(PopulationMode):
    """Each persona says ``script[persona.id] = (score, plan, why)``."""

    name = "canned"

    def __init__(
        self,
        script: Mapping[str, tuple[int, str, str]],
        *,
        fail: frozenset[str] = frozenset(),
    ) -> None:
        self.script = script
        self.fail = fail

    async def build(self, job: Any) -> Runner:
        persona = unit_personas(job)[0]
        if persona.id in self.fail:
            raise RuntimeError(f"no answer from {persona.id}")
        score, plan, why = self.script[persona.id]
        return CannedRunner(
            [
                (ParticipantRole.AGENT, "How would you rate it, from 1 to 10?"),
                (
                    ParticipantRole.CUSTOMER,
                    f"{score} out of 10. I'd take {plan}. {why}",
                ),
            ]
        )

    async def responses(self, job: Any, result: ConversationResult) -> list[Response]:
        persona = unit_personas(job)[0]
        variant = unit_variant(job)
        score, plan, why = self.script[persona.id]
        return [
            Response(
                persona_id=persona.id,
                segment=persona.segment,
                variant=variant.name if variant is not None else None,
                demographics=persona.demographics,
                answers=[
                    Answer(
                        question_id="score", value=score, reasoning=why, confidence=0.8
                    ),
                    Answer(question_id="plan", value=plan, text=f"I'd take {plan}"),
                    Answer(question_id="why", value=why),
                ],
            )
        ]


def persona(pid: str, segment: str | None = None, **demographics: str) -> Persona:
    return Persona(id=pid, name=pid.title(), segment=segment, demographics=demographics)


def record(
    run_id: str,
    cell_persona: str,
    responses: Sequence[Response],
    *,
    failed: bool = False,
) -> ConversationRecord:
    data = {} if failed else {"responses": [to_dict(r) for r in responses]}
    result = ConversationResult(
        Conversation(()),
        data=data,
        error=ErrorRecord(source="simulator", type="RuntimeError", message="x")
        if failed
        else None,
    )
    return ConversationRecord(
        run_id=run_id,
        cell=GridCell(input_id="all", persona_id=cell_persona, iteration=0),
        seed=1,
        status=RunStatus.FAILED if failed else RunStatus.DONE,
        result=result,
        started_at=START,
    )


def study_run(
    responses: Sequence[Response], *, failed: Sequence[str] = (), run_id: str = "r1"
) -> StudyRun:
    """A StudyRun of one unit per response, plus failed units for ``failed`` ids."""
    records = [record(run_id, r.persona_id, [r]) for r in responses]
    records += [record(run_id, pid, [], failed=True) for pid in failed]
    return StudyRun(run_id=run_id, mode="survey", records=tuple(records))


def scored(pid: str, segment: str | None, score: int | None, **extra: Any) -> Response:
    answers = [] if score is None else [Answer(question_id="score", value=score)]
    return Response(persona_id=pid, segment=segment, answers=answers, **extra)
