"""Scripted scenarios through the pytest plugin's ``simulate`` fixture (``pytester``)."""

from __future__ import annotations

import pytest


_ARGS = ("-p", "no:langsmith_plugin", "-p", "no:cacheprovider", "-p", "clientsim")

_INI = """
[pytest]
anyio_mode = auto
"""

_AGENT = """
from pathlib import Path

SEEN = Path(__file__).with_name("agent_saw.txt")


async def support_bot(message: str) -> str:
    with SEEN.open("a") as seen:
        seen.write(message + "\\n")
    if "refund" in message.lower():
        return "Which order is it? Please give me the order number."
    return "Thanks, the refund for that order is on its way."
"""


@pytest.fixture(name="suite")
def _suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(_INI)
    pytester.makepyfile(agent_under_test=_AGENT)
    pytester.syspathinsert()
    return pytester


def test_a_scripted_test_passes_and_a_failing_check_shows_its_message(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        test_agent="""
        import pytest
        from clientsim.assertions import assert_outcome_rate
        from clientsim.script import agent, assert_passed, check, proceed, user

        from agent_under_test import SEEN, support_bot


        def asks_for_the_order(conversation):
            reply = conversation.messages[-1].content
            assert "order number" in reply, f"no order number asked for in {reply!r}"


        def promises_a_call_back(conversation):
            reply = conversation.messages[-1].content
            assert "call you back" in reply, f"no call back promised in {reply!r}"


        @pytest.mark.clientsim(runs=2, seed=4)
        async def test_asks_for_the_order(simulate):
            results = await simulate(
                support_bot,
                intents=["a refund for order 4417"],
                script=[
                    user("I want a refund, please"),
                    agent(),
                    check(asks_for_the_order),
                    proceed(turns=1),
                ],
            )
            assert_passed(results)
            assert_outcome_rate(results, "passed", at_least=1.0)
            lines = SEEN.read_text().splitlines()
            assert lines.count("I want a refund, please") == 2


        async def test_promises_a_call_back(simulate):
            results = await simulate(
                support_bot,
                intents=["a refund for order 4417"],
                script=[user("I want a refund"), agent(), check(promises_a_call_back)],
            )
            assert_passed(results)
        """
    )
    result = suite.runpytest_subprocess(*_ARGS)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*1 of 1 scripted conversation(s) did not pass:*",
            (
                "*failed at step 2 (seed *): step 2 check(promises_a_call_back): no call "
                "back promised in 'Which order is it? Please give me the order number.'*"
            ),
            "*[[]0] customer: I want a refund*",
            "*[[]1] agent: Which order is it? Please give me the order number.*",
        ]
    )


def test_a_bad_script_is_a_config_error_naming_the_step(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_agent="""
        from clientsim.script import agent, proceed, user

        from agent_under_test import support_bot


        async def test_bad(simulate):
            await simulate(
                support_bot,
                intents=["a refund"],
                script=[user("hi"), agent(), proceed(turns=0)],
            )
        """
    )
    result = suite.runpytest_subprocess(*_ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*ConfigError: script[[]2[]]: proceed(turns=N) takes an int >= 1; got 0*"]
    )
