"""Focus groups through run_mode: groups, rounds, speakers, seeds, resume, limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.errors import ConfigError
from clientsim.factory import build_population_mode
from clientsim.models import RunStatus
from clientsim.models.persona import Persona
from clientsim.models.survey import Question, Variant
from clientsim.population import Arm, FocusGroupMode, group_sizes, run_mode
from clientsim.store import SQLiteStore
from tests.population.persona_model import PersonaEcho


START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NAMES = ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo"]
QUESTIONS = [
    "What would make you try it?",
    Question(
        id="price", text="On a scale of 1 to 10, how fair is $60 a week?", type="scale"
    ),
]


def personas(names=NAMES, prefix="p"):
    return [
        Persona(id=f"{prefix}{i}", name=name, segment="young" if i % 2 else "older")
        for i, name in enumerate(names)
    ]


def mode(**options):
    options.setdefault("questions", QUESTIONS)
    options.setdefault("group_size", 5)
    options.setdefault("model", PersonaEcho())
    options.setdefault("start", START)
    return FocusGroupMode("a meal-kit subscription", **options)


def rounds_of(messages):
    """The messages of each round, by the moderator's public messages."""
    rounds = []
    for message in messages:
        if message.speaker.name == "Moderator" and message.audience is None:
            rounds.append([])
        else:
            rounds[-1].append(message)
    return rounds


def shape(run):
    return [
        (
            record.cell.key,
            [
                (m.speaker.name, m.content, m.timestamp, m.audience)
                for m in record.result.conversation.messages
            ],
        )
        for record in sorted(run.records, key=lambda r: r.cell.key)
    ]


async def test_two_groups_run_in_rounds_and_are_stored(tmp_path):
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        run = await run_mode(mode(), personas(), run_id="fg", seed=7, store=store)
        stored = await store.conversations("fg")
    assert run.mode == "focus_group"
    assert run.ran == 2
    assert run.skipped == 0
    assert len(stored) == 2
    assert sorted(r.cell.persona_id for r in run.records) == ["group-01", "group-02"]
    for record in run.records:
        assert record.status is RunStatus.DONE
        messages = record.result.conversation.messages
        assert all(m.speaker is not None for m in messages)
        members = {m.speaker.name for m in messages} - {"Moderator"}
        assert len(members) == 5
        rounds = rounds_of(messages)
        assert len(rounds) == 4  # three rounds, then the closing
        for said in rounds[:3]:
            assert sorted(m.speaker.name for m in said) == sorted(members)
        assert rounds[3] == []
        assert messages[0].content.startswith("Welcome, everyone")
        assert "meal-kit subscription" in messages[0].content
        assert "What would make you try it?" in messages[0].content
    responses = run.responses
    assert sorted(r.persona_id for r in responses) == [f"p{i}" for i in range(10)]
    for response in responses:
        assert set(response.answers) == {"q1", "price", "round_3"}
        assert response.answers["q1"].text.startswith(
            NAMES[int(response.persona_id[1:])]
        )
        assert response.fields["messages"] == 3
        assert response.fields["final_stance"] in (
            "positive",
            "negative",
            "mixed",
            "neutral",
        )
        assert response.segment in ("young", "older")
        price = response.answers["price"].value
        assert price is None or 1 <= price <= 10


async def test_the_moderator_follows_up_by_name_after_the_questions():
    run = await run_mode(mode(), personas()[:5], run_id="fg", seed=1)
    (record,) = run.records
    follow_up = rounds_of_moderator(record.result.conversation.messages)[2]
    assert follow_up.startswith("Ana, you said")
    assert "Could you tell us more?" in follow_up


def rounds_of_moderator(messages):
    return [m.content for m in messages if m.speaker.name == "Moderator"]


async def test_the_same_seed_gives_the_same_transcripts_and_another_seed_others():
    first = await run_mode(mode(), personas(), run_id="a", seed=5)
    again = await run_mode(mode(), personas(), run_id="b", seed=5)
    other = await run_mode(mode(), personas(), run_id="c", seed=6)
    assert shape(first) == shape(again)
    assert shape(first) != shape(other)


async def test_a_resumed_run_skips_the_groups_already_stored(tmp_path):
    arm_a = Arm(name="a", personas=personas()[:5])
    arm_b = Arm(name="b", personas=personas()[5:])
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        first = await run_mode(mode(), [arm_a], run_id="fg", seed=2, store=store)
        resumed = await run_mode(
            mode(), [arm_a, arm_b], run_id="fg", seed=2, store=store
        )
        again = await run_mode(mode(), [arm_a, arm_b], run_id="fg", seed=2, store=store)
    assert (first.ran, first.skipped) == (1, 0)
    assert (resumed.ran, resumed.skipped) == (1, 1)
    assert (again.ran, again.skipped) == (0, 2)
    assert [r.cell.key for r in again.records] == ["a/group-01/0", "b/group-01/0"]
    assert len(again.responses) == 10  # no persona asked twice
    assert len({r.persona_id for r in again.responses}) == 10


