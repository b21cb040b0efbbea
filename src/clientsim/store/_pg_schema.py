"""The PostgreSQL store's schema, its versions and its statements.

The schema version lives in the one-row table ``clientsim_schema``. A store brings an
older database up to :data:`SCHEMA_VERSION` (``MIGRATIONS``) and refuses a newer one;
creating and migrating run in one transaction under an advisory lock, so many
processes opening one database at once create it exactly once.
"""

from __future__ import annotations

from typing import Final


__all__ = [
    "CREATE",
    "INSERT_CONVERSATION",
    "INSERT_SIMULATION",
    "LOCK",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SELECT_SIMULATIONS",
    "SELECT_TEAM_SESSIONS",
    "SELECT_VERSION",
    "UPSERT_TEAM_SESSION",
]

SCHEMA_VERSION: Final = 1
"""The version of the tables a PostgreSQL clientsim store keeps (``clientsim_schema``).

1: simulations, conversations and team sessions.
"""

LOCK: Final = "SELECT pg_advisory_xact_lock(hashtext('clientsim store schema'))"

SELECT_VERSION: Final = """
    SELECT
        to_regclass('clientsim_schema') IS NOT NULL,
        to_regclass('simulations') IS NOT NULL
"""

CREATE: Final = (
    """
    CREATE TABLE clientsim_schema (
        one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
        version INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE simulations (
        simulation_id TEXT PRIMARY KEY,
        position BIGSERIAL NOT NULL,
        status TEXT NOT NULL,
        metadata TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE conversations (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        seq BIGSERIAL NOT NULL,
        status TEXT NOT NULL,
        seed BIGINT NOT NULL,
        input_id TEXT NOT NULL,
        persona_id TEXT NOT NULL,
        iteration INTEGER NOT NULL,
        outcome TEXT,
        error_type TEXT,
        started_at TIMESTAMPTZ,
        duration_seconds DOUBLE PRECISION NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    )
    """,
    "CREATE INDEX conversations_in_order ON conversations (run_id, seq)",
    """
    CREATE TABLE team_sessions (
        session_id TEXT PRIMARY KEY,
        position BIGSERIAL NOT NULL,
        parent_id TEXT,
        document TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )
    """,
    f"INSERT INTO clientsim_schema (version) VALUES ({SCHEMA_VERSION:d})",  # noqa: S608
)

MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    # from version -> the statements that bring a database to the next version
}

INSERT_SIMULATION: Final = """
    INSERT INTO simulations (simulation_id, status, metadata, created_at, updated_at)
    VALUES (%s, 'registered', %s, %s, %s)
    ON CONFLICT (simulation_id) DO NOTHING
"""

SELECT_SIMULATIONS: Final = """
    SELECT simulation_id, status, metadata, created_at, updated_at FROM simulations
"""

INSERT_CONVERSATION: Final = """
    INSERT INTO conversations (
        run_id, key, status, seed, input_id, persona_id, iteration,
        outcome, error_type, started_at, duration_seconds, record
    )
    VALUES (
        %(run_id)s, %(key)s, %(status)s, %(seed)s, %(input_id)s, %(persona_id)s,
        %(iteration)s, %(outcome)s, %(error_type)s, %(started_at)s,
        %(duration_seconds)s, %(record)s
    )
    ON CONFLICT (run_id, key) DO NOTHING
"""

UPSERT_TEAM_SESSION: Final = """
    INSERT INTO team_sessions (session_id, parent_id, document, created_at, updated_at)
    VALUES (%(session_id)s, %(parent_id)s, %(document)s, %(created_at)s, %(updated_at)s)
    ON CONFLICT (session_id) DO UPDATE SET
        parent_id = excluded.parent_id,
        document = excluded.document,
        updated_at = excluded.updated_at
"""

SELECT_TEAM_SESSIONS: Final = """
    SELECT session_id, parent_id, document, created_at, updated_at FROM team_sessions
"""
