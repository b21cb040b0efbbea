"""Power and sample size: how many personas each arm needs before a run spends money.

Decide the smallest effect worth finding (a lift of 5 percentage points in a response
rate, a Cohen's d of 0.3 in a score), then ask how many personas per arm find it with
the chosen power (the chance of a significant result when the effect is real, usually
0.8) at the chosen ``alpha`` (the false-positive rate, usually 0.05).

- rates: the normal approximation of the test :func:`~clientsim.analysis.compare_rates`
  runs (chi-square without continuity correction), with the variance under the null
  hypothesis pooled (Fleiss's formula without continuity correction);
- means: the exact power of the two-sample t test from the noncentral t distribution
  (scipy, loaded on first use), equal arms.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Final

from clientsim._validators import check_int
from clientsim.analysis._checks import check_level, is_real
from clientsim.errors import ConfigError


__all__ = ["power_means", "power_rates", "sample_size_means", "sample_size_rates"]

_NORMAL: Final = NormalDist()
#: Rounding slack: a sample size that is an integer up to float error is not rounded up.
_SLACK: Final = 1e-9


def _open_rate(where: str, name: str, value: object) -> float:
    if not is_real(value) or not 0.0 < float(value) < 1.0:
        raise ConfigError(
            f"{where}: {name} must be a rate strictly between 0 and 1; got {value!r}"
        )
    return float(value)


def _z_alpha(alpha: float, two_sided: bool) -> float:
    return _NORMAL.inv_cdf(1.0 - alpha / 2.0 if two_sided else 1.0 - alpha)


def _bool(where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: two_sided must be True or False; got {value!r}")
    return value


def sample_size_rates(
    p_control: float,
    min_effect: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = True,
) -> int:
    """Personas per arm to detect a change of ``min_effect`` in a rate.

    ``n = (z_a * sqrt(2 * p * (1 - p)) + z_b * sqrt(p1 * (1 - p1) + p2 * (1 - p2)))^2
    / (p2 - p1)^2``, rounded up, where ``p1 = p_control``, ``p2 = p_control +
    min_effect`` and ``p`` is their mean.

    Args:
        p_control: the expected rate of the control arm, strictly between 0 and 1.
        min_effect: the smallest change worth detecting, in rate units (``0.05`` is
            five percentage points; negative for a drop); ``p_control + min_effect``
            must stay strictly between 0 and 1.
        alpha: the false-positive rate, strictly between 0 and 1.
        power: the chance of detecting the effect if it is real, strictly between 0
            and 1.
        two_sided: a two-sided test (the default, as :func:`compare_rates` runs).

    Returns:
        The number of personas in each arm.

    Raises:
        ConfigError: an argument is out of its range.

    Example:
        >>> sample_size_rates(0.5, 0.1)
        388
        >>> sample_size_rates(0.2, 0.05, power=0.9)
        1464
    """
    where = "sample_size_rates"
    p1 = _open_rate(where, "p_control", p_control)
    if not is_real(min_effect):
        raise ConfigError(f"{where}: min_effect must be a number; got {min_effect!r}")
    p2 = p1 + float(min_effect)
    if min_effect == 0 or not 0.0 < p2 < 1.0:
        raise ConfigError(
            f"{where}: min_effect must be non-zero and keep p_control + min_effect "
            f"strictly between 0 and 1, so from {-p1:g} to {1 - p1:g} excluding 0; "
            f"got {min_effect!r}"
        )
    level = check_level(f"{where}: alpha", alpha, "0.05")
    goal = check_level(f"{where}: power", power, "0.8")
    z_a = _z_alpha(level, _bool(where, two_sided))
    z_b = _NORMAL.inv_cdf(goal)
    mean = (p1 + p2) / 2.0
    spread = z_a * math.sqrt(2.0 * mean * (1.0 - mean)) + z_b * math.sqrt(
        p1 * (1.0 - p1) + p2 * (1.0 - p2)
    )
    return max(2, math.ceil((spread / (p2 - p1)) ** 2 - _SLACK))


def power_rates(
    p_control: float,
    p_treatment: float,
    n_per_arm: int,
    alpha: float = 0.05,
    *,
    two_sided: bool = True,
) -> float:
    """The power of :func:`compare_rates` to tell ``p_treatment`` from ``p_control``
    with ``n_per_arm`` personas in each arm (the normal approximation
    :func:`sample_size_rates` inverts).

    Args:
        p_control: the control arm's rate, strictly between 0 and 1.
        p_treatment: the variant arm's rate, strictly between 0 and 1.
        n_per_arm: personas per arm, ``>= 1``.
        alpha: the false-positive rate, strictly between 0 and 1.
        two_sided: a two-sided test (the default).

    Returns:
        The power, from 0 to 1 (``alpha`` when the rates are equal).

    Raises:
        ConfigError: an argument is out of its range.

    Example:
        >>> round(power_rates(0.5, 0.6, 388), 3)
        0.801
        >>> round(power_rates(0.5, 0.6, 100), 3)
        0.294
    """
    where = "power_rates"
    p1 = _open_rate(where, "p_control", p_control)
    p2 = _open_rate(where, "p_treatment", p_treatment)
    n = check_int(f"{where}: n_per_arm", n_per_arm, low=1)
    level = check_level(f"{where}: alpha", alpha, "0.05")
    sided = _bool(where, two_sided)
    z_a = _z_alpha(level, sided)
    mean = (p1 + p2) / 2.0
    null_sd = math.sqrt(2.0 * mean * (1.0 - mean))
    sd = math.sqrt(p1 * (1.0 - p1) + p2 * (1.0 - p2))
    shift = abs(p2 - p1) * math.sqrt(n)
    power = _NORMAL.cdf((shift - z_a * null_sd) / sd)
    if sided:
        power += _NORMAL.cdf((-shift - z_a * null_sd) / sd)
    return min(1.0, power)


def _effect(where: str, value: object, name: str) -> float:
    if not is_real(value) or not math.isfinite(float(value)):
        raise ConfigError(f"{where}: {name} must be a finite number; got {value!r}")
    return float(value)


def power_means(
    d: float, n_per_arm: int, alpha: float = 0.05, *, two_sided: bool = True
) -> float:
    """The power of a two-sample t test to detect a standardised difference ``d``
    (Cohen's d) with ``n_per_arm`` personas in each arm.

    Exact for normal scores with equal variances: the t statistic follows the
    noncentral t distribution with ``2n - 2`` degrees of freedom and noncentrality
    ``d * sqrt(n / 2)``. For Welch's test with similar variances it is a close guide.

    Args:
        d: the difference in standard deviations (0.2 small, 0.5 medium, 0.8 large).
        n_per_arm: personas per arm, ``>= 2``.
        alpha: the false-positive rate, strictly between 0 and 1.
        two_sided: a two-sided test (the default).

    Returns:
        The power, from 0 to 1 (``alpha`` when ``d`` is 0).

    Raises:
        ConfigError: an argument is out of its range.

    Example:
        >>> round(power_means(0.5, 64), 3)
        0.801
    """
    where = "power_means"
    effect = abs(_effect(where, d, "d"))
    n = check_int(f"{where}: n_per_arm", n_per_arm, low=2)
    level = check_level(f"{where}: alpha", alpha, "0.05")
    return _t_power(effect, n, level, _bool(where, two_sided))


def _t_power(d: float, n: int, alpha: float, two_sided: bool) -> float:
    from scipy.stats import nct, t  # noqa: PLC0415 - scipy loads on first use

    df = 2 * n - 2
    noncentrality = d * math.sqrt(n / 2.0)
    critical = float(t.ppf(1.0 - alpha / 2.0 if two_sided else 1.0 - alpha, df))
    power = float(nct.sf(critical, df, noncentrality))
    if two_sided:
        power += float(nct.cdf(-critical, df, noncentrality))
    return min(1.0, max(0.0, power))


def sample_size_means(
    min_d: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = True,
) -> int:
    """Personas per arm for a two-sample t test to detect a difference of ``min_d``
    standard deviations (Cohen's d): the smallest ``n`` whose :func:`power_means`
    reaches ``power``.

    To turn a difference in score points into d, divide it by the scores' standard
    deviation (from a pilot run, or a guess: a 1-10 rating often has one near 2).

    Args:
        min_d: the smallest standardised difference worth detecting, non-zero.
        alpha: the false-positive rate, strictly between 0 and 1.
        power: the chance of detecting the effect if it is real, strictly between 0
            and 1.
        two_sided: a two-sided test (the default).

    Returns:
        The number of personas in each arm (at least 2).

    Raises:
        ConfigError: an argument is out of its range.

    Example:
        >>> sample_size_means(0.5), sample_size_means(0.8), sample_size_means(0.2)
        (64, 26, 394)
    """
    where = "sample_size_means"
    effect = abs(_effect(where, min_d, "min_d"))
    if effect == 0.0:
        raise ConfigError(f"{where}: min_d must be a non-zero number; got {min_d!r}")
    level = check_level(f"{where}: alpha", alpha, "0.05")
    goal = check_level(f"{where}: power", power, "0.8")
    sided = _bool(where, two_sided)
    z = _z_alpha(level, sided) + _NORMAL.inv_cdf(goal)
    n = max(2, math.ceil(2.0 * (z / effect) ** 2))  # the normal approximation
    while _t_power(effect, n, level, sided) < goal:
        n += 1
    while n > 2 and _t_power(effect, n - 1, level, sided) >= goal:
        n -= 1
    return n
