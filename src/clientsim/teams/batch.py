"""Many team sessions at once, each run to its end on an executor.

A team session is the unit that runs independently: its members, memories, turn policy
and analyst live inside it, and its seed fixes its transcript, so it gives the same
record wherever it runs. :func:`run_sessions` hands one :class:`SessionUnit` per seed
to an :class:`~clientsim.runners.executors.Executor` (``local`` by default, ``ray``
for a cluster); the worker builds the session from the team config (plain data), runs
it to its end (and the what-ifs asked for, as branches of it), and sends back its
records, which are saved to the store here, in the caller's process, as each session
finishes.

Example:
    >>> import anyio
    >>> from clientsim.teams import TeamScenario, run_sessions
    >>> scenario = TeamScenario(title="Launch", brief="Ship v2?")
    >>> runs = anyio.run(lambda: run_sessions(
    ...     scenario, team=["CEO", "Designer"], seeds=[1, 2], turns=3
    ... ))
    >>> [(run.seed, run.turns, run.error) for run in runs]
    [(1, 3, None), (2, 3, None)]
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from clientsim._validators import check_int
from clientsim.errors import ConfigError, DuplicateSimulationError
from clientsim.models import RoleTemplate, TeamSessionRecord
from clientsim.models.frozen import thaw
from clientsim.runners.executors import ExecutorArg, check_executor, executor_for
from clientsim.store.base import SimulationStore
from clientsim.teams._build import open_store_for
from clientsim.teams.scenario import (
    TeamConfig,
    TeamScenario,
    as_team_config,
)
from clientsim.teams.whatif import WhatIfChange


__all__ = ["SessionRun", "SessionUnit", "SessionWork", "WhatIfPlan", "run_sessions"]

_DEFAULT_PARALLEL = 16
"""Sessions in flight at once when ``parallel`` is not given (at most)."""


def _change(value: object) -> WhatIfChange:
    return WhatIfChange.of(value)


@attrs.frozen(kw_only=True)
class WhatIfPlan:
    """A what-if to run on every session of a batch once it has ended.

    Attributes:
        change: what the branch changes (see :meth:`WhatIfChange.of`).
        at_turn: the turn the branch starts to differ from.
        turns: the turn the branch runs to (default: as many as the session took).
    """

    change: WhatIfChange = attrs.field(factory=WhatIfChange, converter=_change)
    at_turn: int = attrs.field(default=1)
    turns: int | None = None

    def __attrs_post_init__(self) -> None:
        check_int("at_turn", self.at_turn, low=1)
        if self.turns is not None:
            check_int("turns", self.turns, low=1)

    @classmethod
    def of(cls, value: object) -> WhatIfPlan:
        """From a :class:`WhatIfPlan` or a mapping ``{change: ..., at_turn: 3,
        turns: 6}``.

        Raises:
            ConfigError: anything else, or a key that is not one of those.
        """
        if isinstance(value, WhatIfPlan):
            return value
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"change", "at_turn", "turns"})
            if not unknown:
                return cls(**{str(key): item for key, item in value.items()})
            raise ConfigError(
                f"a what-if plan takes change, at_turn and turns; got {unknown}"
            )
        raise ConfigError(
            "a what-if plan is a WhatIfPlan or a mapping such as {'change': "
            f"'CEO.goal=Ship in Q3', 'at_turn': 3}}; got {value!r}"
        )


@attrs.frozen(kw_only=True)
class SessionUnit:
    """One session of a batch: its place, its seed and its id."""

    index: int
    seed: int
    session_id: str


@attrs.frozen(kw_only=True)
class SessionRun:
    """A finished session of a batch, as the worker sent it back.

    Attributes:
        session_id: the session's id (load it with :meth:`TeamSession.load`).
        seed: its seed.
        records: the session's record, then one per what-if branch (as the store
            keeps them).
        turns: how many turns it took.
        ending: why it ended (``None`` if a fault stopped it).
        error: the fault that stopped it (a member's model error, or what the worker
            raised), or ``None``; the turns before it are in :attr:`records`.
    """

    session_id: str
    seed: int
    records: tuple[TeamSessionRecord, ...] = ()
    turns: int = 0
    ending: str | None = None
    error: str | None = None

    @property
    def record(self) -> TeamSessionRecord | None:
        """The session's own record (``None`` if it never got one)."""
        return self.records[0] if self.records else None

    @property
    def branches(self) -> tuple[TeamSessionRecord, ...]:
        """The what-if branches' records, in the order the plans were given."""
        return self.records[1:]


@attrs.frozen(kw_only=True)
class SessionWork:
    """What an executor runs for each :class:`SessionUnit`: the team config and the
    what-if plans (plain, picklable data); the session is built inside the worker on
    a store of its own, and only its records come back.

    Attributes:
        config: the team config every session starts from (its seed replaced).
        turns: the turn each session runs to (default: to its end).
        what_ifs: branches to run from each session once it has ended.
    """

    config: TeamConfig
    turns: int | None = None
    what_ifs: tuple[WhatIfPlan, ...] = ()

    async def __call__(self, unit: SessionUnit) -> SessionRun:
        """Run one session (and its what-ifs). A fault is kept on the result; a
        ``ConfigError`` propagates."""
        from clientsim.store import InMemoryStore  # noqa: PLC0415
        from clientsim.teams.session import start  # noqa: PLC0415

        store = InMemoryStore()
        config = attrs.evolve(self.config, seed=unit.seed)
        session = await start(config, store=store, session_id=unit.session_id)
        ids = [unit.session_id]
        failure: str | None = None
        try:
            await session.run(until=self.turns)
            for plan in self.what_ifs:
                comparison = await session.what_if(
                    plan.change, at_turn=plan.at_turn, turns=plan.turns
                )
                ids.append(comparison.branch_id)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - kept on the result, not lost
            failure = f"{type(exc).__name__}: {exc}"
        error = session.result().error
        if failure is None and error is not None:
            failure = f"{error.source}: {error.type}: {error.message}"
        records = [await store.team_session(session_id) for session_id in ids]
        return SessionRun(
            session_id=unit.session_id,
            seed=unit.seed,
            records=tuple(record for record in records if record is not None),
            turns=session.turn,
            ending=None if session.ending is None else session.ending.reason,
            error=failure,
        )


