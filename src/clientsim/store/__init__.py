"""Run stores: where simulations are registered and finished conversations are kept.

:class:`SimulationStore` is the contract; :class:`InMemoryStore` keeps everything in
memory (tests, notebooks), :class:`SQLiteStore` in one SQLite file that survives a
crash and can be shared by several processes, and :class:`PostgresStore` in a
PostgreSQL database shared by many machines; :func:`open_store` picks one from a URL
or the ``DATABASE_URL`` environment variable. A batch saves each conversation as it
finishes, keyed by ``(run_id, cell key)``, so a rerun can skip what is already stored.

Example:
    >>> import anyio
    >>> from clientsim.models import ConversationRecord, GridCell, RunStatus
    >>> async def main() -> list[str]:
    ...     async with InMemoryStore() as store:  # or SQLiteStore("runs/store.db")
    ...         await store.register_if_absent("run-1", {"personas": 2})
    ...         cell = GridCell(input_id="0", persona_id="impatient", iteration=0)
    ...         record = ConversationRecord(
    ...             run_id="run-1", cell=cell, seed=7, status=RunStatus.DONE
    ...         )
    ...         assert await store.save_conversation(record)
    ...         assert not await store.save_conversation(record)  # already stored
    ...         await store.update_status("run-1", "done")
    ...         return sorted(await store.stored_keys("run-1"))
    >>> anyio.run(main)
    ['0/impatient/0']
"""

from clientsim.store.base import SimulationInfo, SimulationStore
from clientsim.store.memory import InMemoryStore
from clientsim.store.postgres import PostgresStore
from clientsim.store.sqlite import SQLiteStore
from clientsim.store.url import DEFAULT_STORE_URL, open_store


__all__ = [
    "DEFAULT_STORE_URL",
    "InMemoryStore",
    "PostgresStore",
    "SQLiteStore",
    "SimulationInfo",
    "SimulationStore",
    "open_store",
]
