"""A team session (seed 001): a team of roles discussing a scenario, turn by turn.

The seed's operations, as Python: :func:`start` (``POST /simulate/start``),
:meth:`TeamSession.next` (``/simulate/next``), :meth:`TeamSession.what_if`
(``/simulate/what-if``), :func:`~clientsim.teams.roles` (``/agents/list``) and
:func:`memory` (``/memory/{sessionId}``). A session is kept in the run store after every
turn (as one JSON document, :meth:`TeamSession.to_data`), so :meth:`TeamSession.load` resumes it in
another process exactly where it stopped.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from clientsim import factory
from clientsim.errors import ConfigError, DuplicateSimulationError
from clientsim.models import (
    Conversation,
    ConversationResult,
    Ending,
    MemoryState,
    Message,
    Outcomes,
    RoleTemplate,
    SessionAnalysis,
    TokenUsage,
)
from clientsim.models.frozen import thaw
from clientsim.runners.group import GroupMember, GroupSimulationRunner
from clientsim.store.base import SimulationStore
from clientsim.teams import _record
from clientsim.teams._build import (
    ReplayedOutcome,
    evaluator_of,
    open_store_for,
    policy_of,
    seeded,
    team_of,
)
from clientsim.teams.analyst import SimulationAnalyst
from clientsim.teams.memory import MemoryManager
from clientsim.teams.participant import RoleParticipant
from clientsim.teams.scenario import (
    TeamConfig,
    TeamScenario,
    as_team_config,
)
from clientsim.teams.whatif import WhatIfChange, WhatIfComparison, compare
from clientsim.turns.base import MemberInfo


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["ANALYST_KEY", "TeamSession", "memory", "start"]

ANALYST_KEY = "simulation_analyst"
"""The role key of the Simulation Analyst: in a team it analyses instead of speaking."""
FACILITATOR = "Facilitator"
"""Who opens a session with the scenario (not a member)."""

Until = int | Callable[["TeamSession"], bool] | None


class TeamSession:
    """A running team discussion. Build one with :func:`start` or :meth:`load`.

    Every turn is saved to the session's store as it finishes, so a fault (a model
    error, a killed process) loses no finished turn.

    Attributes:
        session_id: the session's id.
        config: the scenario, team and options it runs with.
        parent_id: the session it was forked from by a what-if, if any.
        fork_turn: the turn the fork started to differ from, if it is a fork.
    """

    def __init__(
        self,
        config: TeamConfig,
        members: Sequence[tuple[str, RoleTemplate]],
        *,
        store: SimulationStore,
        session_id: str | None = None,
        parent_id: str | None = None,
        fork_turn: int | None = None,
        change: WhatIfChange | None = None,
        history: Sequence[Message] = (),
        analyses: Sequence[SessionAnalysis] = (),
        memories: Sequence[_record.MemorySnapshot] = (),
        started_at: datetime | None = None,
        model: str | BaseChatModel | None = None,
        owns_store: bool = False,
        reached: tuple[str, int] | None = None,
    ) -> None:
        self.config = config
        self.session_id = session_id or f"team-{secrets.token_hex(6)}"
        self.parent_id = parent_id
        self.fork_turn = fork_turn
        self.change = change or WhatIfChange()
        self.started_at = started_at or datetime.now(UTC)
        self._store = store
        self._owns_store = owns_store
        self._members = list(members)
        self._model = seeded(model if model is not None else config.model, config.seed)
        self._analyses = list(analyses)
        self._memories = list(memories)
        self._ending: Ending | None = None
        self._outcomes = _outcomes(config, self._model, len(history), reached)
        speakers = [(n, r) for n, r in self._members if r.key != ANALYST_KEY]
        if not speakers:
            raise ConfigError(
                "a team needs at least one member who speaks (the Simulation Analyst "
                "only analyses)"
            )
        analysts = [r for _, r in self._members if r.key == ANALYST_KEY]
        self.analyst = (
            SimulationAnalyst(analysts[0].model or self._model) if analysts else None
        )
        infos = tuple(
            MemberInfo(name, template.name, template.description)
            for name, template in speakers
        )
        self.memories: dict[str, MemoryManager] = {}
        group: list[GroupMember] = []
        for name, template in speakers:
            manager = MemoryManager(
                window=config.memory_window, model=template.model or self._model
            )
            self.memories[name] = manager
            participant = RoleParticipant(
                template,
                template.model or self._model,
                name=name,
                scenario=config.scenario.text(),
                team=infos,
                seed=config.seed,
                memory=manager,
            )
            group.append(
                GroupMember(name, participant, template.name, template.description)
            )
        self._restore_memories(len(history))
        self._runner = GroupSimulationRunner(
            group,
            turn_policy=policy_of(config.turn_policy, self._model),
            initial_message=history[0].content
            if history
            else config.scenario.opening_message(),
            initial_speaker=FACILITATOR,
            outcomes=Outcomes(config.scenario.outcomes),
            max_messages=config.max_turns + 1,
            base_timestamp=self.started_at,
            outcome_evaluator=self._outcomes,
            termination=[
                factory.build_termination(thaw(item)) for item in config.termination
            ]
            or None,
            model=self._model,
            seed=config.seed,
            history=tuple(history),
            conversation_id=self.session_id,
        )

    # ----------------------------------------------------------------- reading

    @property
    def scenario(self) -> TeamScenario:
        """What the team discusses."""
        return self.config.scenario

    @property
    def team(self) -> tuple[tuple[str, RoleTemplate], ...]:
        """The members as ``(name, role)`` pairs, the analyst included."""
        return tuple(self._members)

    @property
    def opening(self) -> str:
        """The discussion's first message (the scenario, as the facilitator puts it)."""
        messages = self.transcript.messages
        return messages[0].content if messages else self.scenario.opening_message()

    @property
    def transcript(self) -> Conversation:
        """Every message so far, the opening first; each carries its speaker."""
        return self._runner.conversation

    @property
    def turn(self) -> int:
        """How many turns have been taken (the opening is not a turn)."""
        return max(0, len(self.transcript.messages) - 1)

    @property
    def analyses(self) -> tuple[SessionAnalysis, ...]:
        """The analyst's analyses, oldest first."""
        return tuple(self._analyses)

    @property
    def ending(self) -> Ending | None:
        """Why the session ended, or ``None`` while it is open."""
        return self._ending

    @property
    def is_complete(self) -> bool:
        """``True`` once the session has ended."""
        return self._ending is not None

    def result(self) -> ConversationResult:
        """The session as a conversation result (transcript, ending, usage, error)."""
        return self._runner.result()

    def memory(self, member: str) -> MemoryState:
        """What ``member`` (a name or a role) remembers now.

        Raises:
            ConfigError: no member has that name or role.
        """
        return self.memories[self._member_name(member)].state

    @property
    def outcome_reached(self) -> tuple[str, int] | None:
        """The outcome reached and how many messages the transcript had then."""
        judged = self._outcomes
        if judged is None or judged.outcome is None or judged.reached_at is None:
            return None
        return judged.outcome.name, judged.reached_at

    @property
    def token_usage(self) -> TokenUsage:
        """Everything spent on model calls: the members (their memories included),
        the turn policy, the outcome evaluator and the analyst."""
        total = self._runner.result().token_usage.total
        if self.analyst is not None:
            total = total + self.analyst.usage
        return total

    def _member_name(self, member: str) -> str:
        from clientsim.models.team import role_key  # noqa: PLC0415

        key = role_key(member)
        for name, template in self._members:
            if name in self.memories and (role_key(name) == key or template.key == key):
                return name
        known = ", ".join(self.memories)
        raise ConfigError(f"no member of this session is {member!r}; members: {known}")

    # ----------------------------------------------------------------- running

    async def next(self) -> tuple[Message, ...]:
        """Run one turn; the new messages (empty once the session has ended).

        A member that fails ends the session with the error recorded on
        :meth:`result`; the turns before it are kept (and saved).
        """
        if self._ending is not None:
            return ()
        opened = bool(self.transcript.messages)
        step = await self._runner.step()
        self._snapshot_memories()
        every = self.config.analyst_every
        if (
            step.messages
            and self.analyst is not None
            and every
            and self.turn % every == 0
        ):
            await self.analyse()
        self._ending = step.ending
        await self.save()
        # The first step records the opening too; it is not a turn.
        return step.messages if opened else step.messages[1:]

    async def run(self, until: Until = None) -> tuple[Message, ...]:
        """Run turns until the session ends, or ``until``: a turn number to reach, or
        ``until(session) -> bool`` checked after every turn. The new messages."""
        if isinstance(until, bool) or not (
            until is None or callable(until) or isinstance(until, int)
        ):
            raise ConfigError(
                f"until must be a turn number, a function of the session, or None; "
                f"got {until!r}"
            )
        new: list[Message] = []
        while self._ending is None:
            if isinstance(until, int) and self.turn >= until:
                break
            new.extend(await self.next())
            if callable(until) and until(self):
                break
        return tuple(new)

    async def analyse(self) -> SessionAnalysis:
        """Ask the Simulation Analyst for an analysis now (one is made if the team has
        none); it is kept with the session."""
        analyst = self.analyst or SimulationAnalyst(self._model)
        analysis = await analyst.analyse(
            self.transcript, turn=self.turn, members=self._runner.members
        )
        self._analyses.append(analysis)
        return analysis

    def _snapshot_memories(self) -> None:
        latest = {snap.member: snap for snap in self._memories}
        for name, manager in self.memories.items():
            state = manager.state
            previous = latest.get(name)
            if previous is None or previous.state != state:
                self._memories.append(_record.MemorySnapshot(self.turn, name, state))

    def _restore_memories(self, replayed: int) -> None:
        """Restore each member's memory as it was after the last replayed turn."""
        if not replayed:
            return
        last_turn = replayed - 1
        for name, manager in self.memories.items():
            states = [
                snap.state
                for snap in self._memories
                if snap.member == name and snap.turn <= last_turn
            ]
            if states:
                manager.restore(states[-1])
        self._memories = [snap for snap in self._memories if snap.turn <= last_turn]

    # ----------------------------------------------------------------- what-if

    async def what_if(
        self,
        change: WhatIfChange | Mapping[str, Any] | str | Sequence[str] | None = None,
        *,
        at_turn: int,
        turns: int | None = None,
    ) -> WhatIfComparison:
        """Fork the session at turn ``at_turn`` with ``change`` made, and compare.

        Turns before ``at_turn`` are replayed from the record without calling any
        model (memories and analyses restored as they were); from ``at_turn`` on the
        branch runs with the same seeds, for as many turns as this session has taken
        (or ``turns``). With no change, the branch repeats this session exactly.

        Raises:
            ConfigError: ``at_turn`` is not a turn this session has taken, or the
                change names something that is not there.
        """
        parsed = WhatIfChange.of(change)
        if isinstance(at_turn, bool) or not isinstance(at_turn, int):
            raise ConfigError(f"at_turn must be an int; got {at_turn!r}")
        if not 1 <= at_turn <= max(1, self.turn):
            raise ConfigError(
                f"at_turn must be a turn this session has taken, from 1 to "
                f"{max(1, self.turn)}; got {at_turn}"
            )
        scenario, members = parsed.apply(
            self.config.scenario, self._members, factory.build_role
        )
        import attrs  # noqa: PLC0415

        config = attrs.evolve(self.config, scenario=scenario)
        kept = self.transcript.messages[:at_turn]  # the opening and turns < at_turn
        reached = self.outcome_reached
        branch = TeamSession(
            config,
            members,
            store=self._store,
            parent_id=self.session_id,
            fork_turn=at_turn,
            change=parsed,
            history=kept,
            analyses=[a for a in self._analyses if a.turn < at_turn],
            memories=self._memories,
            started_at=self.started_at,
            model=self._model,
            reached=reached if reached is not None and reached[1] <= at_turn else None,
        )
        await branch.save()
        await branch.run(until=turns if turns is not None else self.turn)
        return compare(self, branch, at_turn, parsed)

    # ----------------------------------------------------------------- storing

    def to_data(self) -> dict[str, Any]:
        """The session as the store keeps it: one JSON document (config, team,
        transcript, analyses, memories, ending, fork)."""
        data: dict[str, Any] = thaw(_record.to_record(self).document)
        return data

    async def save(self) -> None:
        """Save the session to its store (done after every turn)."""
        await self._store.save_team_session(_record.to_record(self))

    @classmethod
    async def load(
        cls, session_id: str, store: SimulationStore | str | Path | None = None
    ) -> TeamSession:
        """The stored session ``session_id``, ready to continue where it stopped.

        Raises:
            ConfigError: the store has no such session, or its record is unreadable.
        """
        opened, owns = await open_store_for(store)
        record = await opened.team_session(session_id)
        if record is None:
            if owns:
                await opened.aclose()
            raise ConfigError(f"no team session {session_id!r} in the store")
        return _record.from_record(cls, record, opened, owns_store=owns)

    async def aclose(self) -> None:
        """Close the store if the session opened it."""
        if self._owns_store:
            await self._store.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def _repr_html_(self) -> str:
        from clientsim.render.teams import session_html  # noqa: PLC0415

        return session_html(self)

    def __repr__(self) -> str:
        names = ", ".join(name for name, _ in self._members)
        return f"TeamSession({self.session_id!r}, turn={self.turn}, team=[{names}])"


