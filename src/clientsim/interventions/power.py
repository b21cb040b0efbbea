"""How many personas an intervention needs, before a run spends money, and how much
power a finished run had (at the sizes of its arms).

Both rest on :mod:`clientsim.analysis.power`. With several variants and metrics the
significance level is split across the comparisons (Bonferroni, the bound Holm's
correction never does worse than), so the answer holds for the adjusted tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from clientsim.errors import ConfigError


if TYPE_CHECKING:
    from clientsim.interventions.results import InterventionResults
    from clientsim.models.intervention import Intervention

__all__ = ["achieved_power", "required_sample_size"]


def _check(min_effect: float, alpha: float, power: float) -> None:
    if isinstance(min_effect, bool) or not isinstance(min_effect, int | float):
        raise ConfigError(f"min_effect must be a number; got {min_effect!r}")
    if min_effect == 0:
        raise ConfigError("min_effect must not be 0: no sample detects no effect")
    for name, level in (("alpha", alpha), ("power", power)):
        if not 0 < level < 1:
            raise ConfigError(f"{name} must be strictly between 0 and 1; got {level!r}")


def required_sample_size(
    min_effect: float,
    *,
    kind: Literal["rate", "score"] = "rate",
    baseline_rate: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
    intervention: Intervention | None = None,
    comparisons: int | None = None,
) -> int:
    """Personas each arm needs to detect ``min_effect`` against the baseline.

    Args:
        min_effect: for a rate, the smallest difference in rate worth detecting
            (``0.1``: ten points); for a score, Cohen's d.
        kind: ``rate`` or ``score``.
        baseline_rate: the rate expected in the baseline arm (rates only).
        alpha: the family-wise significance level.
        power: the chance to detect an effect of that size.
        intervention: counts its comparisons (variants x metrics) to split ``alpha``.
        comparisons: the number of comparisons, instead of ``intervention``.

    Example:
        >>> required_sample_size(0.2, baseline_rate=0.3) > 50
        True
    """
    from clientsim.analysis import (  # noqa: PLC0415
        sample_size_means,
        sample_size_rates,
    )

    _check(min_effect, alpha, power)
    count = comparisons
    if count is None:
        count = 1
        if intervention is not None:
            count = (len(intervention.arms) - 1) * len(intervention.success_metrics)
    if count < 1:
        raise ConfigError(f"comparisons must be at least 1; got {count}")
    level = alpha / count
    if kind == "rate":
        if not 0 < baseline_rate < 1:
            raise ConfigError(
                f"baseline_rate must be strictly between 0 and 1; got {baseline_rate!r}"
            )
        return int(
            sample_size_rates(baseline_rate, min_effect, alpha=level, power=power)
        )
    if kind == "score":
        return int(sample_size_means(abs(min_effect), alpha=level, power=power))
    raise ConfigError(f"kind must be 'rate' or 'score'; got {kind!r}")


def achieved_power(
    results: InterventionResults, min_effect: float, *, metric: str | None = None
) -> dict[str, float]:
    """Per variant, the power its run had to detect ``min_effect`` on ``metric``
    (the first metric by default), at its size and the baseline's observed rate,
    with ``alpha`` split across the comparisons as in :func:`required_sample_size`."""
    names = results.metrics
    chosen = metric or (names[0] if names else None)
    if chosen not in names:
        raise ConfigError(f"no metric {chosen!r}; metrics: {', '.join(names)}")
    rows = {r.arm: r for r in results.estimates if r.metric == chosen}
    base = rows[results.intervention.baseline]
    kind: Literal["rate", "score"] = "rate" if base.kind == "rate" else "score"
    rate = base.value if base.value is not None and 0 < base.value < 1 else 0.5
    if kind == "rate" and not 0 < rate + min_effect < 1:
        raise ConfigError(
            f"min_effect {min_effect} moves the baseline rate {rate:.3f} out of (0, 1)"
        )
    from clientsim.analysis import power_means, power_rates  # noqa: PLC0415

    count = max(len(results.comparisons), 1)
    alpha = results.alpha / count
    _check(min_effect, alpha, 0.5)
    powers: dict[str, float] = {}
    for arm, row in rows.items():
        if arm == results.intervention.baseline:
            continue
        n = min(row.n, base.n)
        if n < 2:
            powers[arm] = 0.0
        elif kind == "rate":
            powers[arm] = float(power_rates(rate, rate + min_effect, n, alpha))
        else:
            powers[arm] = float(power_means(abs(min_effect), n, alpha))
    return powers
