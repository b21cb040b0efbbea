"""The argument checks the statistics share: levels, counts and samples.

Bad arguments raise :class:`~clientsim.errors.ConfigError` naming the argument and what
is allowed; data that cannot support a statistic raises
:class:`~clientsim.errors.StatisticsError` (the callers decide which applies).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import SupportsFloat, TypeGuard

from clientsim._validators import check_int
from clientsim.errors import ConfigError, StatisticsError


__all__ = [
    "as_float",
    "check_counts",
    "check_level",
    "check_sample",
    "check_samples",
    "is_real",
    "variance",
]


def is_real(value: object) -> TypeGuard[SupportsFloat]:
    """Whether ``value`` is a real number and not a bool (numpy's numbers included)."""
    return not isinstance(value, bool) and isinstance(value, numbers.Real)


def as_float(value: object) -> object:
    """``float(value)`` for a real number that is not a bool (numpy's included);
    anything else unchanged, for a validator to refuse with its own words."""
    if is_real(value):
        return float(value)
    return value


def check_level(name: str, value: object, example: str) -> float:
    """A level (confidence, alpha, power) strictly between 0 and 1."""
    if not is_real(value) or not 0.0 < float(value) < 1.0:
        raise ConfigError(
            f"{name} must be a number strictly between 0 and 1 (e.g. {example}); "
            f"got {value!r}"
        )
    return float(value)


def check_counts(
    where: str, successes: object, n: object, *, arm: str = ""
) -> tuple[int, int]:
    """``(successes, n)`` as ints if ``0 <= successes <= n`` (numpy's integers too)."""
    label = f"{arm}_" if arm else ""
    counts = [
        check_int(f"{where}: {name}", _plain_int(value), low=0)
        for name, value in ((f"{label}successes", successes), (f"{label}n", n))
    ]
    if counts[0] > counts[1]:
        raise ConfigError(
            f"{where}: {label}successes ({successes}) must not exceed {label}n ({n})"
        )
    return counts[0], counts[1]


def _plain_int(value: object) -> object:
    if not isinstance(value, bool) and isinstance(value, numbers.Integral):
        return int(value)
    return value


def check_sample(where: str, name: str, values: object, *, minimum: int) -> list[float]:
    """``values`` as a list of floats: finite numbers, at least ``minimum`` of them.

    Raises:
        ConfigError: ``values`` is not a sequence of finite numbers.
        StatisticsError: there are fewer than ``minimum`` values.
    """
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ConfigError(
            f"{where}: {name} must be a sequence of finite numbers; "
            f"got {type(values).__name__}"
        )
    sample: list[float] = []
    for value in values:
        if not is_real(value) or not math.isfinite(float(value)):
            raise ConfigError(
                f"{where}: {name} must hold finite numbers only; got {value!r}"
            )
        sample.append(float(value))
    if len(sample) < minimum:
        raise StatisticsError(
            f"{where}: {name} has {len(sample)} value(s); it needs at least {minimum}"
        )
    return sample


def check_samples(
    where: str, a: object, b: object, *, minimum: int
) -> tuple[list[float], list[float]]:
    """Both samples of a two-group statistic, checked by :func:`check_sample`."""
    return (
        check_sample(where, "a", a, minimum=minimum),
        check_sample(where, "b", b, minimum=minimum),
    )


def variance(sample: Sequence[float]) -> float:
    """The sample variance (``n - 1`` in the denominator) of two or more values."""
    mean = math.fsum(sample) / len(sample)
    return math.fsum((value - mean) ** 2 for value in sample) / (len(sample) - 1)
