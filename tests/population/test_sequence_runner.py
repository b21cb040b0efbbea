"""The journey runner on its own: the Runner contract, progress, failures by side."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clientsim.errors import ConfigError
from clientsim.models import DEFAULT_TIMEOUTS
from clientsim.models.persona import Persona
from clientsim.models.survey import Touchpoint
from clientsim.population import SequenceMode, Trigger, run_mode
from clientsim.population._journey import JourneyRunner
from clientsim.runners.base import Runner
from tests.population.journey_fakes import JourneyModel


PERSONA = Persona(id="p1", name="Dana")
START = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
POINTS = (
    Touchpoint(day=0, content="Welcome!"),
    Touchpoint(day=0.5, content="Lunch idea: our salad box.", channel="push"),
    Touchpoint(day=2, content="A reminder: your cart."),
)


def runner(**options) -> JourneyRunner:
    model = JourneyModel()
    return JourneyRunner(
        PERSONA,
        POINTS,
        model=model,
        judge=model,
        questions={},
        start=START,
        timeouts=DEFAULT_TIMEOUTS,
        **options,
    )


async def test_the_runner_keeps_the_runner_contract():
    journey = runner()
    assert isinstance(journey, Runner)
    assert not journey.is_complete
    before = journey.get_progress()
    assert before["message_count"] == 0
    assert before["touchpoints_done"] == 0
    result = await journey.run()
    assert journey.is_complete
    assert journey.conversation is result.conversation
    progress = journey.get_progress()
    assert progress["is_complete"] is True
    assert progress["touchpoints_done"] == progress["touchpoints"] == 3
    assert progress["simulated_time"] == "2026-06-03T07:00:00+00:00"
    assert progress["message_count"] == 6
    # day 0.5 is twelve hours after the start
    stamps = [m.timestamp.isoformat() for m in result.conversation.messages[::2]]
    assert stamps == [
        "2026-06-01T07:00:00+00:00",
        "2026-06-01T19:00:00+00:00",
        "2026-06-03T07:00:00+00:00",
    ]
    with pytest.raises(ConfigError, match="single-use"):
        await journey.run()


async def test_touchpoints_on_the_same_day_follow_each_other():
    model = JourneyModel()
    same_day = (
        Touchpoint(day=1, content="Welcome!"),
        Touchpoint(day=1, content="And a reminder."),
    )
    journey = JourneyRunner(
        PERSONA,
        same_day,
        model=model,
        judge=model,
        questions={},
        start=START,
        timeouts=DEFAULT_TIMEOUTS,
    )
    result = await journey.run()
    stamps = [m.timestamp for m in result.conversation.messages]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


class BrokenJudge(JourneyModel):
    def structured(self, title, parameters):
        raise RuntimeError(f"judge down ({title})")


async def test_a_failing_judge_is_blamed_on_the_judge():
    mode = SequenceMode(
        POINTS,
        model=JourneyModel(),
        judge=BrokenJudge(),
        triggers=[{"name": "t", "when": "the persona sounds frustrated", "send": "Hi"}],
    )
    run = await run_mode(mode, [PERSONA], run_id="broken-judge", max_retries=0)
    [record] = run.failed
    assert record.error.source == "evaluator"
    assert "precondition_check" in record.error.message
    assert record.result.ending.reason == "error"
    assert len(record.result.conversation.messages) == 2  # kept up to the failure


async def test_the_callable_and_the_statement_see_the_same_moment():
    seen = []

    def spy(state, persona, transcript):
        seen.append((state.clock.isoformat(), transcript.messages[-1].content))
        return False

    mode = SequenceMode(
        POINTS, model=JourneyModel(), triggers=[Trigger("spy", spy, "x")]
    )
    await run_mode(mode, [PERSONA], run_id="spy")
    assert [clock for clock, _ in seen] == [
        "2026-01-05T09:00:00+00:00",
        "2026-01-05T21:00:00+00:00",
        "2026-01-07T09:00:00+00:00",
    ]
    assert seen[2][1] == "Stop, this is annoying. Too many emails."
