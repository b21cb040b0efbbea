"""Validate simulated answers against real ones (seed 002's ValidationFramework).

:func:`empirical_compare` compares, question by question, the answers a study's
personas gave with a real data set (a CSV file or rows): the Kolmogorov-Smirnov
distance for numeric answers, the chi-square test and the Jensen-Shannon distance for
categorical ones, the rank correlation of segment means, and one fidelity score.
:func:`adversarial_check` asks a classifier (a model, or a simple word-count baseline)
to tell real answers from simulated ones: accuracy near chance means the simulation is
hard to tell apart.

The fidelity score: for each question, a similarity in [0, 1]: ``1 - D`` with ``D``
the KS statistic (numeric) or the Jensen-Shannon distance in base 2 (categorical);
the score is the mean similarity over the questions compared. 1 means the simulated
and real distributions are the same; 0 means they do not overlap at all.
"""

from __future__ import annotations

import csv
import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from clientsim._validators import check_int
from clientsim.errors import ConfigError, StatisticsError
from clientsim.models.survey import Question, Response


__all__ = [
    "AdversarialResult",
    "QuestionFit",
    "ValidationReport",
    "adversarial_check",
    "empirical_compare",
    "read_real_answers",
]

_SEGMENT: Final = "segment"


@attrs.frozen(kw_only=True)
class QuestionFit:
    """How one question's simulated answers fit the real ones.

    Attributes:
        question_id: the question.
        kind: ``numeric`` or ``categorical``.
        n_simulated: simulated answers compared.
        n_real: real answers compared.
        similarity: ``1 - distance``, in [0, 1] (see the module docstring).
        ks: the KS statistic and p-value (numeric).
        chi_square: the chi-square statistic and p-value (categorical).
        jensen_shannon: the Jensen-Shannon distance, base 2 (categorical).
        simulated_mean: the simulated mean (numeric).
        real_mean: the real mean (numeric).
        segment_rank_correlation: Spearman's rho between the segments' simulated and
            real means (numeric, with at least 3 segments in both; else ``None``).
        largest_gap: where they disagree most: for categorical answers the option
            whose share differs most (``(option, simulated share, real share)``),
            for numeric ones the mean difference as ``("mean", sim, real)``.
    """

    question_id: str
    kind: str
    n_simulated: int
    n_real: int
    similarity: float
    ks: tuple[float, float] | None = None
    chi_square: tuple[float, float] | None = None
    jensen_shannon: float | None = None
    simulated_mean: float | None = None
    real_mean: float | None = None
    segment_rank_correlation: float | None = None
    largest_gap: tuple[str, float, float] | None = None


@attrs.frozen(kw_only=True)
class ValidationReport:
    """The result of :func:`empirical_compare`.

    Attributes:
        questions: one fit per question compared, in question order.
        fidelity: the mean similarity over the questions (see the module docstring).
        skipped: questions left out, with why.
    """

    questions: tuple[QuestionFit, ...]
    fidelity: float
    skipped: Mapping[str, str] = attrs.field(factory=dict)

    def worst(self, n: int = 3) -> list[QuestionFit]:
        """The ``n`` questions where the simulation disagrees most with the data."""
        return sorted(self.questions, key=lambda fit: fit.similarity)[:n]

    def render(self) -> str:
        """A text report: the fidelity score, each question, the worst first."""
        lines = [f"fidelity {self.fidelity:.3f} over {len(self.questions)} question(s)"]
        for fit in self.worst(len(self.questions)):
            detail = (
                f"KS {fit.ks[0]:.3f} (p={fit.ks[1]:.3g}), means "
                f"{fit.simulated_mean:.2f} vs {fit.real_mean:.2f}"
                if fit.ks is not None
                and fit.simulated_mean is not None
                and fit.real_mean is not None
                else f"JS {fit.jensen_shannon:.3f}"
                + (
                    f", chi2 p={fit.chi_square[1]:.3g}"
                    if fit.chi_square is not None
                    else ""
                )
            )
            gap = ""
            if fit.largest_gap is not None and fit.kind == "categorical":
                option, sim, real = fit.largest_gap
                gap = f"; most off: {option!r} {sim:.0%} simulated vs {real:.0%} real"
            lines.append(
                f"  {fit.question_id}: similarity {fit.similarity:.3f} "
                f"(n={fit.n_simulated}/{fit.n_real}); {detail}{gap}"
            )
        lines.extend(f"  skipped {q}: {why}" for q, why in self.skipped.items())
        return "\n".join(lines)


