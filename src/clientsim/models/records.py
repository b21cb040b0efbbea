"""What a batch run keeps about each conversation: the record a store holds."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Final

import attrs

from clientsim._validators import an_int, typed
from clientsim.models.conversation import ConversationResult, ErrorRecord, TokenUsage
from clientsim.models.frozen import FrozenDict, freeze_mapping
from clientsim.models.timestamps import timestamp_field_or_none


__all__ = ["ConversationRecord", "GridCell", "RunStatus"]

_str: Final = typed(str)
_non_negative_int: Final = an_int(low=0)


def _models(value: Mapping[str, TokenUsage]) -> Mapping[str, TokenUsage]:
    return freeze_mapping(value, "models")


class RunStatus(enum.Enum):
    """How one conversation of a batch ended.

    ``DONE``: it ran to an ending (whatever the outcome). ``FAILED``: an error ended it
    (after any retries). ``TIMEOUT``: it ran past the per-conversation timeout; the
    transcript so far is kept.
    """

    DONE = "done"
    FAILED = "failed"
    TIMEOUT = "timeout"


@attrs.frozen(kw_only=True)
class GridCell:
    """One position in an experiment's grid: inputs x personas x iterations.

    Attributes:
        input_id: the input's id (its index as a string unless the input names one).
        persona_id: the persona's id.
        iteration: which repetition, from 0.
    """

    input_id: str = attrs.field(validator=_str)
    persona_id: str = attrs.field(validator=_str)
    iteration: int = attrs.field(validator=_non_negative_int)

    @property
    def key(self) -> str:
        """A stable text key for the cell, unique within a run."""
        return f"{self.input_id}/{self.persona_id}/{self.iteration}"


@attrs.frozen(kw_only=True)
class ConversationRecord:
    """One finished conversation of a batch run, as the store keeps it.

    Attributes:
        run_id: the run (experiment execution) it belongs to.
        cell: its place in the grid.
        seed: the conversation's own seed (derived from the run seed and the cell).
        status: how it ended.
        input: the input text the conversation started from.
        result: the conversation, its ending and token usage (the transcript so far
            for a timeout or a failure; ``None`` only if nothing ran at all).
        error: what ended it, for ``FAILED`` and ``TIMEOUT``.
        attempts: how many times it was run (1 unless transient errors were retried).
        started_at: when the (last) attempt started, timezone-aware UTC (a naive
            datetime is read as local time and converted).
        duration_seconds: wall time of the last attempt.
        models: token usage per model spec, for cost estimates (read-only).
    """

    run_id: str = attrs.field(validator=_str)
    cell: GridCell = attrs.field(validator=typed(GridCell))
    seed: int = attrs.field(validator=typed(int))
    status: RunStatus = attrs.field(validator=typed(RunStatus))
    input: str = attrs.field(default="", validator=_str)
    result: ConversationResult | None = attrs.field(
        default=None, validator=typed(ConversationResult, optional=True)
    )
    error: ErrorRecord | None = attrs.field(
        default=None, validator=typed(ErrorRecord, optional=True)
    )
    attempts: int = attrs.field(default=1, validator=_non_negative_int)
    started_at: datetime | None = attrs.field(
        default=None,
        converter=timestamp_field_or_none,
        validator=typed(datetime, optional=True),
    )
    duration_seconds: float = attrs.field(default=0.0, validator=typed(float, int))
    models: Mapping[str, TokenUsage] = attrs.field(
        factory=FrozenDict, converter=_models
    )

    @property
    def key(self) -> str:
        """The cell's key: unique within the run."""
        return self.cell.key

    @property
    def simulation_id(self) -> str:
        """``run_id/cell key``: unique across runs."""
        return f"{self.run_id}/{self.cell.key}"
