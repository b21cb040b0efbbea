"""Feedback strategies: offline verdicts, strictness, determinism and the LLM path."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim.clients.base import ReviewContext
from clientsim.errors import ConfigError, InvalidModelOutputError, InvalidTypeError
from clientsim.feedback import (
    BUILTINS,
    DEFAULT_RUBRIC,
    AdversarialFeedback,
    BinaryFeedback,
    CriteriaCheckFeedback,
    FeedbackStrategy,
    ScoredFeedback,
)
from clientsim.feedback.base import content_words, coverage, picky_chance, threshold
from clientsim.models import TokenUsage
from clientsim.models.client import ClientProfile, Task, TaskRequirement


CRITERIA = (
    "Users can reset their password by email",
    "The reset link expires after one hour",
    "Failed attempts are logged with a timestamp",
    "Unit tests cover the reset flow",
)
REQUIREMENT = TaskRequirement(
    title="Password reset",
    description="Let users reset a forgotten password.",
    acceptance_criteria=CRITERIA,
    domain="backend",
)
GOOD = (
    "Users can now reset their password by email: the reset link expires after one "
    "hour, failed attempts are logged with a timestamp, and unit tests cover the "
    "whole reset flow end to end."
)
POOR = "I had a look at the login page and changed some colours."
PARTIAL = (
    "Users can reset their password by email and the reset link expires after one "
    "hour. Unit tests cover the reset flow."
)
FILLER = (
    "we",
    "worked",
    "carefully",
    "checked",
    "everything",
    "twice",
    "before",
    "sending",
)


def profile(strictness: float = 0.5, client_id: str = "c1") -> ClientProfile:
    return ClientProfile(
        client_id=client_id,
        name="Ada",
        persona="A precise CTO",
        expertise_domains=("backend",),
        strictness_level=strictness,
    )


def review(deliverable: str, *, seed: int = 0, task_id: str = "t1") -> ReviewContext:
    return ReviewContext(
        task=Task(task_id=task_id, requirement=REQUIREMENT),
        requirement=REQUIREMENT,
        deliverable=deliverable,
        seed=seed,
    )


def varied(count: int, seed: int) -> list[str]:
    """Deliverables of varying quality: a random share of the criteria's words."""
    rng = random.Random(seed)
    words = [word for criterion in CRITERIA for word in criterion.split()]
    out = []
    for _ in range(count):
        quality = rng.random()
        kept = [word for word in words if rng.random() < quality]
        out.append(" ".join(kept + rng.sample(FILLER, 5)))
    return out


STRATEGIES = sorted(BUILTINS)


# ----- the heuristic's pieces ------------------------------------------------------


def test_content_words_and_coverage():
    assert content_words("Add the tests, for THE login forms!") == {
        "add",
        "test",
        "login",
        "form",
    }
    assert coverage("Handles empty input", "It handles empty input.") == 1.0
    assert coverage("Handles empty input", "Nothing here") == 0.0
    assert coverage("the and", "anything") == 1.0  # no content words: covered
    assert coverage("login form", content_words("the login")) == 0.5


def test_threshold_and_picky_chance_rise_with_strictness():
    levels = [0.0, 0.1, 0.5, 0.9, 1.0]
    bars = [threshold(s) for s in levels]
    chances = [picky_chance(s) for s in levels]
    assert bars == sorted(bars)
    assert len(set(bars)) == len(bars)
    assert chances == sorted(chances)
    assert chances[0] == 0.0


# ----- verdicts --------------------------------------------------------------------


@pytest.mark.parametrize("name", STRATEGIES)
async def test_good_is_accepted_and_poor_rejected(name):
    strategy = BUILTINS[name](client_id="c9")
    assert isinstance(strategy, FeedbackStrategy)
    good = await strategy.evaluate(review(GOOD), profile(0.3))
    poor = await strategy.evaluate(review(POOR), profile(0.3))
    assert good.accepted, good.reason
    assert not poor.accepted
    assert good.client_id == poor.client_id == "c9"
    assert poor.reason


async def test_client_id_defaults_to_the_profile():
    feedback = await BinaryFeedback().evaluate(review(GOOD), profile(client_id="zed"))
    assert feedback.client_id == "zed"


