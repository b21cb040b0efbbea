"""Seeded, stratified assignment of personas to the arms of an intervention.

Each stratum (a segment, or the value of a demographic dimension) is split across the
arms on its own, as evenly as the weights allow, so every arm sees the same mix of
segments. The result depends on the seed and on the personas' ids, never on the order
the personas were given in.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from fractions import Fraction

from clientsim.errors import ConfigError
from clientsim.models.persona import Persona


__all__ = ["assign", "stratum_of"]


def stratum_of(persona: Persona, stratify_by: str | None) -> str:
    """The stratum a persona is assigned in: its segment (``"segment"``), a demographic
    value (any other dimension name), or one stratum for all (``None``)."""
    if stratify_by is None:
        return ""
    if stratify_by == "segment":
        return persona.segment or ""
    return persona.demographics.get(stratify_by, "")


def _weights(
    arms: Sequence[str], weights: Mapping[str, float] | Sequence[float] | None
) -> list[Fraction]:
    if weights is None:
        return [Fraction(1)] * len(arms)
    if isinstance(weights, Mapping):
        missing = [arm for arm in arms if arm not in weights]
        extra = sorted(set(weights) - set(arms))
        if missing or extra:
            raise ConfigError(
                f"weights must name every arm ({', '.join(arms)}) and no other; "
                f"missing {missing}, unknown {extra}"
            )
        values = [weights[arm] for arm in arms]
    else:
        values = list(weights)
        if len(values) != len(arms):
            raise ConfigError(
                f"weights must give one weight per arm ({len(arms)}); got {len(values)}"
            )
    chosen = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"weights must be positive numbers; got {value!r}")
        chosen.append(Fraction(value).limit_denominator(10**6))
    return chosen


def _seeded(seed: int, *parts: str) -> random.Random:
    digest = hashlib.sha256("\x1f".join((str(seed), *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _counts(
    size: int, weights: list[Fraction], totals: list[int], rng: random.Random
) -> list[int]:
    """How many of ``size`` personas each arm gets: the floor of its share, plus one
    for the arms with the largest remainders (ties: the arm furthest below its share
    so far, then a seeded draw), so strata add up to balanced arms."""
    whole = sum(weights)
    shares = [size * w / whole for w in weights]
    counts = [int(share) for share in shares]
    left = size - sum(counts)
    grand = sum(totals) + size
    order = sorted(
        range(len(weights)),
        key=lambda i: (
            -(shares[i] - counts[i]),
            totals[i] + counts[i] - grand * weights[i] / whole,
            rng.random(),
        ),
    )
    for i in order[:left]:
        counts[i] += 1
    return counts


def assign(
    personas: Sequence[Persona],
    arms: Sequence[str],
    *,
    seed: int = 0,
    stratify_by: str | None = "segment",
    weights: Mapping[str, float] | Sequence[float] | None = None,
    target_segments: Collection[str] = (),
) -> dict[str, tuple[Persona, ...]]:
    """Split ``personas`` across ``arms``: seeded, stratified, balanced.

    Args:
        personas: the candidates (ids must be distinct).
        arms: the arm names, in order.
        seed: the same seed gives the same assignment.
        stratify_by: ``"segment"``, a demographic dimension, or ``None``.
        weights: arm weights (a mapping by name or one per arm); equal by default.
        target_segments: only personas of these segments take part (empty: all).

    Returns:
        arm name -> its personas, sorted by id.

    Raises:
        ConfigError: no arms, repeated arm names or persona ids, bad weights.

    Example:
        >>> people = [Persona(id=f"p{i}", name=f"P{i}", segment="a" if i % 2 else "b")
        ...           for i in range(8)]
        >>> split = assign(people, ["control", "new"], seed=1)
        >>> [len(split[arm]) for arm in ("control", "new")]
        [4, 4]
    """
    names = [str(arm) for arm in arms]
    if not names:
        raise ConfigError("assign needs at least one arm")
    if len(set(names)) != len(names):
        raise ConfigError(f"arm names must be distinct; got {names}")
    shares = _weights(names, weights)
    ids = [p.id for p in personas]
    repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
    if repeated:
        raise ConfigError(f"persona ids must be distinct; repeated: {repeated[:5]}")
    wanted = set(target_segments)
    eligible = [p for p in personas if not wanted or p.segment in wanted]
    strata: dict[str, list[Persona]] = {}
    for persona in eligible:
        strata.setdefault(stratum_of(persona, stratify_by), []).append(persona)
    chosen: dict[str, list[Persona]] = {name: [] for name in names}
    totals = [0] * len(names)
    for stratum in sorted(strata):
        members = sorted(strata[stratum], key=lambda p: p.id)
        rng = _seeded(seed, stratum)
        rng.shuffle(members)
        counts = _counts(len(members), shares, totals, rng)
        start = 0
        for index, count in enumerate(counts):
            chosen[names[index]].extend(members[start : start + count])
            totals[index] += count
            start += count
    return {
        name: tuple(sorted(group, key=lambda p: p.id)) for name, group in chosen.items()
    }
