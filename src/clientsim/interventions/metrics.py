"""Success metrics of an intervention: what counts as success in one persona's response.

A :class:`Metric` reads a ``Response`` (``clientsim.models.survey``) and returns a
success (``True``/``False``, for a *rate* metric), a number (a *score* metric), or
``None`` when the response does not tell. Metrics are registered by name in
:data:`clientsim.factory.metrics` (hook ``clientsim_register_metrics``) and built with
:func:`clientsim.factory.build_metric`; two shorthands take any field or question:
``field:<name>`` and ``question:<id>`` (``question:<id>=<option>`` for the share
choosing an option, ``question:<id>>=<n>`` for the share at or above ``n``;
``field:<name>=<value>`` likewise).

Built in: ``response_rate``, ``open_rate``, ``click_through``, ``purchase_intent``,
``conversion``, ``mean_score``, ``field``, ``question``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal, TypeAlias

import attrs

from clientsim.errors import ConfigError
from clientsim.models.survey import FieldSpec, Question, Response


__all__ = [
    "Metric",
    "MetricKind",
    "MetricValue",
    "builtin_metrics",
    "metric_config",
]

MetricKind: TypeAlias = Literal["rate", "score", "auto"]
MetricValue: TypeAlias = bool | float | None

_YES: Final = frozenset(
    {"yes", "y", "true", "1", "likely", "very likely", "high", "definitely"}
)
_NO: Final = frozenset(
    {
        "no",
        "n",
        "false",
        "0",
        "unlikely",
        "low",
        "never",
        "not likely",
        "maybe",
        "medium",
        "moderate",
        "unsure",
        "not sure",
    }
)


@attrs.frozen(kw_only=True)
class Metric:
    """One success metric.

    Attributes:
        name: how results name it (``purchase_intent``, ``field:rating``).
        kind: ``rate`` (``measure`` returns a success), ``score`` (a number), or
            ``auto`` (decided by the values: all booleans make a rate).
        measure: ``measure(response) -> bool | float | None`` (``None``: not known
            for this response; it is left out).
        question: a question the metric needs, asked when the study has none with
            its id.
        description: one line for reports.
        counts_missing: for a rate, whether a persona with no response at all
            counts as a failure (``True`` for response and open rates).

    Example:
        >>> m = Metric(name="liked", kind="rate", measure=lambda r: "liked" in r.fields)
        >>> m(Response(persona_id="p1", fields={"liked": True}))
        True
    """

    name: str
    kind: MetricKind
    measure: Callable[[Response], MetricValue]
    question: Question | None = None
    description: str = ""
    counts_missing: bool = False

    def __attrs_post_init__(self) -> None:
        if self.kind not in ("rate", "score", "auto"):
            raise ConfigError(
                f"metric {self.name!r}: kind must be rate, score or auto; got {self.kind!r}"
            )

    def __call__(self, response: Response) -> MetricValue:
        value = self.measure(response)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return float(value)
        raise ConfigError(
            f"metric {self.name!r} returned {type(value).__name__}; expected a bool, "
            "a number or None"
        )


def metric_config(config: object) -> str | Mapping[str, Any]:
    """A metric config with the ``field:`` / ``question:`` shorthands expanded.

    Example:
        >>> metric_config("question:buy=yes")
        {'strategy': 'question', 'id': 'buy', 'option': 'yes'}
        >>> metric_config("question:nps>=9")
        {'strategy': 'question', 'id': 'nps', 'threshold': 9.0}
    """
    if isinstance(config, Mapping):
        return config
    if not isinstance(config, str) or not config.strip():
        raise ConfigError(
            f"a metric must be a name or a mapping with 'strategy'; got {config!r}"
        )
    head, colon, rest = config.partition(":")
    if not colon:
        return config
    if not rest:
        raise ConfigError(f"metric {config!r}: name the {head} after ':'")
    if head == "field":
        name, equals, value = rest.partition("=")
        return {
            "strategy": "field",
            "name": name,
            **({"value": value} if equals else {}),
        }
    if head == "question":
        return _question_config(config, rest)
    raise ConfigError(
        f"metric {config!r}: only 'field:<name>' and 'question:<id>' take a ':'"
    )


def _question_config(config: str, rest: str) -> dict[str, Any]:
    if ">=" in rest:
        qid, _, limit = rest.partition(">=")
        try:
            return {"strategy": "question", "id": qid, "threshold": float(limit)}
        except ValueError:
            raise ConfigError(
                f"metric {config!r}: the threshold after '>=' must be a number"
            ) from None
    qid, equals, option = rest.partition("=")
    return {"strategy": "question", "id": qid, **({"option": option} if equals else {})}


def _yes(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value > 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _YES:
            return True
        if word in _NO:
            return False
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return None
        return None
    return float(value)


def _answer(response: Response, question_id: str) -> object:
    answer = response.answers.get(question_id)
    return None if answer is None else answer.value


def _event(response: Response, types: Iterable[str]) -> bool:
    wanted = set(types)
    return any(event.get("type") in wanted for event in response.events)


def _flag(
    response: Response,
    question_id: str,
    field_names: Sequence[str],
    events: Sequence[str],
) -> bool | None:
    """A yes/no signal: the question's answer, else a field, else an event."""
    found = _yes(_answer(response, question_id))
    if found is not None:
        return found
    for name in field_names:
        if name in response.fields:
            found = _yes(response.fields[name])
            if found is not None:
                return found
    if _event(response, events):
        return True
    return None