async def test_without_cross_talk_members_see_only_the_moderator_and_themselves(
    tmp_path,
):
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        await run_mode(
            mode(broadcast_if_no_target=False),
            personas()[:5],
            run_id="fg",
            seed=3,
            store=store,
        )
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:  # read back afresh
        (record,) = await store.conversations("fg")
    for message in record.result.conversation.messages:
        if message.speaker.name == "Moderator":
            assert message.audience is None
            continue
        assert message.audience == ("Moderator",)
        # the persona model quotes the last message it was shown: the moderator's
        assert "(re: Moderator:" in message.content
    open_run = await run_mode(mode(), personas()[:5], run_id="fg", seed=3)
    replies = [
        m.content
        for m in open_run.records[0].result.conversation.messages
        if m.speaker.name != "Moderator"
    ]
    assert (
        sum("(re: Moderator:" in text for text in replies) == 3
    )  # the first of each round


async def test_a_simulated_moderator_on_the_offline_model_leads_the_rounds():
    run = await run_mode(
        mode(moderator="simulated", moderator_model="offline"),
        personas()[:6],
        run_id="fg",
        seed=4,
    )
    (record,) = run.records
    said = rounds_of_moderator(record.result.conversation.messages)
    assert len(said) == 4
    assert "meal-kit subscription" in said[0]
    assert "What would make you try it?" in said[0]
    assert "how fair is $60 a week?" in said[1]
    assert any(name in said[2] for name in NAMES[:6])
    assert "Thank" in said[3] or "thank" in said[3]
    assert len(run.responses) == 6


async def test_an_arm_variant_is_shown_in_the_opening_and_recorded():
    arm = Arm(
        name="box",
        personas=personas()[:5],
        variant=Variant(name="box", content="A weekly box of five meals."),
    )
    run = await run_mode(mode(), [arm], run_id="fg", seed=0)
    opening = run.records[0].result.conversation.messages[0].content
    assert "A weekly box of five meals." in opening
    assert {r.variant for r in run.responses} == {"box"}


@pytest.mark.parametrize("size", [4, 13, 0, -1])
def test_a_group_size_outside_5_to_12_is_refused(size):
    with pytest.raises(ConfigError, match="from 5 to 12"):
        FocusGroupMode("x", group_size=size)


def test_bad_settings_are_refused_with_what_is_allowed():
    with pytest.raises(ConfigError, match="moderator must be one of"):
        FocusGroupMode("x", moderator="robot")
    with pytest.raises(ConfigError, match="at least the number of questions"):
        FocusGroupMode("x", questions=["a", "b", "c"], rounds=2)
    with pytest.raises(ConfigError, match="topic"):
        FocusGroupMode("  ")
    with pytest.raises(ConfigError, match="question ids must be distinct"):
        FocusGroupMode(
            "x", questions=[Question(id="a", text="1"), Question(id="a", text="2")]
        )


async def test_an_arm_of_fewer_than_5_personas_is_refused():
    with pytest.raises(ConfigError, match="5 to 12 personas; arm 'all' has 4"):
        await run_mode(mode(), personas()[:4], run_id="fg")


def test_the_mode_is_registered_and_built_from_config():
    built = build_population_mode(
        {
            "strategy": "focus_group",
            "topic": "coffee",
            "questions": ["Why?", {"id": "n", "text": "Rate it", "type": "scale"}],
            "group_size": 6,
        }
    )
    assert isinstance(built, FocusGroupMode)
    assert built.round_ids == ("q1", "n", "round_3")


@settings(max_examples=200, deadline=None)
@given(count=st.integers(5, 400), size=st.integers(5, 12))
def test_groups_always_seat_5_to_12_and_everyone(count, size):
    sizes = group_sizes(count, size)
    assert sum(sizes) == count
    assert all(5 <= s <= 12 for s in sizes)
    assert max(sizes) - size <= 4 or len(set(sizes)) <= 2


@settings(max_examples=50, deadline=None)
@given(size=st.integers(-5, 30))
def test_group_size_is_accepted_exactly_from_5_to_12(size):
    if 5 <= size <= 12:
        assert FocusGroupMode("x", group_size=size).group_size == size
    else:
        with pytest.raises(ConfigError, match="5 to 12"):
            FocusGroupMode("x", group_size=size)


async def test_fully_offline_with_the_offline_persona_model():
    # The personas' offline replies come with the persona participant's own change.
    pytest.importorskip("clientsim.llm._offline_persona")
    offline = FocusGroupMode(
        "a meal-kit subscription",
        questions=QUESTIONS,
        group_size=5,
        moderator="simulated",
        start=START,
    )
    first = await run_mode(offline, personas(), run_id="a", seed=9)
    again = await run_mode(offline, personas(), run_id="b", seed=9)
    assert shape(first) == shape(again)
    for record in first.records:
        members = {m.speaker.name for m in record.result.conversation.messages}
        for said in rounds_of(record.result.conversation.messages)[:3]:
            assert sorted(m.speaker.name for m in said) == sorted(
                members - {"Moderator"}
            )
