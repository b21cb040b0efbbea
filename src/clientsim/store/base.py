"""The run store's contract: where a batch keeps every finished conversation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from clientsim.models.records import ConversationRecord
from clientsim.models.team import TeamSessionRecord
from clientsim.models.timestamps import timestamp_field


__all__ = ["SimulationInfo", "SimulationStore"]


@attrs.frozen(kw_only=True)
class SimulationInfo:
    """A registered simulation (an experiment run, or a seed-000 simulation).

    Attributes:
        simulation_id: its id.
        status: free text kept up to date by the runner (``"running"``, ``"done"``,
            ``"interrupted"``, ...).
        metadata: JSON-able data given at registration (e.g. the experiment config).
        created_at: when it was registered (timezone-aware UTC; a naive datetime
            is read as local time and converted).
        updated_at: when its status last changed (timezone-aware UTC).
    """

    simulation_id: str
    status: str
    metadata: Mapping[str, Any]
    created_at: datetime = attrs.field(converter=timestamp_field)
    updated_at: datetime = attrs.field(converter=timestamp_field)


@runtime_checkable
class SimulationStore(Protocol):
    """Keeps simulations, their finished conversations, and team sessions.

    Every method is async and safe to call from many tasks at once; implementations
    that do blocking I/O do it off the event loop.
    """

    async def register_if_absent(
        self, simulation_id: str, metadata: Mapping[str, Any] | None = None
    ) -> SimulationInfo:
        """Register a simulation id, atomically.

        Raises:
            DuplicateSimulationError: the id is already registered.
        """
        ...

    async def get_simulation(self, simulation_id: str) -> SimulationInfo | None:
        """The registered simulation, or ``None``."""
        ...

    async def update_status(self, simulation_id: str, status: str) -> None:
        """Set a registered simulation's status.

        Raises:
            ConfigError: the id is not registered.
        """
        ...

    async def save_conversation(self, record: ConversationRecord) -> bool:
        """Store a finished conversation under ``(record.run_id, record.key)``.

        Returns ``False`` (and stores nothing) if that cell is already stored, so a
        conversation is never stored twice.
        """
        ...

    async def stored_keys(self, run_id: str) -> frozenset[str]:
        """The cell keys already stored for a run."""
        ...

    async def conversations(self, run_id: str) -> list[ConversationRecord]:
        """Every stored conversation of a run, in the order they were stored."""
        ...

    async def runs(self) -> list[SimulationInfo]:
        """Every registered simulation, newest first."""
        ...

    async def save_team_session(self, record: TeamSessionRecord) -> None:
        """Store a team session, or replace the one stored under its ``session_id``.

        A replaced session keeps the ``created_at`` of its first save; everything
        else (document, parent, ``updated_at``) is the new record's.

        Raises:
            ConfigError: the document holds something JSON cannot give back exactly.
        """
        ...

    async def team_session(self, session_id: str) -> TeamSessionRecord | None:
        """The stored team session, or ``None``."""
        ...

    async def team_sessions(self) -> list[TeamSessionRecord]:
        """Every stored team session, newest (by ``created_at``) first."""
        ...

    async def aclose(self) -> None:
        """Release the store's resources; idempotent."""
        ...
