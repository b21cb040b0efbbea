"""Reading a segment's particularities, and the seeded stratified draws of a dimension.

Particularities are split into clauses at commas and semicolons. In each clause:

- an age range (``25-35``, ``25 to 35``, ``over 60``, ``under 30``, ``65+``,
  ``in their 30s``) keeps the age bands it overlaps, each weighted by the share of
  its years inside the range, and the exact age is drawn inside the range;
- a fragment's name (``tech-savvy``, ``price sensitive``) applies that fragment;
- a keyword of a table (``high income``, ``married``, ``with children``, ``women``,
  ``South``) keeps the values it names; two keywords on one dimension keep what
  both allow (``married`` and ``children``: married couples with children);
- a clause with none of these becomes a trait of the persona, word for word.

Longer keywords win over the shorter ones inside them (``without children`` is not
read as ``children``).
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import attrs

from clientsim.errors import ConfigError
from clientsim.population.demographics import DemographicTemplate


__all__ = [
    "AGE_DIMENSION",
    "MAX_AGE",
    "Constraints",
    "age_bounds",
    "draw_age",
    "parse_particularities",
    "stratified",
    "weights",
]

AGE_DIMENSION: Final = "age_band"
MIN_AGE: Final = 18
MAX_AGE: Final = 90
"""The oldest age drawn in an open band such as ``65+``."""

_RANGE: Final = re.compile(r"(?<!\d)(\d{1,3})\s*(?:-|\u2013|to)\s*(\d{1,3})(?!\d)")
_OVER: Final = re.compile(r"(?:over|above|older than)\s+(\d{1,3})(?!\d)")
_UNDER: Final = re.compile(r"(?:under|below|younger than)\s+(\d{1,3})(?!\d)")
_PLUS: Final = re.compile(
    r"(?<!\d)(\d{1,3})\s*(?:\+|and over|or over|and older|or older)"
)
_DECADE: Final = re.compile(r"(?<!\d)([1-9])0s\b")
_BAND: Final = re.compile(r"^\s*(\d{1,3})\s*(?:-|\u2013|to)\s*(\d{1,3})\s*$")
_OPEN_BAND: Final = re.compile(r"^\s*(\d{1,3})\s*\+\s*$")


@attrs.frozen(kw_only=True)
class Constraints:
    """What a segment's particularities ask for.

    Attributes:
        allowed: dimension -> the values allowed.
        ages: the age range asked for (inclusive), or ``None``.
        fragments: fragment names found, in order.
        traits: clauses that matched nothing, word for word.
    """

    allowed: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    ages: tuple[int, int] | None = None
    fragments: tuple[str, ...] = ()
    traits: tuple[str, ...] = ()


def _normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9$+']+", text.lower().replace("-", " ")))


def _found(phrase: str, text: str) -> re.Match[str] | None:
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text)


def _ages(clause: str) -> tuple[int, int] | None:
    text = clause.lower()
    if match := _RANGE.search(text):
        low, high = sorted((int(match[1]), int(match[2])))
        return low, high
    if match := _PLUS.search(text):
        return int(match[1]), MAX_AGE
    if match := _OVER.search(text):
        return int(match[1]) + 1, MAX_AGE
    if match := _UNDER.search(text):
        return MIN_AGE, int(match[1]) - 1
    if match := _DECADE.search(text):
        return int(match[1]) * 10, int(match[1]) * 10 + 9
    return None


def parse_particularities(
    text: str,
    template: DemographicTemplate,
    fragment_names: Iterable[str],
    *,
    segment: str,
) -> Constraints:
    """Read ``text`` (see the module docstring).

    Raises:
        ConfigError: two keywords of one dimension allow no common value, or two age
            ranges do not overlap; the message names the segment and the words.
    """
    keywords = sorted(
        (
            (word, dimension.name, frozenset(values))
            for dimension in template.dimensions
            for word, values in dimension.keywords.items()
        ),
        key=lambda item: -len(item[0]),
    )
    names = sorted(fragment_names, key=len, reverse=True)
    allowed: dict[str, frozenset[str]] = {}
    why: dict[str, list[str]] = {}
    ages: tuple[int, int] | None = None
    found_fragments: list[str] = []
    traits: list[str] = []
    for clause in (c.strip() for c in re.split(r"[,;]", text)):
        if not clause:
            continue
        matched = False
        clause_ages = _ages(clause)
        if clause_ages is not None:
            matched = True
            ages = _both(ages, clause_ages, segment, clause)
        rest = _normal(clause)
        for name in names:
            hit = _found(name.replace("_", " "), rest)
            if hit is not None:
                matched = True
                found_fragments.append(name)
                rest = rest[: hit.start()] + " " + rest[hit.end() :]
        for word, dimension, values in keywords:
            hit = _found(word, rest)
            if hit is None:
                continue
            matched = True
            rest = rest[: hit.start()] + " " + rest[hit.end() :]
            kept = allowed.get(dimension, values) & values
            why.setdefault(dimension, []).append(word)
            if not kept:
                raise ConfigError(
                    f"segment {segment!r}: the particularities "
                    f"{', '.join(repr(w) for w in why[dimension])} leave no value of "
                    f"{dimension!r}; its values: "
                    f"{', '.join(template.dimension(dimension).values)}"
                )
            allowed[dimension] = kept
        if not matched:
            traits.append(clause)
    return Constraints(
        allowed=allowed,
        ages=ages,
        fragments=tuple(dict.fromkeys(found_fragments)),
        traits=tuple(traits),
    )


def _both(
    old: tuple[int, int] | None, new: tuple[int, int], segment: str, clause: str
) -> tuple[int, int]:
    if old is None:
        return new
    low, high = max(old[0], new[0]), min(old[1], new[1])
    if low > high:
        raise ConfigError(
            f"segment {segment!r}: the age range in {clause!r} does not overlap "
            f"{old[0]}-{old[1]}"
        )
    return low, high


def age_bounds(band: str) -> tuple[int, int] | None:
    """``"25-34"`` -> ``(25, 34)``, ``"65+"`` -> ``(65, MAX_AGE)``; else ``None``."""
    if match := _BAND.match(band):
        return int(match[1]), int(match[2])
    if match := _OPEN_BAND.match(band):
        return int(match[1]), MAX_AGE
    return None


def weights(
    distribution: Mapping[str, float],
    allowed: frozenset[str] | None,
    *,
    ages: tuple[int, int] | None = None,
) -> dict[str, float]:
    """The table restricted to ``allowed`` values and, for age bands, weighted by
    the share of each band's years inside ``ages``."""
    out: dict[str, float] = {}
    for value, probability in distribution.items():
        if allowed is not None and value not in allowed:
            continue
        weight = probability
        if ages is not None:
            bounds = age_bounds(value)
            if bounds is not None:
                inside = min(bounds[1], ages[1]) - max(bounds[0], ages[0]) + 1
                weight *= max(inside, 0) / (bounds[1] - bounds[0] + 1)
        if weight > 0:
            out[value] = weight
    return out


def stratified(rng: random.Random, table: Mapping[str, float], n: int) -> list[str]:
    """``n`` values drawn from ``table`` (weights), stratified: the unit interval is
    cut into ``n`` equal strata, one uniform point is drawn in each, and the points
    are shuffled, so each value's count is within two of ``n`` times its share
    while the draws stay random and independent across dimensions."""
    values = list(table)
    cumulative = list(itertools.accumulate(table.values()))
    total = cumulative[-1]
    order = list(range(n))
    rng.shuffle(order)
    last = len(values) - 1
    return [
        values[
            min(bisect.bisect_right(cumulative, (k + rng.random()) / n * total), last)
        ]
        for k in order
    ]


def draw_age(rng: random.Random, band: str, ages: tuple[int, int] | None) -> int | None:
    """An exact age inside ``band`` (and ``ages``), or ``None`` for a band that is not
    a range of years."""
    bounds = age_bounds(band)
    if bounds is None:
        return None
    low, high = bounds
    if ages is not None:
        low, high = max(low, ages[0]), min(high, ages[1])
    return rng.randint(low, max(low, high))


def pick(rng: random.Random, items: Sequence[str], default: str) -> str:
    """One of ``items``, or ``default`` when there are none."""
    return rng.choice(items) if items else default
