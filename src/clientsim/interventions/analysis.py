"""The statistics of an intervention: per arm and metric an estimate with its
interval; per variant and metric the difference from the baseline with its interval,
a test, an effect size and Holm's adjusted p-value; with more than two arms an
omnibus test first; the same estimates per segment.

Every figure comes from :mod:`clientsim.analysis` (scipy behind it, loaded on first
use). A rate metric counts successes among the personas it applies to (for the
response and open rates, every assigned persona: one with no response counts as a
failure); a score metric averages the responses that have a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, Literal

import attrs

from clientsim.errors import ClientSimError
from clientsim.interventions.metrics import Metric, MetricValue
from clientsim.models.survey import Response


__all__ = [
    "ArmMetric",
    "Comparison",
    "OmnibusTest",
    "ScoreTest",
    "analyse",
    "measurements",
]

ScoreTest = Literal["welch", "mann_whitney"]
_OMNIBUS: Final[dict[str, Literal["anova", "kruskal"]]] = {
    "welch": "anova",
    "mann_whitney": "kruskal",
}


@attrs.frozen(kw_only=True)
class ArmMetric:
    """One arm's figure for one metric (a row of ``table()`` or ``segments()``).

    Attributes:
        arm: the arm.
        metric: the metric's name.
        kind: ``rate`` or ``score``.
        n: how many personas it rests on.
        value: the rate or mean (``None`` with no data).
        low: the interval's lower end.
        high: the interval's upper end.
        successes: for a rate, how many succeeded.
        segment: the segment (segment rows only).
    """

    arm: str
    metric: str
    kind: str
    n: int
    value: float | None = None
    low: float | None = None
    high: float | None = None
    successes: int | None = None
    segment: str | None = None


@attrs.frozen(kw_only=True)
class Comparison:
    """One variant against the baseline on one metric (a row of ``significance()``).

    Attributes:
        metric: the metric.
        arm: the variant.
        baseline: the arm it is compared with (the control, else the first variant).
        kind: ``rate`` or ``score``.
        difference: variant minus baseline (a rate difference or a mean difference).
        low: the difference's interval, lower end.
        high: the difference's interval, upper end.
        test: the test that ran (``chi_square``, ``fisher_exact``, ``welch_t``, ...).
        statistic: its statistic.
        p_value: its p-value.
        p_adjusted: Holm's adjusted p-value across every variant and metric.
        effect: Cohen's h (rates) or d (scores), variant against baseline.
        effect_name: ``cohens_h`` or ``cohens_d``.
        significant: ``p_adjusted < alpha`` (and, with more than two arms, the
            omnibus test significant too).
        note: why a figure is missing, or what to mind.
    """

    metric: str
    arm: str
    baseline: str
    kind: str
    difference: float | None = None
    low: float | None = None
    high: float | None = None
    test: str = ""
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    effect: float | None = None
    effect_name: str = ""
    significant: bool = False
    note: str = ""


@attrs.frozen(kw_only=True)
class OmnibusTest:
    """The test of "all arms alike" on one metric, run before the pairwise tests
    when there are more than two arms."""

    metric: str
    test: str
    statistic: float | None = None
    p_value: float | None = None
    df: float | None = None
    significant: bool = False
    note: str = ""


Measured = dict[str, list[MetricValue]]
"""arm -> one value per persona the metric applies to."""


def _kind(metric: Metric, values: Sequence[MetricValue]) -> str:
    if metric.kind != "auto":
        return metric.kind
    known = [v for v in values if v is not None]
    return "rate" if known and all(isinstance(v, bool) for v in known) else "score"


def measurements(
    metric: Metric,
    arms: Mapping[str, Sequence[str]],
    responses: Sequence[Response],
) -> tuple[str, Measured]:
    """The metric's kind and its values per arm (persona ids per arm in ``arms``)."""
    by_key = {(r.variant, r.persona_id): r for r in responses}
    values: Measured = {}
    for arm, ids in arms.items():
        column: list[MetricValue] = []
        for pid in ids:
            response = by_key.get((arm, pid))
            column.append(metric(response) if response is not None else None)
        values[arm] = column
    kind = _kind(metric, [v for column in values.values() for v in column])
    for arm, ids in arms.items():
        column = values[arm]
        if kind == "rate":
            counted = []
            for pid, value in zip(ids, column, strict=True):
                missing = value is None and (arm, pid) not in by_key
                if missing and metric.counts_missing:
                    counted.append(False)
                elif value is not None:
                    counted.append(bool(value))
            values[arm] = list(counted)
        else:
            values[arm] = [float(v) for v in column if v is not None]
    return kind, values


