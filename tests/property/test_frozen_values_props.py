"""Read-only values: every mapping a value holds is frozen, so a value hashes and
round-trips through the one converter.
"""

from __future__ import annotations

import copy
import json
import pickle

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.errors import InvalidTypeError
from clientsim.models import (
    ClientFeedback,
    ConversationRecord,
    FrozenDict,
    GridCell,
    ReviewStageResult,
    RunStatus,
    SubmitContext,
    Task,
    TaskRequirement,
    TaskTimings,
    TokenUsage,
    from_dict,
    from_json,
    to_dict,
    to_json,
)
from clientsim.models.frozen import freeze
from tests import strategies


_REQUIREMENT = TaskRequirement(title="t", description="d")

VALUES = [
    pytest.param(Task, strategies.tasks, id="Task"),
    pytest.param(ClientFeedback, strategies.client_feedbacks, id="ClientFeedback"),
    pytest.param(
        ReviewStageResult, strategies.review_stage_results, id="ReviewStageResult"
    ),
    pytest.param(TaskTimings, strategies.task_timings, id="TaskTimings"),
]


def _thawed(value: object) -> object:
    """``value`` with every FrozenDict a dict and every tuple a list (as JSON has it)."""
    if isinstance(value, dict):
        return {key: _thawed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_thawed(item) for item in value]
    return value


@pytest.mark.parametrize(("cls", "values"), VALUES)
@given(data=st.data())
def test_round_trip_through_the_converter_keeps_value_and_hash(cls, values, data):
    value = data.draw(values)
    back = from_dict(to_dict(value), cls)
    assert back == value
    assert hash(back) == hash(value)
    again = from_json(to_json(value), cls)
    assert again == value
    assert to_json(again) == to_json(value)


@given(task=strategies.tasks)
def test_a_task_hashes_and_its_metadata_is_read_only_all_the_way_down(task):
    assert hash(task) == hash(attrs.evolve(task))
    assert {task, attrs.evolve(task)} == {task}
    assert isinstance(task.metadata, FrozenDict)
    with pytest.raises(TypeError, match="read-only"):
        task.metadata["new"] = 1  # type: ignore[index]
    stack: list[object] = [task.metadata]
    while stack:
        item = stack.pop()
        assert not isinstance(item, list | set)
        if isinstance(item, dict):
            assert isinstance(item, FrozenDict)
            with pytest.raises(TypeError):
                item.clear()
            stack.extend(item.values())
        elif isinstance(item, tuple):
            stack.extend(item)
    # It still reads like the JSON it came from.
    dumped = json.dumps(task.metadata, sort_keys=True)
    assert json.loads(dumped) == _thawed(task.metadata)


@given(metadata=strategies.json_objects)
def test_a_dict_given_at_construction_is_copied_and_frozen(metadata):
    given_dict = copy.deepcopy(metadata)
    task = Task(task_id="t", requirement=_REQUIREMENT, metadata=given_dict)
    given_dict["added later"] = [1]
    assert "added later" not in task.metadata
    assert task.metadata == freeze(metadata)
    assert _thawed(task.metadata) == _thawed(metadata)
    assert pickle.loads(pickle.dumps(task)) == task  # noqa: S301 - our own bytes
    assert copy.deepcopy(task) == task


@given(task=strategies.tasks, extra=strategies.json_values)
def test_evolving_metadata_makes_a_new_task(task, extra):
    changed = attrs.evolve(task, metadata={**task.metadata, "extra": extra})
    assert changed.metadata["extra"] == freeze(extra)
    assert (
        "extra" not in task.metadata
        or task.metadata["extra"] == changed.metadata["extra"]
    )
    assert isinstance(changed.metadata, FrozenDict)
    hash(changed)


def test_every_mapping_a_value_holds_is_frozen():
    feedback = ClientFeedback(accepted=True, reason="ok", scores={"clarity": 0.5})
    context = SubmitContext(metadata={"draft": {"lines": ["a"]}})
    record = ConversationRecord(
        run_id="r",
        cell=GridCell(input_id="i", persona_id="p", iteration=0),
        seed=1,
        status=RunStatus.DONE,
        models={"offline": TokenUsage(calls=1)},
    )
    timings = TaskTimings(stage_seconds={"internal": 1.5})
    for mapping in (
        feedback.scores,
        context.metadata,
        context.metadata["draft"],
        record.models,
        timings.stage_seconds,
    ):
        assert isinstance(mapping, FrozenDict)
    assert context.metadata["draft"]["lines"] == ("a",)
    assert len({hash(feedback), hash(context), hash(record), hash(timings)}) == 4
    assert from_dict(to_dict(record), ConversationRecord) == record


def test_a_mapping_field_given_something_else_is_refused_by_name():
    with pytest.raises(
        InvalidTypeError, match=r"metadata must be a mapping .*got list"
    ):
        Task(task_id="t", requirement=_REQUIREMENT, metadata=[("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="stage_seconds must be a mapping"):
        TaskTimings(stage_seconds=3)  # type: ignore[arg-type]


def test_a_frozen_dict_refuses_every_change_and_copies_as_itself():
    frozen = FrozenDict({"a": 1})
    for change in (
        lambda: frozen.__setitem__("b", 2),
        lambda: frozen.__delitem__("a"),
        lambda: frozen.update(b=2),
        lambda: frozen.pop("a"),
        frozen.popitem,
        lambda: frozen.setdefault("b", 2),
        frozen.clear,
        lambda: frozen.__ior__({"b": 2}),
    ):
        with pytest.raises(TypeError, match=r"read-only; build a new mapping"):
            change()
    assert frozen == {"a": 1}
    assert copy.copy(frozen) is frozen
    assert copy.deepcopy(frozen) is frozen
    assert frozen | {"b": 2} == {"a": 1, "b": 2}
    assert type(frozen.copy()) is dict  # a mutable copy, to build a new one from
    assert pickle.loads(pickle.dumps(frozen)) == frozen  # noqa: S301 - our own bytes
    assert FrozenDict.fromkeys("ab", 0) == {"a": 0, "b": 0}
    assert repr(frozen) == "FrozenDict({'a': 1})"