def _outcomes(
    config: TeamConfig,
    model: str | BaseChatModel,
    replayed: int,
    reached: tuple[str, int] | None,
) -> ReplayedOutcome | None:
    """The session's outcome evaluator, answering for the replayed messages from the
    record so that a replay calls no model."""
    evaluator = evaluator_of(config, model)
    if evaluator is None:
        return None
    known = {outcome.name: outcome for outcome in config.scenario.outcomes}
    outcome = known.get(reached[0]) if reached is not None else None
    return ReplayedOutcome(
        evaluator,
        replayed=replayed,
        outcome=outcome,
        reached_at=reached[1] if reached is not None and outcome is not None else None,
    )


async def start(
    scenario: TeamScenario | TeamConfig | str | Path | Mapping[str, Any],
    team: Sequence[str | RoleTemplate | Mapping[str, Any]] | None = None,
    seed: int | None = None,
    *,
    model: str | BaseChatModel | None = None,
    turn_policy: str | Mapping[str, Any] | None = None,
    max_turns: int | None = None,
    memory_window: int | None = None,
    analyst_every: int | None = None,
    store: SimulationStore | str | Path | None = None,
    session_id: str | None = None,
) -> TeamSession:
    """Start a team session (the seed's ``POST /simulate/start``).

    Args:
        scenario: a :class:`TeamScenario`, a team file (path) or its mapping, or a
            :class:`TeamConfig`; a file's settings are the defaults the other
            arguments override.
        team: role names, :class:`~clientsim.models.RoleTemplate` s or role mappings;
            the seed's seven roles by default.
        seed: the same seed gives the same transcript.
        model: the model every member uses unless its role names one (``"offline"``
            by default; a spec such as ``"groq:llama-3.3-70b-versatile"``).
        turn_policy: who speaks next (``round_robin`` by default).
        max_turns: the session ends after this many turns.
        memory_window: messages each member keeps verbatim.
        analyst_every: the analyst writes an analysis every this many turns.
        store: where the session is kept: a store, a path or URL, or ``None`` for
            ``DATABASE_URL`` when it is set (else memory only).
        session_id: the id to use (a fresh one by default); one the store already
            has is refused, never overwritten.

    Raises:
        ConfigError: the scenario, team or an option is not valid.
        DuplicateSimulationError: the store already has a session ``session_id``.

    Example:
        >>> import anyio
        >>> async def main():
        ...     session = await start(TeamScenario(title="Launch", brief="Ship v2?"),
        ...                           team=["CEO", "Engineering Lead"], seed=1)
        ...     await session.run(until=2)
        ...     return session.turn
        >>> anyio.run(main)
        2
    """
    config = as_team_config(scenario)
    overrides: dict[str, Any] = {
        "seed": seed,
        "turn_policy": turn_policy,
        "max_turns": max_turns,
        "memory_window": memory_window,
        "analyst_every": analyst_every,
    }
    if isinstance(model, str):
        overrides["model"] = model
    if team is not None:
        overrides["team"] = team
    import attrs  # noqa: PLC0415

    config = attrs.evolve(
        config, **{key: value for key, value in overrides.items() if value is not None}
    )
    members = team_of(list(config.team))
    opened, owns = await open_store_for(store)
    if session_id is not None and await opened.team_session(session_id) is not None:
        if owns:
            await opened.aclose()
        raise DuplicateSimulationError(
            f"the store already has a team session {session_id!r}; load it with "
            "TeamSession.load (clientsim team next) or start one under another id"
        )
    session = TeamSession(
        config,
        members,
        store=opened,
        session_id=session_id,
        model=model,
        owns_store=owns,
    )
    await session.save()
    return session


async def memory(
    session_id: str, *, store: SimulationStore | str | Path | None = None
) -> dict[str, MemoryState]:
    """What each member of a stored session remembers (the seed's
    ``GET /memory/{sessionId}``), by member name.

    Raises:
        ConfigError: the store has no such session.
    """
    session = await TeamSession.load(session_id, store)
    try:
        return {name: manager.state for name, manager in session.memories.items()}
    finally:
        await session.aclose()
