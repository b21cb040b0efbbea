"""Summary statistics for experiment results: intervals, percentiles, cost estimates.

Pure functions; the Wilson interval is scipy's (loaded on first use), the rest is the
standard library only.
"""

from __future__ import annotations

import math
import re
import types
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Final

from clientsim._validators import check_int, check_number
from clientsim.errors import ConfigError
from clientsim.models.conversation import TokenUsage


__all__ = ["MODEL_PRICES", "estimate_cost", "percentile", "wilson_interval"]

#: Estimated prices in USD per one million input and output tokens, as
#: ``{model name: (input price, output price)}``.
#:
#: These are estimates of list prices as of 2026, for a few well-known OpenAI models,
#: and will drift: pass your own table to :func:`estimate_cost` (or to
#: ``summarize(prices=...)``) for figures you rely on. ``offline`` is clientsim's
#: built-in offline model, which costs nothing.
MODEL_PRICES: Final[Mapping[str, tuple[float, float]]] = types.MappingProxyType(
    {
        "gpt-4o-mini": (0.15, 0.60),
        "gpt-4o": (2.50, 10.00),
        "gpt-4.1": (2.00, 8.00),
        "gpt-4.1-mini": (0.40, 1.60),
        "gpt-4.1-nano": (0.10, 0.40),
        "o4-mini": (1.10, 4.40),
        "offline": (0.0, 0.0),
    }
)

