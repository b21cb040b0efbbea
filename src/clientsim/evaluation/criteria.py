"""A judge that reads a transcript against written criteria (LLM-as-judge).

Each criterion gets a verdict, a short reason and the indices of the messages it rests
on. The judge asks its chat model once per transcript, with structured output, at
temperature 0 and with its seed (for models that have those settings), each call
bounded by ``timeouts.model_call``. A model that fails, times out or answers out of
shape raises (:class:`~clientsim.errors.ModelError`,
:class:`~clientsim.errors.InvalidModelOutputError`): a broken judge never passes a
criterion silently.

With the offline model (``"offline"``, the default) the verdicts come from the keyword
and negation rules of :mod:`clientsim.evaluation.offline_criteria`; a criterion they do
not understand fails with a reason that starts ``"cannot judge offline"``.

As an outcome evaluator (``{"strategy": "criteria", "criteria": [...], "outcome":
"resolved"}``) the conversation reaches ``outcome`` at the first message after which
every criterion passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final

from clientsim._validators import check_int
from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.evaluation.offline_criteria import (
    CRITERIA_TITLE,
    criteria_prompt,
    transcript_block,
)
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    Conversation,
    Outcome,
    Outcomes,
    Timeouts,
    TokenUsage,
)
from clientsim.models.criteria import (
    CriteriaVerdict,
    CriterionVerdict,
    PairwiseCriterionVerdict,
    PairwiseVerdict,
)


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.llm import StructuredCall


__all__ = [
    "CriteriaJudge",
    "CriteriaOutcomeEvaluator",
    "CriteriaVerdict",
    "CriterionVerdict",
    "PairwiseCriterionVerdict",
    "PairwiseVerdict",
    "WrittenCriteriaJudge",
    "check_criteria",
]

_SYSTEM: Final = """\
You judge a chat between a customer and a support agent against written criteria. \
For every numbered criterion decide whether the conversation meets it, give a short \
reason (one sentence) and list the indices of the messages (the numbers in square \
brackets) your verdict rests on; an empty list when it rests on something never said. \
Judge only from what was said; when a criterion cannot be decided from the \
transcript, it is not met.

{criteria}"""

_SCHEMA: Final[dict[str, Any]] = {
    "title": CRITERIA_TITLE,
    "description": "A verdict on every criterion of the conversation.",
    "type": "object",
    "properties": {
        "verdicts": {
            "type": "array",
            "description": "One entry per criterion, in order.",
            "items": {
                "type": "object",
                "properties": {
                    "criterion": {
                        "type": "integer",
                        "description": "The criterion's number.",
                    },
                    "passed": {"type": "boolean"},
                    "reason": {"type": "string", "description": "One sentence: why."},
                    "messages": {
                        "type": "array",
                        "items": {"type": "integer"},
                        "description": "Indices of the messages it rests on.",
                    },
                },
                "required": ["criterion", "passed", "reason", "messages"],
            },
        }
    },
    "required": ["verdicts"],
}


def check_criteria(criteria: object, name: str = "criteria") -> tuple[str, ...]:
    """``criteria`` as a tuple of one-line, non-blank, distinct strings.

    Raises:
        ConfigError: naming ``name`` (and the index) and what is allowed.
    """
    if isinstance(criteria, str) or not isinstance(criteria, Sequence):
        raise ConfigError(
            f"{name} must be a list of criteria (strings), e.g. "
            f"['the agent apologises']; got {criteria!r}"
        )
    if not criteria:
        raise ConfigError(f"{name} must hold at least one criterion; got []")
    texts: list[str] = []
    for index, item in enumerate(criteria):
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(
                f"{name}[{index}] must be a non-blank string; got {item!r}"
            )
        if "\n" in item or "\r" in item:
            raise ConfigError(f"{name}[{index}] must be one line; got {item!r}")
        if item in texts:
            raise ConfigError(f"{name}[{index}] repeats {item!r}; criteria must differ")
        texts.append(item)
    return tuple(texts)


def messages_of(conversation: Conversation) -> list[tuple[str, str]]:
    """``(role, text)`` pairs, as the judges' prompts show them."""
    return [(m.sender.value, m.content) for m in conversation.messages]


