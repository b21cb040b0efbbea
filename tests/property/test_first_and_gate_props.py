"""Invariants of the ``first`` and ``fail_under`` keys, the runners' ``first`` and the
JUnit report's text.

(a) any value of ``first`` / ``fail_under`` in an experiment file either loads (and
    survives ``to_dict`` -> ``from_dict``) or raises one ``ConfigError`` naming the key
    and what is allowed; exactly ``"customer"``/``"agent"`` and numbers in [0, 1] load;
(b) any ``first`` given to ``build_runner`` or a runner is accepted exactly when it is
    one of the two, and refused with the allowed values otherwise;
(c) any text an agent says (control characters and lone surrogates included) gives a
    JUnit file that parses, with the text kept or escaped.
"""

from __future__ import annotations

import math
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim import (
    Conversation,
    ConversationResult,
    Message,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
    ScriptedParticipant,
)
from clientsim.errors import ConfigError
from clientsim.experiments.config import ExperimentConfig
from clientsim.experiments.junit import write_junit_xml
from clientsim.models import ConversationRecord, GridCell, RunStatus
from clientsim.runners.build import build_runner


BASE = {"name": "t", "description": "", "agent": {"system_prompt": "Help."}}
ANY_VALUE = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["customer", "agent", "Agent", " agent", "0.5", "user"])
    | st.lists(st.integers(), max_size=2)
)
OUTCOMES = Outcomes((Outcome("resolved", "done"),))
CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT


@settings(deadline=None, max_examples=200)
@given(value=ANY_VALUE)
def test_first_in_a_file_loads_exactly_the_two_speakers(value):
    if value not in ("customer", "agent"):
        with pytest.raises(
            ConfigError, match=r"first: expected one of 'customer', 'agent'"
        ):
            ExperimentConfig.from_dict({**BASE, "first": value})
        return
    config = ExperimentConfig.from_dict({**BASE, "first": value})
    assert config.first == value
    assert (
        ExperimentConfig.from_dict(config.to_dict(), base_dir=config.base_dir) == config
    )


@settings(deadline=None, max_examples=200)
@given(value=ANY_VALUE | st.floats(0, 1) | st.integers(-1, 2))
def test_fail_under_in_a_file_loads_exactly_the_numbers_from_0_to_1(value):
    fits = value is None or (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 1
    )
    if not fits:
        with pytest.raises(
            ConfigError, match=r"fail_under: expected a number from 0 to 1 or null"
        ):
            ExperimentConfig.from_dict({**BASE, "fail_under": value})
        return
    config = ExperimentConfig.from_dict({**BASE, "fail_under": value})
    assert config.fail_under == (None if value is None else float(value))
    assert (
        ExperimentConfig.from_dict(config.to_dict(), base_dir=config.base_dir) == config
    )


@settings(deadline=None, max_examples=100)
@given(value=ANY_VALUE)
def test_build_runner_takes_exactly_the_two_speakers(value):
    def build():
        return build_runner(
            customer=ScriptedParticipant(CUSTOMER, []),
            agent=ScriptedParticipant(AGENT, []),
            intent=None,
            outcomes=OUTCOMES,
            initial_message=MessageDraft("hi", CUSTOMER),
            first=value,
        )

    if value in ("customer", "agent"):
        assert build().first == value
    else:
        with pytest.raises(ConfigError, match=r"one of 'customer', 'agent'"):
            build()


def escaped(text: str) -> str:
    """What the JUnit file is meant to hold for ``text``: XML 1.0's characters as
    they are (no carriage return), anything else as a ``\\uXXXX`` escape."""
    return "".join(
        ch
        if ch in "\t\n"
        or "\x20" <= ch <= "\ud7ff"
        or "\ue000" <= ch <= "\ufffd"
        or ch >= "\U00010000"
        else f"\\u{ord(ch):04x}"
        for ch in text
    )


@settings(deadline=None, max_examples=150)
@given(said=st.text(min_size=1, max_size=40), suite=st.text(min_size=1, max_size=10))
def test_any_agent_text_gives_a_junit_file_that_parses(said, suite):
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    conversation = Conversation(
        (Message("hi", stamp, CUSTOMER), Message(said, stamp, AGENT))
    )
    record = ConversationRecord(
        run_id="r",
        cell=GridCell(input_id="i", persona_id="p", iteration=0),
        seed=3,
        status=RunStatus.DONE,
        result=ConversationResult(conversation),
    )
    with tempfile.TemporaryDirectory() as folder:
        path = write_junit_xml(
            [record], Path(folder) / "j.xml", suite=suite, pass_outcomes=["resolved"]
        )
        root = ET.parse(path).getroot()  # noqa: S314 - our own file
    case = root.find("testsuite/testcase")
    assert case is not None
    assert case.get("classname") == escaped(suite)
    failure = case.find("failure")
    assert failure is not None
    assert "seed: 3" in failure.text
    assert failure.text.endswith(f"customer: hi\nagent: {escaped(said)}")