_PER_TOKENS: Final = 1_000_000
# A dated snapshot name such as "gpt-4o-mini-2024-07-18" is priced as its model.
_DATE_SUFFIX: Final = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def wilson_interval(
    successes: int, total: int, confidence: float = 0.95
) -> tuple[float, float]:
    """The Wilson score interval for a proportion of ``successes`` out of ``total``.

    Unlike the normal approximation, the Wilson interval stays inside [0, 1] and
    behaves well for small samples and proportions near 0 or 1. The interval always
    contains the observed proportion ``successes / total``. It is scipy's
    (``binomtest(...).proportion_ci(method="wilson")``); see
    :func:`clientsim.analysis.proportion_ci` for the same as an ``Estimate`` and for
    the other methods.

    Args:
        successes: how many trials succeeded, ``0 <= successes <= total``.
        total: how many trials there were, ``>= 0``. With no trials nothing is known
            and the interval is ``(0.0, 1.0)``.
        confidence: the confidence level, strictly between 0 and 1.

    Returns:
        ``(low, high)``, both in [0, 1].

    Raises:
        ConfigError: a count is not a non-negative int, ``successes > total``, or
            ``confidence`` is not strictly between 0 and 1.

    Example:
        >>> low, high = wilson_interval(8, 10)
        >>> round(low, 3), round(high, 3)
        (0.49, 0.943)
    """
    for name, value in (("successes", successes), ("total", total)):
        check_int(f"wilson_interval: {name}", value, low=0)
    if successes > total:
        raise ConfigError(
            f"wilson_interval: successes ({successes}) must not exceed total ({total})"
        )
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0.0 < confidence < 1.0
    ):
        raise ConfigError(
            "wilson_interval: confidence must be a number strictly between 0 and 1 "
            f"(e.g. 0.95); got {confidence!r}"
        )
    if total == 0:
        return (0.0, 1.0)
    from clientsim.analysis.intervals import (  # noqa: PLC0415 - loads scipy
        scipy_proportion_ci,
    )

    return scipy_proportion_ci(successes, total, float(confidence), "wilson")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile of ``values``, interpolating linearly between ranks.

    This is the definition numpy uses by default (``method="linear"``): sort the
    values, take position ``(n - 1) * q / 100`` and interpolate between the two
    closest ranks. The interpolation is done exactly (with fractions), so the result
    is the correctly rounded value, never outside ``[min, max]``, and monotone in
    ``q``.

    Args:
        values: finite numbers, in any order.
        q: the percentile, from 0 (the minimum) to 100 (the maximum).

    Returns:
        The percentile, or ``None`` if ``values`` is empty.

    Raises:
        ConfigError: ``q`` is not a number in [0, 100], or a value is not a finite
            number.

    Example:
        >>> percentile([1, 2, 3, 4], 50)
        2.5
        >>> percentile([], 95) is None
        True
    """
    check_number("percentile: q", q, low=0, high=100)
    if not values:
        return None
    for value in values:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(
                f"percentile: values must be finite numbers; got {value!r}"
            )
    ordered = sorted(values)
    position = Fraction(len(ordered) - 1) * Fraction(q) / 100
    below = math.floor(position)
    fraction = position - below
    low = ordered[below]
    if fraction == 0:
        return float(low)
    high = ordered[below + 1]
    exact = Fraction(low) + (Fraction(high) - Fraction(low)) * fraction
    return float(exact)


def _price_for(
    model_spec: str, prices: Mapping[str, tuple[float, float]]
) -> tuple[float, float] | None:
    provider, _, name = model_spec.partition(":")
    candidates = [model_spec]
    if name:
        candidates.append(name)
        undated = _DATE_SUFFIX.sub("", name)
        if undated != name:
            candidates.append(undated)
        candidates.append(provider)
    for candidate in candidates:
        if candidate in prices:
            return _checked_price(candidate, prices[candidate])
    return None


def _checked_price(key: str, price: object) -> tuple[float, float]:
    if (
        isinstance(price, tuple | list)
        and len(price) == 2
        and all(
            not isinstance(part, bool)
            and isinstance(part, int | float)
            and math.isfinite(part)
            and part >= 0
            for part in price
        )
    ):
        return (float(price[0]), float(price[1]))
    raise ConfigError(
        f"prices[{key!r}] must be a pair of non-negative numbers (USD per 1M input "
        f"tokens, USD per 1M output tokens); got {price!r}"
    )


def estimate_cost(
    model_spec: str,
    usage: TokenUsage,
    prices: Mapping[str, tuple[float, float]] | None = None,
) -> float | None:
    """Estimate what ``usage`` cost in USD on the model ``model_spec``.

    The price is looked up in ``prices`` (default :data:`MODEL_PRICES`) under the whole
    spec (``"openai:gpt-4o-mini"``), then the model name after the provider
    (``"gpt-4o-mini"``), then that name without a ``-YYYY-MM-DD`` snapshot suffix, then
    the provider alone (so ``"offline:3"`` is priced as ``"offline"``, and a table
    entry ``"ollama": (0, 0)`` prices every local model).

    The default prices are estimates as of 2026; pass your own table for figures you
    rely on.

    Args:
        model_spec: a model spec, ``"provider:name"`` or a bare name.
        usage: the tokens spent on that model.
        prices: USD per one million ``(input, output)`` tokens, by name.

    Returns:
        The estimated cost in USD, or ``None`` if the model has no price.

    Raises:
        ConfigError: ``model_spec`` is not a string, ``usage`` not a ``TokenUsage``, or
            the matching price entry is not a pair of non-negative numbers.

    Example:
        >>> usage = TokenUsage(input_tokens=1_000_000, output_tokens=500_000)
        >>> estimate_cost("openai:gpt-4o-mini", usage)
        0.45
        >>> estimate_cost("acme:unknown-model", usage) is None
        True
    """
    if not isinstance(model_spec, str):
        raise ConfigError(
            f"estimate_cost: model_spec must be a string such as 'openai:gpt-4o-mini'; "
            f"got {model_spec!r}"
        )
    if not isinstance(usage, TokenUsage):
        raise ConfigError(
            f"estimate_cost: usage must be a TokenUsage; got {type(usage).__name__}"
        )
    price = _price_for(model_spec, MODEL_PRICES if prices is None else prices)
    if price is None:
        return None
    input_price, output_price = price
    return (
        usage.input_tokens * input_price + usage.output_tokens * output_price
    ) / _PER_TOKENS