async def test_criteria_check_lists_the_unmet_criteria():
    feedback = await CriteriaCheckFeedback().evaluate(review(PARTIAL), profile(0.2))
    assert not feedback.accepted
    assert feedback.unmet_criteria == (CRITERIA[2],)
    assert "3 of 4" in feedback.reason
    poor = await CriteriaCheckFeedback().evaluate(review(POOR), profile(0.2))
    assert poor.unmet_criteria == CRITERIA


async def test_scored_gives_every_rubric_dimension():
    feedback = await ScoredFeedback().evaluate(review(GOOD), profile(0.3))
    assert feedback.scores is not None
    assert set(feedback.scores) == set(DEFAULT_RUBRIC)
    assert all(0.0 <= s <= 1.0 for s in feedback.scores.values())
    poor = await ScoredFeedback().evaluate(review(POOR), profile(0.3))
    assert poor.scores is not None
    assert poor.scores["correctness"] < feedback.scores["correctness"]
    assert poor.unmet_criteria == CRITERIA


async def test_scored_custom_rubric():
    strategy = ScoredFeedback({"correctness": 3, "tone": 1})
    feedback = await strategy.evaluate(review(GOOD), profile(0.3))
    assert feedback.scores is not None
    assert set(feedback.scores) == {"correctness", "tone"}


async def test_binary_lists_nothing_unmet():
    feedback = await BinaryFeedback().evaluate(review(POOR), profile(0.5))
    assert not feedback.accepted
    assert feedback.unmet_criteria == ()
    assert feedback.scores is None


async def test_a_blank_deliverable_is_rejected_by_every_strategy():
    for name in STRATEGIES:
        feedback = await BUILTINS[name]().evaluate(review("   "), profile(0.0))
        assert not feedback.accepted, name


async def test_without_criteria_the_title_is_judged():
    requirement = TaskRequirement(title="Write a haiku about rain", description="d")
    context = ReviewContext(
        task=Task(task_id="t", requirement=requirement),
        requirement=requirement,
        deliverable="A haiku about rain: drops write on the window.",
    )
    feedback = await CriteriaCheckFeedback().evaluate(context, profile(0.5))
    assert feedback.accepted


async def test_adversarial_is_vague_or_invents_expectations():
    strategy = AdversarialFeedback(ambiguity=1.0)
    invented = await strategy.evaluate(review(GOOD), profile(0.5))
    assert not invented.accepted
    assert len(invented.unmet_criteria) == 1
    assert invented.unmet_criteria[0] not in CRITERIA
    vague = await strategy.evaluate(review(POOR), profile(0.5))
    assert not vague.accepted
    assert vague.unmet_criteria == ()
    plain = AdversarialFeedback(ambiguity=0.0)
    assert (await plain.evaluate(review(GOOD), profile(0.0))).accepted
    specific = await plain.evaluate(review(POOR), profile(0.0))
    assert specific.unmet_criteria == CRITERIA


# ----- strictness and determinism ----------------------------------------------------


@pytest.mark.parametrize("name", STRATEGIES)
async def test_acceptance_falls_as_strictness_rises(name):
    deliverables = varied(300, seed=7)
    rates = []
    for strictness in (0.1, 0.5, 0.9):
        strategy = BUILTINS[name]()
        accepted = 0
        for index, deliverable in enumerate(deliverables):
            context = review(deliverable, seed=index, task_id=f"t{index}")
            accepted += (await strategy.evaluate(context, profile(strictness))).accepted
        rates.append(accepted / len(deliverables))
    assert rates[0] > rates[1] > rates[2], rates
    assert rates[0] > 0.2


@pytest.mark.parametrize("name", STRATEGIES)
async def test_same_seed_same_feedback(name):
    deliverables = varied(40, seed=3)
    first = [
        await BUILTINS[name](seed=5).evaluate(review(d, seed=i), profile(0.7))
        for i, d in enumerate(deliverables)
    ]
    second = [
        await BUILTINS[name](seed=5).evaluate(review(d, seed=i), profile(0.7))
        for i, d in enumerate(deliverables)
    ]
    assert first == second


