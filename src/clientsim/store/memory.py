"""An in-memory run store: for tests, notebooks and runs that need no file."""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import anyio.lowlevel
import attrs

from clientsim.errors import (
    ConfigError,
    DuplicateSimulationError,
    InvalidTypeError,
    SimulationError,
)
from clientsim.models import to_dict
from clientsim.models.records import ConversationRecord
from clientsim.models.team import TeamSessionRecord
from clientsim.store.base import SimulationInfo


__all__ = ["InMemoryStore"]


def check_id(value: object, name: str = "simulation_id") -> str:
    """Refuse anything but a non-empty, UTF-8 encodable string as an id.

    Shared by the stores, so the in-memory one refuses what SQLite cannot keep.
    """
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name} must be a non-empty string; got {value!r}")
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise ConfigError(
            f"{name} must be valid Unicode text (no lone surrogates); got {value!r}"
        ) from exc
    return value


def check_record(record: object) -> ConversationRecord:
    """Refuse anything but a ConversationRecord with storable ids (shared)."""
    if not isinstance(record, ConversationRecord):
        raise InvalidTypeError(
            f"save_conversation takes a ConversationRecord; got {type(record).__name__}"
        )
    check_id(record.run_id, "record.run_id")
    check_id(record.key, "record.cell.key")
    return record


def row_values(record: ConversationRecord) -> dict[str, object]:
    """The columns of a conversation's row (shared by the SQL stores;
    ``started_at`` stays a datetime)."""
    result = record.result
    outcome = result.outcome if result is not None else None
    error = record.error or (result.error if result is not None else None)
    return {
        "run_id": record.run_id,
        "key": record.key,
        "status": record.status.value,
        "seed": record.seed,
        "input_id": record.cell.input_id,
        "persona_id": record.cell.persona_id,
        "iteration": record.cell.iteration,
        "outcome": outcome.name if outcome is not None else None,
        "error_type": error.type if error is not None else None,
        "started_at": record.started_at,
        "duration_seconds": float(record.duration_seconds),
        # ASCII escapes: any text (lone surrogates, NUL) is storable as TEXT.
        "record": json.dumps(to_dict(record)),
    }


def encode_metadata(simulation_id: str, metadata: Mapping[str, Any] | None) -> str:
    """Metadata as JSON text (shared by the stores, so both accept the same values)."""
    if metadata is None:
        return "{}"
    if not isinstance(metadata, Mapping):
        raise InvalidTypeError(
            f"metadata of simulation {simulation_id!r} must be a mapping (a JSON "
            f"object) or None; got {type(metadata).__name__}"
        )
    try:
        # ASCII escapes keep any text storable, lone surrogates included.
        return json.dumps(dict(metadata), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"metadata of simulation {simulation_id!r} must be JSON-able "
            f"(dicts with string keys, lists, strings, numbers, booleans, None): {exc}"
        ) from exc