def _estimate(  # noqa: PLR0917 - one row's coordinates
    arm: str,
    metric: str,
    kind: str,
    column: Sequence[MetricValue],
    confidence: float,
    segment: str | None = None,
) -> ArmMetric:
    from clientsim.analysis import mean_ci, proportion_ci  # noqa: PLC0415

    n = len(column)
    if kind == "rate":
        successes = sum(1 for v in column if v)
        if n == 0:
            return ArmMetric(
                arm=arm, metric=metric, kind=kind, n=0, successes=0, segment=segment
            )
        est = proportion_ci(successes, n, confidence)
        return ArmMetric(
            arm=arm,
            metric=metric,
            kind=kind,
            n=n,
            value=est.value,
            low=est.low,
            high=est.high,
            successes=successes,
            segment=segment,
        )
    numbers = [float(v) for v in column if v is not None]
    if not numbers:
        return ArmMetric(arm=arm, metric=metric, kind=kind, n=0, segment=segment)
    try:
        est = mean_ci(numbers, confidence)
    except ClientSimError:  # one value, or every value alike: no interval
        mean = sum(numbers) / len(numbers)
        return ArmMetric(
            arm=arm,
            metric=metric,
            kind=kind,
            n=len(numbers),
            value=mean,
            segment=segment,
        )
    return ArmMetric(
        arm=arm,
        metric=metric,
        kind=kind,
        n=len(numbers),
        value=est.value,
        low=est.low,
        high=est.high,
        segment=segment,
    )


def _alike(values: Sequence[MetricValue]) -> bool:
    """Whether every success flag is the same (no test has anything to compare)."""
    return len({bool(v) for v in values}) <= 1


def _oriented(
    value: float, low: float, high: float, expected: float
) -> tuple[float, float, float]:
    """A difference as variant minus baseline, whichever way round it was computed."""
    if expected != 0 and value != 0 and (value > 0) != (expected > 0):
        return -value, -high, -low
    return value, low, high


def _compare(  # noqa: PLR0917 - one comparison's coordinates
    metric: str,
    kind: str,
    arm: str,
    baseline: str,
    variant: Sequence[MetricValue],
    control: Sequence[MetricValue],
    score_test: ScoreTest,
    confidence: float,
) -> Comparison:
    """The variant against the baseline (``control``): differences are variant minus
    baseline."""
    from clientsim import analysis  # noqa: PLC0415

    base = Comparison(metric=metric, arm=arm, baseline=baseline, kind=kind)
    if not variant or not control:
        return attrs.evolve(base, note="no data in one of the arms")
    if kind == "rate" and _alike([*variant, *control]):
        return attrs.evolve(
            base,
            difference=0.0,
            p_value=1.0,
            effect=0.0,
            effect_name="cohens_h",
            note="every persona in both arms gave the same result",
        )
    try:
        if kind == "rate":
            c_s, c_n = sum(1 for v in control if v), len(control)
            v_s, v_n = sum(1 for v in variant if v), len(variant)
            expected = v_s / v_n - c_s / c_n
            result = analysis.compare_rates(c_s, c_n, v_s, v_n, confidence=confidence)
            diff = result.ci or analysis.rate_difference(c_s, c_n, v_s, v_n, confidence)
            effect = result.effect
            if effect is None:
                effect = analysis.cohens_h(c_s / c_n, v_s / v_n)
            effect_name = "cohens_h"
        else:
            xc = [float(v) for v in control if v is not None]
            xv = [float(v) for v in variant if v is not None]
            expected = sum(xv) / len(xv) - sum(xc) / len(xc)
            result = analysis.compare_means(
                xc, xv, method=score_test, confidence=confidence
            )
            diff = result.ci or analysis.mean_difference(xc, xv, confidence)
            effect = analysis.cohens_d(xc, xv)
            effect_name = "cohens_d"
    except (ClientSimError, ValueError) as exc:
        return attrs.evolve(base, note=str(exc))
    value, low, high = _oriented(diff.value, diff.low, diff.high, expected)
    effect = float(effect)
    if expected != 0 and effect != 0 and (effect > 0) != (expected > 0):
        effect = -effect
    return attrs.evolve(
        base,
        difference=value,
        low=low,
        high=high,
        test=result.name,
        statistic=result.statistic,
        p_value=result.p_value,
        effect=effect,
        effect_name=effect_name,
    )


