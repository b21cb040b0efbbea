"""What a client is given (seed 000): the context of a requirement to file, and of a
deliverable to review."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from clientsim.models.client import Task, TaskRequirement
from clientsim.models.frozen import FrozenDict, freeze_mapping


__all__ = ["ReviewContext", "SubmitContext"]

_NO_MAPPING: Final[Mapping[str, Any]] = FrozenDict()


def _metadata(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return freeze_mapping(value, "metadata")


@attrs.frozen(kw_only=True)
class SubmitContext:
    """What a client is given when asked for a requirement.

    Attributes:
        round: the simulation round (0-based).
        project: the project the work goes to.
        proposal: a requirement drafted for the client (by a generator), which the
            client may file as is, rework, or decline; ``None`` to write its own.
        seed: for reproducible choices.
        metadata: anything else the caller wants the client to see (read-only).
    """

    round: int = 0
    project: str = "default"
    proposal: TaskRequirement | None = None
    seed: int = 0
    metadata: Mapping[str, Any] = attrs.field(default=_NO_MAPPING, converter=_metadata)


@attrs.frozen(kw_only=True)
class ReviewContext:
    """What a client is given when asked to review a deliverable.

    Attributes:
        task: the task, as the task engine holds it.
        requirement: what was asked for.
        deliverable: the work product to review (the actual deliverable, never the
            requirement text).
        attempt: 1 for the first review, 2 after one rework, ...
        seed: for reproducible choices.
    """

    task: Task
    requirement: TaskRequirement
    deliverable: str
    attempt: int = 1
    seed: int = 0
