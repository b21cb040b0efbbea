"""Paired statistics: McNemar's test, the paired bootstrap and paired pass rates."""

from __future__ import annotations

import functools
import math
import random

import pytest

from clientsim.analysis.paired import (
    EXACT_BELOW,
    mcnemar,
    newcombe_paired,
    paired_bootstrap,
    paired_rates,
)
from clientsim.errors import ConfigError, StatisticsError


def exact_two_sided(b: int, c: int) -> float:
    """The exact McNemar p-value by hand: twice the smaller binomial tail."""
    n = b + c
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


# -- McNemar --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("b", "c", "p_value"),
    [
        (10, 2, 158 / 4096),  # 2 * (1 + 12 + 66) / 2^12
        (8, 0, 2 / 256),
        (0, 8, 2 / 256),
        (5, 5, 1.0),
        (1, 0, 1.0),
        (6, 1, 2 * 8 / 128),
    ],
)
def test_exact_mcnemar_known_values(b: int, c: int, p_value: float) -> None:
    result = mcnemar(b, c)
    assert result.name == "mcnemar_exact"
    assert result.p_value == pytest.approx(p_value, rel=1e-12)
    assert result.statistic == min(b, c)


def test_chi_square_mcnemar_known_value() -> None:
    # (|30 - 12| - 1)^2 / 42 = 289 / 42; with one degree of freedom the upper tail
    # of chi-square is erfc(sqrt(x / 2)).
    result = mcnemar(30, 12)
    assert result.name == "mcnemar_chi2"
    assert result.df == 1.0
    assert result.statistic == pytest.approx(289 / 42)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(289 / 84)), rel=1e-9)
    assert result.effect == pytest.approx(12 / 42)


def test_the_default_switches_to_chi_square_at_25_discordant_pairs() -> None:
    assert EXACT_BELOW == 25
    assert mcnemar(12, 12).name == "mcnemar_exact"
    assert mcnemar(13, 12).name == "mcnemar_chi2"
    assert mcnemar(13, 12, exact=True).name == "mcnemar_exact"
    assert mcnemar(3, 2, exact=False).name == "mcnemar_chi2"


def test_no_discordant_pairs_is_no_evidence() -> None:
    assert mcnemar(0, 0).p_value == 1.0
    assert mcnemar(0, 0, exact=False).p_value == 1.0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3", None])
def test_mcnemar_refuses_what_is_not_a_count(bad: object) -> None:
    with pytest.raises(ConfigError, match="mcnemar: b must be a count"):
        mcnemar(bad, 3)  # type: ignore[arg-type]


def test_exact_mcnemar_matches_the_binomial_sum_everywhere() -> None:
    for b in range(30):
        for c in range(30):
            assert mcnemar(b, c, exact=True).p_value == pytest.approx(
                exact_two_sided(b, c), rel=1e-9, abs=1e-15
            )


# -- the paired bootstrap ------------------------------------------------------------


def test_bootstrap_interval_contains_the_true_difference() -> None:
    rng = random.Random(3)
    a = [rng.gauss(5.0, 2.0) for _ in range(200)]
    b = [x + 0.5 + rng.gauss(0.0, 1.0) for x in a]
    change = paired_bootstrap(a, b, n_resamples=4000, seed=1)
    assert change.low < 0.5 < change.high
    assert change.method == "bootstrap_bca"
    assert change.n == 200
    assert change.low < change.value < change.high


def test_bootstrap_coverage_is_near_nominal() -> None:
    """Over 200 simulated experiments with a known change of 0.3, the 95% interval
    covers it in 88%-99% of them (a binomial band around 95% for 200 trials)."""
    rng = random.Random(11)
    covered = 0
    trials = 200
    for trial in range(trials):
        a = [rng.random() for _ in range(60)]
        b = [x + 0.3 + rng.gauss(0.0, 0.4) for x in a]
        change = paired_bootstrap(a, b, n_resamples=1000, seed=trial)
        covered += change.low <= 0.3 <= change.high
    assert 0.88 <= covered / trials <= 0.99


def test_bootstrap_is_reproducible_with_its_seed() -> None:
    a, b = [1.0, 2.0, 4.0, 3.0, 5.0], [2.0, 2.5, 5.0, 3.0, 7.0]
    first = paired_bootstrap(a, b, seed=7, n_resamples=500)
    assert first == paired_bootstrap(a, b, seed=7, n_resamples=500)
    percentile = paired_bootstrap(a, b, method="percentile", n_resamples=500)
    assert percentile.method == "bootstrap_percentile"
    median = paired_bootstrap(a, b, statistic="median", n_resamples=500)
    assert median.value == 1.0