def _omnibus(
    metric: str,
    kind: str,
    groups: Mapping[str, Sequence[MetricValue]],
    score_test: ScoreTest,
    alpha: float,
) -> OmnibusTest:
    from clientsim import analysis  # noqa: PLC0415

    if kind == "rate" and _alike([v for col in groups.values() for v in col]):
        return OmnibusTest(
            metric=metric,
            test="none",
            p_value=1.0,
            note="every persona in every arm gave the same result",
        )
    try:
        if kind == "rate":
            counts = {
                a: (sum(1 for v in col if v), len(col)) for a, col in groups.items()
            }
            result = analysis.omnibus_rates(counts)
        else:
            samples = {
                a: [float(v) for v in col if v is not None] for a, col in groups.items()
            }
            result = analysis.omnibus_means(samples, method=_OMNIBUS[score_test])
    except (ClientSimError, ValueError) as exc:
        return OmnibusTest(metric=metric, test="", note=str(exc))
    return OmnibusTest(
        metric=metric,
        test=result.name,
        statistic=result.statistic,
        p_value=result.p_value,
        df=result.df,
        significant=result.p_value < alpha,
    )


def analyse(
    metrics: Sequence[Metric],
    arms: Mapping[str, Sequence[str]],
    responses: Sequence[Response],
    *,
    baseline: str,
    segments: Mapping[str, str | None] | None = None,
    confidence: float = 0.95,
    alpha: float = 0.05,
    score_test: ScoreTest = "welch",
) -> tuple[list[ArmMetric], list[Comparison], list[OmnibusTest], list[ArmMetric]]:
    """Estimates, comparisons (Holm-adjusted), omnibus tests and segment rows.

    Args:
        metrics: the built metrics.
        arms: arm -> the persona ids assigned to it (the baseline among them).
        responses: every response of the run (``variant`` is the arm).
        baseline: the arm the others are compared with.
        segments: persona id -> segment, for the per-segment rows.
        confidence: the intervals' level.
        alpha: the significance level (after Holm's adjustment).
        score_test: ``welch`` (then ANOVA before pairwise) or ``mann_whitney`` (then
            Kruskal-Wallis).
    """
    from clientsim.analysis import holm  # noqa: PLC0415

    table: list[ArmMetric] = []
    comparisons: list[Comparison] = []
    omnibus: list[OmnibusTest] = []
    rows: list[ArmMetric] = []
    for metric in metrics:
        kind, values = measurements(metric, arms, responses)
        table.extend(
            _estimate(arm, metric.name, kind, values[arm], confidence) for arm in arms
        )
        gate: OmnibusTest | None = None
        if len(arms) > 2:
            gate = _omnibus(metric.name, kind, values, score_test, alpha)
            omnibus.append(gate)
        for arm in arms:
            if arm == baseline:
                continue
            found = _compare(
                metric.name,
                kind,
                arm,
                baseline,
                values[arm],
                values[baseline],
                score_test,
                confidence,
            )
            if gate is not None and not gate.significant:
                found = attrs.evolve(
                    found,
                    note="; ".join(
                        x for x in (found.note, "omnibus test not significant") if x
                    ),
                )
            comparisons.append(found)
        rows.extend(
            _segment_rows(metric, kind, arms, responses, segments or {}, confidence)
        )
    keyed = {
        f"{c.metric}|{c.arm}": c.p_value for c in comparisons if c.p_value is not None
    }
    adjusted = dict(holm(keyed, alpha=alpha)) if keyed else {}
    gates = {g.metric: g.significant for g in omnibus}
    final = []
    for c in comparisons:
        p = adjusted.get(f"{c.metric}|{c.arm}")
        passed = p is not None and p < alpha and gates.get(c.metric, True)
        final.append(attrs.evolve(c, p_adjusted=p, significant=passed))
    return table, final, omnibus, rows


def _segment_rows(  # noqa: PLR0917
    metric: Metric,
    kind: str,
    arms: Mapping[str, Sequence[str]],
    responses: Sequence[Response],
    segments: Mapping[str, str | None],
    confidence: float,
) -> list[ArmMetric]:
    names = sorted({s for s in segments.values() if s is not None})
    rows: list[ArmMetric] = []
    for segment in names:
        within = {
            arm: [p for p in ids if segments.get(p) == segment]
            for arm, ids in arms.items()
        }
        _, values = measurements(metric, within, responses)
        if kind == "rate":
            values = {a: [bool(v) for v in col] for a, col in values.items()}
        rows.extend(
            _estimate(arm, metric.name, kind, values[arm], confidence, segment)
            for arm in arms
        )
    return rows
