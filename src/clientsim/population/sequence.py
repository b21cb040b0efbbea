"""Sequence mode: a customer journey of timed touchpoints, one persona at a time.

Each persona receives the touchpoints (an email on day 0, a text on day 3, a call on
day 14, ...) in simulated time: every message is stamped at the journey's start plus
the touchpoint's day offset, and nothing sleeps. What the persona saw and said, and
how aware, interested and trusting it is, carries from one touchpoint to the next as
a :class:`~clientsim.population.state.PersonaState`. Triggers
(:class:`~clientsim.population.triggers.Trigger`) are checked after every touchpoint
and intervene inside the running journey.

An intervention arm's :attr:`Variant.sequence <clientsim.models.survey.Variant.sequence>`
replaces the touchpoints for that arm, and its ``channel`` fills in the touchpoints
that name none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs

from clientsim._validators import did_you_mean
from clientsim.config.values import from_dict
from clientsim.errors import ConfigError, InvalidTypeError
from clientsim.models.frozen import thaw
from clientsim.models.persona import Persona
from clientsim.models.survey import Answer, Question, Response, Touchpoint, Variant
from clientsim.models.timestamps import as_utc
from clientsim.population._journey import JOURNEY_KEY, JourneyRunner
from clientsim.population.base import PopulationMode, unit_personas, unit_variant
from clientsim.population.state import DEFAULT_START, PersonaState
from clientsim.population.triggers import Trigger, triggers_of


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.models.conversation import ConversationResult
    from clientsim.runners.base import Runner
    from clientsim.runners.batch import BatchCell, ConversationJob


__all__ = ["SequenceMode", "touchpoints_of"]

_TOUCHPOINT_KEYS: Final = tuple(a.name for a in attrs.fields(Touchpoint))
_QUESTION_KEYS: Final = tuple(a.name for a in attrs.fields(Question))


def touchpoints_of(
    value: object, *, where: str = "touchpoints"
) -> tuple[Touchpoint, ...]:
    """Touchpoints from ``Touchpoint`` values or mappings, in day order.

    Raises:
        ConfigError: an item is neither, has an unknown or missing key, or a value
            that does not fit; the message names it (``touchpoints[1].day``).
    """
    if value is None:
        return ()
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        raise InvalidTypeError(
            f"{where} must be a list of touchpoints; got {type(value).__name__}"
        )
    points: list[Touchpoint] = []
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        if isinstance(item, Touchpoint):
            points.append(item)
            continue
        if not isinstance(item, Mapping):
            raise InvalidTypeError(
                f"{at} must be a Touchpoint or a mapping with keys "
                f"{', '.join(_TOUCHPOINT_KEYS)}; got {type(item).__name__}"
            )
        points.append(
            _built(Touchpoint, item, _TOUCHPOINT_KEYS, at, ("day", "content"))
        )
    return tuple(sorted(points, key=lambda p: p.day))


def _questions(value: object) -> tuple[Question, ...]:
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        raise InvalidTypeError(
            f"questions must be a list of questions; got {type(value).__name__}"
        )
    items: list[Question] = []
    for index, item in enumerate(value):
        at = f"questions[{index}]"
        if isinstance(item, Question):
            items.append(item)
        elif isinstance(item, Mapping):
            items.append(_built(Question, item, _QUESTION_KEYS, at, ("id", "text")))
        else:
            raise InvalidTypeError(
                f"{at} must be a Question or a mapping; got {type(item).__name__}"
            )
    ids = [q.id for q in items]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ConfigError(f"question ids must be distinct; repeated: {repeated}")
    return tuple(items)


def _built(
    cls: type[Any],
    item: Mapping[str, object],
    keys: tuple[str, ...],
    at: str,
    required: tuple[str, ...],
) -> Any:
    for key in item:
        if key not in keys:
            raise ConfigError(
                f"{at}: unknown key {key!r}; allowed: {', '.join(keys)}"
                f"{did_you_mean(key, keys)}"
            )
    for key in required:
        if key not in item:
            raise ConfigError(f"{at}: {key!r} is required")
    try:
        return cls(**item)
    except ConfigError as exc:
        raise type(exc)(f"{at}: {exc}") from exc


def _start(value: object) -> datetime:
    if value is None:
        return DEFAULT_START
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConfigError(
                f"start must be an ISO 8601 date or timestamp; got {value!r}"
            ) from exc
    if not isinstance(value, datetime):
        raise InvalidTypeError(
            f"start must be a datetime or an ISO 8601 string; got {type(value).__name__}"
        )
    return as_utc(value)


class SequenceMode(PopulationMode):
    """A customer journey: timed touchpoints, the persona's state carried between
    them, and triggers that intervene on the way.

    Args:
        touchpoints: the journey (``Touchpoint`` values or mappings with
            ``day``, ``content``, ``channel``, ``name``, ``questions``); an arm's
            ``Variant.sequence`` replaces it for that arm.
        questions: the study's questions. One a touchpoint names in its
            ``questions`` is asked right after that touchpoint; the others are asked
            once at the end of the journey. A persona that opted out is sent no
            further touchpoints and asked no further questions.
        model: plays the personas (a spec such as ``"offline"`` or a chat model).
        judge: judges statement preconditions (and reactions, see below); the
            persona's model if ``None``.
        triggers: :class:`Trigger` values or file mappings (``{name, when, send}``
            or ``{name, when, set}``), checked after every touchpoint, in order.
        start: when the journey starts (a datetime or an ISO 8601 string; a naive
            one is read as local time); a fixed date, 2026-01-05 09:00 UTC, if
            ``None``.
        judge_reactions: let ``judge`` read how each reply moves the state
            (structured output titled ``persona_reaction``) instead of the cue rule.

    Example:
        >>> mode = SequenceMode(
        ...     [{"day": 0, "content": "Welcome to Fresh Box!", "channel": "email"},
        ...      {"day": 7, "content": "Your first box ships Monday.", "channel": "sms"}],
        ...     triggers=[{"name": "win_back", "when": "the persona sounds frustrated",
        ...                "send": "Sorry! Here is 30% off."}])
        >>> [t.day for t in mode.touchpoints], mode.triggers[0].judged
        ([0, 7], True)

    Raises:
        ConfigError: a touchpoint, question or trigger does not fit, naming it, or a
            touchpoint names a question that is not among ``questions``.
    """

    name: ClassVar[str] = "sequence"

    def __init__(
        self,
        touchpoints: Iterable[Touchpoint | Mapping[str, object]] = (),
        *,
        questions: Iterable[Question | Mapping[str, object]] = (),
        model: str | BaseChatModel = "offline",
        judge: str | BaseChatModel | None = None,
        triggers: Iterable[Trigger | Mapping[str, object]] = (),
        start: datetime | str | None = None,
        judge_reactions: bool = False,
    ) -> None:
        self.touchpoints = touchpoints_of(touchpoints)
        self.questions = _questions(questions)
        self.triggers = triggers_of(triggers)
        self.start = _start(start)
        self.model = model
        self.judge = judge
        if not isinstance(judge_reactions, bool):
            raise InvalidTypeError(
                f"judge_reactions must be True or False; got {judge_reactions!r}"
            )
        self.judge_reactions = judge_reactions
        self._by_id = {q.id: q for q in self.questions}
        self._check(self.touchpoints, "touchpoints")

    def _check(self, points: Sequence[Touchpoint], where: str) -> None:
        for index, point in enumerate(points):
            for qid in point.questions:
                if qid not in self._by_id:
                    known = ", ".join(self._by_id) or "none"
                    raise ConfigError(
                        f"{where}[{index}].questions: no question {qid!r}"
                        f"{did_you_mean(qid, self._by_id)}; the study's questions: "
                        f"{known}"
                    )

    def journey(self, variant: Variant | None) -> tuple[Touchpoint, ...]:
        """The touchpoints an arm's personas receive.

        Raises:
            ConfigError: there are none, or they name an unknown question.
        """
        points = self.touchpoints
        where = "touchpoints"
        if variant is not None and variant.sequence:
            points = variant.sequence
            where = f"variant {variant.name!r} sequence"
            self._check(points, where)
        if not points:
            arm = f" for variant {variant.name!r}" if variant is not None else ""
            raise ConfigError(
                f"sequence mode needs touchpoints{arm}: give SequenceMode(touchpoints="
                "[...]) or the variant a sequence"
            )
        if variant is not None and variant.channel:
            points = tuple(
                p if p.channel else attrs.evolve(p, channel=variant.channel)
                for p in points
            )
        return points

    def units(
        self, personas: Sequence[Persona], *, arm: str, variant: Variant | None
    ) -> Iterable[BatchCell]:
        """One unit per persona (checking the arm's journey first)."""
        self.journey(variant)
        return super().units(personas, arm=arm, variant=variant)

    def final_questions(self, points: Sequence[Touchpoint]) -> tuple[str, ...]:
        """The questions asked at the end: those no touchpoint asks."""
        named = {qid for p in points for qid in p.questions}
        return tuple(q.id for q in self.questions if q.id not in named)

    async def build(self, job: ConversationJob) -> Runner:
        persona = unit_personas(job)[0]
        points = self.journey(unit_variant(job))
        model = job.models.model(self.model, "persona")
        judge = model if self.judge is None else job.models.model(self.judge, "judge")
        return JourneyRunner(
            persona,
            points,
            model=model,
            judge=judge,
            questions=self._by_id,
            final_questions=self.final_questions(points),
            triggers=self.triggers,
            start=self.start,
            seed=job.seed,
            judge_reactions=self.judge_reactions,
            timeouts=job.timeouts,
        )

    async def responses(
        self, job: ConversationJob, result: ConversationResult
    ) -> list[Response]:
        persona = unit_personas(job)[0]
        variant = unit_variant(job)
        data = thaw(result.data.get(JOURNEY_KEY))
        if not isinstance(data, dict):
            return []
        state = PersonaState.from_dict(data["state"])
        answers = {
            qid: from_dict(item, Answer) for qid, item in data["answers"].items()
        }
        return [
            Response(
                persona_id=persona.id,
                segment=persona.segment,
                variant=variant.name if variant is not None else None,
                answers=answers,
                fields=state.to_dict(),
                demographics=persona.demographics,
                events=data["events"],
            )
        ]
