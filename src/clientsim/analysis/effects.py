"""Effect sizes: how large a difference between two groups is, not only whether there
is one.

Every function here reads a difference as **the second group minus the first** (the
change from ``a`` to ``b``): put the control first and the variant second, and a
positive figure means the variant is higher.

- :func:`rate_difference` and :func:`mean_difference`: the difference itself, with its
  confidence interval, in the unit of the metric (percentage points, score points).
- :func:`cohens_h` (rates) and :func:`cohens_d` (means): standardised sizes, to compare
  effects across metrics. Cohen's rule of thumb: 0.2 is small, 0.5 medium, 0.8 large.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from clientsim.analysis._checks import (
    check_counts,
    check_level,
    check_samples,
    is_real,
    variance,
)
from clientsim.analysis.intervals import scipy_proportion_ci, t_quantile
from clientsim.analysis.results import Estimate
from clientsim.errors import ConfigError, StatisticsError


__all__ = ["cohens_d", "cohens_h", "mean_difference", "rate_difference"]


def _rate(name: str, value: object) -> float:
    if not is_real(value) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"cohens_h: {name} must be a rate from 0 to 1; got {value!r}")
    return float(value)


def cohens_h(p1: float, p2: float) -> float:
    """Cohen's h, the standardised difference of two rates: ``phi(p2) - phi(p1)``
    with ``phi(p) = 2 * asin(sqrt(p))``.

    The arcsine makes a difference count more near 0 or 1 than in the middle (5% to
    10% is a bigger change than 50% to 55%), so h compares fairly across baselines.

    Args:
        p1: the first (control) rate, from 0 to 1.
        p2: the second (variant) rate, from 0 to 1.

    Returns:
        h, from -pi to pi; positive when ``p2 > p1``.

    Raises:
        ConfigError: a rate is not a number from 0 to 1.

    Example:
        >>> round(cohens_h(0.5, 0.6), 4)
        0.2014
        >>> cohens_h(0.3, 0.3)
        0.0
    """
    first, second = _rate("p1", p1), _rate("p2", p2)
    return 2.0 * math.asin(math.sqrt(second)) - 2.0 * math.asin(math.sqrt(first))


def cohens_d(a: Sequence[float], b: Sequence[float]) -> float:
    """Cohen's d, the difference of two means in pooled standard deviations:
    ``(mean(b) - mean(a)) / s_pooled``.

    Args:
        a: the first (control) sample, at least two finite numbers.
        b: the second (variant) sample, at least two finite numbers.

    Returns:
        d; positive when ``b``'s mean is higher.

    Raises:
        ConfigError: a sample holds something that is not a finite number.
        StatisticsError: a sample has fewer than two values, or neither sample
            varies (the pooled standard deviation is 0).

    Example:
        >>> cohens_d([1, 2, 3, 4], [2, 3, 4, 5])
        0.7745966692414834
    """
    first, second = check_samples("cohens_d", a, b, minimum=2)
    na, nb = len(first), len(second)
    pooled = ((na - 1) * variance(first) + (nb - 1) * variance(second)) / (na + nb - 2)
    if pooled <= 0.0:
        raise StatisticsError(
            "cohens_d: neither sample varies (pooled standard deviation 0); "
            "d needs some spread to measure the difference in"
        )
    return (_mean(second) - _mean(first)) / math.sqrt(pooled)


def rate_difference(
    a_successes: int,
    a_n: int,
    b_successes: int,
    b_n: int,
    confidence: float = 0.95,
) -> Estimate:
    """The difference of two rates, ``b_successes / b_n - a_successes / a_n``, with
    Newcombe's hybrid score interval.

    Newcombe's interval (his method 10) combines the Wilson interval of each rate; it
    stays within [-1, 1], needs no continuity correction and, unlike the Wald
    interval ``d +- z * se``, keeps close to its nominal coverage for small samples
    and rates near 0 or 1.

    Args:
        a_successes: successes in the first (control) group.
        a_n: the size of the first group, ``>= 1``.
        b_successes: successes in the second (variant) group.
        b_n: the size of the second group, ``>= 1``.
        confidence: the confidence level, strictly between 0 and 1.

    Returns:
        An :class:`Estimate` of the difference (``method="newcombe"``, ``n`` both
        groups together).

    Raises:
        ConfigError: a count is not an int, negative or above its group's size, or
            ``confidence`` is not strictly between 0 and 1.
        StatisticsError: a group is empty.

    Example:
        >>> lift = rate_difference(30, 100, 45, 100)
        >>> round(lift.value, 2), round(lift.low, 3), round(lift.high, 3)
        (0.15, 0.016, 0.277)
    """
    a_successes, a_n = check_counts("rate_difference", a_successes, a_n, arm="a")
    b_successes, b_n = check_counts("rate_difference", b_successes, b_n, arm="b")
    level = check_level("rate_difference: confidence", confidence, "0.95")
    if a_n == 0 or b_n == 0:
        raise StatisticsError(
            f"rate_difference: group sizes are a_n={a_n}, b_n={b_n}; "
            "both groups need at least one trial"
        )
    p1, p2 = a_successes / a_n, b_successes / b_n
    l1, u1 = scipy_proportion_ci(a_successes, a_n, level, "wilson")
    l2, u2 = scipy_proportion_ci(b_successes, b_n, level, "wilson")
    difference = p2 - p1
    low = difference - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = difference + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return Estimate(
        value=difference,
        low=max(-1.0, min(low, difference)),
        high=min(1.0, max(high, difference)),
        n=a_n + b_n,
        confidence=level,
        method="newcombe",
    )


def mean_difference(
    a: Sequence[float], b: Sequence[float], confidence: float = 0.95
) -> Estimate:
    """The difference of two means, ``mean(b) - mean(a)``, with Welch's interval.

    Welch's interval does not assume the two groups have the same variance: it is
    ``d +- t * sqrt(var_a / n_a + var_b / n_b)`` with ``t`` from Student's t on the
    Welch-Satterthwaite degrees of freedom.

    Args:
        a: the first (control) sample, at least two finite numbers.
        b: the second (variant) sample, at least two finite numbers.
        confidence: the confidence level, strictly between 0 and 1.

    Returns:
        An :class:`Estimate` of the difference (``method="welch"``, ``n`` both
        samples together).

    Raises:
        ConfigError: a sample holds something that is not a finite number, or
            ``confidence`` is not strictly between 0 and 1.
        StatisticsError: a sample has fewer than two values, or neither varies.

    Example:
        >>> change = mean_difference([6, 7, 7, 8, 6], [8, 9, 7, 9, 8])
        >>> round(change.value, 2), round(change.low, 2), round(change.high, 2)
        (1.4, 0.18, 2.62)
    """
    level = check_level("mean_difference: confidence", confidence, "0.95")
    first, second = check_samples("mean_difference", a, b, minimum=2)
    difference, se, df = welch(first, second, "mean_difference")
    half = t_quantile(0.5 + level / 2.0, df) * se
    return Estimate(
        value=difference,
        low=difference - half,
        high=difference + half,
        n=len(first) + len(second),
        confidence=level,
        method="welch",
    )


def welch(
    a: Sequence[float], b: Sequence[float], where: str
) -> tuple[float, float, float]:
    """``(mean(b) - mean(a), standard error, Welch-Satterthwaite df)`` of two
    checked samples.

    Raises:
        StatisticsError: neither sample varies (the standard error is 0).
    """
    va, vb = variance(a) / len(a), variance(b) / len(b)
    se2 = va + vb
    if se2 <= 0.0:
        raise StatisticsError(
            f"{where}: neither sample varies (every value in a is {a[0]!r}, every "
            f"value in b is {b[0]!r}); a t statistic needs some spread"
        )
    df = se2 * se2 / (va * va / (len(a) - 1) + vb * vb / (len(b) - 1))
    return _mean(b) - _mean(a), math.sqrt(se2), df


def _mean(sample: Sequence[float]) -> float:
    return math.fsum(sample) / len(sample)
