"""Team sessions through the public API: start, next, run, what-if, memory, resume."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from clientsim import (
    ConfigError,
    DuplicateSimulationError,
    InMemoryStore,
    Outcome,
    SQLiteStore,
    teams,
)
from clientsim.llm.offline import OfflineChatModel
from clientsim.teams import TeamScenario, TeamSession, WhatIfChange


pytestmark = pytest.mark.anyio

SCENARIO = TeamScenario(
    title="Mobile app v2 launch",
    brief="Version 2 is feature-complete; QA has 14 open crash bugs.",
    decision="Should we launch v2 on March 1?",
    parameters={"launch_date": "March 1", "budget": 250000},
)
TEAM = ["CEO", "Product Manager", "Engineering Lead", "Designer"]


def lines(session: TeamSession) -> list[tuple[str, str]]:
    return [
        (m.speaker.name if m.speaker else "", m.content)
        for m in session.transcript.messages
    ]


def remembered(state: Any) -> tuple[Any, ...]:
    """A memory without its timestamps (two sessions start at different times)."""
    window = [(m.speaker, m.content) for m in state.window]
    return state.summary, state.facts, state.summarized, window


class FailingAfter(BaseChatModel):
    """An offline model that raises once it has answered ``limit`` calls."""

    limit: int = 3
    answered: int = 0

    @property
    def _llm_type(self) -> str:
        return "failing-after"

    def _generate(self, messages: list[BaseMessage], *a: Any, **k: Any) -> ChatResult:
        raise NotImplementedError

    async def _agenerate(
        self, messages: list[BaseMessage], *a: Any, **k: Any
    ) -> ChatResult:
        if self.answered >= self.limit:
            raise ConnectionError("the provider dropped the connection")
        self.answered += 1
        return await OfflineChatModel()._agenerate(messages, *a, **k)


async def test_a_session_takes_turns_and_the_same_seed_gives_the_same_transcript():
    first = await teams.start(SCENARIO, team=TEAM, seed=3)
    second = await teams.start(SCENARIO, team=TEAM, seed=3)
    await first.run(until=8)
    await second.run(until=8)
    assert first.turn == second.turn == 8
    assert lines(first) == lines(second)
    assert first.transcript.messages[0].speaker.name == "Facilitator"
    speakers = {m.speaker.name for m in first.transcript.messages[1:]}
    assert speakers == set(TEAM)
    timestamps = [m.timestamp for m in first.transcript.messages]
    assert timestamps == sorted(timestamps)
    other = await teams.start(SCENARIO, team=TEAM, seed=4)
    await other.run(until=8)
    assert lines(other) != lines(first)


async def test_next_returns_one_turn_with_its_speaker_and_never_the_opening():
    session = await teams.start(SCENARIO, team=["CEO", "Designer"], seed=1)
    first = await session.next()
    assert len(first) == 1
    assert first[0].speaker.name == "CEO"
    assert first[0].speaker.role == "CEO"
    assert session.turn == 1
    assert session.opening == session.transcript.messages[0].content
    second = await session.next()
    assert second[0].speaker.name == "Designer"


async def test_a_session_ends_at_max_turns_and_then_next_returns_nothing():
    session = await teams.start(SCENARIO, team=TEAM, seed=2, max_turns=5)
    await session.run()
    assert session.is_complete
    assert session.ending.reason == "max_messages"
    assert session.turn == 5
    assert await session.next() == ()


@pytest.mark.parametrize("policy", ["round_robin", "earliest", "addressed"])
async def test_a_what_if_without_change_repeats_the_original_and_calls_only_after_k(
    policy: str,
):
    session = await teams.start(
        SCENARIO, team=TEAM, seed=5, turn_policy=policy, memory_window=4
    )
    calls_before: dict[int, int] = {}
    for _ in range(12):
        calls_before[session.turn + 1] = session.token_usage.calls
        await session.next()
    comparison = await session.what_if(None, at_turn=7)
    branch = comparison.branch
    assert branch is not None
    assert lines(branch) == lines(session)
    assert comparison.first_difference is None
    assert all(row.same for row in comparison.rows)
    assert [row.turn for row in comparison.rows] == list(range(7, 13))
    # The replayed turns cost nothing: the branch made exactly the calls the
    # original made from turn 7 on (members, memory summaries, none for the analyst).
    assert comparison.model_calls == session.token_usage.calls - calls_before[7]
    for name in TEAM:
        assert branch.memory(name) == session.memory(name)


async def test_a_replay_calls_no_model_for_the_outcome_of_the_replayed_turns(tmp_path):
    """With an LLM outcome evaluator judging every message, a fork and a resumed
    session spend model calls only on the turns after the replay."""
    scenario = TeamScenario(
        title="Pricing",
        decision="Should we cut prices?",
        outcomes=(Outcome(name="unanimous_cut", description="All agree to cut."),),
    )
    async with SQLiteStore(tmp_path / "s.db") as store:
        session = await teams.start(
            scenario, team=TEAM, seed=2, store=store, memory_window=50
        )
        calls_before: dict[int, int] = {}
        for _ in range(8):
            calls_before[session.turn + 1] = session.token_usage.calls
            await session.next()
        # A member's call and the evaluator's every turn; the evaluator's on the
        # opening too.
        assert session.token_usage.calls == 8 + 9
        comparison = await session.what_if(None, at_turn=5)
        assert comparison.model_calls == session.token_usage.calls - calls_before[5]
        again = await TeamSession.load(session.session_id, store)
        assert again.token_usage.calls == 0
        await again.next()
        assert again.token_usage.calls == 2


async def test_a_what_if_with_a_change_differs_only_from_turn_k_on():
    session = await teams.start(
        SCENARIO, team=[*TEAM, "Simulation Analyst"], seed=5, analyst_every=1
    )
    await session.run(until=12)
    comparison = await session.what_if(
        {"CEO.goal": "Protect the brand: never ship known crash bugs"}, at_turn=5
    )
    branch = comparison.branch
    assert branch.transcript.messages[:5] == session.transcript.messages[:5]
    assert comparison.first_difference is not None
    assert comparison.first_difference >= 5
    assert branch.parent_id == session.session_id
    assert branch.fork_turn == 5
    # The analyses before the fork are the original's; after it, the branch's own.
    assert branch.analyses[:4] == session.analyses[:4]
    assert len(branch.analyses) == len(session.analyses) == 12
    assert comparison.original_analysis == session.analyses[-1]
    text = comparison.render()
    assert "CEO.goal" in text
    assert "≠" in text
    assert "clientsim-what-if" in comparison._repr_html_()


async def test_a_what_if_can_add_and_remove_roles_and_change_the_scenario():
    session = await teams.start(SCENARIO, team=TEAM, seed=6)
    await session.run(until=8)
    comparison = await session.what_if(
        WhatIfChange(
            sets={"scenario.launch_date": "April 15"},
            add=["Support"],
            remove=["Designer"],
        ),
        at_turn=3,
    )
    branch = comparison.branch
    names = [name for name, _ in branch.team]
    assert "Support" in names
    assert "Designer" not in names
    assert branch.scenario.parameters["launch_date"] == "April 15"
    later = {m.speaker.name for m in branch.transcript.messages[3:]}
    assert "Designer" not in later
    assert "Support" in later


@pytest.mark.parametrize(
    ("change", "at_turn", "words"),
    [
        (None, 0, "from 1 to 4"),
        (None, 9, "from 1 to 4"),
        ({"Legal.goal": "x"}, 2, "'Legal', who is not in the team"),
        ({"CEO.salary": "x"}, 2, "may set goal, goals"),
        ({"CEO.goals": 3}, 2, "a string or a list of strings"),
        ({"scenario.budget": [1, 2]}, 2, "string, number or boolean"),
        ("CEO.goal", 2, "'target.field=value'"),
        (42, 2, "a what-if change is None"),
    ],
)
async def test_a_bad_what_if_says_what_is_allowed(change, at_turn, words):
    session = await teams.start(SCENARIO, team=TEAM, seed=1)
    await session.run(until=4)
    with pytest.raises(ConfigError, match=words):
        await session.what_if(change, at_turn=at_turn)


async def test_a_session_resumed_after_a_restart_continues_exactly(tmp_path):
    path = tmp_path / "teams.db"
    async with SQLiteStore(path) as store:
        whole = await teams.start(
            SCENARIO, team=TEAM, seed=9, memory_window=3, store=store
        )
        await whole.run(until=14)
    async with SQLiteStore(path) as store:
        part = await teams.start(
            SCENARIO,
            team=TEAM,
            seed=9,
            memory_window=3,
            store=store,
            session_id="resumed",
        )
        await part.run(until=6)
        before = {name: part.memory(name) for name in TEAM}
        assert any(state.summary for state in before.values())  # it overflowed
    async with SQLiteStore(path) as store:  # a new store: a new process, as it were
        again = await TeamSession.load("resumed", store)
        assert again.turn == 6
        assert {name: again.memory(name) for name in TEAM} == before
        await again.run(until=14)
    assert lines(again) == lines(whole)
    for name in TEAM:
        assert remembered(again.memory(name)) == remembered(whole.memory(name))
    stored = await teams.memory("resumed", store=path)
    assert stored == {name: again.memory(name) for name in TEAM}


async def test_a_session_id_already_in_the_store_is_refused_not_overwritten():
    store = InMemoryStore()
    first = await teams.start(SCENARIO, team=TEAM, store=store, session_id="s1")
    await first.run(until=2)
    with pytest.raises(DuplicateSimulationError, match="already has a team session"):
        await teams.start(SCENARIO, team=TEAM, store=store, session_id="s1")
    kept = await TeamSession.load("s1", store)
    assert kept.turn == 2


async def test_the_analyst_writes_an_analysis_after_each_turn_and_on_demand():
    session = await teams.start(
        SCENARIO, team=[*TEAM, "Simulation Analyst"], seed=2, analyst_every=2
    )
    assert "Simulation Analyst" not in {m.name for m in session._runner.members}
    await session.run(until=6)
    assert [a.turn for a in session.analyses] == [2, 4, 6]
    assert set(session.analyses[-1].positions) <= set(TEAM)
    extra = await session.analyse()
    assert extra.turn == 6
    assert session.analyses[-1] == extra
    quiet = await teams.start(SCENARIO, team=TEAM, seed=2)
    await quiet.run(until=3)
    assert quiet.analyses == ()


async def test_a_member_that_fails_ends_the_session_and_keeps_the_turns():
    store = InMemoryStore()
    session = await teams.start(
        SCENARIO,
        team=TEAM,
        seed=1,
        model=FailingAfter(limit=3),
        store=store,
        memory_window=50,
    )
    await session.run()
    assert session.turn == 3
    assert session.ending.reason == "error"
    error = session.result().error
    assert error is not None
    assert "dropped the connection" in error.message
    stored = await TeamSession.load(session.session_id, store)
    assert lines(stored) == lines(session)
    assert stored.is_complete


async def test_a_team_file_sets_the_session_and_arguments_override_it(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text(
        "scenario:\n  title: Pricing\n  brief: Churn doubled.\n"
        "  decision: Should we cut prices?\n"
        "team: [CEO, Sales]\nseed: 4\nmax_turns: 3\n",
        encoding="utf-8",
    )
    session = await teams.start(path)
    await session.run()
    assert session.turn == 3
    assert [name for name, _ in session.team] == ["CEO", "Sales"]
    longer = await teams.start(path, max_turns=5, team=["CEO", "Support"])
    await longer.run()
    assert longer.turn == 5
    assert [name for name, _ in longer.team] == ["CEO", "Support"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("team: [CEO]\n", "scenario"),
        ("scenario: {title: X}\nmax_turns: 0\n", "max_turns"),
        ("scenario: {title: X}\nteam: [Astronaut]\n", "unknown role 'Astronaut'"),
        ("scenario: {title: X}\nbogus: 1\n", "bogus: unknown key"),
        ("scenario: {title: X}\nteam: [Simulation Analyst]\n", "who speaks"),
    ],
)
async def test_a_bad_team_file_names_the_problem(tmp_path, text, words):
    path = tmp_path / "team.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        await teams.start(path)


async def test_a_session_shows_its_speakers_in_a_notebook():
    session = await teams.start(SCENARIO, team=["CEO", "Designer"], seed=1)
    await session.run(until=2)
    html = session._repr_html_()
    assert "CEO" in html
    assert "Designer" in html
    assert "clientsim-team-session" in html
    assert "team=[CEO, Designer]" in repr(session)
