"""Which run store an experiment writes to.

``store`` in the experiment file is a path (resolved against the file's folder) or a
PostgreSQL URL; without it, ``DATABASE_URL`` when it names PostgreSQL (so one
``DATABASE_URL`` sends runs, population studies and team sessions to one database),
else ``<output_directory>/runs.sqlite``. A ``DATABASE_URL`` naming an SQLite file does
not move an experiment's store: its runs stay next to their folders, as before.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final


if TYPE_CHECKING:
    from clientsim.experiments.config import ExperimentConfig
    from clientsim.store.base import SimulationStore

__all__ = ["names_server", "run_store"]

_SERVERS: Final = ("postgresql://", "postgres://", "postgresql+")


def names_server(text: str | None) -> bool:
    """Whether a store setting names a database server rather than a file.

    Example:
        >>> names_server("postgresql://bot@db/sims"), names_server("runs.sqlite")
        (True, False)
    """
    return text is not None and text.strip().lower().startswith(_SERVERS)


def run_store(config: ExperimentConfig) -> SimulationStore:
    """The store an experiment run writes to (no I/O yet).

    Raises:
        ConfigError: the URL is malformed, or names PostgreSQL without the
            ``postgresql`` extra installed (the message never shows a password).
    """
    from clientsim.store import SQLiteStore, open_store  # noqa: PLC0415

    if config.store is not None:
        if names_server(config.store):
            return open_store(config.store.strip())
        return SQLiteStore(config.store_path)
    if names_server(os.environ.get("DATABASE_URL")):
        return open_store()  # messages name DATABASE_URL
    return SQLiteStore(config.store_path)
