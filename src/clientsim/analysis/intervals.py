"""Confidence intervals for a rate and a mean, as :class:`~clientsim.analysis.results.Estimate`\\ s.

A rate (a proportion of successes) gets a score interval by default: the Wilson
interval stays inside [0, 1] and covers close to its nominal level even for small
samples and rates near 0 or 1, where the textbook ``p +- z*sqrt(p(1-p)/n)`` fails.
A mean gets Student's t interval. The computations are scipy's, loaded on first use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal

from clientsim.analysis._checks import check_counts, check_level, check_sample, variance
from clientsim.analysis.results import Estimate
from clientsim.errors import ConfigError, StatisticsError


__all__ = ["PROPORTION_METHODS", "mean_ci", "proportion_ci"]

ProportionMethod = Literal["wilson", "wilsoncc", "exact"]

#: The interval methods :func:`proportion_ci` offers: the Wilson score interval,
#: the same with a continuity correction (wider, more conservative), and the exact
#: Clopper-Pearson interval (never below its nominal coverage, often above).
PROPORTION_METHODS: Final = ("wilson", "wilsoncc", "exact")


def proportion_ci(
    successes: int,
    n: int,
    confidence: float = 0.95,
    method: ProportionMethod = "wilson",
) -> Estimate:
    """A rate of ``successes`` out of ``n`` with its confidence interval.

    Args:
        successes: how many trials succeeded, ``0 <= successes <= n``.
        n: how many trials there were, ``>= 1``.
        confidence: the confidence level, strictly between 0 and 1.
        method: ``"wilson"`` (the score interval, the default), ``"wilsoncc"`` (with
            a continuity correction) or ``"exact"`` (Clopper-Pearson).

    Returns:
        An :class:`Estimate` of ``successes / n`` whose bounds lie in [0, 1] and
        contain it.

    Raises:
        ConfigError: a count is not an int, ``successes`` is negative or exceeds
            ``n``, ``confidence`` is not strictly between 0 and 1, or ``method`` is
            unknown.
        StatisticsError: ``n`` is 0: no trials say nothing about the rate.

    Example:
        >>> rate = proportion_ci(8, 10)
        >>> rate.value, round(rate.low, 3), round(rate.high, 3)
        (0.8, 0.49, 0.943)
        >>> round(proportion_ci(8, 10, method="exact").low, 3)
        0.444
    """
    successes, n = check_counts("proportion_ci", successes, n)
    level = check_level("proportion_ci: confidence", confidence, "0.95")
    if method not in PROPORTION_METHODS:
        raise ConfigError(
            f"proportion_ci: method must be one of {', '.join(map(repr, PROPORTION_METHODS))}; "
            f"got {method!r}"
        )
    if n == 0:
        raise StatisticsError("proportion_ci: n is 0; a rate needs at least one trial")
    low, high = scipy_proportion_ci(successes, n, level, method)
    return Estimate(
        value=successes / n,
        low=low,
        high=high,
        n=n,
        confidence=level,
        method=method,
    )


def scipy_proportion_ci(
    successes: int, n: int, confidence: float, method: str
) -> tuple[float, float]:
    """scipy's interval for ``successes`` of ``n >= 1``, kept within [0, 1] and
    around the observed rate (rounding may put a bound a hair past either)."""
    from scipy.stats import binomtest  # noqa: PLC0415 - scipy loads on first use

    # The interval depends on the counts only, not on the p-value binomtest computes
    # first; testing against the observed rate makes that p-value a one-step shortcut.
    interval = binomtest(successes, n, p=successes / n).proportion_ci(
        confidence_level=confidence, method=method
    )
    rate = successes / n
    low = max(0.0, min(float(interval.low), rate))
    high = min(1.0, max(float(interval.high), rate))
    return low, high


def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t on ``df`` degrees of freedom (scipy's)."""
    from scipy.special import stdtrit  # noqa: PLC0415 - scipy loads on first use

    return float(stdtrit(df, q))


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> Estimate:
    """The mean of ``values`` with Student's t confidence interval.

    The interval is ``mean +- t * s / sqrt(n)`` with ``t`` the quantile of Student's
    t distribution on ``n - 1`` degrees of freedom. It assumes the values are
    independent; for a skewed score on a small sample it is approximate.

    Args:
        values: finite numbers, at least two.
        confidence: the confidence level, strictly between 0 and 1.

    Returns:
        An :class:`Estimate` of the mean (an interval of zero width if the values
        are all equal).

    Raises:
        ConfigError: ``values`` holds something that is not a finite number, or
            ``confidence`` is not strictly between 0 and 1.
        StatisticsError: fewer than two values: one value has no spread to build an
            interval from.

    Example:
        >>> mean = mean_ci([7, 8, 9, 6, 10])
        >>> mean.value, round(mean.low, 2), round(mean.high, 2)
        (8.0, 6.04, 9.96)
    """
    level = check_level("mean_ci: confidence", confidence, "0.95")
    sample = check_sample("mean_ci", "values", values, minimum=2)
    return t_interval(sample, level)


def t_interval(sample: Sequence[float], confidence: float) -> Estimate:
    """:func:`mean_ci` on a checked sample of two or more values."""
    n = len(sample)
    mean = math.fsum(sample) / n
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * math.sqrt(variance(sample) / n)
    # All equal values: the exact interval is the mean itself.
    low, high = (mean, mean) if half == 0.0 else (mean - half, mean + half)
    return Estimate(
        value=mean,
        low=min(low, mean),
        high=max(high, mean),
        n=n,
        confidence=confidence,
        method="t",
    )
