"""The built-in turn policies, the addressing rule and the offline speaker selector."""

from __future__ import annotations

import itertools

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from clientsim import GroupMember, GroupSimulationRunner, LLMParticipant, factory
from clientsim.errors import ConfigError
from clientsim.llm import Turn
from clientsim.llm._offline_select import answer
from clientsim.turns import (
    BUILTINS,
    Addressed,
    Earliest,
    LLMSelector,
    MemberInfo,
    Moderator,
    RoundRobin,
    addressee,
)
from clientsim.turns.llm_selector import selector_prompt
from tests.group_fakes import AGENT, START, Lines


def run(members, policy, **options):
    options.setdefault("initial_message", "What do we do about the launch?")
    options.setdefault("base_timestamp", START)
    return GroupSimulationRunner(members, turn_policy=policy, **options).run()


def order(result):
    return [m.speaker.name for m in result.conversation.messages[1:]]


def test_the_registry_knows_every_built_in_policy():
    assert set(BUILTINS) == {
        "round_robin",
        "earliest",
        "moderator",
        "llm_selector",
        "addressed",
    }
    assert isinstance(factory.build_turn_policy("earliest"), Earliest)
    built = factory.build_turn_policy({"strategy": "moderator", "moderator": "Chair"})
    assert built.moderator == "Chair"
    assert isinstance(factory.build_turn_policy("llm_selector", seed=3), LLMSelector)


# -- round robin -----------------------------------------------------------------------


async def test_round_robin_goes_around_in_order_and_skips_who_passes():
    members = [
        Lines("A", ["a1", "a2"]),
        Lines("B", [None]),
        Lines("C", ["c1", "c2", "c3"]),
    ]
    result = await run(members, RoundRobin())
    assert order(result) == ["A", "C", "A", "C"]
    assert result.ending.reason == "all_passed"


async def test_round_robin_starts_after_a_member_who_opened():
    members = [Lines("A", ["a1"]), Lines("B", ["opening", "b1"]), Lines("C", ["c1"])]
    result = await run(members, "round_robin", initial_speaker="B")
    assert order(result) == ["C", "A", "B"]


# -- earliest --------------------------------------------------------------------------


async def test_earliest_takes_the_earliest_proposal_and_drops_the_rest():
    members = [
        Lines("A", ["a1", "a2"], delay=9),
        Lines("B", ["b1"], delay=2),
        Lines("C", ["c1"], delay=5),
    ]
    result = await run(members, "earliest")
    assert order(result) == ["B", "C", "A"]
    stamps = [m.timestamp for m in result.conversation.messages]
    assert stamps == sorted(stamps)


async def test_earliest_breaks_a_tie_in_favour_of_the_next_after_the_last_speaker():
    members = [Lines(n, [f"{n}1", f"{n}2"], delay=3) for n in ("A", "B", "C")]
    result = await run(members, "earliest", initial_speaker="B", max_messages=5)
    assert order(result) == ["C", "A", "B", "C"]


async def test_earliest_ends_when_everyone_passes():
    result = await run([Lines("A", []), Lines("B", [None])], "earliest")
    assert order(result) == []
    assert result.ending.reason == "all_passed"


# -- moderator -------------------------------------------------------------------------


async def test_the_moderator_speaks_after_everyone_and_hands_the_turn_to_whom_it_names():
    chair = Lines(
        "Chair",
        ["@Cy, your view?", "Designer, and yours?", "Thanks all.", "Anyone else?"],
        role="Facilitator",
    )
    members = [
        chair,
        Lines("Ann", ["ann1", "ann2"], role="Sales"),
        Lines("Bo", ["bo1"], role="Designer"),
        Lines("Cy", ["cy1"], role="Support"),
    ]
    result = await run(members, Moderator(moderator="Chair"), initial_speaker="Host")
    assert order(result) == [
        "Chair",
        "Cy",  # named with @
        "Chair",
        "Bo",  # named by role title
        "Chair",
        "Ann",  # nobody named: the next after the last other speaker who speaks
        "Chair",
        "Ann",
    ]


async def test_a_moderator_who_passes_hands_the_turn_on_in_order():
    members = [Lines("Chair", []), Lines("A", ["a1"]), Lines("B", ["b1"])]
    result = await run(members, {"strategy": "moderator", "moderator": "Chair"})
    assert order(result) == ["A", "B"]


def test_a_blank_moderator_is_refused():
    with pytest.raises(ConfigError, match="moderator"):
        Moderator(moderator=" ")


# -- addressed -------------------------------------------------------------------------