def decode_metadata(text: str, where: str = "the store") -> dict[str, Any]:
    """Metadata back from its JSON text.

    Raises:
        SimulationError: the text is not a JSON object (the store file was changed
            or damaged outside clientsim); ``where`` names the run and the store.
    """
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError, TypeError) as exc:
        raise SimulationError(
            f"the metadata of {where} is not valid JSON ({exc}); the store was "
            "changed outside clientsim: restore it from a backup, or start a new run"
        ) from exc
    if not isinstance(data, dict):
        raise SimulationError(
            f"the metadata of {where} is not a JSON object (it is a "
            f"{type(data).__name__}); the store was changed outside clientsim: "
            "restore it from a backup, or start a new run"
        )
    return data


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@attrs.define
class _Simulation:
    simulation_id: str
    status: str
    metadata: str
    created_at: datetime
    updated_at: datetime

    def info(self) -> SimulationInfo:
        return SimulationInfo(
            simulation_id=self.simulation_id,
            status=self.status,
            metadata=decode_metadata(
                self.metadata, f"simulation {self.simulation_id!r}"
            ),
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


@attrs.define
class _Session:
    seq: int  # the order of first saves, for ties between equal created_at
    parent_id: str | None
    document: str  # JSON text, as the SQLite store keeps it
    created_at: datetime
    updated_at: datetime

    def record(self, session_id: str) -> TeamSessionRecord:
        from clientsim.store.team_sessions import decode_session  # noqa: PLC0415

        return decode_session(
            session_id, self.parent_id, self.document, self.created_at, self.updated_at
        )


@typing.final
@attrs.define(eq=False)
class InMemoryStore:
    """A :class:`~clientsim.store.SimulationStore` that keeps everything in memory.

    It behaves like :class:`~clientsim.store.SQLiteStore` (same checks, same errors,
    metadata comes back as fresh JSON-decoded dicts) without touching a disk, and
    forgets everything when it is dropped. Each check-and-insert runs without an
    ``await`` in between, so it is atomic for every task of the event loop.

    Example:
        >>> import anyio
        >>> async def main() -> list[str]:
        ...     async with InMemoryStore() as store:
        ...         await store.register_if_absent("run-1", {"model": "offline"})
        ...         return [info.simulation_id for info in await store.runs()]
        >>> anyio.run(main)
        ['run-1']
    """

    _simulations: dict[str, _Simulation] = attrs.field(
        init=False, factory=dict, repr=False
    )
    _conversations: dict[str, dict[str, ConversationRecord]] = attrs.field(
        init=False, factory=dict, repr=False
    )
    _sessions: dict[str, _Session] = attrs.field(init=False, factory=dict, repr=False)
    _closed: bool = attrs.field(init=False, default=False)

    async def register_if_absent(
        self, simulation_id: str, metadata: Mapping[str, Any] | None = None
    ) -> SimulationInfo:
        """Register a simulation id, atomically, with status ``"registered"``.

        Args:
            simulation_id: a non-empty id.
            metadata: JSON-able data to keep with it (e.g. the experiment config).

        Raises:
            DuplicateSimulationError: the id is already registered.
            ConfigError: a bad id, metadata that is not JSON-able, or a closed store.
        """
        await anyio.lowlevel.checkpoint()
        self._check_open()
        check_id(simulation_id)
        text = encode_metadata(simulation_id, metadata)
        # No await from here on: the check and the insert are one step for the loop.
        if simulation_id in self._simulations:
            raise DuplicateSimulationError(
                f"simulation {simulation_id!r} is already registered; pick a new id "
                "or resume the registered one"
            )
        now = utc_now()
        simulation = _Simulation(simulation_id, "registered", text, now, now)
        self._simulations[simulation_id] = simulation
        return simulation.info()

    async def get_simulation(self, simulation_id: str) -> SimulationInfo | None:
        """The registered simulation, or ``None`` if the id is not registered."""
        await anyio.lowlevel.checkpoint()
        self._check_open()
        simulation = self._simulations.get(check_id(simulation_id))
        return None if simulation is None else simulation.info()

    async def update_status(self, simulation_id: str, status: str) -> None:
        """Set a registered simulation's status (and its ``updated_at``).

        Raises:
            ConfigError: the id is not registered, or the status is not a string.
        """
        await anyio.lowlevel.checkpoint()
        self._check_open()
        check_id(simulation_id)
        check_id(status, "status")
        simulation = self._simulations.get(simulation_id)
        if simulation is None:
            raise ConfigError(
                f"cannot update the status of simulation {simulation_id!r}: it is not "
                "registered; register it with register_if_absent first"
            )
        simulation.status = status
        simulation.updated_at = utc_now()

    async def save_conversation(self, record: ConversationRecord) -> bool:
        """Store a finished conversation under ``(record.run_id, record.key)``.

        Returns:
            ``True`` if it was stored; ``False`` (and nothing is stored) if that cell
            of that run is already stored.
        """
        await anyio.lowlevel.checkpoint()
        self._check_open()
        check_record(record)
        cells = self._conversations.setdefault(record.run_id, {})
        if record.key in cells:
            return False
        cells[record.key] = record
        return True

    async def stored_keys(self, run_id: str) -> frozenset[str]:
        """The cell keys already stored for ``run_id`` (empty for an unknown run)."""
        await anyio.lowlevel.checkpoint()
        self._check_open()
        return frozenset(self._conversations.get(check_id(run_id, "run_id"), ()))

    async def conversations(self, run_id: str) -> list[ConversationRecord]:
        """Every stored conversation of ``run_id``, in the order they were stored."""
        await anyio.lowlevel.checkpoint()
        self._check_open()
        return list(self._conversations.get(check_id(run_id, "run_id"), {}).values())

    async def runs(self) -> list[SimulationInfo]:
        """Every registered simulation, newest first."""
        await anyio.lowlevel.checkpoint()
        self._check_open()
        return [
            simulation.info() for simulation in reversed(self._simulations.values())
        ]

    async def save_team_session(self, record: TeamSessionRecord) -> None:
        """Store a team session, or replace the one stored under its ``session_id``
        (keeping the ``created_at`` of its first save).

        Raises:
            ConfigError: the document holds something JSON cannot give back exactly,
                or the store is closed.
        """
        from clientsim.store.team_sessions import (  # noqa: PLC0415
            check_session,
            encode_document,
        )

        await anyio.lowlevel.checkpoint()
        self._check_open()
        text = encode_document(check_session(record))
        stored = self._sessions.get(record.session_id)
        if stored is None:
            self._sessions[record.session_id] = _Session(
                len(self._sessions),
                record.parent_id,
                text,
                record.created_at,
                record.updated_at,
            )
        else:
            stored.parent_id = record.parent_id
            stored.document = text
            stored.updated_at = record.updated_at

    async def team_session(self, session_id: str) -> TeamSessionRecord | None:
        """The stored team session, or ``None``."""
        await anyio.lowlevel.checkpoint()
        self._check_open()
        stored = self._sessions.get(check_id(session_id, "session_id"))
        return None if stored is None else stored.record(session_id)

    async def team_sessions(self) -> list[TeamSessionRecord]:
        """Every stored team session, newest (by ``created_at``) first."""
        await anyio.lowlevel.checkpoint()
        self._check_open()
        ordered = sorted(
            self._sessions.items(),
            key=lambda item: (item[1].created_at, item[1].seq),
            reverse=True,
        )
        return [stored.record(session_id) for session_id, stored in ordered]

    async def aclose(self) -> None:
        """Close the store; idempotent. Any later call raises ``ConfigError``."""
        self._closed = True
        await anyio.lowlevel.checkpoint()

    async def __aenter__(self) -> Self:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigError(
                "this InMemoryStore is closed (aclose() was called); use a new store"
            )
