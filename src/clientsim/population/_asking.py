"""The runner of one persona's questionnaire, shared by surveys and interviews: the
content shown (if any) and a first reaction, then each question in turn, answered in
its declared type (see :mod:`clientsim.population.questions`), with follow-ups."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

import attrs

from clientsim.config.values import to_dict
from clientsim.errors import InvalidModelOutputError, ModelError
from clientsim.llm import Turn
from clientsim.llm.calls import bounded, model_name, usage_of
from clientsim.models import (
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    ParticipantRole,
    TokenUsage,
)
from clientsim.models.conversation import TokenUsageReport
from clientsim.models.survey import Answer, Question, Response, Variant
from clientsim.participants.timing import AGENT_TYPING, Pacer, default_typing
from clientsim.population.base import unit_personas, unit_variant
from clientsim.population.questions import (
    answer_line,
    answer_schema,
    exposure_text,
    question_text,
    read_answer,
    shuffled_options,
)
from clientsim.runners.base import Runner


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.models.persona import Persona
    from clientsim.population.participant import PersonaParticipant
    from clientsim.runners.batch import ConversationJob


__all__ = [
    "AskingRunner",
    "Interviewer",
    "ScriptedInterviewer",
    "structured",
    "unit_responses",
]

_STUDY: Final = ParticipantRole.AGENT


async def structured(
    model: BaseChatModel,
    schema: Mapping[str, Any],
    turns: Sequence[Turn],
    *,
    timeout: float,  # noqa: ASYNC109 - a per-call limit
) -> tuple[dict[str, Any], TokenUsage]:
    """One structured-output call: ``model`` must call the tool ``schema`` describes
    (named by its title); its arguments are the answer.

    The tool is bound directly rather than through ``with_structured_output``, whose
    parsing chain costs several times the call itself: a survey makes one such call
    per question per persona.

    Raises:
        ModelError: the model failed, did not answer in time, or takes no tools.
        InvalidModelOutputError: the answer is not a call of that tool.
    """
    from clientsim.llm.messages import to_langchain  # noqa: PLC0415

    name = str(schema["title"])
    try:
        bound = model.bind_tools([dict(schema)], tool_choice=name)
    except NotImplementedError as exc:
        raise ModelError(
            f"chat model {model_name(model)!r} does not support structured output "
            "(bind_tools); use a model that does, e.g. 'offline' or an OpenAI model"
        ) from exc
    messages = to_langchain(turns)
    reply = await bounded(model, lambda: bound.ainvoke(messages), timeout)
    calls = [call for call in getattr(reply, "tool_calls", ()) if call["name"] == name]
    if not calls or not isinstance(calls[0].get("args"), dict):
        raise InvalidModelOutputError(
            f"chat model {model_name(model)!r} did not answer in the {name!r} shape"
        )
    return dict(calls[0]["args"]), usage_of(reply)


class Interviewer(Protocol):
    """The study's side of a questionnaire: how each question and probe is put."""

    @property
    def usage(self) -> TokenUsage: ...

    async def ask(
        self, conversation: Conversation, question: Question, spec: str
    ) -> str: ...

    async def follow_up(
        self, conversation: Conversation, question: Question, number: int
    ) -> str: ...


_PROBES: Final = (
    "Why do you say that?",
    "Could you tell me a little more about that?",
    "What would change your mind?",
    "Is there anything else about it that matters to you?",
)


class ScriptedInterviewer:
    """Puts each question in its fixed form and probes with fixed follow-ups."""

    usage: TokenUsage = TokenUsage()

    async def ask(
        self,
        conversation: Conversation,  # noqa: ARG002 - a script does not listen
        question: Question,  # noqa: ARG002
        spec: str,
    ) -> str:
        return spec

    async def follow_up(
        self,
        conversation: Conversation,  # noqa: ARG002
        question: Question,  # noqa: ARG002
        number: int,
    ) -> str:
        return _PROBES[number % len(_PROBES)]


@attrs.define
class _Step:
    """What the runner is doing, for the error it may record."""

    source: str = "customer"