def test_addressee_reads_at_names_names_with_a_comma_or_question_and_roles():
    team = [
        MemberInfo("Ana", "CEO"),
        MemberInfo("Dana", "Designer"),
        MemberInfo("Pat", "Product Manager"),
    ]
    assert addressee("@Dana can you check?", team) == "Dana"
    assert addressee("What do you think, Dana?", team) == "Dana"
    assert addressee("Designer, what do you think?", team) == "Dana"
    assert addressee("@ProductManager over to you", team) == "Pat"
    assert addressee("product manager: your call", team) == "Pat"
    assert addressee("Ana, then Dana, please", team) == "Ana"  # the first named
    assert addressee("Ana, agreed", team, exclude="Ana") is None
    assert addressee("Dana said the design is done.", team) is None
    assert addressee("email me at bob@Dana.com", team) is None


async def test_addressed_hands_the_turn_to_the_member_named_else_falls_back():
    members = [
        Lines("A", ["C, what do you say?", "a2"]),
        Lines("B", ["b1"]),
        Lines("C", ["c1", "c2"]),
    ]
    result = await run(members, Addressed())
    assert order(result) == ["A", "C", "A", "B", "C"]


async def test_addressed_uses_its_fallback_policy():
    members = [Lines(n, [f"{n}1"], delay=d) for n, d in (("A", 5), ("B", 1))]
    result = await run(members, {"strategy": "addressed", "fallback": "earliest"})
    assert order(result) == ["B", "A"]


def test_addressed_cannot_fall_back_on_itself():
    with pytest.raises(ConfigError, match="not addressed itself"):
        Addressed(fallback="addressed")


def test_addressed_checks_its_fallback_moderator_against_the_group():
    with pytest.raises(ConfigError, match="'Zed' is not a member"):
        GroupSimulationRunner(
            [Lines("A", []), Lines("B", [])],
            turn_policy=Addressed({"strategy": "moderator", "moderator": "Zed"}),
        )


# -- llm selector ----------------------------------------------------------------------


TEAM = [
    MemberInfo("Ana", "CEO", "decides strategy, budget and the launch date"),
    MemberInfo("Dana", "Designer", "owns the user interface, usability and visuals"),
    MemberInfo("Sam", "Support", "answers customer tickets and complaints"),
]


def _select(last_speaker, text):
    from clientsim import Message, Speaker

    transcript = [Message(text, START, AGENT, speaker=Speaker(last_speaker))]
    candidates = [m for m in TEAM if m.name != last_speaker]
    system, user = selector_prompt(candidates, transcript)
    return answer("next_speaker", [Turn("system", system), Turn("user", user)], 0)


def test_the_offline_selector_picks_whom_the_message_addresses():
    assert _select("Ana", "Sam, how many tickets came in?")["speaker"] == "Sam"


def test_the_offline_selector_picks_the_best_fitting_role_else_the_first():
    picked = _select("Ana", "The usability of the new interface worries me.")
    assert picked["speaker"] == "Dana"
    assert picked["reason"]
    assert _select("Sam", "Hello.")["speaker"] == "Ana"


def test_the_selector_prompt_lists_the_candidates_and_the_last_message():
    from clientsim import Message, Speaker

    system, user = selector_prompt(
        TEAM[:2], [Message("Go?", START, AGENT, speaker=Speaker("Sam", "Support"))]
    )
    assert "- Ana | CEO | decides strategy" in system
    assert "Sam (Support): Go?" in user
    assert user.endswith("Last message, from Sam:\nGo?")


async def test_llm_selector_runs_offline_never_picks_the_last_speaker_and_counts_usage():
    members = [
        GroupMember(
            "Ana",
            Lines("Ana", ["Sam, numbers?", "ok"]),
            role="CEO",
            description=TEAM[0].description,
        ),
        GroupMember(
            "Dana",
            Lines("Dana", ["The interface is ready."]),
            role="Designer",
            description=TEAM[1].description,
        ),
        GroupMember(
            "Sam",
            Lines("Sam", ["Forty tickets."]),
            role="Support",
            description=TEAM[2].description,
        ),
    ]
    selector = LLMSelector()
    result = await run(members, selector, initial_speaker="Host")
    names = order(result)
    assert names[:2] == ["Ana", "Sam"]
    assert all(a != b for a, b in itertools.pairwise(names))
    assert selector.token_usage.calls > 0
    assert result.token_usage.judge.calls == selector.token_usage.calls


async def test_a_selector_answer_that_names_no_candidate_fails_the_run():
    model = GenericFakeChatModel(messages=iter([]))
    selector = LLMSelector(model=model)
    members = [Lines("A", ["a1"]), Lines("B", ["b1"]), Lines("C", ["c1"])]
    result = await run(members, selector)
    assert result.error.source == "turn_policy"


async def test_llm_selector_with_llm_members_is_reproducible():
    def members():
        return [
            GroupMember(n, LLMParticipant(AGENT, "offline", seed=i), role=r)
            for i, (n, r) in enumerate((("Ana", "CEO"), ("Bo", "Sales"), ("Cy", "Ops")))
        ]

    first = await run(members(), "llm_selector", seed=5, max_messages=6)
    second = await run(members(), "llm_selector", seed=5, max_messages=6)
    assert first.conversation == second.conversation
