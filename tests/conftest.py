"""Shared test setup: asyncio only (LangChain's chat models do not run under trio)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clientsim import Intent, MessageDraft, Outcome, Outcomes, ParticipantRole


pytest_plugins = [
    "tests.services.postgres",
    "tests.services.ray_cluster",
    "tests.services.redis_server",
]


@pytest.fixture(name="anyio_backend", scope="session")
def _anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(name="base_time")
def _base_time() -> datetime:
    return datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(name="outcomes")
def _outcomes() -> Outcomes:
    return Outcomes(
        outcomes=(
            Outcome(name="resolved", description="Customer issue was fully resolved"),
            Outcome(
                name="escalated", description="Issue was escalated to a specialist"
            ),
            Outcome(name="abandoned", description="Customer left without resolution"),
        )
    )


@pytest.fixture(name="intent")
def _intent() -> Intent:
    return Intent(role=ParticipantRole.CUSTOMER, description="Reset my password")


@pytest.fixture(name="hello")
def _hello() -> MessageDraft:
    return MessageDraft(content="Hello, I need help", sender=ParticipantRole.CUSTOMER)
