"""Paired statistics: the same cells (persona x scenario x seed) under two variants.

When every variant meets the same grid, each cell is its own control: what differs
between the two results of a cell is the variant, not the persona or the seed. The
paired tests use that, and so need far fewer conversations than an A/B test of two
independent samples to see the same change.

- :func:`mcnemar`: do the pass/fail flips go one way more than the other? (an exact
  binomial test for few flips, else the chi-square test with continuity correction);
- :func:`paired_bootstrap`: the mean change of a score, with a bootstrap interval;
- :func:`paired_rates`: both pass rates, the four cell counts, the change in pass rate
  with Newcombe's interval for paired proportions, McNemar's test, and whether the
  change is a significant regression.

scipy is imported when a function needs it, so importing this module stays light.

Example:
    >>> comparison = paired_rates([True] * 20 + [False] * 5, [True] * 12 + [False] * 13)
    >>> comparison.a_only, comparison.b_only, round(comparison.change.value, 2)
    (8, 0, -0.32)
    >>> comparison.test.name, round(comparison.test.p_value, 4), comparison.regression
    ('mcnemar_exact', 0.0078, True)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Final, Literal

import attrs

from clientsim.analysis.results import Estimate, TestResult
from clientsim.analysis.stats import wilson_interval
from clientsim.errors import ConfigError, StatisticsError


__all__ = [
    "EXACT_BELOW",
    "PairedComparison",
    "mcnemar",
    "newcombe_paired",
    "paired_bootstrap",
    "paired_rates",
]

EXACT_BELOW: Final = 25
"""With fewer discordant pairs than this, :func:`mcnemar` uses the exact test."""

_STATISTICS: Final = ("mean", "median")
_METHODS: Final = ("bca", "percentile")


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"mcnemar: {name} must be a count (an int >= 0); got {value!r}"
        )
    return value


def _level(function: str, confidence: object) -> float:
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0.0 < confidence < 1.0
    ):
        raise ConfigError(
            f"{function}: confidence must be a number strictly between 0 and 1 "
            f"(e.g. 0.95); got {confidence!r}"
        )
    return float(confidence)


def mcnemar(b: int, c: int, *, exact: bool | None = None) -> TestResult:
    """McNemar's test on the discordant pairs of a paired pass/fail comparison.

    Only the cells that changed carry information: ``b`` passed under A and failed
    under B, ``c`` failed under A and passed under B. Without a true difference each
    flip goes either way with probability 1/2.

    Args:
        b: pairs where only A passed.
        c: pairs where only B passed.
        exact: ``True`` the exact (binomial) test, ``False`` the chi-square test with
            continuity correction; ``None`` (default) exact when ``b + c < 25``. The
            exact test never exceeds its nominal false-positive rate (it is
            conservative: below it for small counts).

    Returns:
        A ``TestResult`` (from ``clientsim.analysis.results``) named ``"mcnemar_exact"``
        (statistic: ``min(b, c)``) or ``"mcnemar_chi2"`` (statistic:
        ``(|b - c| - 1)^2 / (b + c)``, one degree of freedom), with the two-sided
        p-value; ``effect`` is the share of flips that went B's way, ``c / (b + c)``.
        No discordant pairs: p-value 1.

    Raises:
        ConfigError: a count is not an int >= 0.

    Example:
        >>> round(mcnemar(10, 2).p_value, 4)
        0.0386
        >>> result = mcnemar(30, 12)
        >>> result.name, round(result.statistic, 3), round(result.p_value, 4)
        ('mcnemar_chi2', 6.881, 0.0087)
    """
    b, c = _count("b", b), _count("c", c)
    discordant = b + c
    use_exact = discordant < EXACT_BELOW if exact is None else bool(exact)
    share = c / discordant if discordant else None
    if discordant == 0:
        return TestResult(
            name="mcnemar_exact" if use_exact else "mcnemar_chi2",
            statistic=0.0,
            p_value=1.0,
            df=None if use_exact else 1.0,
            effect=share,
            effect_name="share_b",
            detail="no discordant pairs: nothing changed between A and B",
        )
    if use_exact:
        from scipy.stats import binom  # noqa: PLC0415

        # Two-sided: the binomial(b + c, 1/2) is symmetric, so twice the smaller tail.
        p_value = 2.0 * float(binom.cdf(min(b, c), discordant, 0.5))
        return TestResult(
            name="mcnemar_exact",
            statistic=float(min(b, c)),
            p_value=min(1.0, p_value),
            effect=share,
            effect_name="share_b",
            detail=f"exact binomial test on {discordant} discordant pairs "
            f"({b} A only, {c} B only)",
        )
    from scipy.stats import chi2  # noqa: PLC0415

    statistic = (abs(b - c) - 1.0) ** 2 / discordant
    return TestResult(
        name="mcnemar_chi2",
        statistic=statistic,
        p_value=float(chi2.sf(statistic, 1)),
        df=1.0,
        effect=share,
        effect_name="share_b",
        detail=f"chi-square with continuity correction on {discordant} discordant "
        f"pairs ({b} A only, {c} B only)",
    )


def _numbers(name: str, values: Sequence[float]) -> list[float]:
    if isinstance(values, str | bytes):
        raise ConfigError(f"paired_bootstrap: {name} must be a sequence of numbers")
    found = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                f"paired_bootstrap: {name} must hold numbers; got {value!r}"
            )
        if not math.isfinite(value):
            raise StatisticsError(
                f"paired_bootstrap: {name} holds {value!r}; every score must be finite"
            )
        found.append(float(value))
    return found


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    *,
    statistic: Literal["mean", "median"] = "mean",
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
    method: Literal["bca", "percentile"] = "bca",
) -> Estimate:
    """The change of a score from A to B over the same cells, with a bootstrap interval.

    ``a[i]`` and ``b[i]`` are the scores of the same cell; the estimate is the mean (or
    median) of ``b[i] - a[i]``, and the interval resamples the cells (pairs stay
    together), so the cells' own differences cancel out.

    Args:
        a: scores under A.
        b: scores under B, in the same cell order.
        statistic: ``"mean"`` or ``"median"`` of the differences.
        n_resamples: bootstrap resamples (fewer is faster and rougher).
        confidence: the interval's level.
        seed: the resampling seed: the same inputs and seed give the same interval.
        method: ``"bca"`` (bias-corrected and accelerated, the default) or
            ``"percentile"``.

    Returns:
        An ``Estimate`` (from ``clientsim.analysis.results``) of the change (B minus A);
        ``method`` is ``"bootstrap_bca"`` or ``"bootstrap_percentile"``. When every
        difference is the same the interval is that one value.

    Raises:
        ConfigError: bad arguments (lengths differ, not numbers, an unknown
            statistic or method).
        StatisticsError: fewer than two pairs, or a score that is not finite.

    Example:
        >>> change = paired_bootstrap([1, 2, 3, 4, 5, 6], [2, 4, 3, 6, 6, 8],
        ...                           n_resamples=2000)
        >>> round(change.value, 3), change.low > 0, change.n
        (1.333, True, 6)
    """
    first, second = _numbers("a", a), _numbers("b", b)
    if len(first) != len(second):
        raise ConfigError(
            f"paired_bootstrap: a and b must pair up; got {len(first)} and "
            f"{len(second)} scores"
        )
    if statistic not in _STATISTICS:
        raise ConfigError(
            f"paired_bootstrap: statistic must be one of {', '.join(_STATISTICS)}; "
            f"got {statistic!r}"
        )
    if method not in _METHODS:
        raise ConfigError(
            f"paired_bootstrap: method must be one of {', '.join(_METHODS)}; "
            f"got {method!r}"
        )
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int):
        raise ConfigError(
            f"paired_bootstrap: n_resamples must be an int; got {n_resamples!r}"
        )
    if n_resamples < 100:
        raise ConfigError(
            f"paired_bootstrap: n_resamples must be at least 100; got {n_resamples}"
        )
    level = _level("paired_bootstrap", confidence)
    if len(first) < 2:
        raise StatisticsError(
            f"paired_bootstrap: needs at least 2 pairs to resample; got {len(first)}"
        )
    import numpy as np  # noqa: PLC0415

    differences = np.asarray(second) - np.asarray(first)
    reduce = np.mean if statistic == "mean" else np.median
    value = float(reduce(differences))
    name = f"bootstrap_{method}"
    if float(np.ptp(differences)) == 0.0:
        return Estimate(
            value=value,
            low=value,
            high=value,
            n=len(first),
            confidence=level,
            method=name,
        )
    from scipy.stats import bootstrap  # noqa: PLC0415

    # Nearly constant differences make BCa's acceleration 0/0: scipy warns and
    # returns NaN, and the percentile interval below takes over.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        found = bootstrap(
            (differences,),
            reduce,
            n_resamples=n_resamples,
            confidence_level=level,
            method="BCa" if method == "bca" else "percentile",
            rng=np.random.default_rng(seed),
            vectorized=True,
            axis=-1,
        )
    low = float(found.confidence_interval.low)
    high = float(found.confidence_interval.high)
    if not (math.isfinite(low) and math.isfinite(high)):  # BCa on near-constant data
        name = "bootstrap_percentile"
        low, high = (
            float(v)
            for v in np.percentile(
                found.bootstrap_distribution, [50 * (1 - level), 50 * (1 + level)]
            )
        )
    return Estimate(
        value=value,
        low=min(low, value),
        high=max(high, value),
        n=len(first),
        confidence=level,
        method=name,
    )


@attrs.frozen(kw_only=True)
class PairedComparison:
    """Two variants' pass/fail over the same cells, compared.

    Attributes:
        n: pairs (cells).
        both: cells both passed.
        neither: cells both failed.
        a_only: cells only A passed (B's regressions).
        b_only: cells only B passed (B's fixes).
        rate_a: A's pass rate, with its Wilson interval.
        rate_b: B's pass rate, with its Wilson interval.
        change: B's pass rate minus A's, with Newcombe's interval for paired
            proportions (method 10: hybrid score, built on the Wilson intervals and
            the correlation of the pairs).
        test: McNemar's test on ``a_only`` and ``b_only``.
        alpha: the significance level ``regression`` uses.
    """

    n: int
    both: int
    neither: int
    a_only: int
    b_only: int
    rate_a: Estimate
    rate_b: Estimate
    change: Estimate
    test: TestResult
    alpha: float = 0.05

    @property
    def regression(self) -> bool:
        """Whether B passes significantly less often than A: McNemar's p-value is
        below ``alpha`` and more cells flipped pass -> fail than fail -> pass."""
        return self.a_only > self.b_only and self.test.significant(self.alpha)

    @property
    def improvement(self) -> bool:
        """Whether B passes significantly more often than A."""
        return self.b_only > self.a_only and self.test.significant(self.alpha)


def _rate(passed: int, n: int, level: float) -> Estimate:
    low, high = wilson_interval(passed, n, level)
    return Estimate(
        value=passed / n if n else 0.0,  # no pairs: nothing known, interval [0, 1]
        low=low,
        high=high,
        n=n,
        confidence=level,
        method="wilson",
    )


def newcombe_paired(
    both: int, a_only: int, b_only: int, neither: int, confidence: float = 0.95
) -> Estimate:
    """B's pass rate minus A's over paired cells, with Newcombe's (1998) hybrid score
    interval (his method 10); stays within [-1, 1] and behaves at 0 and 1. With no
    pairs nothing is known: the change reads 0 and the interval is [-1, 1]."""
    n = both + a_only + b_only + neither
    if n == 0:
        return Estimate(
            value=0.0,
            low=-1.0,
            high=1.0,
            n=0,
            confidence=confidence,
            method="newcombe_paired",
        )
    p_b, p_a = (both + b_only) / n, (both + a_only) / n
    low_b, high_b = wilson_interval(both + b_only, n, confidence)
    low_a, high_a = wilson_interval(both + a_only, n, confidence)
    # Table with B first: e both, f B only, g A only, h neither.
    e, f, g, h = both, b_only, a_only, neither
    denominator = (e + f) * (g + h) * (e + g) * (f + h)
    phi = (e * h - f * g) / math.sqrt(denominator) if denominator else 0.0
    value = p_b - p_a
    down = (p_b - low_b) ** 2 - 2 * phi * (p_b - low_b) * (high_a - p_a)
    down += (high_a - p_a) ** 2
    up = (high_b - p_b) ** 2 - 2 * phi * (high_b - p_b) * (p_a - low_a)
    up += (p_a - low_a) ** 2
    return Estimate(
        value=value,
        low=max(-1.0, value - math.sqrt(max(down, 0.0))),
        high=min(1.0, value + math.sqrt(max(up, 0.0))),
        n=n,
        confidence=confidence,
        method="newcombe_paired",
    )


def _flags(name: str, values: Sequence[bool]) -> list[bool]:
    if isinstance(values, str | bytes):
        raise ConfigError(f"paired_rates: {name} must be a sequence of booleans")
    found: list[object] = list(values)
    for value in found:
        if value not in (0, 1):
            raise ConfigError(
                f"paired_rates: {name} must hold booleans (pass/fail); got {value!r}"
            )
    return [bool(value) for value in found]


def paired_rates(
    pass_a: Sequence[bool],
    pass_b: Sequence[bool],
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
    exact: bool | None = None,
) -> PairedComparison:
    """Compare pass/fail of A and B over the same cells (``pass_a[i]`` and
    ``pass_b[i]`` are the same cell).

    Args:
        pass_a: whether each cell passed under A.
        pass_b: whether each cell passed under B, in the same order.
        alpha: the significance level of ``regression`` and ``improvement``.
        confidence: the level of the intervals.
        exact: passed to :func:`mcnemar` (default: exact below 25 flips).

    Returns:
        The counts, both rates, the change and McNemar's test; see
        :class:`PairedComparison`.

    Raises:
        ConfigError: the sequences differ in length or hold something other than
            booleans; ``alpha`` or ``confidence`` is not in (0, 1).
        StatisticsError: no pairs.

    Example:
        >>> same = paired_rates([True, False, True], [True, False, True])
        >>> same.change.value, same.test.p_value, same.regression
        (0.0, 1.0, False)
    """
    first, second = _flags("pass_a", pass_a), _flags("pass_b", pass_b)
    if len(first) != len(second):
        raise ConfigError(
            f"paired_rates: pass_a and pass_b must pair up; got {len(first)} and "
            f"{len(second)} cells"
        )
    if not first:
        raise StatisticsError("paired_rates: needs at least one pair; got none")
    level = _level("paired_rates", confidence)
    checked_alpha = _level("paired_rates (alpha)", alpha)
    both = sum(1 for x, y in zip(first, second, strict=True) if x and y)
    a_only = sum(1 for x, y in zip(first, second, strict=True) if x and not y)
    b_only = sum(1 for x, y in zip(first, second, strict=True) if y and not x)
    n = len(first)
    neither = n - both - a_only - b_only
    return PairedComparison(
        n=n,
        both=both,
        neither=neither,
        a_only=a_only,
        b_only=b_only,
        rate_a=_rate(both + a_only, n, level),
        rate_b=_rate(both + b_only, n, level),
        change=newcombe_paired(both, a_only, b_only, neither, level),
        test=mcnemar(a_only, b_only, exact=exact),
        alpha=checked_alpha,
    )