async def test_the_seed_changes_picky_choices():
    deliverables = [GOOD] * 60
    verdicts = {
        seed: [
            (
                await CriteriaCheckFeedback(seed=seed).evaluate(
                    review(d, seed=i), profile(1.0)
                )
            ).accepted
            for i, d in enumerate(deliverables)
        ]
        for seed in (1, 2)
    }
    assert verdicts[1] != verdicts[2]
    assert not all(verdicts[1])
    assert any(verdicts[1])


# ----- configuration ----------------------------------------------------------------


def test_builtins_and_from_config():
    assert set(BUILTINS) == {"binary", "scored", "criteria_check", "adversarial"}
    assert BUILTINS["binary"] is BinaryFeedback
    scored = ScoredFeedback.from_config(rubric={"a": 1}, client_id="c", seed=3)
    assert (scored.rubric, scored.client_id, scored.seed) == ({"a": 1.0}, "c", 3)
    adversarial = AdversarialFeedback.from_config(ambiguity=0.2, model="offline")
    assert (adversarial.ambiguity, adversarial.model) == (0.2, "offline")
    assert BinaryFeedback.from_config().model is None
    assert CriteriaCheckFeedback.from_config(client_id="x").client_id == "x"
    assert "BinaryFeedback(client_id=None" in repr(BinaryFeedback())
    with pytest.raises(
        ConfigError,
        match=r"unknown option 'rubric' for feedback "
        r"strategy 'binary'; its options are: 'client_id', 'model', 'seed'",
    ):
        BinaryFeedback.from_config(rubric={"a": 1})
    with pytest.raises(ConfigError, match="rubric weight"):
        ScoredFeedback.from_config(rubric={"a": -1})


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ScoredFeedback({}), "rubric must be a non-empty mapping"),
        (lambda: ScoredFeedback(["a"]), "rubric must be a non-empty mapping"),  # type: ignore[arg-type]
        (lambda: ScoredFeedback({"a": -1}), "rubric weight of 'a'"),
        (lambda: ScoredFeedback({"a": True}), "rubric weight of 'a'"),
        (lambda: ScoredFeedback({"": 1}), "dimension names"),
        (lambda: ScoredFeedback({"a": 0}), "must not all be 0"),
        (lambda: AdversarialFeedback(ambiguity=1.5), "ambiguity must be"),
        (lambda: BinaryFeedback(client_id=" "), "client_id must be"),
        (lambda: BinaryFeedback(model=""), "model must be a non-blank spec"),
        (lambda: BinaryFeedback(model=42), "model must be None"),  # type: ignore[arg-type]
        (lambda: BinaryFeedback(seed="1"), "seed must be an int"),  # type: ignore[arg-type]
    ],
)
def test_bad_options_raise_config_error(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


async def test_bad_arguments_to_evaluate():
    with pytest.raises(InvalidTypeError, match="context must be a ReviewContext"):
        await BinaryFeedback().evaluate("text", profile())  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="profile must be a ClientProfile"):
        await BinaryFeedback().evaluate(review(GOOD), "p")  # type: ignore[arg-type]


