"""What every built-in feedback strategy shares: options, the offline analysis and the
LLM-judged path through :class:`~clientsim.llm.StructuredCall`."""

from __future__ import annotations

import abc
import inspect
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

import attrs

from clientsim._validators import check_int
from clientsim.errors import ConfigError, InvalidModelOutputError, InvalidTypeError
from clientsim.feedback.base import (
    check_client_id,
    content_words,
    coverage,
    criteria_of,
    picky_chance,
    review_rng,
    threshold,
)
from clientsim.llm.specs import check_model
from clientsim.models import DEFAULT_TIMEOUTS, Timeouts, TokenUsage
from clientsim.models.client import ClientFeedback, ClientProfile
from clientsim.models.contexts import ReviewContext


if TYPE_CHECKING:
    import random

    from langchain_core.language_models import BaseChatModel

    from clientsim.llm import Turn


@attrs.frozen(kw_only=True)
class Analysis:
    """The offline heuristic's view of one review."""

    criteria: tuple[str, ...]
    coverages: tuple[float, ...]
    needed: float
    words: frozenset[str]
    rng: random.Random = attrs.field(eq=False)
    picky: bool
    strictness: float
    domain: str

    @property
    def mean(self) -> float:
        """The mean coverage over the criteria."""
        return sum(self.coverages) / len(self.coverages)

    @property
    def unmet(self) -> tuple[str, ...]:
        """The criteria whose coverage is below the needed threshold."""
        return tuple(
            c
            for c, v in zip(self.criteria, self.coverages, strict=True)
            if v < self.needed
        )

    @property
    def weakest(self) -> str:
        """The criterion with the lowest coverage (the first on a tie)."""
        index = min(range(len(self.coverages)), key=self.coverages.__getitem__)
        return self.criteria[index]


def persona_prompt(profile: ClientProfile, instructions: str) -> str:
    """The system prompt of a client judging a deliverable, built from its profile."""
    domains = ", ".join(profile.expertise_domains) or "none in particular"
    return (
        f"You are {profile.name}, a client reviewing work you asked for.\n"
        f"Persona: {profile.persona}\n"
        f"Your expertise: {domains}.\n"
        f"Your strictness is {profile.strictness_level:.2f} on a scale from 0.0 "
        "(lenient: accept anything reasonable) to 1.0 (strict: reject at the smallest "
        "gap).\n"
        f"{instructions}\n"
        "Judge only the deliverable shown, against the requirement."
    )


def review_prompt(context: ReviewContext) -> str:
    """The user message of a review: the requirement, its criteria, the deliverable."""
    requirement = context.requirement
    criteria = "\n".join(
        f"{n}. {c}" for n, c in enumerate(requirement.acceptance_criteria, 1)
    )
    return (
        f"Requirement: {requirement.title}\n{requirement.description}\n"
        f"Acceptance criteria:\n{criteria or '(none given)'}\n\n"
        f"Deliverable (attempt {context.attempt}):\n{context.deliverable}"
    )


