"""The task engine of seed 000 (the system under test) and an in-memory reference one."""

from clientsim.tasks.engine import (
    InMemoryTaskEngine,
    ParticipantWorker,
    TaskEngine,
    Worker,
    requirement_text,
)


__all__ = [
    "InMemoryTaskEngine",
    "ParticipantWorker",
    "TaskEngine",
    "Worker",
    "requirement_text",
]
