"""The aggregate results of a population study (private to :mod:`.results`).

Every rate and mean comes with its interval: unweighted through
:mod:`clientsim.analysis.intervals` (Wilson for rates, Student's t for means),
weighted through :mod:`clientsim.population.reweight` (the same intervals on Kish's
effective sample size).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from clientsim.errors import StatisticsError
from clientsim.models.survey import Question, Response
from clientsim.population.reweight import weighted_mean, weighted_rate


__all__ = ["QuestionInfo", "aggregate", "infer_questions", "responded"]

NO_GROUP: Final = "(none)"
"""The breakdown key of people with no segment (or no variant)."""
_CHOICE_OPTIONS: Final = 12
_CHOICE_CHARS: Final = 40
_SCORE_FIELDS: Final = ("rating", "purchase_intent")


@attrs.frozen
class QuestionInfo:
    """What the results know of a question: declared, or read off the answers."""

    id: str
    type: str
    options: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None

    @classmethod
    def of(cls, question: Question) -> QuestionInfo:
        if question.type == "scale":
            return cls(question.id, "scale", (), question.low, question.high)
        return cls(question.id, question.type, question.options)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def infer_questions(people: Iterable[Response]) -> tuple[QuestionInfo, ...]:
    """The questions as the answers show them, in the order first answered: numbers
    make a scale, lists a ranking, short text with few distinct values a choice
    (at most 12 values of at most 40 characters), other text free text."""
    values: dict[str, list[object]] = {}
    for person in people:
        for qid, answer in person.answers.items():
            values.setdefault(qid, [])
            if answer.value is not None:
                values[qid].append(answer.value)
    found = []
    for qid, seen in values.items():
        if seen and all(is_number(v) for v in seen):
            found.append(QuestionInfo(qid, "scale"))
        elif seen and all(isinstance(v, tuple) for v in seen):
            options = sorted({str(o) for v in seen for o in v})  # type: ignore[attr-defined]
            found.append(QuestionInfo(qid, "ranking", tuple(options)))
        else:
            texts = {str(v) for v in seen}
            short = all(len(t) <= _CHOICE_CHARS for t in texts)
            if seen and short and len(texts) <= _CHOICE_OPTIONS:
                found.append(QuestionInfo(qid, "choice", tuple(sorted(texts))))
            else:
                found.append(QuestionInfo(qid, "free_text"))
    return tuple(found)


def responded(person: Response) -> bool:
    """Whether the person answered anything (a field counts when there are no
    answers at all)."""
    if person.answers:
        return any(a.value is not None for a in person.answers.values())
    return any(v is not None and v != () for v in person.fields.values())


def _interval(low: float, high: float) -> list[float]:
    return [float(low), float(high)]


def rate(
    flags: Sequence[bool], weights: Sequence[float] | None, confidence: float
) -> tuple[float | None, list[float] | None]:
    """A (weighted) rate and its interval; ``(None, None)`` for no one."""
    from clientsim.analysis.intervals import proportion_ci  # noqa: PLC0415

    if not flags:
        return None, None
    if weights is None:
        estimate = proportion_ci(sum(flags), len(flags), confidence)
        return float(estimate.value), _interval(estimate.low, estimate.high)
    if math.fsum(weights) <= 0:  # a cell reweighted to a share of 0
        return None, None
    value, low, high, _ = weighted_rate(flags, weights, confidence)
    return value, _interval(low, high)


def mean(
    values: Sequence[float], weights: Sequence[float] | None, confidence: float
) -> tuple[float | None, list[float] | None]:
    """A (weighted) mean and its interval; no interval for fewer than two values."""
    from clientsim.analysis.intervals import mean_ci  # noqa: PLC0415

    if not values:
        return None, None
    if weights is None:
        if len(values) < 2:
            return float(values[0]), None
        estimate = mean_ci([float(v) for v in values], confidence)
        return float(estimate.value), _interval(estimate.low, estimate.high)
    total = math.fsum(weights)
    if total <= 0:
        return None, None
    try:
        value, low, high, _ = weighted_mean(values, weights, confidence)
    except StatisticsError:
        return math.fsum(
            w * x for x, w in zip(values, weights, strict=True)
        ) / total, None
    return value, _interval(low, high)


def _shares(counts: Mapping[str, float]) -> dict[str, float]:
    total = math.fsum(counts.values())
    return {k: (v / total if total else 0.0) for k, v in counts.items()}


def _option_key(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value) == int(value) else str(value)
    return str(value)


def _question(
    info: QuestionInfo,
    people: Sequence[Response],
    weights: Sequence[float],
    weighted: bool,
    confidence: float,
) -> dict[str, Any]:
    pairs = [
        (p.answers[info.id].value, w)
        for p, w in zip(people, weights, strict=True)
        if info.id in p.answers and p.answers[info.id].value is not None
    ]
    out: dict[str, Any] = {"type": info.type, "responses": len(pairs)}
    if info.type == "free_text":
        return out
    counts, mass = _counts(info, pairs)
    out["distribution"] = counts
    out["shares"] = _shares(mass)
    if info.type == "scale":
        numbers = [float(v) for v, _ in pairs if is_number(v)]  # type: ignore[arg-type]
        value, interval = mean(
            numbers,
            [w for v, w in pairs if is_number(v)] if weighted else None,
            confidence,
        )
        out["mean"], out["confidence_interval"] = value, interval
    if info.type == "ranking":
        out["mean_rank"] = _mean_ranks(info, pairs)
    return out


def _counts(
    info: QuestionInfo, pairs: Sequence[tuple[object, float]]
) -> tuple[dict[str, int], dict[str, float]]:
    """Answers and weights per option or scale value (a ranking: its first choice),
    every declared option or scale value included."""
    counts: dict[str, int] = {}
    mass: dict[str, float] = {}
    if info.type == "scale" and info.low is not None and info.high is not None:
        levels = [str(level) for level in range(info.low, info.high + 1)]
    else:
        levels = list(info.options)
    for level in levels:
        counts[level], mass[level] = 0, 0.0
    for value, w in pairs:
        key = _option_key(value[0] if isinstance(value, tuple) and value else value)
        counts[key] = counts.get(key, 0) + 1
        mass[key] = mass.get(key, 0.0) + w
    order = list(counts)
    if info.type == "scale":
        order.sort(key=lambda k: (not _numeric_key(k), _sort_number(k), k))
    return {k: counts[k] for k in order}, {k: mass[k] for k in order}


def _mean_ranks(
    info: QuestionInfo, pairs: Sequence[tuple[object, float]]
) -> dict[str, float | None]:
    """Each option's (weighted) mean place in the rankings, 1 = first."""
    ranks: dict[str, list[tuple[float, float]]] = {o: [] for o in info.options}
    for value, w in pairs:
        if isinstance(value, tuple):
            for place, option in enumerate(value, start=1):
                ranks.setdefault(str(option), []).append((place, w))
    found: dict[str, float | None] = {}
    for option, seen in ranks.items():
        total = math.fsum(w for _, w in seen)
        found[option] = math.fsum(p * w for p, w in seen) / total if total > 0 else None
    return found


