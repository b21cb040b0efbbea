"""Invariants of the offline criteria rules and of the ``criteria`` config key.

(a) negating a criterion the rules understand flips its verdict, on any transcript;
(b) the verdicts depend only on the criteria and the messages: the same on every
    call, for every seed, and the same through the offline model's prompt as direct;
(c) the transcript layout the judges see reads back to the same messages;
(d) the ``criteria:`` key of an experiment file loads any list of one-line, distinct,
    non-blank strings (and round-trips), and refuses anything else with a
    ``ConfigError`` naming the key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim import CriteriaJudge
from clientsim.errors import ConfigError
from clientsim.evaluation.offline_criteria import (
    CANNOT_JUDGE,
    judge_offline,
    parse_transcript,
    transcript_block,
)
from clientsim.experiments.config import ExperimentConfig
from clientsim.models import Conversation, Message, ParticipantRole


SETTINGS = settings(deadline=None, max_examples=150)

# Affirmative criteria the rules understand, and negated phrasings of each.
AFFIRMATIVE = [
    "the agent apologises",
    "the agent greets the customer",
    "the agent thanks the customer",
    "the agent says goodbye",
    "the agent transfers the customer",
    "the agent asks a question",
    "the agent asks for the order number",
    "the agent promises a refund",
    "the agent issues a refund",
    "the agent mentions the tracking link",
    "the customer thanks the agent",
    'the agent says "all set"',
]
NEGATIONS = [
    ("the agent ", "the agent does not "),
    ("the agent ", "the agent never "),
    ("the customer ", "the customer doesn't "),
]
LINES = st.sampled_from(
    [
        "Sorry about that!",
        "Hello, welcome to support.",
        "Thanks for waiting.",
        "Goodbye, have a nice day.",
        "Let me transfer you to a specialist.",
        "What is your order number?",
        "I have issued your refund.",
        "I cannot promise a refund.",
        "Here is the tracking link.",
        "You are all set.",
        "Okay.",
        "My order 4417 is late",
        "thank you!",
    ]
) | st.text(max_size=40)
MESSAGES = st.lists(
    st.tuples(st.sampled_from(["customer", "agent"]), LINES), max_size=8
)


def _negated(criterion: str, form: int) -> str | None:
    before, after = NEGATIONS[form]
    if not criterion.startswith(before):
        return None
    verb_phrase = criterion[len(before) :]
    words = verb_phrase.split(" ", 1)
    base = {
        "apologises": "apologise",
        "greets": "greet",
        "thanks": "thank",
        "says": "say",
        "transfers": "transfer",
        "asks": "ask",
        "promises": "promise",
        "issues": "issue",
        "mentions": "mention",
    }[words[0]]
    if after.endswith("never "):
        base = words[0]
    return after + " ".join([base, *words[1:]])


@SETTINGS
@given(
    criterion=st.sampled_from(AFFIRMATIVE),
    form=st.integers(0, len(NEGATIONS) - 1),
    messages=MESSAGES,
)
def test_negation_flips_the_verdict(criterion, form, messages):
    negated = _negated(criterion, form)
    if negated is None:
        return
    (plain,) = judge_offline([criterion], messages)
    (opposite,) = judge_offline([negated], messages)
    assert not plain.reason.startswith(CANNOT_JUDGE)
    assert opposite.passed is not plain.passed
    assert opposite.messages == plain.messages


@SETTINGS
@given(messages=MESSAGES)
def test_a_double_negation_does_not_flip(messages):
    (plain,) = judge_offline(["the agent apologises"], messages)
    (double,) = judge_offline(["the agent never fails to apologise"], messages)
    assert double.passed is plain.passed


@SETTINGS
@given(
    criteria=st.lists(
        st.sampled_from([*AFFIRMATIVE, "the agent is kind"]), min_size=1, unique=True
    ),
    messages=MESSAGES,
    seed=st.integers(0, 2**31),
)
def test_verdicts_are_deterministic_across_calls_seeds_and_the_model_path(
    criteria, messages, seed
):
    direct = judge_offline(criteria, messages)
    assert judge_offline(criteria, messages) == direct
    start = datetime(2026, 1, 1, tzinfo=UTC)
    conversation = Conversation(
        tuple(
            Message(text, start + timedelta(seconds=i), ParticipantRole(role))
            for i, (role, text) in enumerate(messages)
        )
    )
    through_model = anyio.run(CriteriaJudge(criteria, seed=seed).judge, conversation)
    assert through_model.verdicts == direct
    for verdict in direct:
        assert all(0 <= index < len(messages) for index in verdict.messages)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["customer", "agent"]),
            st.text(st.characters(blacklist_characters="\r", codec="utf-8")),
        ),
        max_size=6,
    )
)
def test_the_transcript_layout_reads_back(messages):
    assert parse_transcript(transcript_block(messages)) == messages


# ----- the criteria: key ----------------------------------------------------------------

ONE_LINE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    min_size=1,
    max_size=30,
).filter(lambda text: text.strip())


def _config(criteria: object) -> ExperimentConfig:
    return ExperimentConfig.from_dict(
        {
            "name": "t",
            "description": "",
            "agent": {"system_prompt": "Help."},
            "criteria": criteria,
        }
    )


@SETTINGS
@given(st.lists(ONE_LINE, unique=True, max_size=5))
def test_valid_criteria_load_and_round_trip(criteria):
    config = _config(criteria)
    assert config.criteria == tuple(criteria)
    again = ExperimentConfig.from_dict(config.to_dict(), base_dir=config.base_dir)
    assert again == config


@SETTINGS
@given(
    good=st.lists(ONE_LINE, unique=True, max_size=3),
    bad=st.sampled_from(["", "   ", "two\nlines", 3, None, ["nested"]]),
    at=st.integers(0, 3),
)
def test_a_bad_criterion_names_its_index(good, bad, at):
    items: list[object] = list(good)
    index = min(at, len(items))
    items.insert(index, bad)
    with pytest.raises(ConfigError, match=rf"criteria\[{index}\]"):
        _config(items)


@pytest.mark.parametrize("value", ["the agent apologises", {"a": 1}, 7])
def test_criteria_must_be_a_list(value):
    with pytest.raises(ConfigError, match="criteria: expected a list"):
        _config(value)
