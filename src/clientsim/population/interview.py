"""Interview mode: one interviewer and one persona, 1:1, question by question.

Like a survey (one conversation per persona, on the batch runner, stored and
resumable), but the questions are put by an interviewer and each answer may be
followed by ``follow_ups`` probes the persona answers in its own words:

- ``interviewer="scripted"`` asks the questions in order, in their fixed form, and
  probes with fixed follow-ups (why, tell me more, what would change your mind);
- ``interviewer="simulated"`` is a chat model whose system prompt starts with
  :data:`~clientsim.models.persona.STUDY_MODERATOR_MARKER`: it is given the
  interview guide and, at each step, which question to ask next (or to probe), and
  puts it in its own words.

Each question is answered in its declared type by the persona's structured
``survey_answer`` call (with a simulated interviewer, the question's fixed form is
added after the interviewer's wording, so the type is never lost); the follow-ups
and their answers are kept in the transcript and in the response's ``events``.

Example:
    >>> import anyio
    >>> from clientsim.models.persona import Persona
    >>> from clientsim.population import run_mode
    >>> interview = InterviewMode(
    ...     [{"id": "why", "text": "What do you look for in a snack?"}], follow_ups=1)
    >>> run = anyio.run(lambda: run_mode(
    ...     interview, [Persona(id="p1", name="Ana")], run_id="i1", seed=3))
    >>> [event["type"] for event in run.responses[0].events]
    ['follow_up']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Final

from clientsim._validators import check_choice, check_int, check_text
from clientsim.models import DEFAULT_TIMEOUTS, ParticipantRole, Timeouts, TokenUsage
from clientsim.models.persona import STUDY_MODERATOR_MARKER
from clientsim.models.survey import Question, Response
from clientsim.participants.llm import LLMParticipant
from clientsim.population._asking import (
    AskingRunner,
    Interviewer,
    ScriptedInterviewer,
    unit_responses,
)
from clientsim.population.base import PopulationMode, unit_personas, unit_variant
from clientsim.population.participant import PersonaParticipant
from clientsim.population.questions import questions_of


if TYPE_CHECKING:
    from collections.abc import Mapping

    from langchain_core.language_models import BaseChatModel

    from clientsim.models import Conversation
    from clientsim.models.conversation import ConversationResult
    from clientsim.runners.base import Runner
    from clientsim.runners.batch import ConversationJob


__all__ = ["INTERVIEWERS", "InterviewMode", "SimulatedInterviewer"]

INTERVIEWERS: Final = ("scripted", "simulated")

_GUIDE: Final = """\
{marker}
You are interviewing one person, one to one, for a study. Ask one question at a \
time, in a friendly, neutral way; never answer for them and never suggest an answer.
Interview guide:
{guide}
Next: {step}
Write only your next message to them."""


class SimulatedInterviewer:
    """An interviewer played by a chat model (see the module docstring).

    Args:
        model: the chat model.
        questions: the interview guide.
        seed: seeds the simulated typing time.
        timeouts: ``timeouts.model_call`` bounds each call.
    """

    def __init__(
        self,
        model: str | BaseChatModel,
        questions: Sequence[Question],
        *,
        seed: int = 0,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        self.model = model
        self.questions = tuple(questions)
        self.seed = seed
        self.timeouts = timeouts
        self._usage = TokenUsage()

    @property
    def usage(self) -> TokenUsage:
        return self._usage

    def system_prompt(self, step: str) -> str:
        """What the model is told before writing the message for ``step``."""
        guide = "\n".join(f"{i}. {q.text}" for i, q in enumerate(self.questions, 1))
        return _GUIDE.format(marker=STUDY_MODERATOR_MARKER, guide=guide, step=step)

    def _number(self, question: Question) -> int:
        return self.questions.index(question) + 1

    async def _speak(self, conversation: Conversation, step: str) -> str | None:
        participant = LLMParticipant(
            ParticipantRole.AGENT,
            self.model,
            system_prompt=self.system_prompt(step),
            seed=self.seed,
            timeouts=self.timeouts,
        )
        message = await participant.get_next_message(conversation)
        self._usage = self._usage + participant.token_usage
        return message.content if message is not None else None

    async def ask(
        self, conversation: Conversation, question: Question, spec: str
    ) -> str:
        step = f"ask question {self._number(question)}: {question.text}"
        return await self._speak(conversation, step) or spec

    async def follow_up(
        self, conversation: Conversation, question: Question, number: int
    ) -> str:
        step = (
            "ask one short follow-up question about their answer to question "
            f"{self._number(question)} (follow-up {number + 1})."
        )
        said = await self._speak(conversation, step)
        if said:
            return said
        return await ScriptedInterviewer().follow_up(conversation, question, number)


class InterviewMode(PopulationMode):
    """The communication mode ``"interview"``; see the module docstring.

    Args:
        questions: :class:`~clientsim.models.survey.Question` values, or mappings
            with their fields.
        interviewer: ``"scripted"`` or ``"simulated"``.
        model: the chat model that plays every persona.
        follow_ups: probes after each answer (0 to 5).
        interviewer_model: the simulated interviewer's model (``model`` if ``None``).
        intro: said before the first question.

    Raises:
        ConfigError: a bad question (the message names the key), an unknown
            interviewer, or ``follow_ups`` out of range.
    """

    name: ClassVar[str] = "interview"

    def __init__(
        self,
        questions: Sequence[Question | Mapping[str, object]],
        *,
        interviewer: str = "scripted",
        model: str | BaseChatModel = "offline",
        follow_ups: int = 0,
        interviewer_model: str | BaseChatModel | None = None,
        intro: str | None = None,
    ) -> None:
        self.questions = questions_of(questions)
        self.interviewer = check_choice("interviewer", interviewer, INTERVIEWERS)
        self.model = model
        self.follow_ups = check_int("follow_ups", follow_ups, low=0, high=5)
        self.interviewer_model = interviewer_model
        self.intro = check_text("intro", intro, optional=True)

    def _interviewer(self, job: ConversationJob) -> Interviewer:
        if self.interviewer == "scripted":
            return ScriptedInterviewer()
        chosen = (
            self.model if self.interviewer_model is None else self.interviewer_model
        )
        return SimulatedInterviewer(
            job.models.model(chosen, "interviewer"),
            self.questions,
            seed=job.seed,
            timeouts=job.timeouts,
        )

    async def build(self, job: ConversationJob) -> Runner:
        (persona,) = unit_personas(job)
        model = job.models.model(self.model, "persona")
        return AskingRunner(
            PersonaParticipant(persona, model, seed=job.seed, timeouts=job.timeouts),
            model,
            self.questions,
            interviewer=self._interviewer(job),
            seed=job.seed,
            variant=unit_variant(job),
            intro=self.intro,
            follow_ups=self.follow_ups,
            call_timeout=job.timeouts.model_call,
        )

    async def responses(
        self, job: ConversationJob, result: ConversationResult
    ) -> list[Response]:
        return unit_responses(job, result)