# ----- the LLM-judged path ------------------------------------------------------------


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
        self.seen.append((kwargs["tools"][0], list(messages)))
        args = self.answers[min(len(self.seen), len(self.answers)) - 1]
        message = AIMessage(
            content="",
            tool_calls=[
                {
                    "name": kwargs["tools"][0]["function"]["name"],
                    "args": args,
                    "id": "c1",
                    "type": "tool_call",
                }
            ],
            usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
        return self._generate(messages, **kwargs)  # type: ignore[no-untyped-call]


async def test_llm_binary_uses_a_persona_prompt_and_counts_tokens():
    model = ToolCaller(answers=[{"accepted": True, "reason": "Looks right."}])
    strategy = BinaryFeedback(model=model)
    feedback = await strategy.evaluate(review(POOR), profile(0.9))
    assert feedback.accepted
    assert feedback.reason == "Looks right."
    assert feedback.client_id == "c1"
    assert strategy.token_usage == TokenUsage(
        input_tokens=10, output_tokens=5, total_tokens=15, calls=1
    )
    _, messages = model.seen[0]
    system, user = messages[0].content, messages[1].content
    assert "Ada" in system
    assert "A precise CTO" in system
    assert "backend" in system
    assert "0.90" in system
    assert POOR in user
    assert CRITERIA[0] in user


async def test_llm_criteria_check_one_boolean_per_criterion():
    answer = {f"criterion_{n}": n != 2 for n in range(1, 5)} | {"reason": "Close."}
    model = ToolCaller(answers=[answer])
    feedback = await CriteriaCheckFeedback(model=model).evaluate(
        review(GOOD), profile()
    )
    assert not feedback.accepted
    assert feedback.unmet_criteria == (CRITERIA[1],)
    tool, _ = model.seen[0]
    assert set(tool["function"]["parameters"]["properties"]) == {
        "criterion_1",
        "criterion_2",
        "criterion_3",
        "criterion_4",
        "reason",
    }


async def test_llm_scored_applies_the_strictness_bar():
    answer = {
        "correctness": 0.7,
        "completeness": 0.7,
        "clarity": 1.5,  # clipped to 1.0
        "unmet_criteria": [CRITERIA[3], "made up"],
        "reason": "Decent.",
    }
    lenient = await ScoredFeedback(model=ToolCaller(answers=[answer])).evaluate(
        review(GOOD), profile(0.1)
    )
    strict = await ScoredFeedback(model=ToolCaller(answers=[answer])).evaluate(
        review(GOOD), profile(0.9)
    )
    assert lenient.accepted
    assert lenient.scores == {"correctness": 0.7, "completeness": 0.7, "clarity": 1.0}
    assert not strict.accepted
    assert strict.unmet_criteria == (CRITERIA[3],)
    assert "Decent." in strict.reason


async def test_llm_adversarial_extra_expectation():
    answer = {"accepted": False, "reason": "Meh.", "extra_expectation": "Dark mode."}
    feedback = await AdversarialFeedback(model=ToolCaller(answers=[answer])).evaluate(
        review(GOOD), profile()
    )
    assert not feedback.accepted
    assert feedback.unmet_criteria == ("Dark mode.",)


@pytest.mark.parametrize(
    ("strategy", "answer", "message"),
    [
        (BinaryFeedback, {"accepted": "yes", "reason": ""}, "'accepted' must be true"),
        (BinaryFeedback, {"accepted": True, "reason": 3}, "'reason' must be a string"),
        (
            ScoredFeedback,
            {"correctness": "high", "completeness": 1, "clarity": 1, "reason": ""},
            "score 'correctness'",
        ),
    ],
)
async def test_llm_bad_answers_raise(strategy, answer, message):
    with pytest.raises(InvalidModelOutputError, match=message):
        await strategy(model=ToolCaller(answers=[answer])).evaluate(
            review(GOOD), profile()
        )


@pytest.mark.parametrize("name", STRATEGIES)
async def test_the_offline_model_judges_every_strategy(name):
    strategy = BUILTINS[name](model="offline")
    feedback = await strategy.evaluate(review(GOOD), profile())
    again = await BUILTINS[name](model="offline").evaluate(review(GOOD), profile())
    assert isinstance(feedback.accepted, bool)
    assert feedback == again
    assert strategy.token_usage.calls == 1


# ----- properties ----------------------------------------------------------------------

WORDS = [word for criterion in CRITERIA for word in criterion.split()] + list(FILLER)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(STRATEGIES),
    words=st.lists(st.sampled_from(WORDS), max_size=40),
    low=st.floats(0.0, 1.0),
    high=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32),
)
async def test_a_stricter_client_never_accepts_what_a_lenient_one_rejects(
    name, words, low, high, seed
):
    low, high = sorted((low, high))
    context = review(" ".join(words), seed=seed)
    strategy = BUILTINS[name]()
    lenient = await strategy.evaluate(context, profile(low))
    strict = await strategy.evaluate(context, profile(high))
    assert lenient.accepted or not strict.accepted
    for feedback in (lenient, strict):
        if feedback.accepted:
            assert feedback.unmet_criteria == ()
        elif name != "adversarial":
            assert set(feedback.unmet_criteria) <= set(CRITERIA)
