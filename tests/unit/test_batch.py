"""The batch runner: seeds, concurrency, timeouts, retries, resume, the store."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any, overload

import anyio
import pytest
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from clientsim import (
    FullSimulationRunner,
    LLMParticipant,
    MessageDraft,
    Outcomes,
    ParticipantRole,
)
from clientsim.errors import ConfigError
from clientsim.llm.offline import OfflineChatModel
from clientsim.models import GridCell, RunStatus
from clientsim.runners.batch import (
    BatchCell,
    BatchRunner,
    ConversationJob,
    DistinctCells,
    derive_seed,
)
from clientsim.store import InMemoryStore, SQLiteStore
from tests.fakes import Failing


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT
INPUTS = ["I forgot my password", "I was charged twice", "My parcel is late"]


def cells(
    iterations: int = 2, personas: tuple[str, ...] = ("calm", "rushed")
) -> list[BatchCell]:
    return [
        BatchCell(
            cell=GridCell(input_id=str(index), persona_id=persona, iteration=iteration),
            input=text,
            persona=persona,
        )
        for iteration in range(iterations)
        for index, text in enumerate(INPUTS)
        for persona in personas
    ]


def full_build(
    outcomes: Outcomes, model: object = "offline", max_messages: int = 8
) -> Any:
    def build(job: ConversationJob) -> FullSimulationRunner:
        customer = LLMParticipant(
            CUSTOMER,
            job.models.model(model, "customer"),  # type: ignore[arg-type]
            persona=f"A {job.persona} customer",
            seed=job.seed,
        )
        agent = LLMParticipant(
            AGENT,
            job.models.model(model, "agent"),
            persona="A support agent",
            seed=job.seed,  # type: ignore[arg-type]
        )
        return FullSimulationRunner(
            customer,
            agent,
            MessageDraft(job.input, CUSTOMER),
            None,
            outcomes,
            max_messages=max_messages,
        )

    return build


def transcripts(records: Any) -> dict[str, list[tuple[str, str]]]:
    return {
        record.key: [
            (message.sender.value, message.content)
            for message in record.result.conversation.messages
        ]
        for record in records
    }


def test_seed_depends_on_run_seed_and_cell_only():
    cell = GridCell(input_id="0", persona_id="p", iteration=0)
    other = GridCell(input_id="0", persona_id="p", iteration=1)
    assert derive_seed(42, cell) == derive_seed(42, cell)
    assert derive_seed(42, cell) != derive_seed(43, cell)
    assert derive_seed(42, cell) != derive_seed(42, other)
    assert 0 <= derive_seed(42, cell) < 2**31


async def test_results_do_not_depend_on_parallel_runs_or_order(outcomes):
    grid = cells()
    one = await BatchRunner(full_build(outcomes), grid, run_id="a", seed=7).run()
    shuffled = list(grid)
    random.Random(3).shuffle(shuffled)
    many = await BatchRunner(
        full_build(outcomes), shuffled, run_id="b", seed=7, parallel_runs=8
    ).run()
    assert len(one.records) == len(grid) == len(many.records)
    assert transcripts(one.records) == transcripts(many.records)
    assert {r.key: r.seed for r in one.records} == {r.key: r.seed for r in many.records}
    assert all(record.status is RunStatus.DONE for record in one.records)
    # The seed matters: iterations of the same input and persona differ somewhere.
    by_key = transcripts(one.records)
    assert any(by_key[f"{i}/calm/0"] != by_key[f"{i}/calm/1"] for i in range(3))


async def test_token_usage_is_kept_per_model(outcomes):
    result = await BatchRunner(
        full_build(outcomes), cells(1, ("calm",)), run_id="r", seed=1
    ).run()
    for record in result.records:
        usage = record.models["offline"]
        assert usage.calls >= 2
        assert usage.input_tokens > 0
        assert usage.output_tokens > 0
    assert result.live_model_calls == sum(
        r.models["offline"].calls for r in result.records
    )


async def test_concurrency_is_bounded_by_parallel_runs(outcomes):
    running = 0
    peak = 0

    class Counting(FullSimulationRunner):
        async def run(self) -> Any:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            try:
                await anyio.sleep(0.01)
                return await super().run()
            finally:
                running -= 1

    def build(job: ConversationJob) -> FullSimulationRunner:
        return Counting(
            LLMParticipant(
                CUSTOMER, job.models.model("offline", "customer"), persona="x"
            ),
            LLMParticipant(AGENT, job.models.model("offline", "agent"), persona="y"),
            MessageDraft(job.input, CUSTOMER),
            None,
            outcomes,
            max_messages=4,
        )

    await BatchRunner(build, cells(3), run_id="r", seed=1, parallel_runs=3).run()
    assert peak == 3


async def test_a_conversation_past_its_timeout_keeps_its_transcript(outcomes):
    class Stalls(LLMParticipant):
        async def get_next_message(self, conversation: Any) -> Any:
            if len(conversation.messages) >= 3:
                await anyio.sleep_forever()
            return await super().get_next_message(conversation)

    def build(job: ConversationJob) -> FullSimulationRunner:
        return FullSimulationRunner(
            LLMParticipant(
                CUSTOMER, job.models.model("offline", "customer"), persona="x"
            ),
            Stalls(AGENT, job.models.model("offline", "agent"), persona="y"),
            MessageDraft(job.input, CUSTOMER),
            None,
            outcomes,
            max_messages=10,
        )

    result = await BatchRunner(
        build, cells(1, ("calm",))[:1], run_id="r", seed=1, timeout_seconds=0.3
    ).run()
    (record,) = result.records
    assert record.status is RunStatus.TIMEOUT
    assert record.result is not None
    assert len(record.result.conversation.messages) == 3
    assert record.result.ending is not None
    assert record.result.ending.reason == "timeout"
    assert record.error is not None
    assert record.error.type == "TimeoutError"
    assert record.attempts == 1  # a conversation timeout is not retried


async def test_transient_errors_are_retried_logic_errors_are_not(outcomes):
    attempts: Counter[str] = Counter()

    def build(job: ConversationJob) -> FullSimulationRunner:
        attempts[job.cell.key] += 1
        if job.cell.persona_id == "flaky" and job.attempt == 1:
            agent: Any = Failing(AGENT, ConnectionResetError("peer reset"), after=2)
        elif job.cell.persona_id == "broken":
            agent = Failing(AGENT, ValueError("bug in the agent"), after=2)
        else:
            agent = LLMParticipant(
                AGENT, job.models.model("offline", "agent"), persona="y"
            )
        return FullSimulationRunner(
            LLMParticipant(
                CUSTOMER, job.models.model("offline", "customer"), persona="x"
            ),
            agent,
            MessageDraft(job.input, CUSTOMER),
            None,
            outcomes,
            max_messages=6,
        )

    result = await BatchRunner(
        build,
        cells(1, ("flaky", "broken")),
        run_id="r",
        seed=1,
        max_retries=2,
        retry_base_seconds=0.001,
    ).run()
    by_persona = {
        persona: [r for r in result.records if r.cell.persona_id == persona]
        for persona in ("flaky", "broken")
    }
    for record in by_persona["flaky"]:
        assert record.status is RunStatus.DONE
        assert record.attempts == 2
    for record in by_persona["broken"]:
        assert record.status is RunStatus.FAILED
        assert record.attempts == 1
        assert record.error is not None
        assert not record.error.transient
        assert record.error.side == "agent"
        assert record.result is not None
        assert record.result.conversation.messages  # the transcript so far is kept


async def test_retries_stop_after_max_retries(outcomes):
    def build(job: ConversationJob) -> FullSimulationRunner:
        return FullSimulationRunner(
            Failing(CUSTOMER, TimeoutError("model timed out"), after=1),
            LLMParticipant(AGENT, job.models.model("offline", "agent"), persona="y"),
            MessageDraft(job.input, CUSTOMER),
            None,
            outcomes,
        )

    result = await BatchRunner(
        build,
        cells(1, ("x",))[:1],
        run_id="r",
        seed=1,
        max_retries=3,
        retry_base_seconds=0,
    ).run()
    (record,) = result.records
    assert record.status is RunStatus.FAILED
    assert record.attempts == 4
    assert record.error is not None
    assert record.error.transient
    assert record.error.side == "simulator"


class Flaky(BaseChatModel):
    """The offline model, failing a fraction of calls with a transient error."""

    seed: int = 0
    failure_rate: float = 0.2
    rng: Any = None
    failures: Any = None  # a Counter shared by the per-conversation copies

    @property
    def _llm_type(self) -> str:
        return "flaky"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise NotImplementedError

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.rng.random() < self.failure_rate:
            self.failures["calls"] += 1
            raise ConnectionError("connection dropped (simulated)")
        return await OfflineChatModel(seed=self.seed)._agenerate(
            messages, stop, **kwargs
        )


async def test_twenty_percent_transient_model_failures_change_nothing(outcomes):
    grid = cells(2)
    clean = await BatchRunner(
        full_build(outcomes, "offline", max_messages=12), grid, run_id="c", seed=5
    ).run()
    flaky = Flaky(rng=random.Random(11), failures=Counter())
    faulty = await BatchRunner(
        full_build(outcomes, flaky, max_messages=12),
        grid,
        run_id="f",
        seed=5,
        parallel_runs=4,
        max_retries=10,
        retry_base_seconds=0,
    ).run()
    assert flaky.failures["calls"] >= 10  # the fault really happened, often
    assert all(record.status is RunStatus.DONE for record in faulty.records)
    assert transcripts(faulty.records) == transcripts(clean.records)
    outcomes_of = lambda rs: {r.key: r.result.ending.reason for r in rs}  # noqa: E731
    assert outcomes_of(faulty.records) == outcomes_of(clean.records)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_rerun_with_the_same_run_id_runs_only_what_is_missing(
    outcomes, tmp_path, kind
):
    store: Any = (
        InMemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "runs.sqlite")
    )
    grid = cells()
    built: Counter[str] = Counter()
    inner = full_build(outcomes)

    def build(job: ConversationJob) -> FullSimulationRunner:
        built[job.cell.key] += 1
        return inner(job)

    first = await BatchRunner(build, grid[:5], run_id="run", seed=3, store=store).run()
    assert len(first.records) == 5
    second = await BatchRunner(build, grid, run_id="run", seed=3, store=store).run()
    assert second.skipped == 5
    assert len(second.records) == len(grid) - 5
    assert set(built.values()) == {1}
    stored = await store.conversations("run")
    assert sorted(r.key for r in stored) == sorted(c.cell.key for c in grid)
    third = await BatchRunner(build, grid, run_id="run", seed=3, store=store).run()
    assert third.records == ()
    assert third.skipped == len(grid)
    await store.aclose()


async def test_cancelling_a_batch_keeps_what_finished(outcomes):
    store = InMemoryStore()
    finished = anyio.Event()
    stored: list[str] = []

    def on_record(record: Any) -> None:
        stored.append(record.key)
        if len(stored) == 3:
            finished.set()

    batch = BatchRunner(
        full_build(outcomes),
        cells(4),
        run_id="r",
        seed=1,
        store=store,
        on_record=on_record,
    )
    returned: list[object] = []

    async def run() -> None:
        returned.append(await batch.run())

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        with anyio.fail_after(30):
            await finished.wait()
        group.cancel_scope.cancel()
    assert returned == []  # cancelled: no BatchResult, the cancellation propagated
    kept = await store.conversations("r")
    assert [r.key for r in kept] == stored
    assert 3 <= len(kept) < len(cells(4))
    assert list(batch.finished) == kept  # what finished, without the store too


async def test_a_factory_config_error_stops_the_batch(outcomes):
    def build(job: ConversationJob) -> FullSimulationRunner:
        raise ConfigError("bad persona")

    with pytest.raises(ConfigError, match="bad persona"):
        await BatchRunner(build, cells(1), run_id="r", seed=1).run()


async def test_a_factory_crash_is_a_failed_simulator_side_record(outcomes):
    def build(job: ConversationJob) -> FullSimulationRunner:
        raise RuntimeError("factory bug")

    result = await BatchRunner(build, cells(1, ("x",))[:1], run_id="r", seed=1).run()
    (record,) = result.records
    assert record.status is RunStatus.FAILED
    assert record.error is not None
    assert record.error.side == "simulator"
    assert "factory bug" in record.error.message


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("parallel_runs", 0),
        ("max_retries", -1),
        ("run_delay_seconds", -1),
        ("timeout_seconds", "10"),
        ("seed", 1.5),
    ],
)
def test_bad_options_are_config_errors(outcomes, option, value):
    kwargs: dict[str, Any] = {"run_id": "r", "seed": 1, option: value}
    with pytest.raises(ConfigError, match=option):
        BatchRunner(full_build(outcomes), cells(1), **kwargs)


def test_repeated_cells_are_refused(outcomes):
    grid = cells(1)
    with pytest.raises(ConfigError, match="own key"):
        BatchRunner(full_build(outcomes), [*grid, grid[0]], run_id="r", seed=1)


async def test_a_shared_rate_limiter_paces_every_call(outcomes):
    from langchain_core.rate_limiters import InMemoryRateLimiter

    limiter = InMemoryRateLimiter(
        requests_per_second=200, check_every_n_seconds=0.001, max_bucket_size=1
    )
    start = anyio.current_time()
    result = await BatchRunner(
        full_build(outcomes, max_messages=4),
        cells(1, ("x",)),
        run_id="r",
        seed=1,
        parallel_runs=3,
        rate_limiter=limiter,
    ).run()
    calls = sum(r.models["offline"].calls for r in result.records)
    assert calls >= 9
    # 200 calls/s with a bucket of one: the calls cannot all happen at once.
    assert anyio.current_time() - start >= (calls - 1) / 200 * 0.8


class CountedCells(DistinctCells):
    """``size`` cells, each made from its index when asked for, and counted."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.made = 0

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> BatchCell: ...

    @overload
    def __getitem__(self, index: slice) -> list[BatchCell]: ...

    def __getitem__(self, index: int | slice) -> BatchCell | list[BatchCell]:
        if isinstance(index, slice):
            return [self[at] for at in range(*index.indices(self.size))]
        if not 0 <= index < self.size:
            raise IndexError(index)
        self.made += 1
        return BatchCell(
            cell=GridCell(input_id=str(index), persona_id="calm", iteration=0),
            input=INPUTS[index % len(INPUTS)],
            persona="calm",
        )


