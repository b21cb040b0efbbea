"""How the PostgreSQL store writes conversations: a row's values, and batches.

Saves that arrive while a batch is being written wait as :class:`Pending` entries; the
next writer takes them all and writes them with :func:`insert_many`, in one
transaction and one round trip, then tells each caller whether its row was new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from clientsim.store import _pg_schema as sql


if TYPE_CHECKING:
    from psycopg import AsyncConnection


__all__ = ["Pending", "insert_many"]


class Pending:
    """A conversation waiting to be written with others."""

    __slots__ = ("_event", "done", "error", "stored", "taken", "values")

    def __init__(self, values: dict[str, object]) -> None:
        self.values = values
        self.taken = False
        self.done = False
        self.stored = False
        self.error: BaseException | None = None
        self._event = anyio.Event()

    async def wait(self) -> None:
        """Until it is written, or :meth:`wake` asks its caller to write it."""
        await self._event.wait()
        if not self.done:
            self._event = anyio.Event()

    def wake(self) -> None:
        self._event.set()

    def settle(
        self, *, stored: bool = False, error: BaseException | None = None
    ) -> None:
        self.stored, self.error, self.done = stored, error, True
        self._event.set()


async def insert_many(
    connection: AsyncConnection[Any], batch: list[Pending]
) -> list[bool]:
    """Insert a batch in one transaction and one round trip; which rows were new."""
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.executemany(
            sql.INSERT_CONVERSATION + " RETURNING 1",
            [item.values for item in batch],
            returning=True,
        )
        stored = []
        while True:
            stored.append(await cursor.fetchone() is not None)
            if not cursor.nextset():
                break
    return stored
