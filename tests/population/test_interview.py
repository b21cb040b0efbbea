"""Interview mode: a scripted or simulated interviewer, 1:1, with follow-ups."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from pydantic import Field

from clientsim.errors import ConfigError
from clientsim.factory import build_population_mode
from clientsim.models.persona import STUDY_MODERATOR_MARKER
from clientsim.models.survey import Variant
from clientsim.population import Arm, run_mode
from clientsim.population.interview import InterviewMode
from clientsim.store import SQLiteStore
from tests.population.persona_fakes import people


QUESTIONS = [
    {"id": "look_for", "text": "What do you look for in a snack?"},
    {"id": "intent", "text": "How likely are you to try it?", "type": "scale"},
    {
        "id": "where",
        "text": "Where would you buy it?",
        "type": "choice",
        "options": ["Supermarket", "Online", "Corner shop"],
    },
]


class RecordingFake(GenericFakeChatModel):
    """langchain-core's fake chat model, keeping the system prompt of every call."""

    systems: list[str] = Field(default_factory=list)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any):
        self.systems.append(messages[0].content)
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


async def test_a_scripted_interview_asks_in_order_with_follow_ups(tmp_path):
    interview = InterviewMode(QUESTIONS, follow_ups=2)
    crowd = people(12)
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        run = await run_mode(interview, crowd, run_id="i", seed=3, store=store)
        again = await run_mode(interview, crowd, run_id="i", seed=3, store=store)
    assert not run.failed
    assert (again.ran, again.skipped) == (0, 12)
    messages = run.records[0].result.conversation.messages
    # each question, its answer, then two probes and their answers
    assert len(messages) == 3 * (2 + 2 * 2)
    asked = [m.content for m in messages if m.sender.value == "agent"]
    assert asked[0].startswith("Question 1 of 3")
    assert asked[3].startswith("Question 2 of 3")
    assert asked[6].startswith("Question 3 of 3")
    assert asked[1] == "Why do you say that?"
    for response in run.responses:
        assert set(response.answers) == {"look_for", "intent", "where"}
        assert 1 <= response.answers["intent"].value <= 10
        assert response.answers["where"].value in QUESTIONS[2]["options"]
        follow_ups = [e for e in response.events if e["type"] == "follow_up"]
        assert len(follow_ups) == 6
        assert all(e["answer"] for e in follow_ups)
    # the persona's probe answers differ between personas
    said = {r.events[0]["answer"] for r in run.responses}
    assert len(said) >= 3


async def test_a_simulated_interviewer_puts_the_questions_in_its_own_words():
    fake = RecordingFake(
        messages=iter(
            [
                "Hello! To start, what do you look for in a snack?",
                "And how likely would you be to try it, from 1 to 10?",
                "Interesting. Why is that?",
                "Last one: where would you buy it?",
            ]
        )
    )
    interview = InterviewMode(
        QUESTIONS[:1] + QUESTIONS[1:3],
        interviewer="simulated",
        interviewer_model=fake,
        follow_ups=0,
    )
    run = await run_mode(interview, people(1), run_id="sim", seed=1)
    assert not run.failed, run.failed and run.failed[0].error
    messages = run.records[0].result.conversation.messages
    agent = [m.content for m in messages if m.sender.value == "agent"]
    assert agent[0] == "Hello! To start, what do you look for in a snack?"
    assert agent[1] == "And how likely would you be to try it, from 1 to 10?"
    assert len(fake.systems) == 3
    assert all(s.startswith(STUDY_MODERATOR_MARKER) for s in fake.systems)
    assert "Next: ask question 2: How likely are you to try it?" in fake.systems[1]
    # the answers keep their declared types whatever the wording
    (response,) = run.responses
    assert isinstance(response.answers["intent"].value, int)
    assert response.answers["where"].value in QUESTIONS[2]["options"]


async def test_a_simulated_interviewer_probes_with_its_own_follow_ups():
    fake = RecordingFake(messages=iter(["What do you look for?", "Why?"]))
    interview = InterviewMode(
        QUESTIONS[:1], interviewer="simulated", interviewer_model=fake, follow_ups=1
    )
    run = await run_mode(interview, people(1), run_id="probe", seed=1)
    (response,) = run.responses
    (event,) = response.events
    assert event["question"] == "Why?"
    assert "follow-up question" in fake.systems[1]


async def test_the_interview_shows_the_variant_first():
    variant = Variant(name="eco", content="Our wrappers are now plastic-free.")
    run = await run_mode(
        InterviewMode(QUESTIONS[:1]),
        [Arm(name="eco", personas=people(2), variant=variant)],
        run_id="v",
        seed=1,
    )
    first = run.records[0].result.conversation.messages[0].content
    assert "plastic-free" in first
    assert run.responses[0].events[0]["type"] == "exposure"


def test_interview_config_errors():
    with pytest.raises(ConfigError, match="interviewer"):
        InterviewMode(QUESTIONS, interviewer="robot")
    with pytest.raises(ConfigError, match="follow_ups"):
        InterviewMode(QUESTIONS, follow_ups=9)
    with pytest.raises(ConfigError, match="optoins"):
        InterviewMode([{"id": "q", "text": "?", "optoins": ["a", "b"]}])


def test_the_interview_is_registered():
    mode = build_population_mode(
        {"strategy": "interview", "questions": QUESTIONS, "follow_ups": 1}
    )
    assert isinstance(mode, InterviewMode)
    assert mode.follow_ups == 1