class JudgeBase(abc.ABC):
    """Shared state and flow of the built-in strategies (not public).

    Subclasses implement :meth:`_offline`, and for the LLM path :meth:`_schema`,
    :meth:`_instructions` and :meth:`_from_answer`.
    """

    name: str = "feedback"
    timeouts: Timeouts = DEFAULT_TIMEOUTS
    """``timeouts.model_call`` bounds each call of the judge's model (set it on the
    instance to change it)."""

    def __init__(
        self,
        *,
        client_id: str | None = None,
        model: str | BaseChatModel | None = None,
        seed: int = 0,
    ) -> None:
        check_int("seed", seed)
        self.client_id = check_client_id(client_id)
        self.model = check_model(model)
        self.seed = seed
        self.token_usage = TokenUsage()

    @classmethod
    def from_config(cls, **options: Any) -> Self:
        """Build from plain config values: the constructor's keyword arguments.

        Raises:
            ConfigError: an option is unknown (the message lists the known ones) or
                its value is not accepted.
        """
        known = [
            name
            for name in inspect.signature(cls.__init__).parameters
            if name != "self"
        ]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ConfigError(
                f"unknown option {unknown[0]!r} for feedback strategy {cls.name!r}; "
                f"its options are: {', '.join(repr(k) for k in sorted(known))}"
            )
        return cls(**options)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(client_id={self.client_id!r}, "
            f"model={self.model!r}, seed={self.seed!r})"
        )

    async def evaluate(
        self, context: ReviewContext, profile: ClientProfile
    ) -> ClientFeedback:
        """The client's feedback on ``context.deliverable``.

        Args:
            context: the task, its requirement and the deliverable.
            profile: the client judging; its strictness raises the bar.

        Raises:
            InvalidTypeError: ``context`` or ``profile`` is not what it should be.
            ModelError: the judging model failed.
            InvalidModelOutputError: the model's answer does not fit the schema.
        """
        if not isinstance(context, ReviewContext):
            raise InvalidTypeError(
                f"context must be a ReviewContext; got {type(context).__name__}"
            )
        if not isinstance(profile, ClientProfile):
            raise InvalidTypeError(
                f"profile must be a ClientProfile; got {type(profile).__name__}"
            )
        client_id = self.client_id or profile.client_id
        if self.model is None:
            return self._offline(self._analyse(context, profile, client_id), client_id)
        return await self._judged(context, profile, client_id)

    def _analyse(
        self, context: ReviewContext, profile: ClientProfile, client_id: str
    ) -> Analysis:
        criteria = criteria_of(context.requirement)
        words = content_words(context.deliverable)
        rng = review_rng(context, client_id, str(self.seed), self.name)
        strictness = profile.strictness_level
        return Analysis(
            criteria=criteria,
            coverages=tuple(coverage(c, words) for c in criteria),
            needed=self._needed(strictness),
            words=words,
            rng=rng,
            picky=rng.random() < picky_chance(strictness),
            strictness=strictness,
            domain=context.requirement.domain,
        )

    def _needed(self, strictness: float) -> float:
        return threshold(strictness)

    @abc.abstractmethod
    def _offline(self, analysis: Analysis, client_id: str) -> ClientFeedback:
        """Each strategy defines this."""

    async def _judged(
        self, context: ReviewContext, profile: ClientProfile, client_id: str
    ) -> ClientFeedback:
        from clientsim.llm import StructuredCall, Turn, resolve_model  # noqa: PLC0415

        assert self.model is not None  # noqa: S101 - evaluate checked it
        criteria = context.requirement.acceptance_criteria
        call = StructuredCall(
            resolve_model(self.model),
            self._schema(criteria),
            timeout=self.timeouts.model_call,
        )
        turns: list[Turn] = [
            Turn("system", persona_prompt(profile, self._instructions())),
            Turn("user", review_prompt(context)),
        ]
        answer, usage = await call(turns)
        self.token_usage = self.token_usage + usage
        return self._from_answer(answer, criteria, profile, client_id)

    @abc.abstractmethod
    def _schema(self, criteria: Sequence[str]) -> dict[str, Any]:
        """Each strategy defines this."""

    @abc.abstractmethod
    def _instructions(self) -> str:
        """Each strategy defines this."""

    @abc.abstractmethod
    def _from_answer(
        self,
        answer: Mapping[str, Any],
        criteria: Sequence[str],
        profile: ClientProfile,
        client_id: str,
    ) -> ClientFeedback:
        """Each strategy defines this."""


def schema(title: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema for a structured review answer; every property is required."""
    return {
        "title": title,
        "description": description,
        "type": "object",
        "properties": properties,
        "required": list(properties),
    }


REASON: dict[str, Any] = {
    "type": "string",
    "description": "Your reasons, in your own words, as the client.",
}


def answer_bool(answer: Mapping[str, Any], key: str) -> bool:
    """``answer[key]`` if it is a boolean.

    Raises:
        InvalidModelOutputError: it is missing or not a boolean.
    """
    value = answer.get(key)
    if not isinstance(value, bool):
        raise InvalidModelOutputError(
            f"the feedback judge's {key!r} must be true or false; got {value!r}"
        )
    return value


def answer_text(answer: Mapping[str, Any], key: str) -> str:
    """``answer[key]`` as a string (``""`` when missing).

    Raises:
        InvalidModelOutputError: it is present but not a string.
    """
    value = answer.get(key, "")
    if not isinstance(value, str):
        raise InvalidModelOutputError(
            f"the feedback judge's {key!r} must be a string; got {value!r}"
        )
    return value.strip()


def answer_score(answer: Mapping[str, Any], key: str) -> float:
    """``answer[key]`` clipped to 0.0-1.0.

    Raises:
        InvalidModelOutputError: it is missing or not a finite number.
    """
    value = answer.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
    ):
        raise InvalidModelOutputError(
            f"the feedback judge's score {key!r} must be a number from 0 to 1; "
            f"got {value!r}"
        )
    return min(1.0, max(0.0, float(value)))
