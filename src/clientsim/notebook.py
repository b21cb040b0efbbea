"""Batch results as rows and pandas DataFrames, for notebooks and analysis.

``ExperimentResult.to_pandas()`` and ``BatchResult.to_pandas()`` call
:func:`to_pandas`; call it yourself on any conversation records, e.g. the records of a
run read back from its ``traces.jsonl``. pandas is an optional dependency: install it
with ``pip install 'clientsim[pandas]'``. :func:`conversation_rows` gives the same
rows as plain dicts and needs nothing.

Example:
    >>> from clientsim.models import ConversationRecord, GridCell, RunStatus
    >>> cell = GridCell(input_id="0", persona_id="patient", iteration=0)
    >>> record = ConversationRecord(run_id="r1", cell=cell, seed=7,
    ...                             status=RunStatus.DONE, input="Where is my parcel?")
    >>> row = conversation_rows([record])[0]
    >>> row["persona"], row["intent"], row["status"], row["turns"]
    ('patient', 'Where is my parcel?', 'done', 0)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final, TypeAlias

from clientsim.analysis.summary import error_of, tokens_spent
from clientsim.errors import ConfigError
from clientsim.models.records import ConversationRecord
from clientsim.models.roles import ParticipantRole


if TYPE_CHECKING:
    # pandas is optional and ships no type information: DataFrame is Any to mypy.
    import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]

    DataFrame: TypeAlias = pd.DataFrame

__all__ = ["COLUMNS", "conversation_rows", "ordered", "to_pandas"]

#: The columns of :func:`conversation_rows` and :func:`to_pandas`, in order.
COLUMNS: Final = (
    "run_id",
    "key",
    "persona",
    "input_id",
    "intent",
    "iteration",
    "seed",
    "status",
    "outcome",
    "ending_reason",
    "turns",
    "messages",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "duration_seconds",
    "error_type",
    "error_side",
)

PANDAS_HINT: Final = "pip install 'clientsim[pandas]'"


def _natural(text: str) -> tuple[int, int, str]:
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def ordered(records: Iterable[ConversationRecord]) -> list[ConversationRecord]:
    """The records in grid order: run, iteration, input, persona.

    Batches store conversations in the order they finish, which depends on
    scheduling; this order does not. Input ids that are numbers sort as numbers
    (``"2"`` before ``"10"``).

    Raises:
        ConfigError: ``records`` holds something other than ``ConversationRecord``
            objects.

    Example:
        >>> from clientsim.models import GridCell, RunStatus
        >>> def record(input_id):
        ...     cell = GridCell(input_id=input_id, persona_id="p", iteration=0)
        ...     return ConversationRecord(run_id="r", cell=cell, seed=1,
        ...                               status=RunStatus.DONE)
        >>> [r.key for r in ordered([record("10"), record("2")])]
        ['2/p/0', '10/p/0']
    """
    checked = list(records)
    for record in checked:
        if not isinstance(record, ConversationRecord):
            raise ConfigError(
                "expected ConversationRecord objects (e.g. result.records); "
                f"got {type(record).__name__}"
            )
    return sorted(
        checked,
        key=lambda record: (
            record.run_id,
            record.cell.iteration,
            _natural(record.cell.input_id),
            record.cell.persona_id,
        ),
    )


def _row(record: ConversationRecord) -> dict[str, object]:
    result = record.result
    messages = result.conversation.messages if result is not None else ()
    outcome = result.outcome if result is not None else None
    ending = result.ending if result is not None else None
    usage = tokens_spent(record)
    error = error_of(record)
    return {
        "run_id": record.run_id,
        "key": record.key,
        "persona": record.cell.persona_id,
        "input_id": record.cell.input_id,
        "intent": record.input,
        "iteration": record.cell.iteration,
        "seed": record.seed,
        "status": record.status.value,
        "outcome": outcome.name if outcome is not None else None,
        "ending_reason": ending.reason if ending is not None else None,
        "turns": sum(
            1 for message in messages if message.sender is ParticipantRole.CUSTOMER
        ),
        "messages": len(messages),
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "duration_seconds": float(record.duration_seconds),
        "error_type": error.type if error is not None else None,
        "error_side": error.side if error is not None else None,
    }


def conversation_rows(
    records: Iterable[ConversationRecord],
) -> list[dict[str, object]]:
    """One plain dict per conversation, keyed by :data:`COLUMNS`, in grid order.

    ``intent`` is the input text the conversation started from; ``turns`` counts the
    customer's messages (seed 003: a customer message and the agent's answer are one
    turn); ``status`` is the :class:`~clientsim.models.RunStatus` value (``"done"``,
    ``"failed"``, ``"timeout"``); ``outcome`` and ``ending_reason`` are names or
    ``None``; the token counts are summed over the conversation's models;
    ``error_side`` is ``"agent"`` or ``"simulator"``.

    Args:
        records: conversation records, e.g. ``result.records`` of a batch.

    Raises:
        ConfigError: ``records`` holds something other than ``ConversationRecord``
            objects.

    Example:
        >>> conversation_rows([])
        []
    """
    return [_row(record) for record in ordered(records)]


def to_pandas(records: Iterable[ConversationRecord]) -> DataFrame:
    """A pandas DataFrame with one row per conversation and the :data:`COLUMNS`.

    The rows are those of :func:`conversation_rows`; an empty batch gives an empty
    frame that still has every column.

    Args:
        records: conversation records, e.g. ``result.records`` of a batch.

    Raises:
        ImportError: pandas is not installed; the message says how to install it
            (``pip install 'clientsim[pandas]'``).
        ConfigError: ``records`` holds something other than ``ConversationRecord``
            objects.

    Example:
        >>> frame = to_pandas(result.records)  # doctest: +SKIP
        >>> frame.groupby("persona")["outcome"].value_counts()  # doctest: +SKIP
    """
    try:
        import pandas as pd  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(
            "to_pandas() needs pandas, an optional dependency of clientsim; "
            f"install it with: {PANDAS_HINT}",
            name="pandas",
        ) from exc
    return pd.DataFrame.from_records(conversation_rows(records), columns=list(COLUMNS))
