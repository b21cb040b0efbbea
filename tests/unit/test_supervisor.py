"""Multi-turn supervision: decisions, the mock and LLM supervisors, the participant,
its termination, through the full and hybrid runners."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import anyio
import pytest
from langchain_core.language_models import BaseChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim import (
    Conversation,
    FullSimulationRunner,
    Intent,
    LLMParticipant,
    Message,
    MessageDraft,
    ParticipantRole,
    ScriptedParticipant,
    TokenUsage,
)
from clientsim.channels import TargetChannel
from clientsim.errors import (
    ConfigError,
    InvalidModelOutputError,
    ModelError,
    ParticipantError,
)
from clientsim.llm import OfflineChatModel
from clientsim.participants.supervised import (
    SupervisorParticipant,
    SupervisorTermination,
)
from clientsim.participants.supervisor import (
    DEFAULT_SUPERVISOR_PROMPT,
    LLMSupervisor,
    MockSupervisor,
    Supervisor,
    SupervisorDecision,
)
from clientsim.runners import HybridSimulationRunner
from clientsim.termination import TerminationContext


CUSTOMER = ParticipantRole.CUSTOMER
AGENT = ParticipantRole.AGENT

# The seed's scripted-playback example.
SCRIPT = ["What are your hours?", "Do you offer refunds?", "Thanks, that's all I need."]
CLOSING = "Thanks for the help. I have no further questions."
FIRST_INPUT = "Hi, I'd like to know more about your store."


def said(result, role=None):
    return [
        m.content
        for m in result.conversation.messages
        if role is None or m.sender is role
    ]


def run_full(customer, agent, outcomes, base_time, **kwargs):
    kwargs.setdefault("termination", SupervisorTermination(customer))
    return FullSimulationRunner(
        customer=customer,
        agent=agent,
        initial_message=MessageDraft(FIRST_INPUT, CUSTOMER),
        intent=None,
        outcomes=outcomes,
        base_timestamp=base_time,
        **kwargs,
    ).run()


def chat(base_time, *lines):
    """A conversation from ``("customer" | "agent", text)`` pairs, a second apart."""
    return Conversation(
        tuple(
            Message(text, base_time + timedelta(seconds=i), ParticipantRole(role))
            for i, (role, text) in enumerate(lines)
        )
    )


def context(conversation, outcomes):
    return TerminationContext(
        conversation=conversation, intent=None, outcomes=outcomes, elapsed_seconds=0.0
    )


class ToolCaller(BaseChatModel):
    """Answers every structured-output call with a fixed tool call (the next answer)."""

    answers: list[dict[str, Any]] = Field(default_factory=list)
    temperature: float = 1.0
    seen: list[Any] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "tool-caller"

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append((self.temperature, list(messages)))
        name = kwargs["tools"][0]["function"]["name"]
        args = self.answers[min(len(self.seen), len(self.answers)) - 1]
        message = AIMessage(
            content="",
            tool_calls=[{"name": name, "args": args, "id": "c1", "type": "tool_call"}],
            usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
        return self._generate(messages, **kwargs)


def go_on(text, reason="more to ask"):
    return {"action": "continue", "reason": reason, "next_message": text, "closing": ""}


def stop(reason, closing=""):
    return {
        "action": "terminate",
        "reason": reason,
        "next_message": "",
        "closing": closing,
    }


# ----- SupervisorDecision ------------------------------------------------------------


def test_decision_helpers_and_validation():
    assert SupervisorDecision.proceed("Any refunds?") == SupervisorDecision(
        action="continue", reason="", next_message="Any refunds?"
    )
    done = SupervisorDecision.terminate("resolved", closing="Bye!")
    assert (done.action, done.reason, done.closing) == ("terminate", "resolved", "Bye!")
    with pytest.raises(ConfigError, match="action must be 'continue' or 'terminate'"):
        SupervisorDecision(action="maybe")
    with pytest.raises(ConfigError, match="next_message must be a non-empty string"):
        SupervisorDecision(action="continue", next_message="  ")
    with pytest.raises(ConfigError, match="reason must be a string"):
        SupervisorDecision(action="terminate", reason=3)
    with pytest.raises(ConfigError, match="closing must be a string or None"):
        SupervisorDecision(action="terminate", closing=b"bye")


# ----- MockSupervisor ----------------------------------------------------------------


async def test_mock_plays_the_script_then_terminates(base_time):
    mock = MockSupervisor(SCRIPT)
    assert isinstance(mock, Supervisor)
    conversation = chat(base_time, ("customer", "hi"))
    decisions = [await mock.decide(conversation) for _ in range(5)]
    assert [d.next_message for d in decisions[:3]] == SCRIPT
    assert {d.action for d in decisions[:3]} == {"continue"}
    assert decisions[0].reason == "scripted question 1 of 3"
    assert decisions[3] == SupervisorDecision.terminate("script_complete", CLOSING)
    assert decisions[4] == decisions[3]
    assert mock.remaining == 0
    assert mock.token_usage == TokenUsage()


async def test_mock_continue_after_the_script_repeats_the_closing(base_time):
    mock = MockSupervisor(
        ["Q1"], mock_decision="continue", mock_reason="keep going", mock_closing="More?"
    )
    conversation = chat(base_time, ("customer", "hi"))
    decisions = [await mock.decide(conversation) for _ in range(3)]
    assert [d.next_message for d in decisions] == ["Q1", "More?", "More?"]
    assert decisions[2] == SupervisorDecision.proceed("More?", "keep going")


async def test_mock_blank_closing_means_none(base_time):
    mock = MockSupervisor(mock_closing="  ", mock_reason="done")
    decision = await mock.decide(chat(base_time, ("customer", "hi")))
    assert decision == SupervisorDecision.terminate("done", None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scripted_questions": "What are your hours?"}, "must be a list of strings"),
        ({"scripted_questions": ["ok", ""]}, r"scripted_questions\[1\] must be"),
        ({"scripted_questions": [3]}, r"scripted_questions\[0\] must be"),
        ({"mock_decision": "stop"}, "mock_decision must be 'terminate' or 'continue'"),
        ({"mock_reason": None}, "mock_reason must be a string"),
        ({"mock_closing": 7}, "mock_closing must be a string or None"),
        (
            {"mock_decision": "continue", "mock_closing": None},
            "mock_decision 'continue' needs a mock_closing",
        ),
    ],
)
def test_mock_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        MockSupervisor(**kwargs)


def test_mock_from_the_seed_metadata():
    mock = MockSupervisor.from_metadata(
        {
            "scripted_questions": SCRIPT,
            "mock_decision": "terminate",
            "mock_reason": "script_complete",
            "mock_closing": CLOSING,
        }
    )
    assert mock.scripted_questions == tuple(SCRIPT)
    assert MockSupervisor.from_metadata(None).scripted_questions == ()
    assert MockSupervisor.from_metadata({"scripted_questions": []}).remaining == 0
    with pytest.raises(
        ConfigError, match=r"unknown mock supervisor option.*'mock_closng'"
    ):
        MockSupervisor.from_metadata({"mock_closng": "bye"})


# ----- the participant and termination through the full runner -----------------------


async def test_scripted_example_end_to_end(outcomes, base_time):
    customer = SupervisorParticipant(MockSupervisor(SCRIPT))
    agent = ScriptedParticipant(
        AGENT,
        [
            "Welcome! What would you like to know?",
            "We're open 9 to 5, Monday to Friday.",
            "Yes, within 30 days of purchase.",
            "You're welcome!",
            "Have a great day!",
        ],
    )
    result = await run_full(customer, agent, outcomes, base_time)
    assert said(result, CUSTOMER) == [FIRST_INPUT, *SCRIPT, CLOSING]
    assert said(result) == [
        FIRST_INPUT,
        "Welcome! What would you like to know?",
        "What are your hours?",
        "We're open 9 to 5, Monday to Friday.",
        "Do you offer refunds?",
        "Yes, within 30 days of purchase.",
        "Thanks, that's all I need.",
        "You're welcome!",
        CLOSING,
    ]
    assert result.ending.reason == "supervisor"
    assert result.ending.detail == "script_complete"
    assert result.ending.message_count == 9
    assert result.error is None
    assert len(customer.decisions) == 4
    assert customer.final_decision == SupervisorDecision.terminate(
        "script_complete", CLOSING
    )
    assert customer.token_usage == TokenUsage()
    messages = result.conversation.messages
    assert all(a.timestamp < b.timestamp for a, b in itertools.pairwise(messages))


async def test_scripted_example_against_an_offline_llm_agent(outcomes, base_time):
    customer = SupervisorParticipant(MockSupervisor(SCRIPT), seed=3)
    agent = LLMParticipant(AGENT, OfflineChatModel(seed=3))
    result = await run_full(customer, agent, outcomes, base_time)
    assert said(result, CUSTOMER) == [FIRST_INPUT, *SCRIPT, CLOSING]
    assert len(said(result, AGENT)) == 4
    assert (result.ending.reason, result.ending.detail) == (
        "supervisor",
        "script_complete",
    )
    assert result.token_usage.customer == TokenUsage()
    assert result.token_usage.agent.calls == 4


async def test_max_turns_caps_customer_messages(outcomes, base_time):
    supervisor = MockSupervisor(["Q1", "Q2", "Q3", "Q4"])
    customer = SupervisorParticipant(supervisor, max_turns=3)
    agent = ScriptedParticipant(AGENT, [f"A{i}" for i in range(1, 10)])
    result = await run_full(customer, agent, outcomes, base_time)
    assert said(result) == [FIRST_INPUT, "A1", "Q1", "A2", "Q2", "A3"]
    assert result.ending.reason == "max_turns"
    assert "3 turns" in result.ending.detail
    assert supervisor.remaining == 2  # asked twice: after turns 1 and 2
    assert len(customer.decisions) == 2
    # the termination strategy ended it on the cap: the participant's record says so
    assert customer.capped
    assert customer.final_decision == SupervisorDecision.terminate("max_turns")


async def test_max_turns_without_the_termination_strategy(outcomes, base_time):
    supervisor = MockSupervisor(["Q1", "Q2"])
    customer = SupervisorParticipant(supervisor, max_turns=2)
    agent = ScriptedParticipant(AGENT, ["A1", "A2", "A3"])
    result = await run_full(customer, agent, outcomes, base_time, termination=None)
    assert said(result) == [FIRST_INPUT, "A1", "Q1", "A2"]
    assert result.ending.reason == "both_passed"
    assert customer.capped
    assert customer.finished
    assert customer.final_decision == SupervisorDecision.terminate("max_turns")
    termination = SupervisorTermination(customer)
    ending = await termination.check(context(result.conversation, outcomes))
    assert ending.reason == "max_turns"


async def test_max_turns_one_stops_after_the_first_reply(outcomes, base_time):
    supervisor = MockSupervisor(["never asked"])
    customer = SupervisorParticipant(supervisor, max_turns=1)
    result = await run_full(
        customer, ScriptedParticipant(AGENT, ["A1"]), outcomes, base_time
    )
    assert said(result) == [FIRST_INPUT, "A1"]
    assert result.ending.reason == "max_turns"
    assert supervisor.remaining == 1


async def test_the_supervisor_ending_wins_over_the_cap_on_the_same_message(
    outcomes, base_time
):
    customer = SupervisorParticipant(MockSupervisor(["Q1"]), max_turns=3)
    agent = ScriptedParticipant(AGENT, ["A1", "A2", "A3"])
    result = await run_full(customer, agent, outcomes, base_time)
    assert said(result, CUSTOMER) == [FIRST_INPUT, "Q1", CLOSING]
    assert result.ending.reason == "supervisor"


async def test_mock_continue_runs_to_the_cap(outcomes, base_time):
    supervisor = MockSupervisor(["Q1"], mock_decision="continue", mock_closing="And?")
    customer = SupervisorParticipant(supervisor, max_turns=4)
    agent = ScriptedParticipant(AGENT, [f"A{i}" for i in range(1, 10)])
    result = await run_full(customer, agent, outcomes, base_time)
    assert said(result, CUSTOMER) == [FIRST_INPUT, "Q1", "And?", "And?"]
    assert result.ending.reason == "max_turns"


async def test_terminate_without_closing_passes_and_the_runner_ends(
    outcomes, base_time
):
    supervisor = MockSupervisor(["Q1"], mock_closing=None, mock_reason="done")
    customer = SupervisorParticipant(supervisor)
    agent = ScriptedParticipant(AGENT, ["A1", "A2"])
    result = await run_full(customer, agent, outcomes, base_time)
    assert said(result) == [FIRST_INPUT, "A1", "Q1", "A2"]
    # The runner sees both sides pass before any strategy is asked again.
    assert result.ending.reason == "both_passed"
    assert customer.final_decision == SupervisorDecision.terminate("done")
    assert customer.finished
    ending = await SupervisorTermination(customer).check(
        context(result.conversation, outcomes)
    )
    assert (ending.reason, ending.detail) == ("supervisor", "done")


async def test_a_custom_supervisor_ending_without_a_reason(outcomes, base_time):
    class Polite:
        def __init__(self):
            self.token_usage = TokenUsage()

        async def decide(self, conversation):
            self.token_usage = self.token_usage + TokenUsage(calls=1)
            return SupervisorDecision(action="terminate", closing="Bye now")

    customer = SupervisorParticipant(Polite())
    result = await run_full(
        customer, ScriptedParticipant(AGENT, ["A1"]), outcomes, base_time
    )
    assert said(result) == [FIRST_INPUT, "A1", "Bye now"]
    assert result.ending.reason == "supervisor"
    assert result.ending.detail == "the supervisor ended the conversation"
    assert result.token_usage.customer == TokenUsage(calls=1)


async def test_a_supervisor_returning_garbage_is_a_participant_error(
    outcomes, base_time
):
    class Broken:
        token_usage = 42

        async def decide(self, conversation):
            return "continue"

    customer = SupervisorParticipant(Broken())
    assert customer.token_usage == TokenUsage()
    result = await run_full(
        customer, ScriptedParticipant(AGENT, ["A1"]), outcomes, base_time
    )
    assert result.ending.reason == "error"
    assert result.error.source == "customer"
    assert "Broken.decide returned str" in result.error.message
    with pytest.raises(ParticipantError, match="must return a SupervisorDecision"):
        await SupervisorParticipant(Broken()).get_next_message(
            chat(base_time, ("customer", "hi"), ("agent", "hello"))
        )


# ----- participant details, called directly ------------------------------------------


async def test_passes_while_the_agent_has_not_answered(base_time):
    supervisor = MockSupervisor(["Q1"])
    customer = SupervisorParticipant(supervisor)
    assert await customer.get_next_message(chat(base_time, ("customer", "hi"))) is None
    assert supervisor.remaining == 1
    assert customer.decisions == []


async def test_a_discarded_proposal_is_offered_again_without_asking(base_time):
    supervisor = MockSupervisor(["Q1", "Q2"])
    customer = SupervisorParticipant(supervisor)
    first = chat(base_time, ("customer", "hi"), ("agent", "hello"))
    proposal = await customer.get_next_message(first)
    assert proposal.content == "Q1"
    assert proposal.sender is CUSTOMER
    assert proposal.timestamp > first.messages[-1].timestamp
    # The runner appended the agent's second message instead.
    later = Message("anything else?", proposal.timestamp + timedelta(seconds=5), AGENT)
    second = first.with_message(later)
    again = await customer.get_next_message(second)
    assert again.content == "Q1"
    assert again.timestamp > later.timestamp
    assert supervisor.remaining == 1
    # Once it lands, the next agent reply brings the next question.
    landed = second.with_message(again)
    assert await customer.get_next_message(landed) is None
    reply = Message("sure", again.timestamp + timedelta(seconds=3), AGENT)
    nxt = await customer.get_next_message(landed.with_message(reply))
    assert nxt.content == "Q2"


async def test_a_discarded_closing_is_offered_again_and_ends_only_once_landed(
    base_time, outcomes
):
    customer = SupervisorParticipant(MockSupervisor([], mock_closing="Bye"))
    termination = SupervisorTermination(customer)
    first = chat(base_time, ("customer", "hi"), ("agent", "hello"))
    closing = await customer.get_next_message(first)
    assert closing.content == "Bye"
    assert customer.ended(first) is None
    assert await termination.check(context(first, outcomes)) is None
    interrupted = first.with_message(
        Message("one more thing", closing.timestamp + timedelta(seconds=1), AGENT)
    )
    assert customer.ended(interrupted) is None
    again = await customer.get_next_message(interrupted)
    assert again.content == "Bye"
    done = interrupted.with_message(again)
    ending = await termination.check(context(done, outcomes))
    assert (ending.reason, ending.detail) == ("supervisor", "script_complete")
    assert await customer.get_next_message(done) is None
    assert customer.finished
    assert len(customer.decisions) == 1


async def test_an_empty_conversation_asks_for_the_opening_message():
    customer = SupervisorParticipant(MockSupervisor(["I need help"]))
    opener = await customer.get_next_message(Conversation(()))
    assert (opener.content, opener.sender) == ("I need help", CUSTOMER)


@pytest.mark.parametrize("bad", [0, -1, True, 2.0, "3"])
def test_max_turns_must_be_a_positive_int(bad):
    with pytest.raises(ConfigError, match="max_turns must be None or an int >= 1"):
        SupervisorParticipant(MockSupervisor(), max_turns=bad)


def test_rejects_what_is_not_a_supervisor_or_participant():
    with pytest.raises(ConfigError, match="async decide"):
        SupervisorParticipant(object())
    with pytest.raises(ConfigError, match="watches a SupervisorParticipant"):
        SupervisorTermination(ScriptedParticipant(CUSTOMER, ["hi"]))


async def test_termination_waits_for_the_agent_before_the_cap(base_time, outcomes):
    customer = SupervisorParticipant(MockSupervisor(), max_turns=2)
    termination = SupervisorTermination(customer)
    conversation = chat(
        base_time, ("customer", "c1"), ("agent", "a1"), ("customer", "c2")
    )
    assert await termination.check(context(conversation, outcomes)) is None
    answered = conversation.with_message(
        Message("a2", base_time + timedelta(seconds=9), AGENT)
    )
    ending = await termination.check(context(answered, outcomes))
    assert (ending.reason, ending.message_count) == ("max_turns", 4)


# ----- LLMSupervisor -----------------------------------------------------------------


async def test_llm_supervisor_on_the_offline_model_ends_the_conversation(
    outcomes, base_time
):
    supervisor = LLMSupervisor(
        OfflineChatModel(seed=1),
        persona="Sam, a busy nurse",
        intent="Reset my password",
    )
    customer = SupervisorParticipant(supervisor, max_turns=4)
    # An agent that never ends the chat itself: only the supervisor or the cap can.
    agent = ScriptedParticipant(AGENT, [f"Agent answer {i}" for i in range(10)])
    with anyio.fail_after(10):
        result = await run_full(customer, agent, outcomes, base_time)
    assert result.error is None
    assert result.ending.reason in {"supervisor", "max_turns"}
    assert customer.decisions
    for decision in customer.decisions:
        assert isinstance(decision, SupervisorDecision)
        assert decision.action in {"continue", "terminate"}
    customer_said = said(result, CUSTOMER)
    assert len(customer_said) <= 5  # the cap, plus a closing message at most
    assert result.token_usage.customer.calls == len(customer.decisions)
    assert result.token_usage.customer.total_tokens > 0
    assert result.token_usage.judge == TokenUsage()


async def test_llm_supervisor_accepts_a_model_spec(base_time):
    supervisor = LLMSupervisor("offline", temperature=0.5)
    decision = await supervisor.decide(
        chat(base_time, ("customer", "hi"), ("agent", "hey"))
    )
    assert isinstance(decision, SupervisorDecision)


async def test_a_model_without_structured_output_is_a_clear_model_error(base_time):
    supervisor = LLMSupervisor(GenericFakeChatModel(messages=iter(["continue"])))
    with pytest.raises(ModelError, match="does not support structured output"):
        await supervisor.decide(chat(base_time, ("customer", "hi"), ("agent", "hey")))


async def test_continue_and_terminate_from_a_tool_call(outcomes, base_time):
    model = ToolCaller(
        answers=[
            go_on("Do you ship abroad?"),
            go_on("  How much is it?  "),
            stop("all answered", "Great, thanks!"),
        ]
    )
    supervisor = LLMSupervisor(model, persona="Ana", intent="Buy a lamp")
    customer = SupervisorParticipant(supervisor)
    agent = ScriptedParticipant(AGENT, ["Hello!", "Yes.", "$20.", "Bye."])
    result = await run_full(customer, agent, outcomes, base_time)
    assert said(result, CUSTOMER) == [
        FIRST_INPUT,
        "Do you ship abroad?",
        "How much is it?",
        "Great, thanks!",
    ]
    assert (result.ending.reason, result.ending.detail) == (
        "supervisor",
        "all answered",
    )
    assert customer.decisions[0].reason == "more to ask"
    assert result.token_usage.customer == TokenUsage(
        input_tokens=30, output_tokens=15, total_tokens=45, calls=3
    )
    # The model saw the chat from the customer's side.
    _, messages = model.seen[-1]
    kinds = [(m.type, m.text) for m in messages]
    assert kinds[0][0] == "system"
    assert kinds[1:4] == [
        ("ai", FIRST_INPUT),
        ("human", "Hello!"),
        ("ai", "Do you ship abroad?"),
    ]


async def test_terminate_with_empty_closing_has_none(base_time):
    supervisor = LLMSupervisor(ToolCaller(answers=[stop("goal met")]))
    decision = await supervisor.decide(
        chat(base_time, ("customer", "hi"), ("agent", "ok"))
    )
    assert decision == SupervisorDecision.terminate("goal met", None)


@pytest.mark.parametrize(
    ("answer", "field", "problem"),
    [
        (
            {"action": "maybe", "reason": "", "next_message": "x", "closing": ""},
            "action",
            "must be 'continue' or 'terminate'",
        ),
        ({"reason": "r", "next_message": "x"}, "action", "got None"),
        (go_on(""), "next_message", "needs the customer's next message"),
        (
            {"action": "continue", "reason": "r", "next_message": None},
            "next_message",
            "needs the customer's next message",
        ),
        (
            {"action": "terminate", "reason": 4, "next_message": "", "closing": ""},
            "reason",
            "must be a string",
        ),
        (
            {"action": "terminate", "reason": "r", "closing": ["bye"]},
            "closing",
            "must be a string",
        ),
    ],
)
async def test_invalid_answers_name_the_field(base_time, answer, field, problem):
    supervisor = LLMSupervisor(ToolCaller(answers=[answer]))
    conversation = chat(base_time, ("customer", "hi"), ("agent", "ok"))
    with pytest.raises(InvalidModelOutputError, match=f"'{field}' field.*{problem}"):
        await supervisor.decide(conversation)
    assert supervisor.token_usage.calls == 1


async def test_temperature_is_set_on_a_copy_when_the_model_has_one(base_time):
    model = ToolCaller(answers=[go_on("hi")])
    supervisor = LLMSupervisor(model, temperature=0.2)
    await supervisor.decide(chat(base_time, ("customer", "hi"), ("agent", "ok")))
    assert model.seen[-1][0] == 0.2
    assert model.temperature == 1.0
    untouched = LLMSupervisor(model)
    await untouched.decide(chat(base_time, ("customer", "hi"), ("agent", "ok")))
    assert model.seen[-1][0] == 1.0
    # A model without a temperature field ignores it.
    offline = LLMSupervisor(OfflineChatModel(), temperature=0.9)
    await offline.decide(chat(base_time, ("customer", "hi"), ("agent", "ok")))


def test_the_system_prompt(base_time):
    supervisor = LLMSupervisor(
        "offline", persona="Sam, a busy nurse.", intent="Cancel my plan"
    )
    prompt = supervisor.system_prompt
    assert prompt.startswith(DEFAULT_SUPERVISOR_PROMPT)
    assert "Who the customer is: Sam, a busy nurse." in prompt
    assert "Your goal as this customer: Cancel my plan" in prompt
    custom = LLMSupervisor(
        "offline",
        system_prompt="You supervise a support AI for a shop.",
        intent=Intent(role=CUSTOMER, description="Return a lamp"),
    )
    assert custom.system_prompt.startswith("You supervise a support AI for a shop.")
    assert DEFAULT_SUPERVISOR_PROMPT not in custom.system_prompt
    assert "Your goal as this customer: Return a lamp" in custom.system_prompt
    opening = supervisor.turns(Conversation(()))
    assert [t.role for t in opening] == ["system", "user"]
    view = supervisor.turns(chat(base_time, ("customer", "hi"), ("agent", "hello")))
    assert [(t.role, t.content) for t in view[1:]] == [
        ("assistant", "hi"),
        ("user", "hello"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": 42}, "model must be a model spec string"),
        ({"system_prompt": 1}, "system_prompt must be a string or None"),
        ({"persona": None}, "persona must be a string"),
        ({"temperature": -0.1}, "temperature must be None or a number >= 0"),
        ({"temperature": True}, "temperature must be None or a number >= 0"),
        ({"intent": 5}, "intent must be a description string"),
        (
            {"intent": Intent(role=AGENT, description="Sell more")},
            "intent must be the customer's",
        ),
    ],
)
def test_llm_supervisor_rejects_bad_arguments(kwargs, message):
    kwargs.setdefault("model", "offline")
    with pytest.raises(ConfigError, match=message):
        LLMSupervisor(**kwargs)


# ----- hybrid runner against a plain function agent ----------------------------------


def shop_agent(message: str) -> str:
    if "hours" in message:
        return "We're open 9 to 5."
    if "refund" in message:
        return "Yes, within 30 days."
    return f"Happy to help with: {message}"


async def run_hybrid(customer, outcomes, **kwargs):
    runner = HybridSimulationRunner(
        customer,
        TargetChannel(shop_agent),
        None,
        outcomes,
        initial_message=MessageDraft(FIRST_INPUT, CUSTOMER),
        termination=SupervisorTermination(customer),
        reply_timeout_seconds=5.0,
        quiet_period_seconds=0.5,
        **kwargs,
    )
    with anyio.fail_after(10):
        return await runner.run()


async def test_hybrid_run_against_a_function_agent(outcomes):
    customer = SupervisorParticipant(MockSupervisor(SCRIPT))
    result = await run_hybrid(customer, outcomes)
    assert result.error is None
    assert said(result) == [
        FIRST_INPUT,
        f"Happy to help with: {FIRST_INPUT}",
        "What are your hours?",
        "We're open 9 to 5.",
        "Do you offer refunds?",
        "Yes, within 30 days.",
        "Thanks, that's all I need.",
        "Happy to help with: Thanks, that's all I need.",
        CLOSING,
    ]
    assert (result.ending.reason, result.ending.detail) == (
        "supervisor",
        "script_complete",
    )


async def test_hybrid_run_with_the_turn_cap(outcomes):
    customer = SupervisorParticipant(MockSupervisor(SCRIPT), max_turns=2)
    result = await run_hybrid(customer, outcomes)
    assert said(result, CUSTOMER) == [FIRST_INPUT, "What are your hours?"]
    assert said(result)[-1] == "We're open 9 to 5."
    assert result.ending.reason == "max_turns"


async def test_hybrid_run_with_the_offline_llm_supervisor(outcomes):
    supervisor = LLMSupervisor("offline", intent="Find out the opening hours")
    customer = SupervisorParticipant(supervisor, max_turns=3)
    result = await run_hybrid(customer, outcomes)
    assert result.error is None
    assert result.ending.reason in {"supervisor", "max_turns"}
    assert len(said(result, CUSTOMER)) <= 4