def _numeric_key(key: str) -> bool:
    try:
        float(key)
    except ValueError:
        return False
    return True


def _sort_number(key: str) -> float:
    return float(key) if _numeric_key(key) else 0.0


def _field(
    name: str,
    people: Sequence[Response],
    weights: Sequence[float],
    weighted: bool,
    confidence: float,
) -> dict[str, Any]:
    pairs = [
        (p.fields[name], w)
        for p, w in zip(people, weights, strict=True)
        if p.fields.get(name) is not None
    ]
    values = [v for v, _ in pairs]
    if values and all(isinstance(v, tuple | list) for v in values):
        with_items = [bool(v) for v in values]
        share, interval = rate(
            with_items, [w for _, w in pairs] if weighted else None, confidence
        )
        items = Counter(str(i) for v in values for i in v)
        return {
            "type": "list",
            "responses": len(values),
            "with_items": sum(with_items),
            "share_with_items": share,
            "share_interval": interval,
            "items": sum(items.values()),
        }
    if values and all(is_number(v) for v in values):
        value, interval = mean(
            [float(v) for v in values],
            [w for _, w in pairs] if weighted else None,
            confidence,
        )
        return {
            "type": "number",
            "responses": len(values),
            "mean": value,
            "confidence_interval": interval,
        }
    counts: Counter[str] = Counter()
    mass: dict[str, float] = {}
    for v, w in pairs:
        key = str(v).lower() if isinstance(v, bool) else str(v)
        counts[key] += 1
        mass[key] = mass.get(key, 0.0) + w
    order = sorted(counts, key=lambda k: (-counts[k], k))
    return {
        "type": "categorical",
        "responses": len(values),
        "distribution": {k: counts[k] for k in order},
        "shares": _shares({k: mass[k] for k in order}),
    }