def read_real_answers(
    source: str | Path | Iterable[Mapping[str, Any]],
) -> list[dict[str, str]]:
    """Real answers as rows: a CSV file (a header row of question ids, and
    optionally ``segment``) or rows already read.

    Raises:
        ConfigError: the file cannot be read or has no header.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                if not reader.fieldnames:
                    raise ConfigError(f"real data {path} has no header row")
                return [
                    {k: (v or "").strip() for k, v in row.items() if k}
                    for row in reader
                ]
        except OSError as exc:
            raise ConfigError(f"cannot read real data {path}: {exc.strerror}") from exc
    return [{str(k): str(v).strip() for k, v in row.items()} for row in source]


def _responses(simulated: object) -> list[Response]:
    items = getattr(simulated, "responses", simulated)
    if callable(items):
        items = items()
    responses = list(items) if isinstance(items, Iterable) else []
    if not all(isinstance(r, Response) for r in responses):
        raise ConfigError(
            "simulated answers must be Response values, a StudyRun or StudyResults"
        )
    return responses


def _as_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _simulated_value(response: Response, question_id: str) -> str | None:
    answer = response.answers.get(question_id)
    if answer is not None and answer.value is not None:
        value = answer.value
        return " > ".join(value) if isinstance(value, tuple) else str(value)
    if question_id in response.fields and response.fields[question_id] is not None:
        return str(response.fields[question_id])
    return None


def empirical_compare(
    simulated: object,
    real: str | Path | Iterable[Mapping[str, Any]],
    *,
    questions: Sequence[Question] = (),
) -> ValidationReport:
    """Compare simulated answers with real ones, question by question.

    Args:
        simulated: the study's individual results (:class:`Response` values, a
            ``StudyRun`` or ``StudyResults``).
        real: a CSV file with one row per real respondent and one column per question
            id (and optionally ``segment``), or such rows.
        questions: the questions, to know which are numeric (``scale``); without
            them a column whose every real value is a number is numeric.

    Raises:
        ConfigError: no question id is shared by the simulated and real answers.
    """
    from scipy import stats  # noqa: PLC0415
    from scipy.spatial.distance import jensenshannon  # noqa: PLC0415

    responses = _responses(simulated)
    rows = read_real_answers(real)
    declared = {q.id: q for q in questions}
    columns = [c for c in (rows[0] if rows else {}) if c != _SEGMENT]
    asked = {qid for r in responses for qid in (*r.answers, *r.fields)}
    shared = [c for c in columns if c in asked]
    if not shared:
        raise ConfigError(
            f"no question is in both the simulated and the real answers; real columns: "
            f"{', '.join(columns) or '(none)'}; simulated: {', '.join(sorted(asked)) or '(none)'}"
        )
    fits: list[QuestionFit] = []
    skipped: dict[str, str] = {}
    for qid in shared:
        sim = [
            (r.segment, v)
            for r in responses
            if (v := _simulated_value(r, qid)) is not None
        ]
        obs = [(row.get(_SEGMENT) or None, row[qid]) for row in rows if row.get(qid)]
        if len(sim) < 2 or len(obs) < 2:
            skipped[qid] = (
                f"too few answers ({len(sim)} simulated, {len(obs)} real; need 2 each)"
            )
            continue
        question = declared.get(qid)
        numeric = (
            question.type == "scale"
            if question is not None
            else all(_as_number(v) is not None for _, v in obs)
        )
        if numeric:
            fits.append(_numeric_fit(qid, sim, obs, stats))
        else:
            fits.append(_categorical_fit(qid, sim, obs, stats, jensenshannon))
    if not fits:
        raise StatisticsError(
            "empirical_compare: no question had at least 2 simulated and 2 real answers"
        )
    fidelity = sum(fit.similarity for fit in fits) / len(fits)
    return ValidationReport(questions=tuple(fits), fidelity=fidelity, skipped=skipped)


def _numeric_fit(
    qid: str,
    sim: list[tuple[str | None, str]],
    obs: list[tuple[str | None, str]],
    stats: Any,
) -> QuestionFit:
    a = [(s, x) for s, v in sim if (x := _as_number(v)) is not None]
    b = [(s, x) for s, v in obs if (x := _as_number(v)) is not None]
    ks = stats.ks_2samp([x for _, x in a], [x for _, x in b])
    mean_a = sum(x for _, x in a) / len(a)
    mean_b = sum(x for _, x in b) / len(b)
    rho = None
    segments = sorted({s for s, _ in a if s} & {s for s, _ in b if s})
    if len(segments) >= 3:
        means_a = [_mean([x for s, x in a if s == seg]) for seg in segments]
        means_b = [_mean([x for s, x in b if s == seg]) for seg in segments]
        if len(set(means_a)) > 1 and len(set(means_b)) > 1:  # else rho is undefined
            result = stats.spearmanr(means_a, means_b)
            rho = float(result.statistic)
    return QuestionFit(
        question_id=qid,
        kind="numeric",
        n_simulated=len(a),
        n_real=len(b),
        similarity=1.0 - float(ks.statistic),
        ks=(float(ks.statistic), float(ks.pvalue)),
        simulated_mean=mean_a,
        real_mean=mean_b,
        segment_rank_correlation=rho,
        largest_gap=("mean", mean_a, mean_b),
    )


def _categorical_fit(
    qid: str,
    sim: list[tuple[str | None, str]],
    obs: list[tuple[str | None, str]],
    stats: Any,
    jensenshannon: Any,
) -> QuestionFit:
    a = Counter(v.casefold() for _, v in sim)
    b = Counter(v.casefold() for _, v in obs)
    options = sorted(set(a) | set(b))
    na, nb = sum(a.values()), sum(b.values())
    pa = [a[o] / na for o in options]
    pb = [b[o] / nb for o in options]
    distance = float(jensenshannon(pa, pb, base=2)) if len(options) > 1 else 0.0
    chi = None
    if len(options) > 1:
        table = [[a[o] for o in options], [b[o] for o in options]]
        result = stats.chi2_contingency(table, correction=False)
        chi = (float(result.statistic), float(result.pvalue))
    gap_option = max(options, key=lambda o: abs(a[o] / na - b[o] / nb))
    return QuestionFit(
        question_id=qid,
        kind="categorical",
        n_simulated=na,
        n_real=nb,
        similarity=1.0 - distance,
        chi_square=chi,
        jensen_shannon=distance,
        largest_gap=(gap_option, a[gap_option] / na, b[gap_option] / nb),
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


# -- the adversarial check ----------------------------------------------------------


@attrs.frozen(kw_only=True)
class AdversarialResult:
    """How well a classifier tells real answers from simulated ones.

    Attributes:
        accuracy: the share of answers classified right (0.5 is chance on a
            balanced set).
        n: answers classified.
        low: the lower end of the accuracy's 95% interval (Wilson).
        high: its upper end.
        p_value: a two-sided binomial test of the accuracy against chance (0.5).
        classifier: ``"baseline"`` (words counted, cross-validated) or the model's name.
    """

    accuracy: float
    n: int
    low: float
    high: float
    p_value: float
    classifier: str

    @property
    def indistinguishable(self) -> bool:
        """Whether the accuracy is not significantly above chance (at 5%)."""
        return self.low <= 0.5 or self.p_value >= 0.05


_WORDS: Final = re.compile(r"[a-z']+")


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def _baseline(
    real: Sequence[str], simulated: Sequence[str], *, folds: int, seed: int
) -> list[bool]:
    """Naive Bayes on word counts, ``folds``-fold cross-validated: right or wrong per
    answer."""
    items = [(text, True) for text in real] + [(text, False) for text in simulated]
    random.Random(seed).shuffle(items)
    outcomes: list[bool] = []
    for fold in range(folds):
        test = items[fold::folds]
        train = [item for i, item in enumerate(items) if i % folds != fold]
        counts = {True: Counter[str](), False: Counter[str]()}
        docs = Counter[bool]()
        for text, label in train:
            counts[label].update(_words(text))
            docs[label] += 1
        vocab = set(counts[True]) | set(counts[False])
        totals = {label: sum(c.values()) for label, c in counts.items()}
        for text, label in test:
            scores = {}
            for guess in (True, False):
                prior = math.log((docs[guess] + 1) / (len(train) + 2))
                scores[guess] = prior + sum(
                    math.log((counts[guess][w] + 1) / (totals[guess] + len(vocab) + 1))
                    for w in _words(text)
                )
            outcomes.append((scores[True] > scores[False]) == label)
    return outcomes


_CLASSIFY_SCHEMA: Final[dict[str, Any]] = {
    "title": "real_or_simulated",
    "description": "Whether an answer was written by a real person or simulated.",
    "type": "object",
    "properties": {
        "real": {
            "type": "boolean",
            "description": "True if a real person wrote it, false if it was simulated.",
        },
        "reason": {"type": "string"},
    },
    "required": ["real"],
}


async def adversarial_check(
    real: Sequence[str],
    simulated: Sequence[str],
    *,
    model: object = None,
    folds: int = 5,
    seed: int = 0,
) -> AdversarialResult:
    """Ask a classifier to tell real answers from simulated ones.

    Args:
        real: real answers (free text).
        simulated: simulated answers to the same questions.
        model: a chat model or spec that judges each answer (structured output,
            schema title ``real_or_simulated``); ``None``: the word-count baseline,
            cross-validated over ``folds`` folds.
        folds: folds of the baseline's cross-validation (2 or more).
        seed: the fold split's seed (and the judge's).

    Raises:
        StatisticsError: fewer than ``folds`` answers on either side.
    """
    from scipy import stats  # noqa: PLC0415

    check_int("folds", folds, low=2)
    if min(len(real), len(simulated)) < folds:
        raise StatisticsError(
            f"adversarial_check: needs at least {folds} real and {folds} simulated "
            f"answers; got {len(real)} and {len(simulated)}"
        )
    if model is None:
        outcomes = _baseline(real, simulated, folds=folds, seed=seed)
        name = "baseline"
    else:
        from clientsim.llm import model_name  # noqa: PLC0415
        from clientsim.llm.calls import judge_call  # noqa: PLC0415
        from clientsim.llm.turns import Turn  # noqa: PLC0415

        call = judge_call(model, _CLASSIFY_SCHEMA, seed=seed)  # type: ignore[arg-type]
        outcomes = []
        for text, label in [(t, True) for t in real] + [(t, False) for t in simulated]:
            turns = [
                Turn(
                    role="system",
                    content="Decide whether a real person wrote this survey answer, "
                    "or a simulation did.",
                ),
                Turn(role="user", content=f"Answer: {text}"),
            ]
            verdict, _ = await call(turns)
            outcomes.append(bool(verdict.get("real")) == label)
        name = model if isinstance(model, str) else model_name(call.model)
    n = len(outcomes)
    right = sum(outcomes)
    test = stats.binomtest(right, n, 0.5)
    interval = test.proportion_ci(confidence_level=0.95, method="wilson")
    return AdversarialResult(
        accuracy=right / n,
        n=n,
        low=float(interval.low),
        high=float(interval.high),
        p_value=float(test.pvalue),
        classifier=name,
    )