class WrittenCriteriaJudge:
    """What the judges of written criteria share: the checked criteria, the model (a
    structured call made on first use, seeded, each call bounded by
    ``timeouts.model_call``) and the tokens used so far.

    Subclasses set :attr:`schema`, the JSON schema of the model's answer.
    """

    schema: ClassVar[dict[str, Any]]

    def __init__(
        self,
        criteria: Sequence[str],
        model: str | BaseChatModel = "offline",
        *,
        seed: int = 0,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.criteria = check_criteria(criteria)
        if timeouts is not None and not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts or None; got {timeouts!r}")
        self.model = model
        self.seed = check_int("seed", seed)
        self.timeouts = timeouts or DEFAULT_TIMEOUTS
        self.token_usage = TokenUsage()
        self._call: StructuredCall | None = None

    def _structured(self) -> StructuredCall:
        if self._call is None:
            from clientsim.llm.calls import judge_call  # noqa: PLC0415

            self._call = judge_call(
                self.model,
                self.schema,
                seed=self.seed,
                timeout=self.timeouts.model_call,
            )
        return self._call


class CriteriaJudge(WrittenCriteriaJudge):
    """Judges a transcript against written criteria (see the module docstring).

    Example:
        >>> import anyio
        >>> from clientsim import Conversation, Message, ParticipantRole
        >>> from datetime import datetime, UTC
        >>> now = datetime(2026, 1, 1, tzinfo=UTC)
        >>> chat = Conversation((
        ...     Message("My order is late", now, ParticipantRole.CUSTOMER),
        ...     Message("Sorry! What is your order number?", now, ParticipantRole.AGENT),
        ... ))
        >>> judge = CriteriaJudge(["the agent apologises", "the agent promises a refund"])
        >>> verdict = anyio.run(judge.judge, chat)
        >>> [(v.passed, v.messages) for v in verdict.verdicts], verdict.passed
        ([(True, (1,)), (False, ())], False)

    Args:
        criteria: the criteria, each one line of plain words.
        model: a LangChain chat model (with structured output) or a spec such as
            ``"openai:gpt-4o-mini"``; ``"offline"`` uses the keyword rules.
        seed: the model's seed, for models that take one.
        timeouts: ``timeouts.model_call`` bounds each call of the model.

    Raises:
        ConfigError: no criteria, a blank, repeated or multi-line one, a bad seed.
    """

    schema = _SCHEMA

    def __repr__(self) -> str:
        return f"CriteriaJudge({list(self.criteria)!r}, model={self.model!r}, seed={self.seed})"

    async def judge(self, conversation: Conversation) -> CriteriaVerdict:
        """Judge every criterion on ``conversation``'s whole transcript.

        Raises:
            ModelError: the model failed or did not answer within
                ``timeouts.model_call``.
            InvalidModelOutputError: the answer misses a criterion, repeats one, or
                cites a message the transcript does not have.
        """
        from clientsim.llm import Turn  # noqa: PLC0415

        if not isinstance(conversation, Conversation):
            raise ConfigError(
                f"judge() takes a Conversation; got {type(conversation).__name__}"
            )
        call = self._structured()
        system = _SYSTEM.format(criteria=criteria_prompt(self.criteria))
        transcript = transcript_block(messages_of(conversation))
        answer, usage = await call(
            [Turn("system", system), Turn("user", f"Transcript:\n{transcript}")]
        )
        self.token_usage = self.token_usage + usage
        return CriteriaVerdict(
            read_verdicts(answer, self.criteria, len(conversation.messages))
        )


def _entries(answer: dict[str, Any], criteria: Sequence[str]) -> dict[int, Any]:
    """The answer's entries by criterion number, each number exactly once."""
    items = answer.get("verdicts")
    if not isinstance(items, list):
        raise InvalidModelOutputError(
            f"the criteria judge answered without a list of verdicts: {answer!r}"
        )
    entries: dict[int, Any] = {}
    for item in items:
        number = item.get("criterion") if isinstance(item, dict) else None
        if isinstance(number, bool) or not isinstance(number, int):
            raise InvalidModelOutputError(
                f"the criteria judge answered a verdict without a criterion number: "
                f"{item!r}"
            )
        if not 1 <= number <= len(criteria) or number in entries:
            raise InvalidModelOutputError(
                f"the criteria judge answered criterion {number} "
                f"{'twice' if number in entries else 'which does not exist'}; "
                f"criteria are numbered 1 to {len(criteria)}"
            )
        entries[number] = item
    missing = [n for n in range(1, len(criteria) + 1) if n not in entries]
    if missing:
        raise InvalidModelOutputError(
            f"the criteria judge gave no verdict on criteria {missing}: "
            + "; ".join(repr(criteria[n - 1]) for n in missing)
        )
    return entries


def read_verdicts(
    answer: dict[str, Any], criteria: Sequence[str], count: int
) -> tuple[CriterionVerdict, ...]:
    """The model's structured answer as verdicts, in the criteria's order.

    Raises:
        InvalidModelOutputError: the answer does not fit (see :meth:`CriteriaJudge.judge`).
    """
    entries = _entries(answer, criteria)
    verdicts = []
    for number, criterion in enumerate(criteria, start=1):
        item = entries[number]
        passed, reason, cited = (
            item.get("passed"),
            item.get("reason"),
            item.get("messages"),
        )
        if not isinstance(passed, bool) or not isinstance(reason, str):
            raise InvalidModelOutputError(
                f"the criteria judge's verdict on {criterion!r} needs a boolean "
                f"'passed' and a string 'reason'; got {item!r}"
            )
        cited = [] if cited is None else cited
        if not isinstance(cited, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < count
            for i in cited
        ):
            raise InvalidModelOutputError(
                f"the criteria judge's verdict on {criterion!r} cites messages "
                f"{cited!r}; the transcript has messages 0 to {count - 1}"
            )
        verdicts.append(
            CriterionVerdict(criterion, passed, reason, tuple(sorted(set(cited))))
        )
    return tuple(verdicts)


class CriteriaOutcomeEvaluator:
    """An outcome evaluator: ``outcome`` is reached once every criterion passes.

    The criteria are judged on the transcript so far after every
    ``every_n_messages``-th message; a negative criterion ("does not promise a refund")
    holds until the message that breaks it, so pair it with a positive one.

    Example:
        >>> evaluator = CriteriaOutcomeEvaluator(
        ...     ["the agent apologises", "the agent asks for the order number"],
        ...     outcome="handled",
        ... )

    Args:
        criteria: the criteria.
        outcome: the outcome reached when all pass (an outcome of the run).
        model: the judge's model (spec or object).
        every_n_messages: judge only when the message count is a multiple of this.
        seed: the judge's seed.
        timeouts: ``timeouts.model_call`` bounds each call.
    """

    def __init__(
        self,
        criteria: Sequence[str],
        *,
        outcome: str,
        model: str | BaseChatModel = "offline",
        every_n_messages: int = 1,
        seed: int = 0,
        timeouts: Timeouts | None = None,
    ) -> None:
        if not isinstance(outcome, str) or not outcome:
            raise ConfigError(
                f"outcome must name the outcome reached when every criterion passes; "
                f"got {outcome!r}"
            )
        self.judge = CriteriaJudge(criteria, model, seed=seed, timeouts=timeouts)
        self.outcome = outcome
        self.every_n_messages = check_int("every_n_messages", every_n_messages, low=1)
        self.last_verdict: CriteriaVerdict | None = None

    @classmethod
    def from_config(
        cls,
        *,
        criteria: Sequence[str],
        outcome: str,
        model: str | BaseChatModel = "offline",
        every_n_messages: int = 1,
        seed: int = 0,
    ) -> CriteriaOutcomeEvaluator:
        """Build from config values."""
        return cls(
            criteria,
            outcome=outcome,
            model=model,
            every_n_messages=every_n_messages,
            seed=seed,
        )

    @property
    def token_usage(self) -> TokenUsage:
        """What the judge's calls cost so far."""
        return self.judge.token_usage

    async def evaluate(
        self, conversation: Conversation, outcomes: Outcomes
    ) -> Outcome | None:
        reached = outcomes.get_outcome_by_name(self.outcome)
        if reached is None:
            raise ConfigError(
                f"the criteria evaluator's outcome {self.outcome!r} is not an outcome "
                f"of this run; outcomes: {', '.join(map(repr, outcomes.names)) or '(none)'}"
            )
        count = len(conversation.messages)
        if not count or count % self.every_n_messages:
            return None
        self.last_verdict = await self.judge.judge(conversation)
        return reached if self.last_verdict.passed else None
