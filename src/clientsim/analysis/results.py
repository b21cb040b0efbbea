"""The values every statistic returns: an :class:`Estimate` and a :class:`TestResult`."""

from __future__ import annotations

import attrs


__all__ = ["Estimate", "TestResult"]


@attrs.frozen(kw_only=True)
class Estimate:
    """A figure with its interval: a rate, a mean, a difference.

    Attributes:
        value: the point estimate.
        low: the interval's lower end.
        high: the interval's upper end.
        n: how many observations (or pairs) it rests on.
        confidence: the interval's confidence level, e.g. ``0.95``.
        method: how the interval was computed (``"wilson"``, ``"bootstrap"``, ...).
    """

    value: float
    low: float
    high: float
    n: int
    confidence: float = 0.95
    method: str = ""


@attrs.frozen(kw_only=True)
class TestResult:
    """A significance test's outcome.

    Attributes:
        name: the test (``"mcnemar_exact"``, ``"welch"``, ...).
        statistic: its statistic.
        p_value: its two-sided p-value.
        df: degrees of freedom, where the test has them.
        effect: an effect size, where one is reported.
        effect_name: what ``effect`` is (``"cohens_h"``, ``"difference"``, ...).
        ci: the effect's interval, where one is reported.
        detail: a sentence on how it was computed.
    """

    __test__ = False  # not a pytest test class

    name: str
    statistic: float
    p_value: float
    df: float | None = None
    effect: float | None = None
    effect_name: str | None = None
    ci: tuple[float, float] | None = None
    detail: str = ""

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether ``p_value`` is below ``alpha``."""
        return self.p_value < alpha