def test_identical_differences_give_a_point_interval() -> None:
    change = paired_bootstrap([1, 2, 3], [2, 3, 4])
    assert (change.value, change.low, change.high) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("a", "b", "error", "match"),
    [
        ([1.0], [2.0], StatisticsError, "at least 2 pairs"),
        ([1.0, 2.0], [2.0], ConfigError, "must pair up"),
        ([1.0, math.nan], [2.0, 3.0], StatisticsError, "finite"),
        ([1.0, "x"], [2.0, 3.0], ConfigError, "must hold numbers"),
        ("12", "34", ConfigError, "sequence of numbers"),
    ],
)
def test_bootstrap_refuses_bad_input(
    a: object, b: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        paired_bootstrap(a, b)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("statistic", "mode"),
        ("method", "basic"),
        ("n_resamples", 10),
        ("confidence", 1.0),
    ],
)
def test_bootstrap_refuses_bad_options(option: str, value: object) -> None:
    with pytest.raises(ConfigError, match=option):
        paired_bootstrap([1, 2, 3], [1, 3, 2], **{option: value})  # type: ignore[arg-type]


# -- paired pass rates ---------------------------------------------------------------


def test_paired_rates_counts_and_rates() -> None:
    pass_a = [True] * 6 + [False] * 4 + [True] * 3 + [False] * 2
    pass_b = [True] * 6 + [False] * 4 + [False] * 3 + [True] * 2
    comparison = paired_rates(pass_a, pass_b)
    assert (comparison.both, comparison.neither) == (6, 4)
    assert (comparison.a_only, comparison.b_only) == (3, 2)
    assert comparison.n == 15
    assert comparison.rate_a.value == pytest.approx(9 / 15)
    assert comparison.rate_b.value == pytest.approx(8 / 15)
    assert comparison.change.value == pytest.approx(-1 / 15)
    assert comparison.change.low < comparison.change.value < comparison.change.high
    assert comparison.test.p_value == pytest.approx(1.0)
    assert not comparison.regression
    assert not comparison.improvement


def test_a_significant_drop_is_a_regression_and_a_rise_is_not() -> None:
    before, after = [True] * 30, [True] * 18 + [False] * 12
    down = paired_rates(before, after)
    assert down.regression
    assert down.change.high < 0
    up = paired_rates(after, before)
    assert up.improvement
    assert not up.regression
    assert not paired_rates(before, after, alpha=1e-5).regression


def test_paired_rates_refuses_unpaired_or_non_boolean_input() -> None:
    with pytest.raises(ConfigError, match="pair up"):
        paired_rates([True], [True, False])
    with pytest.raises(ConfigError, match="booleans"):
        paired_rates([True, "yes"], [True, False])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="alpha"):
        paired_rates([True], [True], alpha=0)
    with pytest.raises(StatisticsError, match="at least one pair"):
        paired_rates([], [])


@functools.cache
def _newcombe(e: int, f: int, g: int, h: int) -> tuple[float, float]:
    """One table's interval: the same tables come up for every setting of the
    probabilities below, so each is computed once per process."""
    interval = newcombe_paired(e, f, g, h)
    return interval.low, interval.high


def _exact_coverage(n: int, p_both: float, p_a_only: float, p_b_only: float) -> float:
    """The exact coverage of Newcombe's paired interval: every table of ``n`` pairs,
    weighted by its multinomial probability."""
    p_neither = 1.0 - p_both - p_a_only - p_b_only
    truth = p_b_only - p_a_only
    covered = 0.0
    log_factorial = [math.lgamma(k + 1) for k in range(n + 1)]
    for e in range(n + 1):
        for f in range(n + 1 - e):
            for g in range(n + 1 - e - f):
                h = n - e - f - g
                log_p = (
                    log_factorial[n]
                    - log_factorial[e]
                    - log_factorial[f]
                    - log_factorial[g]
                    - log_factorial[h]
                )
                for count, p in (
                    (e, p_both),
                    (f, p_a_only),
                    (g, p_b_only),
                    (h, p_neither),
                ):
                    if count:
                        log_p += count * math.log(p)
                low, high = _newcombe(e, f, g, h)
                if low <= truth <= high:
                    covered += math.exp(log_p)
    return covered


@pytest.mark.parametrize(
    ("p_both", "p_a_only", "p_b_only"),
    [(0.5, 0.1, 0.1), (0.6, 0.15, 0.05), (0.3, 0.05, 0.2)],
)
def test_newcombe_paired_interval_has_near_nominal_exact_coverage(
    p_both: float, p_a_only: float, p_b_only: float
) -> None:
    coverage = _exact_coverage(30, p_both, p_a_only, p_b_only)
    assert 0.92 <= coverage <= 0.99


def test_newcombe_paired_interval_stays_in_range() -> None:
    everything_flipped = newcombe_paired(0, 20, 0, 0)
    assert everything_flipped.value == -1.0
    assert everything_flipped.low == -1.0
    assert everything_flipped.high < 0
    nothing = newcombe_paired(0, 0, 0, 0)
    assert (nothing.low, nothing.high, nothing.n) == (-1.0, 1.0, 0)
