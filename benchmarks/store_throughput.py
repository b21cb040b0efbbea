"""How many finished conversations per second a run store keeps at 1,000-way concurrency:
PostgreSQL next to SQLite.

Run from the repository root::

    python benchmarks/store_throughput.py               # 10,000 conversations per store
    python benchmarks/store_throughput.py --quick       # 1,000 (a smoke run)
    DATABASE_URL=postgresql://... python benchmarks/store_throughput.py   # your server

1,000 tasks save conversations at once (each task saves its share, one after the
other), as a batch of 1,000 parallel conversations does when they finish together.
Each conversation is a realistic record (two messages, a tool call, an ending, token
usage; about 1.5 KB of JSON), and each save is committed before it returns. Figures:
conversations stored per second (wall time), the median of three repetitions, each on
a fresh database (SQLite: a new file in a temporary folder; PostgreSQL: a new
database). PostgreSQL runs with the store's pool at 10 and at 50 connections.

Without ``DATABASE_URL`` the script starts its own PostgreSQL server, the way the tests
do (``initdb``/``pg_ctl`` in a temporary folder, ``fsync`` off, like any throwaway
server), and stops it at the end; SQLite runs with its defaults (WAL,
``synchronous=NORMAL``). Both run on this machine, so the server competes with the
benchmark for the same cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import anyio  # noqa: E402
import attrs  # noqa: E402
from tests.services.postgres import (  # noqa: E402
    LocalPostgres,
    NoPostgresError,
    create_database,
    drop_database,
)
from tests.store.records import make_record  # noqa: E402

from clientsim.store import PostgresStore, SQLiteStore  # noqa: E402
from clientsim.store.base import SimulationStore  # noqa: E402


CONCURRENCY = 1_000


async def _fill(store: SimulationStore, count: int) -> float:
    template = make_record(0)
    records = [
        attrs.evolve(template, cell=attrs.evolve(template.cell, input_id=str(n)))
        for n in range(count)
    ]
    async with store:
        await store.register_if_absent("run-1")
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for worker in range(CONCURRENCY):
                tg.start_soon(_save, store, records[worker::CONCURRENCY])
        elapsed = time.perf_counter() - started
        assert len(await store.stored_keys("run-1")) == count
    return count / elapsed


async def _save(store: SimulationStore, records: list[object]) -> None:
    for record in records:
        assert await store.save_conversation(record)  # type: ignore[arg-type]


def _sqlite(count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        return anyio.run(_fill, SQLiteStore(Path(folder) / "store.db"), count)


def _postgres(server: str, count: int, pool: int) -> float:
    url = create_database(server)
    try:
        return anyio.run(_fill, PostgresStore(url, max_size=pool), count)
    finally:
        drop_database(server, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 conversations")
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    count = 1_000 if options.quick else 10_000
    repeat = 1 if options.quick else options.repeat
    server_url = os.environ.get("DATABASE_URL", "").strip()
    local: LocalPostgres | None = None
    if not server_url.startswith(("postgresql://", "postgres://")):
        local = LocalPostgres()
        try:
            server_url = local.start()
        except NoPostgresError as exc:
            local.stop()
            print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
            server_url = ""
    rows: list[tuple[str, list[float]]] = []
    try:
        print(f"SQLite: {repeat} x {count:,}", file=sys.stderr)
        rows.append(("SQLite (WAL)", [_sqlite(count) for _ in range(repeat)]))
        if server_url:
            for pool in (10, 50):
                print(f"PostgreSQL pool {pool}: {repeat} x {count:,}", file=sys.stderr)
                rows.append(
                    (
                        f"PostgreSQL (pool {pool})",
                        [_postgres(server_url, count, pool) for _ in range(repeat)],
                    )
                )
    finally:
        if local is not None:
            local.stop()
    print(f"\nConversations stored per second, {CONCURRENCY:,} concurrent writers, ")
    print(f"{count:,} conversations per run, median of {repeat}:\n")
    print("| store | conversations/s | spread |")
    print("|---|---:|---|")
    for name, rates in rows:
        spread = f"{min(rates):,.0f}-{max(rates):,.0f}"
        print(f"| {name} | {statistics.median(rates):,.0f} | {spread} |")


if __name__ == "__main__":
    main()
