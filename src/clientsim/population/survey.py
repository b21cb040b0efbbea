"""Survey mode: the same questions to every persona, each in a conversation of its own.

A survey broadcasts its questions with no cross-talk (``broadcast_if_no_target=False``
in group terms): N independent conversations, one per persona, run by
:func:`~clientsim.population.engine.run_mode` on the batch runner, so a survey is
seeded, bounded in concurrency, stored as each persona finishes, and resumable.

In each conversation the persona (a
:class:`~clientsim.population.participant.PersonaParticipant`) first sees the arm's
content, if its :class:`~clientsim.models.survey.Variant` has any (with its channel and
timing), and reacts in its own words; then each question is asked in turn and
answered in its declared type by a structured-output call titled ``survey_answer``.
Choice and ranking options are shuffled per persona (seeded by the unit's seed) and
unshuffled in the answers. The transcript keeps every question and answer.

Example:
    >>> import anyio
    >>> from clientsim.models.persona import Persona
    >>> from clientsim.population import run_mode
    >>> survey = SurveyMode([{"id": "intent", "text": "How likely are you to buy it?",
    ...                       "type": "scale"}])
    >>> people = [Persona(id=f"p{i}", name=f"Person {i}") for i in range(3)]
    >>> run = anyio.run(lambda: run_mode(survey, people, run_id="s1", seed=1))
    >>> [type(r.answers["intent"].value).__name__ for r in run.responses]
    ['int', 'int', 'int']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from clientsim._validators import check_bool, check_text
from clientsim.models import DEFAULT_TIMEOUTS, Timeouts
from clientsim.models.survey import Answer, Question, Response, Variant
from clientsim.population._asking import (
    AskingRunner,
    ScriptedInterviewer,
    unit_responses,
)
from clientsim.population.base import PopulationMode, unit_personas, unit_variant
from clientsim.population.participant import PersonaParticipant
from clientsim.population.questions import questions_of, shuffled_options


if TYPE_CHECKING:
    from collections.abc import Mapping

    from langchain_core.language_models import BaseChatModel

    from clientsim.models.conversation import ConversationResult
    from clientsim.models.persona import Persona
    from clientsim.runners.base import Runner
    from clientsim.runners.batch import ConversationJob


__all__ = ["SurveyMode", "ask", "shuffled_options"]


class SurveyMode(PopulationMode):
    """The communication mode ``"survey"``; see the module docstring.

    Args:
        questions: :class:`~clientsim.models.survey.Question` values, or mappings
            with their fields (``id``, ``text``, ``type``, ``options``, ``low``,
            ``high``).
        model: the chat model that plays every persona (a spec such as
            ``"offline"``, or a LangChain chat model).
        intro: said before the first question (or with the content shown).
        shuffle_options: show choice and ranking options in a per-persona order.

    Raises:
        ConfigError: a bad question (the message names the key), no questions, or
            two with one id.
    """

    name: ClassVar[str] = "survey"

    def __init__(
        self,
        questions: Sequence[Question | Mapping[str, object]],
        *,
        model: str | BaseChatModel = "offline",
        intro: str | None = None,
        shuffle_options: bool = True,
    ) -> None:
        self.questions = questions_of(questions)
        self.model = model
        self.intro = check_text("intro", intro, optional=True)
        self.shuffle_options = check_bool("shuffle_options", shuffle_options)

    async def build(self, job: ConversationJob) -> Runner:
        (persona,) = unit_personas(job)
        model = job.models.model(self.model, "persona")
        participant = PersonaParticipant(
            persona, model, seed=job.seed, timeouts=job.timeouts
        )
        return AskingRunner(
            participant,
            model,
            self.questions,
            interviewer=ScriptedInterviewer(),
            seed=job.seed,
            variant=unit_variant(job),
            intro=self.intro,
            shuffle_options=self.shuffle_options,
            call_timeout=job.timeouts.model_call,
        )

    async def responses(
        self, job: ConversationJob, result: ConversationResult
    ) -> list[Response]:
        return unit_responses(job, result)


async def ask(
    persona: Persona,
    question: Question | Mapping[str, object],
    model: str | BaseChatModel = "offline",
    *,
    content: str | Variant | None = None,
    seed: int = 0,
    shuffle_options: bool = True,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
) -> Answer:
    """Ask one persona one question (after showing it ``content``, if given), outside
    any run: a quick look at how a persona answers.

    Example:
        >>> import anyio
        >>> from clientsim.models.persona import Persona
        >>> q = Question(id="pick", text="Which matters most?", type="choice",
        ...              options=["Price", "Quality"])
        >>> answer = anyio.run(lambda: ask(Persona(id="p1", name="Sam"), q))
        >>> answer.value in ("Price", "Quality")
        True

    Raises:
        ConfigError: a bad question.
        ModelError: the model failed, or answered outside the question's type.
    """
    from clientsim.llm import resolve_model  # noqa: PLC0415
    from clientsim.llm.run_model import seeded  # noqa: PLC0415

    (checked,) = questions_of([question], name="question")
    variant = (
        content
        if isinstance(content, Variant) or content is None
        else Variant(name="shown", content=check_text("content", content))
    )
    chat = seeded(resolve_model(model), seed)
    runner = AskingRunner(
        PersonaParticipant(persona, chat, seed=seed, timeouts=timeouts),
        chat,
        (checked,),
        interviewer=ScriptedInterviewer(),
        seed=seed,
        variant=variant,
        shuffle_options=check_bool("shuffle_options", shuffle_options),
        call_timeout=timeouts.model_call,
    )
    result = await runner.run()
    if runner.exception is not None:
        raise runner.exception
    return Answer(**dict(result.data["answers"][0]))
