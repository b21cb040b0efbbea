"""Post-stratification to a target population mix, and the weighted statistics.

A simulated sample rarely has the shares of the population it stands for (a segment
of 100 personas next to one of 300). :func:`post_stratification_weights` gives each
person the weight *target share of their cell / sample share of their cell*, so that
the weighted sample has the target shares; rates and means are then weighted, and
their intervals use Kish's effective sample size ``n_eff = (sum w)^2 / sum w^2``
(unequal weights carry less information than as many equal ones):

- a weighted rate ``p = sum(w y) / sum(w)`` gets Wilson's score interval with
  ``n_eff`` trials;
- a weighted mean ``m = sum(w x) / sum(w)`` gets ``m +- t * s / sqrt(n_eff)``, with
  ``s^2`` the weighted variance scaled by ``n_eff / (n_eff - 1)`` and ``t`` the
  Student quantile on ``n_eff - 1`` degrees of freedom.

With equal weights these are the ordinary Wilson and t intervals.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Final

from clientsim.errors import ConfigError, StatisticsError


__all__ = [
    "effective_sample_size",
    "post_stratification_weights",
    "weighted_mean",
    "weighted_rate",
]

SHARE_TOLERANCE: Final = 1e-6
"""How far from 1 the shares of a target mix may sum."""


def check_target_mix(target_mix: Mapping[str, float]) -> dict[str, float]:
    """``target_mix`` as a dict of float shares.

    Raises:
        ConfigError: not a mapping of names to numbers in [0, 1], empty, or the
            shares do not sum to 1 (within 1e-6).
    """
    if not isinstance(target_mix, Mapping) or not target_mix:
        raise ConfigError(
            "target_mix must map each cell (a segment, or a value of the dimension) "
            f"to its share of the population, e.g. {{'young': 0.4, 'old': 0.6}}; got "
            f"{target_mix!r}"
        )
    shares: dict[str, float] = {}
    for cell, share in target_mix.items():
        if (
            isinstance(share, bool)
            or not isinstance(share, int | float)
            or not 0 <= share <= 1
        ):
            raise ConfigError(
                f"target_mix: the share of {cell!r} must be a number from 0 to 1; "
                f"got {share!r}"
            )
        shares[str(cell)] = float(share)
    total = math.fsum(shares.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ConfigError(
            f"target_mix: the shares must sum to 1; they sum to {total:g}"
        )
    return shares


def post_stratification_weights(
    cells: Sequence[str], target_mix: Mapping[str, float], *, by: str = "cell"
) -> list[float]:
    """Each person's weight: their cell's target share over its sample share.

    Example:
        >>> post_stratification_weights(["a", "a", "a", "b"], {"a": 0.5, "b": 0.5})
        [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]

    Args:
        cells: each person's cell (their segment, or their value of a dimension).
        target_mix: cell -> its share of the target population (summing to 1).
        by: what the cells are, for messages.

    Raises:
        ConfigError: a bad ``target_mix`` (see :func:`check_target_mix`), or a cell
            of the sample it does not name (give it 0 to leave the cell out).
        StatisticsError: no one in the sample, a cell the target gives a share to
            that has no one in the sample, or only cells with a share of 0.
    """
    shares = check_target_mix(target_mix)
    if not cells:
        raise StatisticsError("reweighting needs a sample; the results hold no one")
    counts = Counter(cells)
    unnamed = sorted(set(counts) - set(shares))
    if unnamed:
        raise ConfigError(
            f"target_mix names no share for the {by} value(s) {unnamed} found in the "
            "sample; give each a share (0 leaves it out)"
        )
    empty = sorted(
        cell for cell, share in shares.items() if share > 0 and cell not in counts
    )
    if empty:
        raise StatisticsError(
            f"cannot reweight by {by}: the target gives a share to {empty}, which have "
            f"no one in the sample (the sample has {sorted(counts)})"
        )
    n = len(cells)
    weights = [shares[cell] / (counts[cell] / n) for cell in cells]
    if not any(weights):
        raise StatisticsError(f"reweighting by {by} leaves every weight at 0")
    return weights


def effective_sample_size(weights: Sequence[float]) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (0 for no weight).

    Example:
        >>> effective_sample_size([1, 1, 1, 1]), effective_sample_size([2, 2, 1, 1])
        (4.0, 3.6)
    """
    squares = math.fsum(w * w for w in weights)
    return math.fsum(weights) ** 2 / squares if squares else 0.0


def weighted_rate(
    flags: Sequence[bool], weights: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float, float]:
    """The weighted share of ``flags`` that are true, with Wilson's interval on the
    effective sample size: ``(rate, low, high, n_eff)``.

    Raises:
        StatisticsError: no weight at all.
    """
    from scipy.stats import (  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
        norm,
    )

    total = math.fsum(weights)
    if not flags or total <= 0:
        raise StatisticsError("a weighted rate needs at least one weighted person")
    rate = math.fsum(w for flag, w in zip(flags, weights, strict=True) if flag) / total
    n = effective_sample_size(weights)
    z = float(norm.ppf(0.5 + confidence / 2))
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    return rate, min(low, rate), max(high, rate), n


def weighted_mean(
    values: Sequence[float], weights: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float, float]:
    """The weighted mean of ``values`` with a t interval on the effective sample
    size: ``(mean, low, high, n_eff)``.

    Raises:
        StatisticsError: an effective sample size below 2 (no spread to build an
            interval from).
    """
    from scipy.stats import (  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
        t,
    )

    total = math.fsum(weights)
    n = effective_sample_size(weights)
    if total <= 0 or n <= 1:
        raise StatisticsError(
            "a weighted mean's interval needs an effective sample size above 1; got "
            f"{n:g}"
        )
    pairs = list(zip(values, weights, strict=True))
    mean = math.fsum(w * x for x, w in pairs) / total
    spread = math.fsum(w * (x - mean) ** 2 for x, w in pairs) / total * n / (n - 1)
    half = float(t.ppf(0.5 + confidence / 2, n - 1)) * math.sqrt(spread / n)
    return mean, mean - half, mean + half, n
