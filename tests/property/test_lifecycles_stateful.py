"""Stateful tests of the request and task lifecycles: no sequence of transition
attempts reaches an illegal state, and a refused attempt changes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from clientsim.errors import IllegalTransitionError
from clientsim.models.client import (
    REQUEST_TRANSITIONS,
    TASK_TRANSITIONS,
    ClientRequest,
    RequestStatus,
    Task,
    TaskRequirement,
    TaskStatus,
)


REQUIREMENT = TaskRequirement(title="A title", description="A description")


def _reachable(
    table: Mapping[object, frozenset[object]], start: object
) -> frozenset[object]:
    seen = {start}
    frontier = [start]
    while frontier:
        for successor in table[frontier.pop()]:
            if successor not in seen:
                seen.add(successor)
                frontier.append(successor)
    return frozenset(seen)


REQUEST_REACHABLE = _reachable(REQUEST_TRANSITIONS, RequestStatus.SUBMITTED)
TASK_REACHABLE = _reachable(TASK_TRANSITIONS, TaskStatus.CREATED)


def test_every_status_is_reachable_and_final_states_are_dead_ends():
    assert set(RequestStatus) == REQUEST_REACHABLE
    assert set(TaskStatus) == TASK_REACHABLE
    assert {s for s, nxt in REQUEST_TRANSITIONS.items() if not nxt} == {
        RequestStatus.TASK_CREATED,
        RequestStatus.CANCELLED,
    }
    assert {s for s, nxt in TASK_TRANSITIONS.items() if not nxt} == {
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
    }


class RequestLifecycle(RuleBasedStateMachine):
    """Random transition attempts on one ClientRequest."""

    def __init__(self) -> None:
        super().__init__()
        self.request = ClientRequest(
            request_id="r-1", client_id="c-1", requirement=REQUIREMENT
        )
        self.walk = [RequestStatus.SUBMITTED]

    @rule(status=st.sampled_from(RequestStatus), notes=st.text(max_size=5))
    def attempt(self, status: RequestStatus, notes: str) -> None:
        before = self.request
        legal = status in REQUEST_TRANSITIONS[before.status]
        if legal:
            after = before.transition(status, scoping_notes=notes)
            assert after.status is status
            assert after.history == (*before.history, before.status)
            assert after.scoping_notes == notes
            assert before.status is self.walk[-1]  # the old value is untouched
            self.request = after
            self.walk.append(status)
        else:
            with pytest.raises(IllegalTransitionError) as caught:
                before.transition(status, scoping_notes=notes)
            assert repr(before.status.value) in str(caught.value)
            assert self.request == before

    @rule(status=st.one_of(st.text(max_size=8), st.integers(), st.none()))
    def attempt_garbage(self, status: object) -> None:
        before = self.request
        with pytest.raises(IllegalTransitionError):
            before.transition(status)  # type: ignore[arg-type]
        assert self.request == before

    @invariant()
    def status_is_reachable_and_history_is_the_walk(self) -> None:
        assert self.request.status in REQUEST_REACHABLE
        assert (*self.request.history, self.request.status) == tuple(self.walk)
        for a, b in itertools.pairwise(self.walk):
            assert b in REQUEST_TRANSITIONS[a]

    @invariant()
    def final_states_accept_nothing(self) -> None:
        if self.request.is_final:
            for target in RequestStatus:
                with pytest.raises(IllegalTransitionError, match="it is final"):
                    self.request.transition(target)


class TaskLifecycle(RuleBasedStateMachine):
    """Random transition attempts on one Task, with rework rounds."""

    def __init__(self) -> None:
        super().__init__()
        self.task = Task(task_id="t-1", requirement=REQUIREMENT)
        self.walk = [TaskStatus.CREATED]
        self.reworks = 0

    @rule(status=st.sampled_from(TaskStatus), deliverable=st.text(max_size=5))
    def attempt(self, status: TaskStatus, deliverable: str) -> None:
        before = self.task
        legal = status in TASK_TRANSITIONS[before.status]
        if legal:
            after = before.transition(status, deliverable=deliverable)
            assert after.status is status
            assert after.deliverable == deliverable
            assert after.history == (*before.history, before.status)
            self.task = after
            self.walk.append(status)
        else:
            with pytest.raises(IllegalTransitionError) as caught:
                before.transition(status, deliverable=deliverable)
            assert repr(before.status.value) in str(caught.value)
            assert self.task == before

    @rule()
    def rework_when_in_review(self) -> None:
        before = self.task
        if before.status is TaskStatus.IN_REVIEW:
            self.task = before.transition(
                TaskStatus.IN_PROGRESS, rework_count=before.rework_count + 1
            )
            self.walk.append(TaskStatus.IN_PROGRESS)
            self.reworks += 1
        elif TaskStatus.IN_PROGRESS not in TASK_TRANSITIONS[before.status]:
            with pytest.raises(IllegalTransitionError):
                before.transition(TaskStatus.IN_PROGRESS, rework_count=99)
            assert self.task == before

    @invariant()
    def status_is_reachable_and_history_is_the_walk(self) -> None:
        assert self.task.status in TASK_REACHABLE
        assert (*self.task.history, self.task.status) == tuple(self.walk)
        for a, b in itertools.pairwise(self.walk):
            assert b in TASK_TRANSITIONS[a]
        assert self.task.rework_count == self.reworks

    @invariant()
    def final_states_accept_nothing(self) -> None:
        if self.task.is_final:
            for target in TaskStatus:
                with pytest.raises(IllegalTransitionError, match="it is final"):
                    self.task.transition(target)


TestRequestLifecycle = RequestLifecycle.TestCase
TestRequestLifecycle.settings = settings(max_examples=150, stateful_step_count=25)
TestTaskLifecycle = TaskLifecycle.TestCase
TestTaskLifecycle.settings = settings(max_examples=150, stateful_step_count=25)
