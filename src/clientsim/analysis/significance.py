"""Significance tests for unpaired groups (A/B/n arms), and Holm's correction.

Which test runs:

- rates of two arms (:func:`compare_rates`): Pearson's chi-square test on the 2x2
  table, without continuity correction; Fisher's exact test instead when any expected
  count is below 5, where the chi-square approximation is poor. The result's ``name``
  says which ran.
- scores of two arms (:func:`compare_means`): Welch's t test (no equal-variance
  assumption) or, for ordinal or skewed scores, the Mann-Whitney U test.
- more than two arms: first an omnibus test over all arms (:func:`omnibus_rates`, a
  k x 2 chi-square; :func:`omnibus_means`, one-way ANOVA or Kruskal-Wallis), then
  pairwise tests with their p-values corrected by :func:`holm`.

Differences read as **the second group minus the first** (see
:mod:`clientsim.analysis.effects`). scipy does the computing, loaded on first use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal, overload

from clientsim.analysis._checks import (
    check_counts,
    check_level,
    check_sample,
    check_samples,
    is_real,
)
from clientsim.analysis.effects import (
    cohens_d,
    cohens_h,
    mean_difference,
    rate_difference,
    welch,
)
from clientsim.analysis.results import Estimate, TestResult
from clientsim.errors import ConfigError, StatisticsError


__all__ = [
    "MIN_EXPECTED",
    "compare_means",
    "compare_rates",
    "holm",
    "omnibus_means",
    "omnibus_rates",
]

#: The smallest expected count at which :func:`compare_rates` trusts the chi-square
#: approximation; below it Fisher's exact test runs.
MIN_EXPECTED: Final = 5.0

MeansMethod = Literal["welch", "mann_whitney"]
OmnibusMethod = Literal["anova", "kruskal"]


def compare_rates(
    a_successes: int,
    a_n: int,
    b_successes: int,
    b_n: int,
    *,
    confidence: float = 0.95,
) -> TestResult:
    """Whether two rates differ: chi-square, or Fisher's exact test for small counts.

    The 2x2 table is ``[[a_successes, a_n - a_successes], [b_successes, b_n -
    b_successes]]``. If every expected count (row total x column total / grand total)
    is at least 5, Pearson's chi-square test runs without continuity correction
    (``name="chi_square"``, ``df=1``); otherwise Fisher's exact test
    (``name="fisher_exact"``, the statistic is the sample odds ratio of b against a).

    Args:
        a_successes: successes in the first (control) arm.
        a_n: the size of the first arm, ``>= 1``.
        b_successes: successes in the second (variant) arm.
        b_n: the size of the second arm, ``>= 1``.
        confidence: the level of the difference's interval.

    Returns:
        The test, with Cohen's h as ``effect`` and the rate difference ``b - a`` with
        Newcombe's interval as ``ci``.

    Raises:
        ConfigError: a count is not an int, negative or above its arm's size.
        StatisticsError: an arm is empty.

    Example:
        >>> result = compare_rates(30, 100, 45, 100)
        >>> result.name, round(result.p_value, 4), result.significant()
        ('chi_square', 0.0285, True)
        >>> compare_rates(1, 10, 6, 10).name
        'fisher_exact'
    """
    a_successes, a_n = check_counts("compare_rates", a_successes, a_n, arm="a")
    b_successes, b_n = check_counts("compare_rates", b_successes, b_n, arm="b")
    ci = rate_difference(a_successes, a_n, b_successes, b_n, confidence)
    effect = cohens_h(a_successes / a_n, b_successes / b_n)
    table = [[a_successes, a_n - a_successes], [b_successes, b_n - b_successes]]
    successes, failures = (
        a_successes + b_successes,
        a_n + b_n - a_successes - b_successes,
    )
    total = a_n + b_n
    smallest = min(a_n, b_n) * min(successes, failures) / total
    if smallest >= MIN_EXPECTED:
        from scipy.special import chdtrc  # noqa: PLC0415 - loads on first use

        # Pearson's statistic of a 2x2 table: N (ad - bc)^2 / (row and column totals).
        cross = a_successes * (b_n - b_successes) - b_successes * (a_n - a_successes)
        chi2 = total * cross * cross / (a_n * b_n * successes * failures)
        return TestResult(
            name="chi_square",
            statistic=chi2,
            p_value=min(1.0, float(chdtrc(1, chi2))),
            df=1,
            effect=effect,
            effect_name="cohens_h",
            ci=ci,
            detail="Pearson's chi-square test, no continuity correction "
            f"(every expected count >= {MIN_EXPECTED:g})",
        )
    from scipy.stats import fisher_exact  # noqa: PLC0415 - loads on first use

    odds_ratio, p_value = fisher_exact(table[::-1])
    detail = (
        f"Fisher's exact test: an expected count is {smallest:.3g}, below "
        f"{MIN_EXPECTED:g}; statistic: the odds ratio of b against a"
    )
    if math.isnan(odds_ratio):  # no successes, or no failures, in either arm
        odds_ratio = 1.0
        detail += "; every trial had the same outcome, so the rates cannot differ"
    return TestResult(
        name="fisher_exact",
        statistic=odds_ratio,
        p_value=min(1.0, float(p_value)),
        effect=effect,
        effect_name="cohens_h",
        ci=ci,
        detail=detail,
    )


def compare_means(
    a: Sequence[float],
    b: Sequence[float],
    method: MeansMethod = "welch",
    *,
    confidence: float = 0.95,
) -> TestResult:
    """Whether two samples of scores differ: Welch's t test or Mann-Whitney's U.

    ``"welch"`` compares means without assuming equal variances (``statistic`` is t
    for ``mean(b) - mean(a)``, ``df`` Welch-Satterthwaite's, ``effect`` Cohen's d).
    ``"mann_whitney"`` compares ranks, for ordinal scores (a 1-10 rating) or skewed
    ones (``statistic`` is U of b, ``effect`` the rank-biserial correlation: +1 when
    every b exceeds every a).

    Args:
        a: the first (control) sample: finite numbers, at least two.
        b: the second (variant) sample: finite numbers, at least two.
        method: ``"welch"`` or ``"mann_whitney"``.
        confidence: the level of the difference's interval.

    Returns:
        The test, with the mean difference ``b - a`` and Welch's interval as ``ci``
        (for Mann-Whitney too, when the samples vary; else ``None``).

    Raises:
        ConfigError: a sample holds something that is not a finite number, or
            ``method`` is unknown.
        StatisticsError: a sample has fewer than two values, or (Welch) neither
            sample varies.

    Example:
        >>> result = compare_means([6, 7, 7, 8, 6], [8, 9, 7, 9, 8])
        >>> result.name, round(result.statistic, 3), round(result.p_value, 4)
        ('welch_t', 2.646, 0.0294)
        >>> compare_means([6, 7, 7, 8, 6], [8, 9, 7, 9, 8], "mann_whitney").name
        'mann_whitney_u'
    """
    if method not in ("welch", "mann_whitney"):
        raise ConfigError(
            f"compare_means: method must be 'welch' or 'mann_whitney'; got {method!r}"
        )
    level = check_level("compare_means: confidence", confidence, "0.95")
    first, second = check_samples("compare_means", a, b, minimum=2)
    if method == "welch":
        difference, se, df = welch(first, second, "compare_means")
        from scipy.special import stdtr  # noqa: PLC0415 - loads on first use

        statistic = difference / se
        return TestResult(
            name="welch_t",
            statistic=statistic,
            p_value=min(1.0, 2.0 * float(stdtr(df, -abs(statistic)))),
            df=df,
            effect=cohens_d(first, second),
            effect_name="cohens_d",
            ci=mean_difference(first, second, level),
            detail="Welch's t test (unequal variances)",
        )
    from scipy.stats import mannwhitneyu  # noqa: PLC0415 - loads on first use

    u, p_value = mannwhitneyu(second, first, alternative="two-sided")
    pairs = len(first) * len(second)
    ci: Estimate | None
    try:
        ci = mean_difference(first, second, level)
    except StatisticsError:
        ci = None
    return TestResult(
        name="mann_whitney_u",
        statistic=u,
        p_value=min(1.0, float(p_value)),
        effect=2.0 * float(u) / pairs - 1.0,
        effect_name="rank_biserial",
        ci=ci,
        detail="Mann-Whitney U test (ranks); ci: the mean difference, Welch's interval",
    )


@overload
def holm(p_values: Mapping[str, float], alpha: float = 0.05) -> dict[str, float]: ...
@overload
def holm(p_values: Sequence[float], alpha: float = 0.05) -> list[float]: ...
def holm(
    p_values: Mapping[str, float] | Sequence[float], alpha: float = 0.05
) -> dict[str, float] | list[float]:
    """Holm's step-down adjustment of p-values for testing several hypotheses at once.

    Comparing several variants, or several metrics, at 0.05 each finds a "significant"
    difference by chance far more often than 5% of the time. Holm's adjusted p-values
    keep the chance of any false positive across the whole family at ``alpha``: reject
    a hypothesis when its adjusted p-value is below ``alpha``. Holm is uniformly more
    powerful than Bonferroni and makes no assumption about how the tests depend on
    each other.

    The smallest of m p-values is multiplied by m, the next by m - 1, and so on; each
    adjusted value is then raised to at least the one before it (so the order is
    kept) and capped at 1.

    Args:
        p_values: p-values by name (a mapping) or in order (a sequence).
        alpha: the family-wise error rate the adjusted values are meant to be compared
            with; checked, it does not change the values.

    Returns:
        The adjusted p-values: a dict with the same keys for a mapping, a list in the
        same order for a sequence. Each is at least its raw p-value.

    Raises:
        ConfigError: a p-value is not a number from 0 to 1, or ``alpha`` is not
            strictly between 0 and 1.

    Example:
        >>> holm([0.01, 0.04, 0.03])
        [0.03, 0.06, 0.06]
        >>> holm({"price": 0.01, "timing": 0.2})
        {'price': 0.02, 'timing': 0.2}
    """
    check_level("holm: alpha", alpha, "0.05")
    if isinstance(p_values, Mapping):
        keys = list(p_values)
        values = [_p_value(f"p_values[{key!r}]", p_values[key]) for key in keys]
        return dict(zip(keys, _holm(values), strict=True))
    if isinstance(p_values, str | bytes) or not isinstance(p_values, Iterable):
        raise ConfigError(
            "holm: p_values must be a mapping of names to p-values or a sequence of "
            f"p-values; got {type(p_values).__name__}"
        )
    return _holm([_p_value(f"p_values[{i}]", p) for i, p in enumerate(p_values)])


def _p_value(name: str, value: object) -> float:
    if not is_real(value) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"holm: {name} must be a p-value from 0 to 1; got {value!r}")
    return float(value)


def _holm(values: list[float]) -> list[float]:
    m = len(values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=values.__getitem__)):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted


def omnibus_rates(counts: Mapping[str, tuple[int, int]]) -> TestResult:
    """Whether any of k arms' rates differs: the chi-square test on the k x 2 table.

    Run it before pairwise :func:`compare_rates` over three or more arms; if it is not
    significant, pairwise differences are best read as noise.

    Args:
        counts: ``{arm: (successes, n)}`` for two or more arms, each ``n >= 1``.

    Returns:
        The test (``name="chi_square"``, ``df = k - 1``), with Cramer's V as
        ``effect``. ``detail`` warns when an expected count is below 5 (the
        approximation is rough there).

    Raises:
        ConfigError: ``counts`` is not a mapping of pairs of counts, or a count is
            negative or above its arm's size.
        StatisticsError: fewer than two arms, or an empty arm.

    Example:
        >>> result = omnibus_rates({"control": (30, 100), "a": (45, 100), "b": (33, 100)})
        >>> result.df, round(result.p_value, 3)
        (2.0, 0.065)
    """
    table = _rates_table(counts)
    successes = sum(row[0] for row in table)
    failures = sum(row[1] for row in table)
    total = successes + failures
    if successes == 0 or failures == 0:
        return TestResult(
            name="chi_square",
            statistic=0.0,
            p_value=1.0,
            df=len(table) - 1,
            effect=0.0,
            effect_name="cramers_v",
            detail="every trial had the same outcome, so the rates cannot differ",
        )
    from scipy.stats import chi2_contingency  # noqa: PLC0415 - loads on first use

    chi2, p_value, df, expected = chi2_contingency(table, correction=False)
    smallest = float(expected.min())
    detail = "Pearson's chi-square test over all arms"
    if smallest < MIN_EXPECTED:
        detail += (
            f"; an expected count is {smallest:.3g}, below {MIN_EXPECTED:g}: "
            "the p-value is approximate"
        )
    return TestResult(
        name="chi_square",
        statistic=chi2,
        p_value=min(1.0, float(p_value)),
        df=df,
        effect=math.sqrt(float(chi2) / total),
        effect_name="cramers_v",
        detail=detail,
    )


def _rates_table(counts: object) -> list[list[int]]:
    if not isinstance(counts, Mapping):
        raise ConfigError(
            "omnibus_rates: counts must be a mapping {arm: (successes, n)}; "
            f"got {type(counts).__name__}"
        )
    if len(counts) < 2:
        raise StatisticsError(
            f"omnibus_rates: got {len(counts)} arm(s); a comparison needs at least 2"
        )
    table = []
    for arm, pair in counts.items():
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise ConfigError(
                f"omnibus_rates: counts[{arm!r}] must be a pair (successes, n); "
                f"got {pair!r}"
            )
        successes, n = check_counts(f"omnibus_rates: counts[{arm!r}]", *pair)
        if n == 0:
            raise StatisticsError(
                f"omnibus_rates: arm {arm!r} has no trials; every arm needs at least one"
            )
        table.append([successes, n - successes])
    return table


def omnibus_means(
    groups: Mapping[str, Sequence[float]], method: OmnibusMethod = "anova"
) -> TestResult:
    """Whether any of k groups' scores differs: one-way ANOVA or Kruskal-Wallis.

    ``"anova"`` compares means (``statistic`` F, ``df`` the between-groups degrees of
    freedom, ``effect`` eta squared: the share of the variance the groups explain);
    ``"kruskal"`` compares ranks, for ordinal or skewed scores (``statistic`` H,
    ``effect`` epsilon squared).

    Args:
        groups: ``{arm: scores}`` for two or more arms, each with two or more finite
            numbers.
        method: ``"anova"`` or ``"kruskal"``.

    Returns:
        The test.

    Raises:
        ConfigError: ``groups`` is not a mapping of sequences of finite numbers, or
            ``method`` is unknown.
        StatisticsError: fewer than two groups, a group with fewer than two values,
            or no variation at all.

    Example:
        >>> groups = {"control": [5, 6, 7, 6], "a": [7, 8, 8, 9], "b": [6, 6, 7, 5]}
        >>> result = omnibus_means(groups)
        >>> result.name, result.df, round(result.p_value, 4)
        ('anova', 2.0, 0.0101)
        >>> omnibus_means(groups, "kruskal").name
        'kruskal_wallis'
    """
    if method not in ("anova", "kruskal"):
        raise ConfigError(
            f"omnibus_means: method must be 'anova' or 'kruskal'; got {method!r}"
        )
    samples = _groups(groups)
    pooled = [value for sample in samples for value in sample]
    if max(pooled) == min(pooled):
        raise StatisticsError(
            f"omnibus_means: every value is {pooled[0]!r}; there is no variation to test"
        )
    total = len(pooled)
    if method == "kruskal":
        from scipy.stats import kruskal  # noqa: PLC0415 - loads on first use

        h, p_value = kruskal(*samples)
        return TestResult(
            name="kruskal_wallis",
            statistic=h,
            p_value=min(1.0, float(p_value)),
            df=len(samples) - 1,
            effect=float(h) / (total - 1),
            effect_name="epsilon_squared",
            detail="Kruskal-Wallis H test (ranks, tie-corrected)",
        )
    from scipy.stats import f_oneway  # noqa: PLC0415 - loads on first use

    f, p_value = f_oneway(*samples)
    grand = math.fsum(pooled) / total
    ss_total = math.fsum((value - grand) ** 2 for value in pooled)
    ss_between = math.fsum(
        len(sample) * (math.fsum(sample) / len(sample) - grand) ** 2
        for sample in samples
    )
    return TestResult(
        name="anova",
        statistic=f,
        p_value=min(1.0, float(p_value)),
        df=len(samples) - 1,
        effect=min(1.0, ss_between / ss_total),
        effect_name="eta_squared",
        detail="one-way ANOVA (equal variances assumed; Kruskal-Wallis does not)",
    )


def _groups(groups: object) -> list[list[float]]:
    if not isinstance(groups, Mapping):
        raise ConfigError(
            "omnibus_means: groups must be a mapping {arm: scores}; "
            f"got {type(groups).__name__}"
        )
    if len(groups) < 2:
        raise StatisticsError(
            f"omnibus_means: got {len(groups)} group(s); a comparison needs at least 2"
        )
    return [
        check_sample("omnibus_means", f"groups[{name!r}]", values, minimum=2)
        for name, values in groups.items()
    ]