async def run_until_stored(batch: BatchRunner, count: int) -> list[str]:
    """Run ``batch`` until ``count`` conversations are stored, then cancel it."""
    stored: list[str] = []
    enough = anyio.Event()

    def on_record(record: Any) -> None:
        stored.append(record.key)
        if len(stored) >= count:
            enough.set()

    batch.on_record = on_record
    async with anyio.create_task_group() as group:
        group.start_soon(batch.run)
        with anyio.fail_after(30):
            await enough.wait()
        group.cancel_scope.cancel()
    return stored


async def test_a_million_cell_grid_is_read_one_cell_per_conversation(outcomes):
    grid = CountedCells(10**6)
    store = InMemoryStore()
    built: list[str] = []
    inner = full_build(outcomes, max_messages=4)

    def build(job: ConversationJob) -> FullSimulationRunner:
        built.append(job.cell.key)
        return inner(job)

    def batch() -> BatchRunner:
        return BatchRunner(
            build, grid, run_id="big", seed=5, store=store, parallel_runs=2
        )

    first = await run_until_stored(batch(), 3)
    # Nothing walked the grid up front: one cell per conversation started, and
    # at most the next one, waiting for a free slot.
    assert 3 <= len(built) < 50
    assert len(built) <= grid.made <= len(built) + 1
    # A resume skips what is stored (reading each of those cells once, keeping
    # none) and goes on from there.
    grid.made = 0
    started_before = len(built)
    stored = {record.key for record in await store.conversations("big")}
    assert set(first) <= stored
    await run_until_stored(batch(), 3)
    again = built[started_before:]
    assert not stored & set(again)
    assert grid.made <= len(stored) + len(again) + 1 + 2  # + the 2 then in flight
    assert grid.made < 100


async def test_a_lazy_grid_gives_the_same_results_as_a_list(outcomes):
    lazy = CountedCells(12)
    listed = list(CountedCells(12))
    store = InMemoryStore()
    await BatchRunner(
        full_build(outcomes), listed[:4], run_id="a", seed=9, store=store
    ).run()
    await BatchRunner(
        full_build(outcomes), lazy[:4], run_id="b", seed=9, store=store
    ).run()
    one = await BatchRunner(
        full_build(outcomes), listed, run_id="a", seed=9, store=store
    ).run()
    lazy.made = 0
    two = await BatchRunner(
        full_build(outcomes), lazy, run_id="b", seed=9, store=store, parallel_runs=3
    ).run()
    assert lazy.made == 12  # each cell made once, none kept
    assert one.skipped == two.skipped == 4
    assert transcripts(one.records) == transcripts(two.records)
    assert {r.key: r.seed for r in one.records} == {r.key: r.seed for r in two.records}
