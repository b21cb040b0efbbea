"""Invariants of the group statistics: intervals hold their estimate inside sensible
bounds, Holm's adjustment is monotone, the tests do not care which arm comes first,
and the values survive a trip through JSON."""

from __future__ import annotations

import json
import math

import scipy.stats  # noqa: F401 - loaded here once, not in a timed example
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from clientsim.analysis import (
    Estimate,
    TestResult,
    cohens_h,
    compare_means,
    compare_rates,
    holm,
    mean_ci,
    mean_difference,
    power_rates,
    proportion_ci,
    rate_difference,
)
from clientsim.analysis.intervals import PROPORTION_METHODS
from clientsim.errors import StatisticsError


confidences = st.floats(min_value=0.5, max_value=0.999)
p_values = st.floats(min_value=0.0, max_value=1.0)
scores = st.lists(
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False).map(
        lambda x: round(x, 3)
    ),
    min_size=2,
    max_size=40,
)


@st.composite
def counts(draw: st.DrawFn, low: int = 1) -> tuple[int, int]:
    n = draw(st.integers(min_value=low, max_value=5_000))
    return draw(st.integers(min_value=0, max_value=n)), n


@given(counts(), confidences, st.sampled_from(PROPORTION_METHODS))
def test_proportion_ci_holds_the_rate_within_0_and_1(pair, confidence, method):
    estimate = proportion_ci(*pair, confidence=confidence, method=method)
    assert 0.0 <= estimate.low <= estimate.value <= estimate.high <= 1.0
    assert estimate.value == pair[0] / pair[1]


@given(scores, confidences)
def test_mean_ci_holds_the_mean(values, confidence):
    estimate = mean_ci(values, confidence)
    assert estimate.low <= estimate.value <= estimate.high
    assert min(values) - 1e-9 <= estimate.value <= max(values) + 1e-9


@given(counts(), counts(), confidences)
def test_rate_difference_holds_the_difference_within_minus_1_and_1(a, b, confidence):
    estimate = rate_difference(*a, *b, confidence=confidence)
    assert -1.0 <= estimate.low <= estimate.value <= estimate.high <= 1.0
    flipped = rate_difference(*b, *a, confidence=confidence)
    assert math.isclose(flipped.value, -estimate.value, abs_tol=1e-12)
    assert math.isclose(flipped.low, -estimate.high, abs_tol=1e-9)


@given(scores, scores)
def test_mean_difference_holds_the_difference(a, b):
    try:
        estimate = mean_difference(a, b)
    except StatisticsError:
        assume(False)
    assert estimate.low <= estimate.value <= estimate.high


@given(st.lists(p_values, max_size=30))
def test_holm_is_at_least_the_raw_p_and_keeps_the_order(raw):
    adjusted = holm(raw)
    assert len(adjusted) == len(raw)
    for p, q in zip(raw, adjusted, strict=True):
        assert p <= q <= 1.0
    for i in range(len(raw)):
        for j in range(len(raw)):
            if raw[i] < raw[j]:
                assert adjusted[i] <= adjusted[j]
    named = holm({f"h{i}": p for i, p in enumerate(raw)})
    assert list(named.values()) == adjusted


@given(st.lists(p_values, min_size=1, max_size=30))
def test_holm_is_between_the_raw_p_and_bonferroni(raw):
    for p, q in zip(raw, holm(raw), strict=True):
        assert q <= min(1.0, len(raw) * p) + 1e-12


@settings(max_examples=60)
@given(counts(), counts())
def test_compare_rates_does_not_care_which_arm_comes_first(a, b):
    forward, backward = compare_rates(*a, *b), compare_rates(*b, *a)
    assert forward.name == backward.name
    assert math.isclose(forward.p_value, backward.p_value, rel_tol=1e-9, abs_tol=1e-12)
    assert 0.0 <= forward.p_value <= 1.0
    assert forward.effect is not None
    assert backward.effect is not None
    assert math.isclose(forward.effect, -backward.effect, abs_tol=1e-12)


@settings(max_examples=60)
@given(scores, scores, st.sampled_from(["welch", "mann_whitney"]))
def test_compare_means_does_not_care_which_arm_comes_first(a, b, method):
    try:
        forward, backward = compare_means(a, b, method), compare_means(b, a, method)
    except StatisticsError:
        assume(False)
    assert math.isclose(forward.p_value, backward.p_value, rel_tol=1e-6, abs_tol=1e-12)
    assert forward.effect is not None
    assert backward.effect is not None
    assert math.isclose(forward.effect, -backward.effect, rel_tol=1e-9, abs_tol=1e-9)


@given(st.floats(0, 1), st.floats(0, 1))
def test_cohens_h_is_antisymmetric(p1, p2):
    assert cohens_h(p1, p2) == -cohens_h(p2, p1)


@given(
    st.floats(0.01, 0.99),
    st.floats(0.01, 0.99),
    st.integers(1, 10_000),
    st.integers(1, 10_000),
)
def test_power_rates_grows_with_the_sample(p1, p2, n, extra):
    assume(abs(p1 - p2) > 1e-6)
    assert power_rates(p1, p2, n) <= power_rates(p1, p2, n + extra) + 1e-12


finite = st.floats(-1e6, 1e6, allow_nan=False)


@st.composite
def estimates(draw: st.DrawFn) -> Estimate:
    low, high = sorted([draw(finite), draw(finite)])
    return Estimate(
        value=draw(finite),
        low=low,
        high=high,
        n=draw(st.integers(0, 10**6)),
        confidence=draw(st.floats(0.01, 0.99)),
        method=draw(st.text(max_size=10)),
    )


@given(
    st.text(min_size=1, max_size=20).filter(str.strip),
    st.floats(allow_nan=False),
    p_values,
    st.none() | st.floats(0, 100),
    st.none() | finite,
    st.none() | estimates(),
)
def test_values_survive_json(name, statistic, p_value, df, effect, ci):
    result = TestResult(name, statistic, p_value, df=df, effect=effect, ci=ci)
    assert TestResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result
