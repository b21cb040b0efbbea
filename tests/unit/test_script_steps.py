"""The steps of a script and the check of a whole script (Hypothesis for the check)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import clientsim
from clientsim.errors import ConfigError
from clientsim.script import (
    ScriptResult,
    agent,
    check,
    check_script,
    fail,
    judge,
    proceed,
    run_script,
    succeed,
    user,
)


def noop(conversation: object) -> None:
    return None


valid_steps = st.one_of(
    st.builds(user, st.none() | st.text(min_size=1)),
    st.just(agent()),
    st.builds(
        judge,
        st.lists(
            st.text(st.characters(exclude_characters="\r\n"), min_size=1).filter(
                str.strip
            ),
            min_size=1,
            max_size=3,
            unique=True,
        ),
    ),
    st.builds(proceed, st.integers(min_value=1, max_value=50)),
    st.just(check(noop)),
    st.builds(succeed, st.text()),
    st.builds(fail, st.text()),
)

invalid_steps = st.one_of(
    st.text(),  # a bare line instead of user("...")
    st.integers(),
    st.none(),
    st.just(user("")),
    st.builds(proceed, st.integers(max_value=0)),
    st.just(proceed(True)),  # type: ignore[arg-type]
    st.just(proceed(2, on_turn="loud")),  # type: ignore[arg-type]
    st.builds(check, st.text() | st.integers()),
    st.just(judge([])),
    st.just(judge("be polite")),
    st.just(judge(["ok", " "])),
    st.just(judge(["ok", "ok"])),
    st.just(judge(["two\nlines"])),
    st.just(agent),  # the constructor itself, not called
)


@given(st.lists(valid_steps, min_size=1, max_size=8))
def test_a_list_of_steps_is_a_script(steps: list[object]) -> None:
    assert check_script(steps) == tuple(steps)


@given(
    st.lists(valid_steps, max_size=5),
    invalid_steps,
    st.lists(valid_steps | invalid_steps, max_size=5),
)
def test_the_first_bad_step_is_named_with_its_index(
    before: list[object], bad: object, after: list[object]
) -> None:
    with pytest.raises(ConfigError) as raised:
        check_script([*before, bad, *after])
    message = str(raised.value)
    assert message.startswith(f"script[{len(before)}]: ")
    assert re.search(r"takes|is not a step|must|repeats", message)


@given(
    st.one_of(
        st.text(), st.integers(), st.none(), st.dictionaries(st.text(), st.integers())
    )
)
def test_a_script_must_be_a_list(script: object) -> None:
    with pytest.raises(ConfigError, match=r"script must be a list of steps|no steps"):
        check_script(script)


def test_messages_say_what_is_allowed() -> None:
    with pytest.raises(
        ConfigError, match=r"script has no steps; give at least one of: user"
    ):
        check_script([])
    with pytest.raises(
        ConfigError,
        match=r"script\[0\]: str 'hello' is not a step \(a fixed line is user\('...'\)\); "
        r"allowed: user\(text=None\), agent\(\)",
    ):
        check_script(["hello"])
    with pytest.raises(
        ConfigError, match=r"script\[1\]: proceed\(turns=N\) takes an int >= 1; got 0"
    ):
        check_script([user("hi"), proceed(turns=0)])
    with pytest.raises(
        ConfigError,
        match=r"script\[2\]: check\(fn\) takes a function of the conversation \(sync or "
        r"async\); got str 'yes'",
    ):
        check_script([user("hi"), agent(), check("yes")])  # type: ignore[arg-type]


def test_steps_are_frozen_values_that_read_like_the_script() -> None:
    assert user("hi") == user("hi")
    assert agent() == agent()
    assert proceed(turns=2) == proceed(2)
    assert succeed("x") != fail("x")
    assert judge(["a", "b"]).criteria == ("a", "b")
    step = user("hi")
    with pytest.raises(AttributeError):
        step.text = "bye"  # type: ignore[misc]


def test_the_public_names() -> None:
    assert clientsim.run_script is run_script
    assert "run_script" in clientsim.__all__
    assert ScriptResult.__module__ == "clientsim.models.script_result"
    assert clientsim.ScriptResult is ScriptResult


@pytest.mark.anyio
async def test_run_script_checks_the_script_before_anything_runs() -> None:
    called: list[str] = []

    def bot(message: str) -> str:
        called.append(message)
        return "hi"

    with pytest.raises(ConfigError, match=r"script\[2\]: judge\(criteria"):
        await run_script(bot, [user("hi"), agent(), judge([])])
    assert called == []
