"""Clients: AI (offline and fake models), human (queue and console), hybrid."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim import events
from clientsim.clients import (
    AIClient,
    ClientInterface,
    ConsoleHuman,
    DraftedReviewContext,
    HumanClient,
    HumanTimeoutError,
    HybridClient,
    QueueHuman,
    ReviewContext,
    SubmitContext,
)
from clientsim.errors import (
    ConfigError,
    InvalidModelOutputError,
    InvalidTypeError,
    SimulationError,
)
from clientsim.feedback import BinaryFeedback, CriteriaCheckFeedback
from clientsim.models.client import (
    ClientFeedback,
    ClientProfile,
    Priority,
    Task,
    TaskRequirement,
    TaskType,
)


CRITERIA = (
    "Users can reset their password by email",
    "The reset link expires after one hour",
)
REQUIREMENT = TaskRequirement(
    title="Password reset",
    description="Let users reset a forgotten password.",
    acceptance_criteria=CRITERIA,
    domain="backend",
)
GOOD = (
    "Users can reset their password by email, and the reset link expires after one "
    "hour."
)
POOR = "I changed the colours of the login page."


def profile(
    strictness: float = 0.5,
    domains: tuple[str, ...] = ("backend",),
    client_id: str = "c1",
) -> ClientProfile:
    return ClientProfile(
        client_id=client_id,
        name="Ada",
        persona="A precise CTO",
        expertise_domains=domains,
        strictness_level=strictness,
    )


def review(deliverable: str, *, task_id: str = "t1") -> ReviewContext:
    return ReviewContext(
        task=Task(task_id=task_id, requirement=REQUIREMENT),
        requirement=REQUIREMENT,
        deliverable=deliverable,
    )


class ToolCaller(BaseChatModel):
    """Answers every structured-output call with a fixed tool call."""

    answers: list[dict[str, Any]] = Field(default_factory=list)
    seen: list[Any] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "tool-caller"

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(list(messages))
        args = self.answers[min(len(self.seen), len(self.answers)) - 1]
        name = kwargs["tools"][0]["function"]["name"]
        message = AIMessage(
            content="",
            tool_calls=[{"name": name, "args": args, "id": "c1", "type": "tool_call"}],
            usage_metadata={"input_tokens": 7, "output_tokens": 3, "total_tokens": 10},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
        return self._generate(messages, **kwargs)  # type: ignore[no-untyped-call]


@pytest.fixture(name="review_events")
def _review_events(caplog):
    caplog.set_level(logging.INFO, logger="clientsim.events")

    def collect():
        return [
            (record.clientsim_event, dict(record.clientsim_fields))
            for record in caplog.records
            if getattr(record, "clientsim_event", "").startswith("client.review")
        ]

    return collect


# ----- the protocol -------------------------------------------------------------------


def test_every_client_implements_the_interface():
    queue = QueueHuman()
    ai = AIClient(profile())
    human = queue.client(profile())
    for client in (
        ai,
        human,
        HybridClient(ai, human),
        ConsoleHuman().client(profile()),
    ):
        assert isinstance(client, ClientInterface)
    assert "AIClient('c1'" in repr(ai)
    assert "HumanClient('c1')" in repr(human)
    assert "HybridClient(" in repr(HybridClient(ai, human))


# ----- AIClient -------------------------------------------------------------------------


async def test_ai_files_a_proposal_in_its_domain():
    client = AIClient(profile(strictness=1.0))
    context = SubmitContext(proposal=REQUIREMENT)
    assert await client.submit_requirement(context) is REQUIREMENT
    general = TaskRequirement(title="t", description="d")  # domain "general"
    assert await client.submit_requirement(SubmitContext(proposal=general)) is general


async def test_ai_declines_outside_its_expertise_by_strictness():
    outside = TaskRequirement(title="Logo", description="A logo", domain="design")
    strict = AIClient(profile(strictness=1.0))
    lenient = AIClient(profile(strictness=0.0))
    middle = AIClient(profile(strictness=0.5))
    filed = []
    for seed in range(200):
        context = SubmitContext(proposal=outside, seed=seed)
        assert await strict.submit_requirement(context) is None
        assert await lenient.submit_requirement(context) is outside
        filed.append(await middle.submit_requirement(context) is not None)
    assert 60 < sum(filed) < 140
    again = [
        await middle.submit_requirement(SubmitContext(proposal=outside, seed=seed))
        is not None
        for seed in range(200)
    ]
    assert again == filed


async def test_ai_writes_its_own_requirement_offline():
    client = AIClient(profile(strictness=0.9, domains=("payments", "mobile")))
    first = await client.submit_requirement(SubmitContext(round=3, seed=1))
    again = await client.submit_requirement(SubmitContext(round=3, seed=1))
    assert first == again
    assert first is not None
    assert first.domain in {"payments", "mobile"}
    assert first.domain in first.title
    assert first.acceptance_criteria
    assert first.requirement_id == "c1-r3"
    lenient = AIClient(profile(strictness=0.0, domains=("payments",)))
    loose = await lenient.submit_requirement(SubmitContext(round=3, seed=1))
    assert loose is not None
    assert len(loose.acceptance_criteria) == 1


async def test_ai_uses_the_generator():
    seen = []

    async def generator(context):
        seen.append(context)
        return REQUIREMENT

    client = AIClient(profile(), generator=generator)
    context = SubmitContext(round=2)
    assert await client.submit_requirement(context) is REQUIREMENT
    assert seen == [context]

    async def broken(context):
        return "a requirement"

    with pytest.raises(InvalidTypeError, match="generator must return"):
        await AIClient(profile(), generator=broken).submit_requirement(context)


async def test_ai_asks_its_model_in_its_persona():
    model = ToolCaller(
        answers=[
            {
                "title": "Faster search",
                "description": "Search takes 5 s; make it under 1 s.",
                "task_type": "feature",
                "priority": "high",
                "complexity": 3,
                "acceptance_criteria": ["Search answers in under one second"],
                "domain": "backend",
            }
        ]
    )
    client = AIClient(profile(), model=model)
    requirement = await client.submit_requirement(SubmitContext(project="shop"))
    assert requirement == TaskRequirement(
        title="Faster search",
        description="Search takes 5 s; make it under 1 s.",
        task_type=TaskType.FEATURE,
        priority=Priority.HIGH,
        complexity=3,
        acceptance_criteria=("Search answers in under one second",),
        domain="backend",
        requirement_id="c1-r0",
    )
    assert client.token_usage.total_tokens == 10
    system = model.seen[0][0].content
    assert "Ada" in system
    assert "A precise CTO" in system
    assert "backend" in system
    assert "shop" in model.seen[0][1].content


async def test_ai_rejects_an_invalid_model_requirement():
    model = ToolCaller(
        answers=[
            {
                "title": " ",
                "description": "d",
                "task_type": "feature",
                "priority": "low",
                "complexity": 1,
                "acceptance_criteria": [],
                "domain": "backend",
            }
        ]
    )
    with pytest.raises(InvalidModelOutputError, match="not valid"):
        await AIClient(profile(), model=model).submit_requirement(SubmitContext())
    answer = dict(model.answers[0], title="t", domain="cooking")
    with pytest.raises(InvalidModelOutputError, match="domain must be one of"):
        await AIClient(
            profile(), model=ToolCaller(answers=[answer])
        ).submit_requirement(SubmitContext())
    nowhere = AIClient(profile(domains=()), model=ToolCaller(answers=[answer]))
    written = await nowhere.submit_requirement(SubmitContext())
    assert written is not None
    assert written.domain == "general"


async def test_ai_reviews_offline_and_emits_events(review_events):
    client = AIClient(profile(strictness=0.3))
    assert isinstance(client.feedback, CriteriaCheckFeedback)
    assert client.feedback.model is None
    good = await client.review_deliverable(review(GOOD, task_id="g"))
    poor = await client.review_deliverable(review(POOR, task_id="p"))
    assert good.accepted
    assert not poor.accepted
    assert poor.unmet_criteria == CRITERIA
    assert good.client_id == "c1"
    assert review_events() == [
        (events.CLIENT_REVIEW_STARTED, {"task_id": "g", "client_id": "c1"}),
        (
            events.CLIENT_REVIEW_COMPLETED,
            {"task_id": "g", "client_id": "c1", "accepted": True},
        ),
        (events.CLIENT_REVIEW_STARTED, {"task_id": "p", "client_id": "c1"}),
        (
            events.CLIENT_REVIEW_COMPLETED,
            {"task_id": "p", "client_id": "c1", "accepted": False},
        ),
    ]


async def test_ai_with_a_real_model_judges_with_it():
    model = ToolCaller(
        answers=[{"criterion_1": True, "criterion_2": False, "reason": "Half."}]
    )
    client = AIClient(profile(), model=model)
    assert client.feedback.model is model  # type: ignore[attr-defined]
    feedback = await client.review_deliverable(review(GOOD))
    assert not feedback.accepted
    assert feedback.unmet_criteria == (CRITERIA[1],)
    assert "strictness is 0.50" in model.seen[0][0].content


async def test_ai_with_a_given_strategy():
    client = AIClient(profile(0.2), feedback=BinaryFeedback())
    assert (await client.review_deliverable(review(GOOD))).unmet_criteria == ()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"profile": "p"}, InvalidTypeError, "profile must be a ClientProfile"),
        ({"model": None}, ConfigError, "model must be a model spec"),
        ({"model": 3}, ConfigError, "model must be None"),
        ({"feedback": object()}, ConfigError, "feedback must be a FeedbackStrategy"),
        ({"generator": "gen"}, ConfigError, "generator must be an async callable"),
    ],
)
def test_ai_bad_arguments(kwargs, error, message):
    arguments = {"profile": profile()} | kwargs
    with pytest.raises(error, match=message):
        AIClient(arguments.pop("profile"), **arguments)


async def test_ai_bad_contexts():
    client = AIClient(profile())
    with pytest.raises(InvalidTypeError, match="SubmitContext"):
        await client.submit_requirement("x")  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="ReviewContext"):
        await client.review_deliverable("x")  # type: ignore[arg-type]


# ----- HumanClient and QueueHuman -------------------------------------------------------


async def test_human_answers_through_the_queue(review_events):
    queue = QueueHuman(timeout=5)
    client = queue.client(profile(client_id="h1"))
    verdict = ClientFeedback(accepted=False, reason="Needs tests", unmet_criteria=[])
    results: dict[str, object] = {}

    async def person():
        question = await queue.next_question()
        assert question.kind == "requirement"
        assert queue.pending() == (question,)
        queue.answer(question.question_id, REQUIREMENT)
        question = await queue.next_question()
        assert question.kind == "review"
        assert question.context.deliverable == GOOD  # type: ignore[union-attr]
        queue.answer(question.question_id, verdict)

    async def simulation():
        results["requirement"] = await client.submit_requirement(SubmitContext())
        results["feedback"] = await client.review_deliverable(review(GOOD))

    async with anyio.create_task_group() as tg:
        tg.start_soon(person)
        tg.start_soon(simulation)
    assert results["requirement"] is REQUIREMENT
    feedback = results["feedback"]
    assert isinstance(feedback, ClientFeedback)
    assert (feedback.accepted, feedback.reason, feedback.client_id) == (
        False,
        "Needs tests",
        "h1",
    )
    assert queue.pending() == ()
    assert [name for name, _ in review_events()] == [
        events.CLIENT_REVIEW_STARTED,
        events.CLIENT_REVIEW_COMPLETED,
    ]


async def test_a_human_may_decline():
    queue = QueueHuman()
    client = queue.client(profile())
    async with anyio.create_task_group() as tg:

        async def person():
            question = await queue.next_question()
            queue.answer(question.question_id, None)

        tg.start_soon(person)
        assert await client.submit_requirement(SubmitContext()) is None


async def test_queue_timeout_is_a_clear_error():
    queue = QueueHuman(timeout=0.01)
    with pytest.raises(
        HumanTimeoutError, match=r"nobody answered review question 'q1'"
    ):
        await queue.ask_review(review(GOOD))
    assert queue.pending() == ()
    assert isinstance(HumanTimeoutError("x"), TimeoutError)


async def test_queue_rejects_bad_answers():
    queue = QueueHuman()
    with pytest.raises(ConfigError, match="no pending question 'q9'; pending: none"):
        queue.answer("q9", None)
    async with anyio.create_task_group() as tg:

        async def person():
            first = await queue.next_question()
            with pytest.raises(InvalidTypeError, match="asks for a review"):
                queue.answer(first.question_id, REQUIREMENT)
            with pytest.raises(InvalidTypeError, match="asks for a review"):
                queue.answer(first.question_id, None)
            queue.answer(first.question_id, ClientFeedback(accepted=True, reason=""))
            second = await queue.next_question()
            with pytest.raises(InvalidTypeError, match="asks for a requirement"):
                queue.answer(second.question_id, "text")  # type: ignore[arg-type]
            queue.answer(second.question_id, None)

        tg.start_soon(person)
        assert (await queue.ask_review(review(GOOD))).accepted
        assert await queue.ask_requirement(SubmitContext()) is None


@pytest.mark.parametrize("timeout", [0, -1, "5", True])
def test_queue_timeout_must_be_positive(timeout):
    with pytest.raises(
        ConfigError, match="timeout must be a number of seconds > 0 or None"
    ):
        QueueHuman(timeout=timeout)


async def test_human_callbacks_must_answer_the_right_type():
    async def wrong_requirement(context):
        return "req"

    async def wrong_review(context):
        return True

    client = HumanClient(
        profile(), ask_requirement=wrong_requirement, ask_review=wrong_review
    )
    with pytest.raises(InvalidTypeError, match="ask_requirement must return"):
        await client.submit_requirement(SubmitContext())
    with pytest.raises(InvalidTypeError, match="ask_review must return"):
        await client.review_deliverable(review(GOOD))


def test_human_bad_arguments():
    queue = QueueHuman()
    with pytest.raises(InvalidTypeError, match="profile"):
        HumanClient(
            "p",  # type: ignore[arg-type]
            ask_requirement=queue.ask_requirement,
            ask_review=queue.ask_review,
        )
    with pytest.raises(ConfigError, match="ask_review must be an async callable"):
        HumanClient(profile(), ask_requirement=queue.ask_requirement, ask_review=3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="input_fn must be"):
        ConsoleHuman(input_fn=None)  # type: ignore[arg-type]


# ----- ConsoleHuman ---------------------------------------------------------------------


def console(*answers: str) -> tuple[ConsoleHuman, list[str], list[str]]:
    lines = iter(answers)
    shown: list[str] = []
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        for line in lines:
            return line
        raise EOFError

    return ConsoleHuman(input_fn=read, output_fn=shown.append), shown, prompts


async def test_console_files_or_declines_a_proposal():
    human, shown, _ = console("maybe", "", "n")
    context = SubmitContext(proposal=REQUIREMENT)
    assert await human.ask_requirement(context) is REQUIREMENT
    assert "Password reset [backend]" in shown[0]
    assert "Please answer y or n." in shown
    assert await human.ask_requirement(context) is None


async def test_console_writes_a_requirement():
    human, _, _ = console("Dark mode", "", "Has a toggle; Remembers the choice ;")
    requirement = await human.ask_requirement(SubmitContext())
    assert requirement == TaskRequirement(
        title="Dark mode",
        description="Dark mode",
        acceptance_criteria=("Has a toggle", "Remembers the choice"),
    )
    declined, _, _ = console("")
    assert await declined.ask_requirement(SubmitContext()) is None
    ended, _, _ = console()
    with pytest.raises(SimulationError, match="input ended while asking"):
        await ended.ask_requirement(SubmitContext())


async def test_console_reviews():
    human, shown, _ = console("n", "Half done", "3", "2", "y", "Great")
    rejected = await human.ask_review(review(GOOD))
    assert rejected == ClientFeedback(
        accepted=False, reason="Half done", unmet_criteria=(CRITERIA[1],)
    )
    assert GOOD in shown[0]
    assert "Please give numbers from 1 to 2." in shown
    accepted = await human.ask_review(review(GOOD))
    assert accepted == ClientFeedback(accepted=True, reason="Great")


async def test_console_keeps_or_overrides_a_draft():
    draft = ClientFeedback(accepted=False, reason="AI says no", unmet_criteria=["x"])
    context = DraftedReviewContext(
        task=Task(task_id="t", requirement=REQUIREMENT),
        requirement=REQUIREMENT,
        deliverable=GOOD,
        draft=draft,
    )
    human, shown, _ = console("", "n", "y", "Fine by me")
    assert await human.ask_review(context) is draft
    assert "Draft verdict: reject: AI says no" in shown
    assert (await human.ask_review(context)).accepted


async def test_console_runs_as_a_human_client():
    human, _, prompts = console("y")
    client = human.client(profile())
    assert await client.submit_requirement(SubmitContext(proposal=REQUIREMENT))
    assert prompts == ["File it? [Y/n] "]


# ----- HybridClient ---------------------------------------------------------------------


async def test_hybrid_human_overrides_the_ai_review(review_events):
    seen: list[ReviewContext] = []

    async def ask_review(context):
        seen.append(context)
        return ClientFeedback(accepted=True, reason="Good enough for me")

    async def ask_requirement(context):
        return context.proposal

    ai = AIClient(profile(strictness=0.9))
    human = HumanClient(
        profile(client_id="h"), ask_requirement=ask_requirement, ask_review=ask_review
    )
    hybrid = HybridClient(ai, human)
    feedback = await hybrid.review_deliverable(review(POOR))
    assert feedback.accepted
    assert feedback.client_id == "c1"
    (context,) = seen
    assert isinstance(context, DraftedReviewContext)
    assert not context.draft.accepted
    assert context.draft.unmet_criteria == CRITERIA
    assert context.deliverable == POOR
    assert [name for name, _ in review_events()] == [
        events.CLIENT_REVIEW_STARTED,
        events.CLIENT_REVIEW_COMPLETED,
    ]
    assert review_events()[1][1]["accepted"] is True


async def test_hybrid_human_confirms_the_draft_through_the_queue():
    queue = QueueHuman(timeout=5)
    hybrid = HybridClient(AIClient(profile(0.2)), queue.client(profile()))
    async with anyio.create_task_group() as tg:

        async def person():
            question = await queue.next_question()
            assert isinstance(question.context, DraftedReviewContext)
            queue.answer(question.question_id, question.context.draft)

        tg.start_soon(person)
        feedback = await hybrid.review_deliverable(review(GOOD))
    assert feedback.accepted


async def test_hybrid_requirement_draft_and_override():
    contexts: list[SubmitContext] = []
    override = TaskRequirement(title="Mine", description="The human's own")

    async def ask_requirement(context):
        contexts.append(context)
        return override

    async def ask_review(context):
        raise AssertionError

    ai = AIClient(profile(strictness=1.0, domains=("backend",)))
    hybrid = HybridClient(
        ai,
        HumanClient(profile(), ask_requirement=ask_requirement, ask_review=ask_review),
    )
    assert await hybrid.submit_requirement(SubmitContext(round=1)) is override
    drafted = contexts[0]
    assert drafted.proposal is not None
    assert drafted.metadata["ai_draft"] is drafted.proposal
    assert drafted.metadata["ai_declined"] is False
    outside = TaskRequirement(title="Logo", description="d", domain="design")
    await hybrid.submit_requirement(SubmitContext(proposal=outside, metadata={"k": 1}))
    declined = contexts[1]
    assert declined.proposal is outside
    assert declined.metadata == {"k": 1, "ai_draft": None, "ai_declined": True}


async def test_hybrid_bad_arguments():
    ai = AIClient(profile())
    human = QueueHuman().client(profile())
    with pytest.raises(InvalidTypeError, match="ai must be an AIClient"):
        HybridClient(human, human)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="human must be a HumanClient"):
        HybridClient(ai, ai)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="ReviewContext"):
        await HybridClient(ai, human).review_deliverable("x")  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="ReviewContext"):
        await human.review_deliverable("x")  # type: ignore[arg-type]