def _yes_no(question_id: str, text: str) -> Question:
    return Question(id=question_id, text=text, type="choice", options=("yes", "no"))


def response_rate() -> Metric:
    """The share of assigned personas who answered anything."""

    def measure(response: Response) -> bool:
        answered = any(
            a.value is not None or a.text.strip() for a in response.answers.values()
        )
        return answered or any(v is not None for v in response.fields.values())

    return Metric(
        name="response_rate",
        kind="rate",
        measure=measure,
        description="share of assigned personas who responded",
        counts_missing=True,
    )


def open_rate(question: str = "opened") -> Metric:
    """The share who would open the message (question ``opened``, field ``opened``
    or an ``open`` event)."""
    return Metric(
        name="open_rate",
        kind="rate",
        measure=lambda r: _flag(r, question, ("opened", "open"), ("open", "opened")),
        question=_yes_no(
            question, "This message just arrived for you. Would you open it?"
        ),
        description="share who would open the message",
        counts_missing=True,
    )


def click_through(question: str = "click_through") -> Metric:
    """The share who would click through (question ``click_through``, field
    ``clicked`` or ``click_through``, or a ``click`` event)."""
    return Metric(
        name="click_through",
        kind="rate",
        measure=lambda r: _flag(
            r, question, ("click_through", "clicked"), ("click", "clicked")
        ),
        question=_yes_no(
            question, "Would you click through to find out more about this offer?"
        ),
        description="share who would click through",
    )


def purchase_intent(question: str = "purchase_intent", threshold: float = 7) -> Metric:
    """The share whose purchase intent (the question, else the field of that name,
    else an ``intent`` question or field) is at least ``threshold`` (on 1-10), or a
    yes (``high``, ``likely``)."""

    def measure(response: Response) -> bool | None:
        for value in (
            _answer(response, question),
            response.fields.get(question),
            _answer(response, "intent"),
            response.fields.get("intent"),
        ):
            number = _number(value)
            if number is not None:
                return number >= threshold
            flag = _yes(value)
            if flag is not None:
                return flag
        return None

    return Metric(
        name="purchase_intent",
        kind="rate",
        measure=measure,
        question=Question(
            id=question,
            text="How likely are you to buy this, from 1 (not at all) to 10 (certainly)?",
            type="scale",
        ),
        description=f"share with purchase intent >= {threshold:g}",
    )


def conversion(field: str = "converted") -> Metric:
    """The share who converted: the field (or ``purchased``), an answer to a question
    of that id, or a ``conversion`` / ``purchase`` event."""
    return Metric(
        name="conversion",
        kind="rate",
        measure=lambda r: _flag(
            r, field, (field, "purchased", "conversion"), ("conversion", "purchase")
        ),
        description="share who converted",
    )


