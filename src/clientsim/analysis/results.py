"""The values statistics return: an :class:`Estimate` with its interval and the
:class:`TestResult` of a significance test.

Both are frozen attrs values that turn into plain data (:meth:`Estimate.to_dict`,
:meth:`TestResult.to_dict`) and back (``from_dict``), so they can be kept in JSON, in a
run store or in a report, and both show as a small table in a notebook.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from typing import TypeVar

import attrs

from clientsim._validators import a_number, a_text, an_int
from clientsim.analysis._checks import as_float, check_level
from clientsim.errors import ConfigError


__all__ = ["Estimate", "TestResult"]

_V = TypeVar("_V", "Estimate", "TestResult")
#: How far past [0, 1] a p-value may stray from rounding and still be taken.
_ROUNDING = 1e-9


def _finite(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    a_number()(None, attribute, value)


def _confidence(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    check_level(attribute.name, value, "0.95")


def _not_nan(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{attribute.name} must be a number; got {value!r}")
    if math.isnan(value):
        raise ConfigError(f"{attribute.name} must be a number, not NaN")


def _p_value(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    a_number(0, 1)(None, attribute, value)


def _p_float(value: object) -> object:
    """A p-value as a float; one a hair past 0 or 1 from rounding (scipy's sums can
    give ``1.0000000000000002``) is put back on the bound."""
    value = as_float(value)
    if isinstance(value, float) and -_ROUNDING <= value < 0.0:
        return 0.0
    if isinstance(value, float) and 1.0 < value <= 1.0 + _ROUNDING:
        return 1.0
    return value


def _optional_number(
    _: object, attribute: attrs.Attribute[float | None], value: float | None
) -> None:
    if value is not None:
        _not_nan(None, attribute, value)  # type: ignore[arg-type]


def _figure(value: float) -> str:
    return f"{value:.4g}"


@attrs.frozen
class Estimate:
    """A figure estimated from data, with its confidence interval.

    Attributes:
        value: the point estimate (a proportion, a mean, a difference).
        low: the lower bound of the interval, ``<= high``.
        high: the upper bound of the interval.
        n: how many observations the estimate rests on (for a difference of two
            groups, both groups together; for paired data, the pairs).
        confidence: the confidence level of the interval, strictly between 0 and 1.
        method: how the interval was computed (``"wilson"``, ``"t"``,
            ``"newcombe"``, ``"welch"``, ...).

    Example:
        >>> estimate = Estimate(0.8, 0.49, 0.94, n=10, method="wilson")
        >>> estimate.contains(0.5), estimate.width
        (True, 0.45)
        >>> Estimate.from_dict(estimate.to_dict()) == estimate
        True
    """

    value: float = attrs.field(validator=_finite, converter=as_float)
    low: float = attrs.field(validator=_finite, converter=as_float)
    high: float = attrs.field(validator=_finite, converter=as_float)
    n: int = attrs.field(validator=an_int(low=0))
    confidence: float = attrs.field(default=0.95, validator=_confidence)
    method: str = attrs.field(default="", validator=a_text())

    def __attrs_post_init__(self) -> None:
        if self.low > self.high:
            raise ConfigError(
                f"Estimate: low ({self.low!r}) must not exceed high ({self.high!r})"
            )

    @property
    def width(self) -> float:
        """``high - low``, rounded to 12 decimals so that it reads cleanly."""
        return round(self.high - self.low, 12)

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval, bounds included."""
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, float | int | str]:
        """The estimate as plain data (for JSON); :meth:`from_dict` reads it back."""
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "confidence": self.confidence,
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Estimate:
        """An estimate from the plain data :meth:`to_dict` wrote.

        Raises:
            ConfigError: a key is missing or unknown, or a value does not fit.
        """
        return _build(cls, data)

    def __str__(self) -> str:
        percent = f"{self.confidence * 100:g}%"
        return (
            f"{_figure(self.value)} [{_figure(self.low)}, {_figure(self.high)}] "
            f"({percent} CI, n={self.n})"
        )

    def _repr_html_(self) -> str:
        cells = (
            ("estimate", _figure(self.value)),
            (
                f"{self.confidence * 100:g}% CI",
                f"{_figure(self.low)} to {_figure(self.high)}",
            ),
            ("n", str(self.n)),
            ("method", self.method or "-"),
        )
        return _table(cells)


