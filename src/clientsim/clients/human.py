"""A client played by a person, through async callbacks (seed 000's ``HumanClient``).

:class:`HumanClient` makes no model calls: it hands every question to two async
callbacks. Two ready-made sources of those callbacks ship here:

* :class:`ConsoleHuman` asks on the terminal (stdin/stdout, from a worker thread);
* :class:`QueueHuman` keeps questions in a queue that an application or a notebook
  answers with :meth:`QueueHuman.answer`.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Literal

import anyio
import attrs

from clientsim import events
from clientsim._runtime import run_sync
from clientsim._validators import check_seconds
from clientsim.clients.base import ReviewContext, SubmitContext
from clientsim.errors import (
    ConfigError,
    HumanTimeoutError,
    InvalidTypeError,
    SimulationError,
)
from clientsim.models.client import ClientFeedback, ClientProfile, TaskRequirement


__all__ = [
    "AskRequirement",
    "AskReview",
    "ConsoleHuman",
    "DraftedReviewContext",
    "HumanClient",
    "HumanTimeoutError",
    "Question",
    "QueueHuman",
]

AskRequirement = Callable[[SubmitContext], Awaitable[TaskRequirement | None]]
"""Asks a person for a requirement (``None``: the person declines)."""
AskReview = Callable[[ReviewContext], Awaitable[ClientFeedback]]
"""Asks a person to review a deliverable."""


@attrs.frozen(kw_only=True)
class DraftedReviewContext(ReviewContext):
    """A review context that carries a draft verdict for the person to confirm.

    A :class:`~clientsim.clients.HybridClient` passes one to its human's review
    callback; since it *is* a :class:`ReviewContext`, callbacks that do not care
    about drafts work unchanged. (A subclass, not a composed value, for exactly that
    reason.)

    Attributes:
        draft: the AI's feedback, which the person may confirm or override.
    """

    draft: ClientFeedback = attrs.field(
        validator=attrs.validators.instance_of(ClientFeedback)
    )


def _check_callable(name: str, value: object) -> None:
    if not callable(value):
        raise ConfigError(
            f"{name} must be an async callable; got {type(value).__name__}"
        )


class HumanClient:
    """A client whose every decision comes from a person, through async callbacks.

    Args:
        profile: who the client is.
        ask_requirement: ``async (SubmitContext) -> TaskRequirement | None``.
        ask_review: ``async (ReviewContext) -> ClientFeedback``; in a hybrid client
            it gets a :class:`DraftedReviewContext`.

    Raises:
        InvalidTypeError: ``profile`` is not a ClientProfile.
        ConfigError: a callback is not callable.

    Example:
        >>> queue = QueueHuman()
        >>> profile = ClientProfile(client_id="h1", name="Bo", persona="A person",
        ...                         expertise_domains=(), strictness_level=0.5)
        >>> client = HumanClient(profile, ask_requirement=queue.ask_requirement,
        ...                      ask_review=queue.ask_review)
        >>> client.profile.client_id
        'h1'
    """

    def __init__(
        self,
        profile: ClientProfile,
        *,
        ask_requirement: AskRequirement,
        ask_review: AskReview,
    ) -> None:
        if not isinstance(profile, ClientProfile):
            raise InvalidTypeError(
                f"profile must be a ClientProfile; got {type(profile).__name__}"
            )
        _check_callable("ask_requirement", ask_requirement)
        _check_callable("ask_review", ask_review)
        self._profile = profile
        self.ask_requirement = ask_requirement
        self.ask_review = ask_review

    def __repr__(self) -> str:
        return f"HumanClient({self._profile.client_id!r})"

    @property
    def profile(self) -> ClientProfile:
        """Who the client is."""
        return self._profile

    async def submit_requirement(
        self, context: SubmitContext
    ) -> TaskRequirement | None:
        """The person's requirement, or ``None`` when they decline.

        Raises:
            InvalidTypeError: the callback answered with something else.
        """
        result = await self.ask_requirement(context)
        if result is not None and not isinstance(result, TaskRequirement):
            raise InvalidTypeError(
                "ask_requirement must return a TaskRequirement or None; got "
                f"{type(result).__name__}"
            )
        return result

    async def ask(self, context: ReviewContext) -> ClientFeedback:
        """The person's feedback, without emitting events (the client id filled in).

        Raises:
            InvalidTypeError: the callback answered with something else.
        """
        feedback = await self.ask_review(context)
        if not isinstance(feedback, ClientFeedback):
            raise InvalidTypeError(
                "ask_review must return a ClientFeedback; got "
                f"{type(feedback).__name__}"
            )
        if feedback.client_id is None:
            feedback = attrs.evolve(feedback, client_id=self._profile.client_id)
        return feedback

    async def review_deliverable(self, context: ReviewContext) -> ClientFeedback:
        """The person's verdict on ``context.deliverable``.

        Emits ``CLIENT_REVIEW_STARTED`` and ``CLIENT_REVIEW_COMPLETED``.

        Raises:
            InvalidTypeError: the callback answered with something else.
        """
        if not isinstance(context, ReviewContext):
            raise InvalidTypeError(
                f"context must be a ReviewContext; got {type(context).__name__}"
            )
        client_id = self._profile.client_id
        events.emit(
            events.CLIENT_REVIEW_STARTED,
            task_id=context.task.task_id,
            client_id=client_id,
        )
        feedback = await self.ask(context)
        events.emit(
            events.CLIENT_REVIEW_COMPLETED,
            task_id=context.task.task_id,
            client_id=client_id,
            accepted=feedback.accepted,
        )
        return feedback


# ----- the console -----------------------------------------------------------------


def _describe_requirement(requirement: TaskRequirement) -> str:
    lines = [f"{requirement.title} [{requirement.domain}]", requirement.description]
    lines.extend(
        f"  {n}. {c}" for n, c in enumerate(requirement.acceptance_criteria, 1)
    )
    return "\n".join(lines)


class ConsoleHuman:
    """Asks a person on the terminal; gives :class:`HumanClient` its two callbacks.

    Prompts are read with ``input`` in a worker thread, so the event loop keeps running
    while the person types, and a deadline (the simulation's review timeout) is kept
    even if nobody answers: the read is abandoned. An unclear answer is asked again.

    Args:
        input_fn: reads one line after showing a prompt (default: :func:`input`).
        output_fn: shows a block of text (default: :func:`print`).

    Example:
        >>> answers = iter(["y"])
        >>> console = ConsoleHuman(input_fn=lambda prompt: next(answers),
        ...                        output_fn=lambda text: None)
        >>> callable(console.ask_review)
        True
    """

    def __init__(
        self,
        *,
        input_fn: Callable[[str], str] = input,
        output_fn: Callable[[str], object] = print,
    ) -> None:
        _check_callable("input_fn", input_fn)
        _check_callable("output_fn", output_fn)
        self._input = input_fn
        self._output = output_fn

    def client(self, profile: ClientProfile) -> HumanClient:
        """A :class:`HumanClient` that asks on this console."""
        return HumanClient(
            profile, ask_requirement=self.ask_requirement, ask_review=self.ask_review
        )

    async def _read(self, prompt: str) -> str:
        try:
            line = await run_sync(self._input, prompt, name="the console's input")
        except EOFError as exc:
            raise SimulationError(
                f"the console's input ended while asking {prompt.strip()!r}"
            ) from exc
        return line.strip()

    async def _yes_no(self, prompt: str, default: bool | None) -> bool:
        while True:
            answer = (await self._read(prompt)).lower()
            if not answer and default is not None:
                return default
            if answer in {"y", "yes"}:
                return True
            if answer in {"n", "no"}:
                return False
            self._output("Please answer y or n.")

    async def ask_requirement(self, context: SubmitContext) -> TaskRequirement | None:
        """Show the proposal (if any) and ask whether to file it, or ask for one."""
        if context.proposal is not None:
            self._output(
                f"Proposed requirement:\n{_describe_requirement(context.proposal)}"
            )
            filed = await self._yes_no("File it? [Y/n] ", default=True)
            return context.proposal if filed else None
        title = await self._read("Requirement title (empty to decline): ")
        if not title:
            return None
        description = await self._read("Description: ") or title
        criteria = await self._read("Acceptance criteria (separated by ';'): ")
        return TaskRequirement(
            title=title,
            description=description,
            acceptance_criteria=tuple(
                c.strip() for c in criteria.split(";") if c.strip()
            ),
        )

    async def ask_review(self, context: ReviewContext) -> ClientFeedback:
        """Show the requirement and the deliverable (and a draft) and ask for a verdict."""
        requirement = context.requirement
        self._output(
            f"Requirement:\n{_describe_requirement(requirement)}\n\n"
            f"Deliverable (attempt {context.attempt}):\n{context.deliverable}"
        )
        draft = context.draft if isinstance(context, DraftedReviewContext) else None
        if draft is not None:
            verdict = "accept" if draft.accepted else "reject"
            self._output(f"Draft verdict: {verdict}: {draft.reason}")
            if await self._yes_no("Keep the draft? [Y/n] ", default=True):
                return draft
        accepted = await self._yes_no("Accept? [y/n] ", default=None)
        reason = await self._read("Reason: ")
        unmet: list[str] = []
        criteria = requirement.acceptance_criteria
        if not accepted and criteria:
            while True:
                picked = await self._read("Unmet criteria (numbers, comma-separated): ")
                numbers = [p.strip() for p in picked.split(",") if p.strip()]
                if all(n.isdigit() and 1 <= int(n) <= len(criteria) for n in numbers):
                    unmet = [criteria[int(n) - 1] for n in numbers]
                    break
                self._output(f"Please give numbers from 1 to {len(criteria)}.")
        return ClientFeedback(accepted=accepted, reason=reason, unmet_criteria=unmet)


# ----- the queue -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Question:
    """A question waiting for a person's answer in a :class:`QueueHuman`.

    Attributes:
        question_id: the id to answer it with.
        kind: ``"requirement"`` (answer a TaskRequirement or ``None``) or
            ``"review"`` (answer a ClientFeedback).
        context: what the person is asked about.
    """

    question_id: str
    kind: Literal["requirement", "review"]
    context: SubmitContext | ReviewContext


@attrs.define
class _Slot:
    question: Question
    done: anyio.Event = attrs.field(factory=anyio.Event)
    value: object = None


class QueueHuman:
    """Questions for a person, held until an application or a notebook answers them.

    Each ``ask_*`` call queues a :class:`Question` and waits; :meth:`pending` lists
    what waits, :meth:`answer` answers one, and :meth:`next_question` waits for the
    next one (for an answering task). Call :meth:`answer` from the event loop's thread.

    Args:
        timeout: seconds to wait for an answer before raising
            :class:`HumanTimeoutError` (``None``: wait for ever).

    Raises:
        ConfigError: ``timeout`` is not a positive number or ``None``.

    Example:
        >>> queue = QueueHuman(timeout=60)
        >>> queue.pending()
        ()
    """

    def __init__(self, *, timeout: float | None = None) -> None:
        self.timeout = check_seconds("timeout", timeout, optional=True)
        self._slots: dict[str, _Slot] = {}
        self._ids = itertools.count(1)
        self._arrived = anyio.Event()

    def client(self, profile: ClientProfile) -> HumanClient:
        """A :class:`HumanClient` whose questions land in this queue."""
        return HumanClient(
            profile, ask_requirement=self.ask_requirement, ask_review=self.ask_review
        )

    def pending(self) -> tuple[Question, ...]:
        """The questions waiting for an answer, oldest first."""
        return tuple(slot.question for slot in self._slots.values())

    async def next_question(self) -> Question:
        """Wait until a question is pending and return the oldest unanswered one.

        It returns at once while a question is pending, so answer it before asking
        for the next.
        """
        while not self._slots:
            await self._arrived.wait()
        return next(iter(self._slots.values())).question

    def answer(
        self, question_id: str, value: TaskRequirement | ClientFeedback | None
    ) -> None:
        """Answer a pending question.

        Args:
            question_id: the question's id.
            value: a TaskRequirement or ``None`` for a requirement question; a
                ClientFeedback for a review question.

        Raises:
            ConfigError: no question with that id is pending.
            InvalidTypeError: ``value`` does not fit the question.
        """
        slot = self._slots.get(question_id)
        if slot is None:
            waiting = ", ".join(repr(q) for q in self._slots) or "none"
            raise ConfigError(
                f"no pending question {question_id!r}; pending: {waiting}"
            )
        if slot.question.kind == "requirement":
            if value is not None and not isinstance(value, TaskRequirement):
                raise InvalidTypeError(
                    f"question {question_id!r} asks for a requirement: answer a "
                    f"TaskRequirement or None; got {type(value).__name__}"
                )
        elif not isinstance(value, ClientFeedback):
            raise InvalidTypeError(
                f"question {question_id!r} asks for a review: answer a "
                f"ClientFeedback; got {type(value).__name__}"
            )
        slot.value = value
        del self._slots[question_id]
        slot.done.set()

    async def _ask(
        self,
        kind: Literal["requirement", "review"],
        context: SubmitContext | ReviewContext,
    ) -> object:
        question = Question(
            question_id=f"q{next(self._ids)}", kind=kind, context=context
        )
        slot = _Slot(question)
        self._slots[question.question_id] = slot
        self._arrived.set()
        self._arrived = anyio.Event()
        try:
            if self.timeout is None:
                await slot.done.wait()
            else:
                with anyio.fail_after(self.timeout):
                    await slot.done.wait()
        except TimeoutError:
            raise HumanTimeoutError(
                f"nobody answered {kind} question {question.question_id!r} within "
                f"{self.timeout} s"
            ) from None
        finally:
            self._slots.pop(question.question_id, None)
        return slot.value

    async def ask_requirement(self, context: SubmitContext) -> TaskRequirement | None:
        """Queue a requirement question and wait for its answer.

        Raises:
            HumanTimeoutError: no answer within ``timeout``.
        """
        value = await self._ask("requirement", context)
        assert value is None or isinstance(value, TaskRequirement)  # noqa: S101
        return value

    async def ask_review(self, context: ReviewContext) -> ClientFeedback:
        """Queue a review question and wait for its answer.

        Raises:
            HumanTimeoutError: no answer within ``timeout``.
        """
        value = await self._ask("review", context)
        assert isinstance(value, ClientFeedback)  # noqa: S101
        return value