def _scale_of(questions: Sequence[Question], wanted: str | None) -> str:
    if wanted:
        return wanted
    scales = [q.id for q in questions if q.type == "scale"]
    if len(scales) != 1:
        raise ConfigError(
            "mean_score needs {'strategy': 'mean_score', 'question': '<id>'} naming a "
            f"scale question; the study's scale questions: {scales or 'none'}"
        )
    return scales[0]


def mean_score(
    question: str | None = None, questions: Sequence[Question] = ()
) -> Metric:
    """The mean of a scale question (its id, or the study's only scale question)."""
    chosen = _scale_of(questions, question)
    return Metric(
        name=f"mean_score:{chosen}" if question is None else "mean_score",
        kind="score",
        measure=lambda r: _number(_answer(r, chosen)),
        description=f"mean of {chosen}",
    )


def field(
    name: str,
    kind: MetricKind | None = None,
    value: str | None = None,
    fields: Sequence[FieldSpec] = (),
) -> Metric:
    """Any extracted field: booleans as a rate, numbers as a score; with ``value``,
    the share whose field equals it (``field:sentiment=positive``)."""
    declared = {spec.name: spec for spec in fields}.get(name)
    if value is not None:
        if declared is not None and declared.options and value not in declared.options:
            raise ConfigError(
                f"metric field:{name}: value {value!r} is not one of "
                f"{', '.join(declared.options)}"
            )

        def equals(response: Response) -> MetricValue:
            found = response.fields.get(name)
            return None if found is None else str(found) == value

        return Metric(name=f"field:{name}={value}", kind="rate", measure=equals)
    if kind is None:
        kind = "auto"
        if declared is not None and declared.type == "boolean":
            kind = "rate"
        elif declared is not None and declared.type in ("number", "integer"):
            kind = "score"

    def measure(response: Response) -> MetricValue:
        found = response.fields.get(name)
        if kind == "rate" or isinstance(found, bool):
            return _yes(found)
        return _number(found)

    return Metric(name=f"field:{name}", kind=kind, measure=measure)


def question(
    id: str,  # noqa: A002 - the question's key, as in Question(id=...)
    option: str | None = None,
    threshold: float | None = None,
    questions: Sequence[Question] = (),
) -> Metric:
    """Any question: a scale as a mean (or the share at or above ``threshold``), a
    choice as the share choosing ``option`` (default ``yes`` or the first option)."""
    declared = {q.id: q for q in questions}.get(id)
    if declared is not None and declared.type == "choice" and option is None:
        option = "yes" if "yes" in declared.options else declared.options[0]
    if (
        declared is not None
        and option is not None
        and declared.options
        and option not in declared.options
    ):
        raise ConfigError(
            f"metric question:{id}: option {option!r} is not one of "
            f"{', '.join(declared.options)}"
        )
    if declared is not None and declared.type in ("ranking", "free_text"):
        raise ConfigError(
            f"metric question:{id}: a {declared.type} question has no rate or score; "
            "extract a field from it instead"
        )

    def measure(response: Response) -> MetricValue:
        value = _answer(response, id)
        if value is None:
            return None
        if option is not None:
            return str(value) == option
        number = _number(value)
        if threshold is not None:
            return None if number is None else number >= threshold
        return number

    kind: MetricKind = (
        "rate" if option is not None or threshold is not None else "score"
    )
    if declared is None and option is None and threshold is None:
        kind = "auto"
    return Metric(name=f"question:{id}", kind=kind, measure=measure)


def builtin_metrics() -> dict[str, Callable[..., Metric]]:
    """The built-in metric factories by name."""
    return {
        "response_rate": response_rate,
        "open_rate": open_rate,
        "click_through": click_through,
        "purchase_intent": purchase_intent,
        "conversion": conversion,
        "mean_score": mean_score,
        "field": field,
        "question": question,
    }
