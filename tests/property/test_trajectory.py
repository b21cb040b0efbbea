"""Properties of ToolCall values and of trajectory matching."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.errors import ConfigError
from clientsim.evaluation.trajectory import MODES, match_trajectory
from clientsim.models import ToolCall
from clientsim.models.tool_calls import tool_call_from_json, tool_call_json
from tests import strategies


# Few names and argument values, so that calls collide and orders matter.
small_calls = st.builds(
    ToolCall,
    name=st.sampled_from(["lookup", "refund", "cancel"]),
    arguments=st.dictionaries(
        st.sampled_from(["order_id", "reason"]), st.sampled_from(["1", "2"]), max_size=2
    ),
)
trajectories = st.lists(small_calls, max_size=6)


def ok(actual: list[ToolCall], expected: list[ToolCall], mode: str) -> bool:
    return match_trajectory(actual, expected, mode).ok


@given(trajectories)
def test_a_trajectory_matches_itself_in_every_mode(calls):
    for mode in MODES:
        assert ok(calls, calls, mode), mode


@given(trajectories, trajectories)
def test_strict_implies_unordered_implies_subset_and_superset(actual, expected):
    if ok(actual, expected, "strict"):
        assert ok(actual, expected, "unordered")
    if ok(actual, expected, "unordered"):
        assert ok(actual, expected, "subset")
        assert ok(actual, expected, "superset")
        assert len(actual) == len(expected)


@given(trajectories, st.randoms(use_true_random=False))
def test_any_order_matches_unordered(calls, random):
    shuffled = list(calls)
    random.shuffle(shuffled)
    assert ok(shuffled, calls, "unordered")
    assert ok(calls, shuffled, "unordered")


@given(trajectories, st.data())
def test_dropping_calls_keeps_subset_and_superset(calls, data):
    kept = [call for call in calls if data.draw(st.booleans())]
    assert ok(kept, calls, "subset")  # the agent made fewer calls than expected
    assert ok(calls, kept, "superset")  # the agent made every expected call


@given(trajectories, trajectories)
def test_a_failed_match_explains_itself(actual, expected):
    for mode in MODES:
        match = match_trajectory(actual, expected, mode)
        if match.ok:
            assert match.diff == ""
        else:
            assert match.diff.startswith(
                f"tool-call trajectory does not match (mode {mode!r}"
            )
            assert f"expected ({len(expected)} call" in match.diff
            assert f"actual ({len(actual)} call" in match.diff


@given(trajectories, trajectories)
def test_names_only_match_whenever_full_calls_do(actual, expected):
    names = [call.name for call in expected]
    for mode in MODES:
        if ok(actual, expected, mode):
            assert ok(actual, names, mode), mode


@given(strategies.tool_calls)
def test_tool_calls_survive_json(call):
    text = json.dumps(tool_call_json(call))
    back = tool_call_from_json(json.loads(text))
    assert back == call
    assert hash(back) == hash(call)


@given(strategies.tool_arguments)
def test_arguments_are_frozen_deeply(arguments):
    call = ToolCall("lookup", arguments)
    assert call.arguments == ToolCall("lookup", call.arguments).arguments

    def mutable(value: object) -> bool:
        if isinstance(value, dict):
            return type(value) is dict or any(mutable(v) for v in value.values())
        if isinstance(value, list):
            return True
        if isinstance(value, tuple):
            return any(mutable(v) for v in value)
        return False

    assert not mutable(call.arguments)


@pytest.mark.parametrize(
    "bad",
    [
        {"when": object()},
        {"n": float("nan")},
        {1: "x"},
        {"nested": {"deep": {2: "x"}}},
        ["not", "a", "mapping"],
    ],
)
def test_non_json_arguments_are_refused(bad):
    with pytest.raises(ConfigError, match="arguments"):
        ToolCall("lookup", bad)


@pytest.mark.parametrize("name", ["", "   ", None, 3])
def test_a_tool_call_needs_a_name(name):
    with pytest.raises(ConfigError, match="name must be a non-empty string"):
        ToolCall(name)