def _config_of(
    scenario: TeamScenario | TeamConfig | str | Path | Mapping[str, Any],
    team: Sequence[str | RoleTemplate | Mapping[str, Any]] | None,
    model: str | None,
    max_turns: int | None,
) -> TeamConfig:
    config = as_team_config(scenario)
    overrides: dict[str, Any] = {}
    if team is not None:
        from clientsim.models import to_dict  # noqa: PLC0415

        overrides["team"] = [
            to_dict(role) if isinstance(role, RoleTemplate) else role for role in team
        ]
    if model is not None:
        overrides["model"] = model
    if max_turns is not None:
        overrides["max_turns"] = max_turns
    return attrs.evolve(config, **overrides) if overrides else config


def _seeds(
    config: TeamConfig, seeds: Sequence[int] | None, sessions: int | None
) -> list[int]:
    if seeds is not None and sessions is not None:
        raise ConfigError(
            "give seeds (one session per seed) or sessions (that many, seeded from "
            "the config's seed up), not both"
        )
    if seeds is None:
        count = 1 if sessions is None else sessions
        check_int("sessions", count, low=1)
        return [config.seed + index for index in range(count)]
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence) or not seeds:
        raise ConfigError(f"seeds must be a non-empty list of ints; got {seeds!r}")
    for seed in seeds:
        check_int("a seed", seed)
    return list(seeds)


async def run_sessions(
    scenario: TeamScenario | TeamConfig | str | Path | Mapping[str, Any],
    *,
    team: Sequence[str | RoleTemplate | Mapping[str, Any]] | None = None,
    seeds: Sequence[int] | None = None,
    sessions: int | None = None,
    turns: int | None = None,
    max_turns: int | None = None,
    what_ifs: Sequence[WhatIfPlan | Mapping[str, Any]] = (),
    model: str | None = None,
    executor: ExecutorArg = None,
    parallel: int | None = None,
    store: SimulationStore | str | Path | None = None,
    batch_id: str | None = None,
) -> list[SessionRun]:
    """Run one team session per seed on an executor, each to its end; every run, in
    seed order.

    Args:
        scenario: a :class:`TeamScenario`, a :class:`TeamConfig`, or a team file (a
            path or its mapping).
        team: the roles (default: the config's team).
        seeds: one session per seed.
        sessions: or this many, seeded from the config's ``seed`` up (default 1).
        turns: the turn each session runs to (default: to its end, at most
            ``max_turns``).
        max_turns: override the config's ``max_turns``.
        what_ifs: branches to run from each session after it ends: :class:`WhatIfPlan`
            s or mappings such as ``{"change": "CEO.goal=Ship in Q3", "at_turn": 2}``.
        model: override the config's model spec (a string: it travels to workers).
        executor: ``"local"`` (default, unless the config names one), ``"ray"``, a
            config such as ``{"strategy": "ray", "workers": 2}``, or an
            :class:`~clientsim.runners.executors.Executor` (yours to close).
        parallel: sessions in flight at once (default: all, at most 16).
        store: where each finished session (and its branches) is saved: a store, a
            path or URL, or ``None`` for ``DATABASE_URL`` when set (else memory).
        batch_id: session ``i`` (from 1) is ``"<batch_id>-<i>"`` (default: a fresh
            ``team-<hex>``).

    Raises:
        ConfigError: a bad argument or config, an unknown executor, or a session or
            what-if that cannot be built (nothing more is started after it).
        DuplicateSimulationError: the store already has one of the session ids.
    """
    config = _config_of(scenario, team, model, max_turns)
    chosen = _seeds(config, seeds, sessions)
    if turns is not None:
        check_int("turns", turns, low=1)
    plans = tuple(WhatIfPlan.of(plan) for plan in what_ifs)
    limit = min(len(chosen), _DEFAULT_PARALLEL) if parallel is None else parallel
    check_int("parallel", limit, low=1)
    if executor is None and config.executor is not None:
        executor = thaw(config.executor)
    check_executor(executor)
    prefix = batch_id or f"team-{secrets.token_hex(4)}"
    units = [
        SessionUnit(index=index, seed=seed, session_id=f"{prefix}-{index + 1}")
        for index, seed in enumerate(chosen)
    ]
    work = SessionWork(config=config, turns=turns, what_ifs=plans)
    runs: dict[int, SessionRun] = {}
    opened, owns = await open_store_for(store)

    async def items() -> AsyncIterator[SessionUnit]:
        for unit in units:
            if await opened.team_session(unit.session_id) is not None:
                raise DuplicateSimulationError(
                    f"the store already has a team session {unit.session_id!r}; "
                    "give another batch_id"
                )
            yield unit

    async def finished(unit: SessionUnit, run: SessionRun) -> None:
        for record in run.records:
            await opened.save_team_session(record)
        runs[unit.index] = run

    try:
        async with executor_for(executor) as running:
            await running.map(work, items(), limit=limit, on_result=finished)
    finally:
        if owns:
            await opened.aclose()
    return [runs[index] for index in sorted(runs)]
