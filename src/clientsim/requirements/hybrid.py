"""Weighted composition of other requirement generators (built by hand, not by name).

Why ``HybridGenerator`` is not in :data:`clientsim.requirements.BUILTINS`: it is made
of other generators with weights, so it has no single-argument factory. The seed says
``build_requirement_generator`` refuses ``"hybrid"`` with ``UnknownStrategyError``;
this is deliberate. Build it yourself with ``(generator, weight)`` pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import attrs

from clientsim._validators import check_number
from clientsim.errors import ConfigError
from clientsim.models.client import TaskRequirement
from clientsim.requirements.base import (
    RequirementGenerator,
    check_count,
    emitted,
    rng_for,
)


__all__ = ["HybridGenerator", "split_count"]


def split_count(
    count: int, weights: Sequence[float], *, seed: int = 0
) -> tuple[int, ...]:
    """Split ``count`` across ``weights`` by the largest-remainder method.

    Every part gets ``floor(count * w / sum)``; the items left over go to the parts
    with the largest remainders, ties broken by a seeded shuffle.

    Example:
        >>> split_count(10, [1, 2, 2])
        (2, 4, 4)
    """
    total = math.fsum(weights)
    quotas = [count * w / total for w in weights]
    shares = [math.floor(q) for q in quotas]
    rng = rng_for("hybrid-split", seed)
    tie_break = list(range(len(weights)))
    rng.shuffle(tie_break)
    order = sorted(
        range(len(weights)), key=lambda i: (-(quotas[i] - shares[i]), tie_break[i])
    )
    for i in order[: count - sum(shares)]:
        shares[i] += 1
    return tuple(shares)


def _check_parts(
    parts: Sequence[tuple[RequirementGenerator, float]],
) -> tuple[tuple[RequirementGenerator, float], ...]:
    checked: list[tuple[RequirementGenerator, float]] = []
    for index, part in enumerate(parts):
        if not isinstance(part, tuple) or len(part) != 2:
            raise ConfigError(
                f"parts[{index}] must be a (generator, weight) pair; got {part!r}"
            )
        generator, weight = part
        if not isinstance(generator, RequirementGenerator):
            raise ConfigError(
                f"parts[{index}] generator must have an async generate(count, *, seed) "
                f"method; got {type(generator).__name__}"
            )
        checked.append(
            (generator, check_number(f"parts[{index}] weight", weight, above=0))
        )
    if not checked:
        raise ConfigError("parts must hold at least one (generator, weight) pair")
    return tuple(checked)


def _unique(
    batch: tuple[TaskRequirement, ...], taken: set[str], part: int
) -> tuple[TaskRequirement, ...]:
    """Rename ids that clash with earlier parts' ids (and the depends_on naming them)."""
    renamed: dict[str, str] = {}
    for requirement in batch:
        ident = requirement.requirement_id
        if ident and ident in taken:
            new = f"{ident}~p{part}"
            while new in taken:
                new += "~"
            renamed[ident] = new
        taken.add(renamed.get(ident, ident))
    if not renamed:
        return batch
    return tuple(
        attrs.evolve(
            r,
            requirement_id=renamed.get(r.requirement_id, r.requirement_id),
            depends_on=tuple(renamed.get(d, d) for d in r.depends_on),
        )
        for r in batch
    )


@attrs.define
class HybridGenerator:
    """Requirements from several generators mixed by weight.

    ``generate(count, seed=s)`` splits ``count`` across the parts by weight (largest
    remainder, ties broken by seed) and asks part ``i`` for its share with seed
    ``s * 1000 + i`` so the parts do not draw the same choices. Results come part by
    part, in the order given. Ids that clash between parts are renamed with a
    ``~p<i>`` suffix (``depends_on`` follows the rename). A typical mix is dataset
    seeds plus LLM-written novelties. Each part emits its own
    ``REQUIREMENTS_GENERATED`` event, then the hybrid emits one for the whole batch.

    Not in :data:`~clientsim.requirements.BUILTINS`: it has no single-argument factory,
    so ``build_requirement_generator`` refuses ``"hybrid"`` (as the seed specifies).

    Args:
        parts: ``(generator, weight)`` pairs; weights must be > 0.

    Raises:
        ConfigError: ``parts`` is empty, a weight is not > 0, or a part is not a
            generator.

    Example:
        >>> import anyio
        >>> from clientsim import DatasetGenerator, HybridGenerator, TemplateGenerator
        >>> mix = HybridGenerator([(DatasetGenerator(), 3), (TemplateGenerator(), 1)])
        >>> mix.split(8, seed=0)
        (6, 2)
        >>> reqs = anyio.run(lambda: mix.generate(8, seed=0))
        >>> len(reqs)
        8
    """

    name: ClassVar[str] = "hybrid"

    parts: tuple[tuple[RequirementGenerator, float], ...] = attrs.field(
        converter=_check_parts
    )

    def split(self, count: int, *, seed: int = 0) -> tuple[int, ...]:
        """How many requirements each part contributes to ``generate(count, seed)``."""
        check_count(count, seed)
        return split_count(count, [w for _, w in self.parts], seed=seed)

    async def generate(
        self, count: int, *, seed: int = 0
    ) -> tuple[TaskRequirement, ...]:
        """Generate ``count`` requirements from the parts.

        Raises:
            ConfigError: ``count`` is below 1.
        """
        shares = self.split(count, seed=seed)
        result: list[TaskRequirement] = []
        taken: set[str] = set()
        for index, ((generator, _), share) in enumerate(
            zip(self.parts, shares, strict=True)
        ):
            if share == 0:
                continue
            batch = await generator.generate(share, seed=seed * 1000 + index)
            result.extend(_unique(tuple(batch), taken, index))
        return emitted(self.name, tuple(result))