def score_of(
    score: str | None, questions: Sequence[QuestionInfo], people: Sequence[Response]
) -> str | None:
    """The measure behind ``mean_score``: ``score`` if given, else the first scale
    question, else the ``rating`` or ``purchase_intent`` field, else the first numeric
    field, else none."""
    if score is not None:
        return score
    for info in questions:
        if info.type == "scale":
            return info.id
    names: list[str] = []
    for person in people:
        names.extend(n for n in person.fields if n not in names)
    numeric = [
        n
        for n in names
        if any(is_number(p.fields.get(n)) for p in people)
        and all(p.fields.get(n) is None or is_number(p.fields.get(n)) for p in people)
    ]
    for name in (*_SCORE_FIELDS, *numeric):
        if name in numeric:
            return name
    return None


def score_value(person: Response, score: str | None) -> float | None:
    if score is None:
        return None
    answer = person.answers.get(score)
    value = answer.value if answer is not None else person.fields.get(score)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _summary(
    people: Sequence[Response],
    weights: Sequence[float],
    weighted: bool,
    score: str | None,
    confidence: float,
) -> dict[str, Any]:
    flags = [responded(p) for p in people]
    response_rate, rate_interval = rate(
        flags, weights if weighted else None, confidence
    )
    scored = [
        (v, w)
        for p, w, f in zip(people, weights, flags, strict=True)
        if f and (v := score_value(p, score)) is not None
    ]
    mean_score, interval = mean(
        [v for v, _ in scored], [w for _, w in scored] if weighted else None, confidence
    )
    return {
        "invited": len(people),
        "total_responses": sum(flags),
        "response_rate": response_rate,
        "response_rate_interval": rate_interval,
        "mean_score": mean_score,
        "confidence_interval": interval,
    }


def _breakdown(
    people: Sequence[Response],
    weights: Sequence[float],
    key: Callable[[Response], str | None],
    *,
    weighted: bool,
    score: str | None,
    confidence: float,
) -> dict[str, Any]:
    if all(key(p) is None for p in people):
        return {}
    groups: dict[str, list[int]] = {}
    for index, person in enumerate(people):
        groups.setdefault(key(person) or NO_GROUP, []).append(index)
    return {
        name: _summary(
            [people[i] for i in groups[name]],
            [weights[i] for i in groups[name]],
            weighted,
            score,
            confidence,
        )
        for name in sorted(groups)
    }


def aggregate(
    people: Sequence[Response],
    questions: Sequence[QuestionInfo],
    *,
    weights: Sequence[float] | None,
    score: str | None,
    confidence: float,
    themes: list[dict[str, Any]],
) -> dict[str, Any]:
    """The ``aggregate_results`` of the seed's results structure, and more."""
    weighted = weights is not None
    used = list(weights) if weights is not None else [1.0] * len(people)
    chosen = score_of(score, questions, people)
    answering = [(p, w) for p, w in zip(people, used, strict=True) if responded(p)]
    who = [p for p, _ in answering]
    their = [w for _, w in answering]
    names: list[str] = []
    for person in who:
        names.extend(n for n in person.fields if n not in names)
    options: dict[str, Any] = {
        "weighted": weighted,
        "score": chosen,
        "confidence": confidence,
    }
    return {
        **_summary(people, used, weighted, chosen, confidence),
        "score": chosen,
        "confidence": confidence,
        "segment_breakdown": _breakdown(people, used, lambda p: p.segment, **options),
        "variant_breakdown": _breakdown(people, used, lambda p: p.variant, **options),
        "questions": {
            info.id: _question(info, who, their, weighted, confidence)
            for info in questions
        },
        "fields": {
            name: _field(name, who, their, weighted, confidence)
            for name in sorted(names)
        },
        "themes": themes,
    }