@attrs.frozen
class TestResult:
    """The result of a significance test.

    Attributes:
        name: which test ran (``"chi_square"``, ``"fisher_exact"``, ``"welch_t"``,
            ``"mann_whitney_u"``, ``"anova"``, ``"kruskal_wallis"``, ...).
        statistic: the test statistic (for Fisher's exact test, the sample odds
            ratio, which may be infinite).
        p_value: the p-value, from 0 to 1.
        df: the degrees of freedom, if the test has them (Welch's may be fractional).
        effect: an effect size, if one goes with the test.
        effect_name: which effect size ``effect`` is (``"cohens_h"``, ``"cohens_d"``,
            ``"rank_biserial"``, ``"cramers_v"``, ``"eta_squared"``, ...).
        ci: the interval of the difference the test is about, if there is one.
        detail: a sentence on why this test ran or what to mind.

    Example:
        >>> result = TestResult("chi_square", statistic=4.2, p_value=0.04, df=1)
        >>> result.significant(), result.significant(alpha=0.01)
        (True, False)
        >>> TestResult.from_dict(result.to_dict()) == result
        True
    """

    __test__ = False  # a value, not a test case for pytest to collect

    name: str = attrs.field(validator=a_text(non_empty=True))
    statistic: float = attrs.field(validator=_not_nan, converter=as_float)
    p_value: float = attrs.field(validator=_p_value, converter=_p_float)
    df: float | None = attrs.field(
        default=None, validator=_optional_number, converter=as_float
    )
    effect: float | None = attrs.field(
        default=None, validator=_optional_number, converter=as_float
    )
    effect_name: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(a_text())
    )
    ci: Estimate | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.instance_of(Estimate)),
    )
    detail: str = attrs.field(default="", validator=a_text())

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether ``p_value < alpha``.

        Raises:
            ConfigError: ``alpha`` is not a number strictly between 0 and 1.
        """
        check_level("TestResult.significant: alpha", alpha, "0.05")
        return self.p_value < alpha

    def to_dict(self) -> dict[str, object]:
        """The result as plain data (for JSON); :meth:`from_dict` reads it back."""
        return {
            "name": self.name,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "df": self.df,
            "effect": self.effect,
            "effect_name": self.effect_name,
            "ci": None if self.ci is None else self.ci.to_dict(),
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> TestResult:
        """A result from the plain data :meth:`to_dict` wrote.

        Raises:
            ConfigError: a key is missing or unknown, or a value does not fit.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"TestResult.from_dict takes a mapping; got {type(data).__name__}"
            )
        ci = data.get("ci")
        if isinstance(ci, Mapping):
            data = {**data, "ci": Estimate.from_dict(ci)}
        return _build(cls, data)

    def __str__(self) -> str:
        text = f"{self.name}: statistic {_figure(self.statistic)}"
        if self.df is not None:
            text += f", df {_figure(self.df)}"
        text += f", p = {_figure(self.p_value)}"
        if self.effect is not None:
            text += f", {self.effect_name or 'effect'} {_figure(self.effect)}"
        if self.ci is not None:
            text += f", difference {self.ci}"
        return text

    def _repr_html_(self) -> str:
        cells = [
            ("test", self.name),
            ("statistic", _figure(self.statistic)),
            ("p-value", _figure(self.p_value)),
        ]
        if self.df is not None:
            cells.append(("df", _figure(self.df)))
        if self.effect is not None:
            cells.append((self.effect_name or "effect", _figure(self.effect)))
        if self.ci is not None:
            cells.append(("difference", str(self.ci)))
        if self.detail:
            cells.append(("note", self.detail))
        return _table(cells)


def _build(cls: type[_V], data: Mapping[str, object]) -> _V:
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{cls.__name__}.from_dict takes a mapping; got {type(data).__name__}"
        )
    names = {field.name for field in attrs.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"{cls.__name__}.from_dict: unknown keys {unknown}; "
            f"allowed: {sorted(names)}"
        )
    try:
        return cls(**data)  # type: ignore[arg-type]
    except TypeError as error:
        raise ConfigError(f"{cls.__name__}.from_dict: {error}") from error


def _table(cells: Iterable[tuple[str, str]]) -> str:
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(key))}</th>"
        f"<td>{html.escape(str(value))}</td></tr>"
        for key, value in cells
    )
    return f"<table class='clientsim-stat'>{rows}</table>"
