"""build_* for every built-in name of every family, from config dicts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from clientsim import (
    LLMOutcomeEvaluator,
    LLMParticipant,
    Message,
    ParticipantRole,
    RuleBasedOutcomeEvaluator,
    ScriptedParticipant,
    hookimpl,
)
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.factory import (
    build_outcome_evaluator,
    build_participant,
    build_termination,
    outcome_evaluators,
    participants,
    termination_strategies,
)
from clientsim.models import Conversation
from clientsim.plugins import register_plugin, unregister_plugin
from clientsim.termination import (
    AnyOf,
    ClosingPhrases,
    ConversationComplete,
    Deadline,
    GoalReached,
    MaxMessages,
    OutcomeReached,
    TerminationContext,
)


PARTICIPANT_CONFIGS = {
    "llm": {
        "strategy": "llm",
        "role": "customer",
        "model": "offline",
        "persona": "Sam, a busy nurse",
        "intent": "Reset my password",
        "seed": 3,
    },
    "scripted": {"strategy": "scripted", "role": "agent", "lines": ["Hi", "Bye"]},
    "team_role": {"strategy": "team_role", "role": "Designer", "name": "Dana"},
    "persona": {"strategy": "persona", "persona": {"id": "p1", "name": "Maria"}},
}
TERMINATION_CONFIGS = {
    "max_messages": {"strategy": "max_messages", "max_messages": 5},
    "closing_phrases": {
        "strategy": "closing_phrases",
        "phrases": ["see you"],
        "sender": "customer",
    },
    "outcome_reached": {
        "strategy": "outcome_reached",
        "outcomes": ["resolved"],
        "closing_messages": 1,
    },
    "deadline": {"strategy": "deadline", "seconds": 30},
    "goal_reached": {"strategy": "goal_reached", "model": "offline", "after": "agent"},
    "conversation_complete": {
        "strategy": "conversation_complete",
        "model": "offline",
        "every_n_messages": 2,
    },
    "any_of": {
        "strategy": "any_of",
        "strategies": ["closing_phrases", {"strategy": "deadline", "seconds": 5}],
    },
}
EVALUATOR_CONFIGS = {
    "rules": {"strategy": "rules", "rules": {"resolved": ["fixed", "works now"]}},
    "llm": {"strategy": "llm", "model": "offline", "every_n_messages": 2, "window": 6},
    "criteria": {
        "strategy": "criteria",
        "criteria": ["the agent apologises"],
        "outcome": "resolved",
        "model": "offline",
        "every_n_messages": 2,
    },
}


def _builtin(names: tuple[str, ...]) -> set[str]:
    """Built-in names are bare; third-party ones are namespaced ``dist/name``."""
    return {name for name in names if "/" not in name}


@pytest.mark.parametrize(
    ("registry", "configs"),
    [
        (participants, PARTICIPANT_CONFIGS),
        (termination_strategies, TERMINATION_CONFIGS),
        (outcome_evaluators, EVALUATOR_CONFIGS),
    ],
    ids=["participant", "termination", "outcome_evaluator"],
)
def test_the_tables_below_cover_every_builtin_name(registry, configs):
    assert _builtin(registry.names()) == set(configs)


@pytest.mark.parametrize("name", sorted(PARTICIPANT_CONFIGS))
def test_build_every_builtin_participant(name):
    participant = build_participant(PARTICIPANT_CONFIGS[name])
    assert callable(participant.get_next_message)


def test_built_participants_carry_their_options():
    customer = build_participant(PARTICIPANT_CONFIGS["llm"])
    assert isinstance(customer, LLMParticipant)
    assert customer.role is ParticipantRole.CUSTOMER
    assert customer.intent is not None
    assert customer.intent.description == "Reset my password"
    assert customer.intent.role is ParticipantRole.CUSTOMER
    assert "Sam, a busy nurse" in customer.system_prompt
    agent = build_participant(PARTICIPANT_CONFIGS["scripted"])
    assert isinstance(agent, ScriptedParticipant)
    assert agent.role is ParticipantRole.AGENT
    assert agent.lines == ("Hi", "Bye")


def test_build_participant_takes_context_for_what_a_config_cannot_hold():
    agent = build_participant({"strategy": "scripted", "lines": ["Hi"]}, role="agent")
    assert agent.role is ParticipantRole.AGENT


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("max_messages", MaxMessages),
        ("closing_phrases", ClosingPhrases),
        ("outcome_reached", OutcomeReached),
        ("deadline", Deadline),
        ("goal_reached", GoalReached),
        ("conversation_complete", ConversationComplete),
        ("any_of", AnyOf),
    ],
)
def test_build_every_builtin_termination_strategy(name, cls):
    assert type(build_termination(TERMINATION_CONFIGS[name])) is cls


def test_built_termination_strategies_carry_their_options():
    assert build_termination(TERMINATION_CONFIGS["max_messages"]).max_messages == 5
    phrases = build_termination(TERMINATION_CONFIGS["closing_phrases"])
    assert (phrases.phrases, phrases.sender) == (("see you",), ParticipantRole.CUSTOMER)
    reached = build_termination(TERMINATION_CONFIGS["outcome_reached"])
    assert (reached.outcomes, reached.closing_messages) == (frozenset({"resolved"}), 1)
    assert build_termination(TERMINATION_CONFIGS["deadline"]).seconds == 30.0
    goal = build_termination(TERMINATION_CONFIGS["goal_reached"])
    assert (goal.model, goal.after) == ("offline", ParticipantRole.AGENT)
    any_of = build_termination(TERMINATION_CONFIGS["any_of"])
    assert [type(s) for s in any_of.strategies] == [ClosingPhrases, Deadline]


@pytest.mark.parametrize(
    ("name", "cls"),
    [("rules", RuleBasedOutcomeEvaluator), ("llm", LLMOutcomeEvaluator)],
)
def test_build_every_builtin_outcome_evaluator(name, cls):
    assert type(build_outcome_evaluator(EVALUATOR_CONFIGS[name])) is cls


def test_built_outcome_evaluators_carry_their_options():
    rules = build_outcome_evaluator(EVALUATOR_CONFIGS["rules"])
    assert [r.outcome for r in rules.rules] == ["resolved"]
    assert rules.rules[0].patterns == ("fixed", "works now")
    judge = build_outcome_evaluator(EVALUATOR_CONFIGS["llm"])
    assert (judge.model, judge.every_n_messages, judge.window) == ("offline", 2, 6)


def test_a_bare_name_builds_a_strategy_without_options():
    assert isinstance(build_termination("closing_phrases"), ClosingPhrases)
    assert isinstance(build_outcome_evaluator("llm"), LLMOutcomeEvaluator)


def _context(conversation: Conversation, outcomes) -> TerminationContext:
    return TerminationContext(
        conversation=conversation, intent=None, outcomes=outcomes, elapsed_seconds=0.0
    )


async def test_nested_any_of_builds_and_ends_on_its_innermost_strategy(
    outcomes, base_time
):
    strategy = build_termination(
        {
            "strategy": "any_of",
            "strategies": [
                {
                    "strategy": "any_of",
                    "strategies": [{"strategy": "max_messages", "max_messages": 3}],
                },
                {"strategy": "closing_phrases", "phrases": ["farewell"]},
            ],
        }
    )
    assert isinstance(strategy, AnyOf)
    inner, phrases = strategy.strategies
    assert isinstance(inner, AnyOf)
    assert isinstance(inner.strategies[0], MaxMessages)
    assert isinstance(phrases, ClosingPhrases)

    messages = [
        Message(f"line {i}", base_time + timedelta(seconds=i), role)
        for i, role in enumerate([ParticipantRole.CUSTOMER, ParticipantRole.AGENT] * 2)
    ]
    assert await strategy.check(_context(Conversation(messages[:2]), outcomes)) is None
    ending = await strategy.check(_context(Conversation(messages[:3]), outcomes))
    assert ending is not None
    assert (ending.reason, ending.message_count) == ("max_messages", 3)


def test_a_list_builds_any_of_its_items():
    strategy = build_termination(
        [{"strategy": "max_messages", "max_messages": 9}, "closing_phrases"]
    )
    assert isinstance(strategy, AnyOf)
    assert [type(s) for s in strategy.strategies] == [MaxMessages, ClosingPhrases]


def test_nested_any_of_passes_context_on_like_a_list_does():
    # The docstring says "a list builds any_of its items": both spellings should take
    # the same caller context (here a model that a config file could not hold).
    from_list = build_termination(["goal_reached"], model="offline")
    assert from_list.strategies[0].model == "offline"
    from_any_of = build_termination(
        {"strategy": "any_of", "strategies": ["goal_reached"]}, model="offline"
    )
    assert from_any_of.strategies[0].model == "offline"


def test_context_reaches_the_strategies_of_a_mixed_list_that_take_it():
    # A goal judge needs a model object a config cannot hold; the strategies beside it
    # in the list do not take one and should not make the build fail.
    strategy = build_termination(
        [{"strategy": "max_messages", "max_messages": 20}, "goal_reached"],
        model="offline",
    )
    max_messages, goal = strategy.strategies
    assert max_messages.max_messages == 20
    assert goal.model == "offline"


@pytest.mark.parametrize(
    ("build", "family", "config", "closest"),
    [
        (build_participant, "participant", {"strategy": "scripts"}, "scripted"),
        (build_termination, "termination strategy", "deadlin", "deadline"),
        (build_outcome_evaluator, "outcome evaluator", {"strategy": "rule"}, "rules"),
    ],
)
def test_unknown_names_list_the_family_and_the_closest_match(
    build, family, config, closest
):
    with pytest.raises(UnknownStrategyError) as caught:
        build(config)
    error = caught.value
    assert error.family == family
    assert str(error).startswith(f"unknown {family} ")
    assert str(error).endswith(f"did you mean {closest!r}?")
    assert closest in error.available


def test_an_unknown_name_inside_any_of_is_reported():
    with pytest.raises(
        UnknownStrategyError, match="unknown termination strategy 'dedline'"
    ):
        build_termination(
            {"strategy": "any_of", "strategies": ["closing_phrases", "dedline"]}
        )


BAD_OPTIONS = [
    (
        build_participant,
        {"strategy": "scripted", "role": "manager", "lines": []},
        "role",
    ),
    (build_participant, {"strategy": "scripted", "role": "agent"}, "'lines'"),
    (
        build_participant,
        {"strategy": "scripted", "role": "agent", "lines": [], "x": 1},
        "'x'",
    ),
    (build_participant, {"strategy": "llm", "role": "customer", "intent": 5}, "intent"),
    (
        build_termination,
        {"strategy": "max_messages", "max_messages": 0},
        "max_messages",
    ),
    (build_termination, {"strategy": "max_messages", "max_messages": "5"}, "'5'"),
    (build_termination, {"strategy": "deadline", "seconds": -1}, "seconds"),
    (build_termination, {"strategy": "closing_phrases", "phrases": []}, "phrases"),
    (build_termination, {"strategy": "outcome_reached", "closing_messages": -1}, "-1"),
    (build_termination, {"strategy": "goal_reached"}, "'model'"),
    (
        build_termination,
        {"strategy": "goal_reached", "model": "offline", "every_n_messages": 0},
        "every_n_messages",
    ),
    (
        build_termination,
        {"strategy": "any_of", "strategies": ["deadline"]},
        "'seconds'",
    ),
    (build_outcome_evaluator, {"strategy": "rules", "rules": {}}, "at least one rule"),
    (build_outcome_evaluator, {"strategy": "rules", "rules": {"a": "("}}, "regular"),
    (build_outcome_evaluator, {"strategy": "rules", "rules": {"a": {"p": 1}}}, "'p'"),
    (build_outcome_evaluator, {"strategy": "llm", "window": 0}, "window"),
]


@pytest.mark.parametrize(("build", "config", "named"), BAD_OPTIONS)
def test_bad_options_are_config_errors_naming_what_is_wrong(build, config, named):
    with pytest.raises(ConfigError) as caught:
        build(config)
    assert named in str(caught.value)


class _Returns:
    """A plugin whose factories return the wrong kind of object."""

    @hookimpl
    def clientsim_register_participants(self, register):
        register("test/not-a-participant", object)

    @hookimpl
    def clientsim_register_termination(self, register):
        register("test/not-a-strategy", object)

    @hookimpl
    def clientsim_register_outcome_evaluators(self, register):
        register("test/not-an-evaluator", object)


@pytest.mark.parametrize(
    ("build", "name", "missing"),
    [
        (build_participant, "test/not-a-participant", "get_next_message"),
        (build_termination, "test/not-a-strategy", "check(context)"),
        (build_outcome_evaluator, "test/not-an-evaluator", "evaluate"),
    ],
)
def test_a_factory_returning_the_wrong_kind_is_a_config_error(build, name, missing):
    plugin = _Returns()
    register_plugin(plugin)
    try:
        with pytest.raises(
            ConfigError, match=f"returned object, which has no .*{re.escape(missing)}"
        ):
            build(name)
    finally:
        unregister_plugin(plugin)


def test_model_providers_are_a_family_too(monkeypatch):
    from clientsim.llm import model_providers, resolve_model

    assert _builtin(model_providers.names()) == {"groq", "offline", "openai"}
    assert resolve_model("offline:3").seed == 3
    assert resolve_model("offline") is resolve_model("offline")
    with pytest.raises(UnknownStrategyError, match="did you mean 'offline'"):
        resolve_model("ofline")
    with pytest.raises(ConfigError, match="integer seed"):
        resolve_model("offline:abc")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="needs OPENAI_API_KEY"):
        resolve_model("openai:gpt-4o-mini")