class AskingRunner(Runner):
    """One persona's questionnaire: the variant's content (if any) and a first
    reaction, then each question in turn, answered in its declared type, with
    ``follow_ups`` probes after each (answered in free text).

    The answers, the options each persona was shown, and what happened along the way
    go into ``result.data`` (``answers``, ``shown``, ``events``).
    """

    def __init__(
        self,
        participant: PersonaParticipant,
        answer_model: BaseChatModel,
        questions: Sequence[Question],
        *,
        interviewer: Interviewer,
        seed: int,
        variant: Variant | None = None,
        intro: str | None = None,
        shuffle_options: bool = True,
        follow_ups: int = 0,
        call_timeout: float,
    ) -> None:
        self.participant = participant
        self.answer_model = answer_model
        self.questions = tuple(questions)
        self.interviewer = interviewer
        self.seed = seed
        self.variant = variant
        self.intro = intro
        self.shuffle_options = shuffle_options
        self.follow_ups = follow_ups
        self.call_timeout = call_timeout
        self._conversation = Conversation(())
        self._pacer = Pacer(_STUDY, AGENT_TYPING, seed)
        self._answers = Pacer(participant.role, default_typing(participant.role), seed)
        self._usage = TokenUsage()
        self._complete = False
        self._started = time.perf_counter()
        self.exception: Exception | None = None
        """What ended the run early, if anything (also recorded on the result)."""

    @property
    def conversation(self) -> Conversation:
        return self._conversation

    @property
    def is_complete(self) -> bool:
        return self._complete

    def get_progress(self) -> dict[str, Any]:
        return {
            "message_count": len(self._conversation.messages),
            "max_messages": None,
            "is_complete": self._complete,
            "outcome": None,
            "elapsed_seconds": time.perf_counter() - self._started,
        }

    def _say(self, text: str) -> None:
        message = self._pacer.stamp(self._conversation, text)
        self._conversation = self._conversation.with_message(message)

    async def _reply(self) -> str | None:
        message = await self.participant.get_next_message(self._conversation)
        if message is None:
            return None
        self._conversation = self._conversation.with_message(message)
        return message.content

    async def _answer(
        self, question: Question, shown: Sequence[str], spec: str
    ) -> Answer:
        turns = self.participant.turns(self._conversation)
        if turns[-1].content != spec:  # an interviewer put it in its own words
            turns.append(Turn("user", spec))
        raw, usage = await structured(
            self.answer_model,
            answer_schema(question, shown),
            turns,
            timeout=self.call_timeout,
        )
        self._usage = self._usage + usage
        answer = read_answer(question, shown, raw)
        message = self._answers.stamp(self._conversation, answer_line(question, answer))
        self._conversation = self._conversation.with_message(message)
        return answer

    async def run(self) -> ConversationResult:
        self._started = time.perf_counter()
        answers: list[Answer] = []
        shown_by_id: dict[str, list[str]] = {}
        happened: list[dict[str, Any]] = []
        step = _Step()
        error: ErrorRecord | None = None
        intro = self.intro
        try:
            if self.variant is not None and self.variant.content.strip():
                self._say(exposure_text(self.variant, intro))
                intro = None
                reaction = await self._reply()
                happened.append(
                    {
                        "type": "exposure",
                        "variant": self.variant.name,
                        "channel": self.variant.channel,
                        "timing": self.variant.timing,
                        "reaction": reaction or "",
                    }
                )
            total = len(self.questions)
            for index, question in enumerate(self.questions, 1):
                shown = (
                    shuffled_options(question, self.seed)
                    if self.shuffle_options
                    else question.options
                )
                spec = question_text(question, shown, index, total)
                step.source = "interviewer"
                asked = await self.interviewer.ask(self._conversation, question, spec)
                if intro:
                    asked, intro = f"{intro.strip()}\n\n{asked}", None
                self._say(asked)
                step.source = "customer"
                answers.append(await self._answer(question, shown, spec))
                if shown:
                    shown_by_id[question.id] = list(shown)
                for number in range(self.follow_ups):
                    step.source = "interviewer"
                    probe = await self.interviewer.follow_up(
                        self._conversation, question, number
                    )
                    self._say(probe)
                    step.source = "customer"
                    said = await self._reply()
                    happened.append(
                        {
                            "type": "follow_up",
                            "question_id": question.id,
                            "question": probe,
                            "answer": said or "",
                        }
                    )
        except Exception as exc:  # noqa: BLE001 - recorded on the result, as runners do
            error = ErrorRecord.from_exception(step.source, exc)
            self.exception = exc
        self._complete = True
        count = len(self._conversation.messages)
        ending = (
            Ending(reason="error", detail=error.message, message_count=count)
            if error is not None
            else Ending(
                reason="questions_answered",
                detail=f"{len(answers)} of {len(self.questions)} questions answered",
                message_count=count,
            )
        )
        return ConversationResult(
            self._conversation,
            time.perf_counter() - self._started,
            ending=ending,
            token_usage=TokenUsageReport(
                customer=self.participant.token_usage + self._usage,
                agent=self.interviewer.usage,
            ),
            error=error,
            data={
                "answers": [to_dict(answer) for answer in answers],
                "shown": shown_by_id,
                "events": happened,
            },
        )


def unit_responses(job: ConversationJob, result: ConversationResult) -> list[Response]:
    """The one :class:`~clientsim.models.survey.Response` of a one-persona unit."""
    personas: tuple[Persona, ...] = unit_personas(job)
    variant = unit_variant(job)
    answers = [Answer(**dict(item)) for item in result.data.get("answers", ())]
    return [
        Response(
            persona_id=persona.id,
            segment=persona.segment,
            variant=variant.name if variant is not None else None,
            answers=answers,
            demographics=persona.demographics,
            events=[dict(event) for event in result.data.get("events", ())],
        )
        for persona in personas
    ]
