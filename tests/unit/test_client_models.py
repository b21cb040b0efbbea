"""Client simulation values: validation, lifecycles and round trips."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.errors import ConfigError, IllegalTransitionError
from clientsim.models import from_dict, from_json, to_dict, to_json
from clientsim.models.client import (
    REQUEST_TRANSITIONS,
    TASK_TRANSITIONS,
    ClientFeedback,
    ClientProfile,
    ClientRequest,
    Priority,
    RequestStatus,
    ReviewStageResult,
    ReviewVerdict,
    Task,
    TaskRequirement,
    TaskSource,
    TaskStatus,
    TaskType,
)


def requirement(**changes: object) -> TaskRequirement:
    values: dict[str, object] = {
        "title": "Export invoices as CSV",
        "description": "Finance wants a CSV export of the month's invoices.",
        "task_type": "feature",
        "priority": "high",
        "complexity": 3,
        "acceptance_criteria": ["one row per invoice", "totals match the ledger"],
        "domain": "backend",
    }
    values.update(changes)
    return TaskRequirement(**values)  # type: ignore[arg-type]


def test_a_requirement_takes_enum_values_or_their_names():
    made = requirement()
    assert made.task_type is TaskType.FEATURE
    assert made.priority is Priority.HIGH
    assert made.acceptance_criteria == (
        "one row per invoice",
        "totals match the ledger",
    )


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"title": " "}, "title"),
        ({"task_type": "chore"}, "task_type"),
        ({"priority": "urgent"}, "priority"),
        ({"complexity": 6}, "complexity"),
        ({"complexity": True}, "complexity"),
        ({"acceptance_criteria": "one string"}, "list of strings"),
        ({"acceptance_criteria": ["ok", ""]}, "acceptance_criteria"),
    ],
)
def test_bad_requirements_are_config_errors_naming_the_field(changes, named):
    with pytest.raises(ConfigError, match=named):
        requirement(**changes)


@pytest.mark.parametrize("level", [-0.1, 1.5, float("nan"), "0.5", True])
def test_strictness_must_be_between_zero_and_one(level):
    with pytest.raises(ConfigError, match="strictness_level"):
        ClientProfile(
            client_id="c1",
            name="Ada",
            persona="A precise CTO",
            expertise_domains=("backend",),
            strictness_level=level,  # type: ignore[arg-type]
        )


def test_the_request_lifecycle_is_the_seeds():
    request = ClientRequest(request_id="r1", client_id="c1", requirement=requirement())
    for status in (
        RequestStatus.TRIAGING,
        RequestStatus.SCOPING,
        RequestStatus.APPROVED,
        RequestStatus.TASK_CREATED,
    ):
        request = request.transition(status)
    assert request.is_final
    assert request.history == (
        RequestStatus.SUBMITTED,
        RequestStatus.TRIAGING,
        RequestStatus.SCOPING,
        RequestStatus.APPROVED,
    )
    for status in RequestStatus:
        if (
            status is not RequestStatus.SUBMITTED
            and status is not RequestStatus.TASK_CREATED
        ):
            assert (
                RequestStatus.CANCELLED in REQUEST_TRANSITIONS[status]
                or not REQUEST_TRANSITIONS[status]
            )


def test_an_illegal_request_transition_names_the_state_and_the_legal_next_ones():
    request = ClientRequest(request_id="r1", client_id="c1", requirement=requirement())
    with pytest.raises(IllegalTransitionError) as caught:
        request.transition(RequestStatus.APPROVED)
    message = str(caught.value)
    assert "'submitted'" in message
    assert "'triaging'" in message
    assert "'cancelled'" in message
    done = request.transition(RequestStatus.CANCELLED, reason="duplicate")
    with pytest.raises(IllegalTransitionError, match="it is final"):
        done.transition(RequestStatus.TRIAGING)
    assert done.reason == "duplicate"


def test_the_task_lifecycle_allows_rework():
    task = Task(task_id="t1", requirement=requirement(), source=TaskSource.CLIENT)
    for status in (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS, TaskStatus.IN_REVIEW):
        task = task.transition(status)
    task = task.transition(TaskStatus.IN_PROGRESS, rework_count=1)
    task = task.transition(TaskStatus.IN_REVIEW).transition(TaskStatus.COMPLETED)
    assert task.is_final
    assert task.rework_count == 1
    with pytest.raises(IllegalTransitionError, match="'completed'"):
        task.transition(TaskStatus.IN_PROGRESS)
    assert all(
        TASK_TRANSITIONS[status] == frozenset()
        for status in TASK_TRANSITIONS
        if Task(task_id="x", requirement=requirement(), status=status).is_final
    )


def test_feedback_scores_must_be_numbers():
    assert ClientFeedback(
        accepted=True, reason="fine", scores={"clarity": 0.9}
    ).scores == {"clarity": 0.9}
    with pytest.raises(ConfigError, match="scores"):
        ClientFeedback(accepted=True, reason="", scores={"clarity": "high"})  # type: ignore[dict-item]


def test_values_round_trip_through_json():
    request = (
        ClientRequest(request_id="r1", client_id="c1", requirement=requirement())
        .transition(RequestStatus.TRIAGING)
        .transition(RequestStatus.SCOPING, scoping_notes="CSV via the reports service")
    )
    assert from_json(to_json(request), ClientRequest) == request
    result = ReviewStageResult(
        stage="client",
        verdict="fail",
        reason="Missing tests",
        feedback=ClientFeedback(
            accepted=False, reason="Missing tests", unmet_criteria=("has tests",)
        ),
    )
    assert result.verdict is ReviewVerdict.FAIL
    assert from_dict(to_dict(result), ReviewStageResult) == result
    task = Task(
        task_id="t1",
        requirement=requirement(depends_on=["r0"]),
        metadata={"review_pipeline": {"current_stage": "client"}},
    )
    assert from_dict(to_dict(task), Task) == task


@given(
    st.lists(st.sampled_from(list(RequestStatus)), max_size=12),
)
def test_any_sequence_of_request_transitions_stays_legal(targets):
    request = ClientRequest(request_id="r", client_id="c", requirement=requirement())
    for target in targets:
        legal = REQUEST_TRANSITIONS[request.status]
        if target in legal:
            request = request.transition(target)
        else:
            before = request
            with pytest.raises(IllegalTransitionError):
                request.transition(target)
            assert request == before
    assert request.status in REQUEST_TRANSITIONS
    walked = (*request.history, request.status)
    assert walked[0] is RequestStatus.SUBMITTED
    for current, following in itertools.pairwise(walked):
        assert following in REQUEST_TRANSITIONS[current]
