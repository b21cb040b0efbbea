"""StakeholderPanel: each rule, ties, the decider, bad configs, loud model failures,
the stage metadata, and the offline model's stakeholder reviews."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim import StakeholderPanel, events
from clientsim.errors import (
    ConfigError,
    InvalidModelOutputError,
    ModelError,
    UnknownStrategyError,
)
from clientsim.llm import _offline_review
from clientsim.models import Timeouts, from_dict, to_dict
from clientsim.models.client import (
    ReviewStageResult,
    ReviewVerdict,
    Task,
    TaskRequirement,
    TaskStatus,
)
from clientsim.models.team import RoleTemplate
from clientsim.plugins import hookimpl, register_plugin, unregister_plugin
from clientsim.review import ReviewPipeline, ReviewStage
from clientsim.teams.panel import (
    MemberVerdict,
    review_system_prompt,
    review_user_prompt,
)


CEO = RoleTemplate(
    name="CEO",
    description="Runs the company.",
    goals=("ship what pays off",),
    cares_about=("cost",),
)
DESIGNER = RoleTemplate(
    name="Designer",
    description="Owns the user experience.",
    cares_about=("accessibility",),
)
ENGINEER = RoleTemplate(
    name="Engineering Lead", description="Owns the code.", cares_about=("tests",)
)
SUPPORT = RoleTemplate(
    name="Support", description="Answers customers.", cares_about=("help article",)
)

REQUIREMENT = TaskRequirement(
    title="Checkout page",
    description="A new checkout page.",
    acceptance_criteria=("The page accepts card payments",),
)
# Meets the criterion and covers cost and tests, but says nothing of accessibility or
# a help article: the CEO and the Engineering Lead pass it, the Designer and Support
# fail it.
SPLIT = "The page accepts card payments. Hosting cost stays flat. Unit tests cover it."
EVERYTHING = SPLIT + " Keyboard accessibility is checked; a help article explains it."


def _task(deliverable: str | None = SPLIT) -> Task:
    task = Task(task_id="t-1", requirement=REQUIREMENT)
    for status in (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS):
        task = task.transition(status)
    return task.transition(TaskStatus.IN_REVIEW, deliverable=deliverable)


def _members(result: ReviewStageResult) -> dict[str, str]:
    return {m["role"]: m["verdict"] for m in result.metadata["members"]}


# ----- the rules ----------------------------------------------------------------------


async def test_it_is_a_review_stage_named_stakeholders_by_default():
    panel = StakeholderPanel([CEO, DESIGNER])
    assert isinstance(panel, ReviewStage)
    assert panel.name == "stakeholders"
    assert panel.member_names == ("CEO", "Designer")
    assert "rule='majority'" in repr(panel)


async def test_majority_passes_when_more_members_pass_than_fail():
    result = await StakeholderPanel([CEO, DESIGNER, ENGINEER]).review(_task())
    assert result.verdict is ReviewVerdict.PASS
    assert result.stage == "stakeholders"
    assert result.reason.startswith("2 of 3 passed (majority). Dissent: Designer: ")
    assert "accessibility" in result.reason
    assert _members(result) == {
        "CEO": "pass",
        "Designer": "fail",
        "Engineering Lead": "pass",
    }


async def test_majority_fails_when_more_members_fail():
    result = await StakeholderPanel([CEO, DESIGNER, SUPPORT]).review(_task())
    assert result.verdict is ReviewVerdict.FAIL
    assert result.reason.startswith("1 of 3 passed (majority). Designer: ")
    assert "Support: " in result.reason  # every failing member's word, for the rework


async def test_a_majority_tie_fails_and_says_so():
    result = await StakeholderPanel([CEO, DESIGNER]).review(_task())
    assert result.verdict is ReviewVerdict.FAIL
    assert result.reason.startswith("1 of 2 passed (majority): a tie fails. Designer: ")
    assert result.metadata["passed"] == 1
    assert result.metadata["failed"] == 1


async def test_unanimous_fails_on_one_dissent_and_passes_when_all_pass():
    panel = StakeholderPanel([CEO, DESIGNER, ENGINEER], rule="unanimous")
    split = await panel.review(_task())
    assert split.verdict is ReviewVerdict.FAIL
    assert split.reason.startswith("2 of 3 passed (unanimous). Designer: ")
    everyone = await panel.review(_task(EVERYTHING))
    assert everyone.verdict is ReviewVerdict.PASS
    assert everyone.reason == "3 of 3 passed (unanimous)"


async def test_the_decider_wins_against_the_majority_either_way():
    team = [CEO, DESIGNER, ENGINEER]
    outvoted = await StakeholderPanel(team, rule="decider", decider="Designer").review(
        _task()
    )
    assert outvoted.verdict is ReviewVerdict.FAIL
    assert outvoted.reason.startswith(
        "2 of 3 passed (decider): the Designer failed it. Designer: "
    )
    assert outvoted.metadata["decider"] == "Designer"
    # The others are recorded all the same.
    assert _members(outvoted) == {
        "CEO": "pass",
        "Designer": "fail",
        "Engineering Lead": "pass",
    }
    alone = await StakeholderPanel(
        [CEO, DESIGNER, SUPPORT], rule="decider", decider="ceo"
    ).review(_task())
    assert alone.verdict is ReviewVerdict.PASS
    assert alone.reason.startswith("1 of 3 passed (decider): the CEO passed it.")
    assert "Dissent: Designer: " in alone.reason
    assert alone.metadata["decider"] == "CEO"  # given by key, recorded by name


async def test_the_decider_is_named_first_among_the_failing():
    panel = StakeholderPanel(
        [DESIGNER, CEO, SUPPORT], rule="decider", decider="Support"
    )
    result = await panel.review(_task())
    assert result.verdict is ReviewVerdict.FAIL
    failing = result.reason.split(". ", 1)[1]
    assert failing.index("Support: ") < failing.index("Designer: ")


@given(
    verdicts=st.lists(st.booleans(), min_size=1, max_size=7),
    rule=st.sampled_from(["unanimous", "majority", "decider"]),
    data=st.data(),
)
def test_combining_follows_the_stated_rule(verdicts, rule, data):
    roles = [RoleTemplate(name=f"Role {i}") for i in range(len(verdicts))]
    decider = data.draw(st.sampled_from(roles)).name if rule == "decider" else None
    panel = StakeholderPanel(roles, rule=rule, decider=decider)
    members = [
        MemberVerdict(
            role=role.name,
            verdict=ReviewVerdict.PASS if ok else ReviewVerdict.FAIL,
            reason="ok" if ok else "no",
            concerns=() if ok else ("a concern",),
        )
        for role, ok in zip(roles, verdicts, strict=True)
    ]
    result = panel.combine(members)
    passes = sum(verdicts)
    fails = len(verdicts) - passes
    expected = {
        "unanimous": fails == 0,
        "majority": passes > fails,
        "decider": decider is not None and verdicts[int(decider.split()[1])],
    }[rule]
    assert (result.verdict is ReviewVerdict.PASS) is expected
    assert result.reason.startswith(f"{passes} of {len(verdicts)} passed ({rule})")
    assert ("a tie fails" in result.reason) is (rule == "majority" and passes == fails)
    assert result.metadata["passed"] == passes
    assert result.metadata["failed"] == fails
    assert [m["verdict"] for m in result.metadata["members"]] == [
        "pass" if ok else "fail" for ok in verdicts
    ]
    # Plain data and back: the metadata survives; values without it stay as they were.
    assert from_dict(to_dict(result), ReviewStageResult) == result


# ----- metadata, prompts, the pipeline ------------------------------------------------


async def test_each_members_verdict_is_in_the_metadata_and_the_pipeline_progress():
    panel = StakeholderPanel([CEO, DESIGNER, ENGINEER])
    outcome = await ReviewPipeline([panel]).review(_task())
    (result,) = outcome.results
    members = list(result.metadata["members"])
    assert [m["role"] for m in members] == ["CEO", "Designer", "Engineering Lead"]
    designer = members[1]
    assert designer["verdict"] == "fail"
    assert designer["reason"].startswith("As the Designer, I cannot accept it")
    assert designer["concerns"] == (
        "does not address accessibility, which the Designer cares about",
    )
    assert members[0]["concerns"] == ()
    progress = json.loads(json.dumps(outcome.task.metadata["review_pipeline"]))
    entry = progress["stage_results"]["stakeholders"]
    assert entry["verdict"] == "pass"
    assert entry["reason"] == result.reason
    assert entry["metadata"]["rule"] == "majority"
    assert [m["verdict"] for m in entry["metadata"]["members"]] == [
        "pass",
        "fail",
        "pass",
    ]


async def test_a_stage_without_metadata_keeps_the_seeds_shape():
    class Plain:
        name = "plain"

        async def review(self, task):
            return ReviewStageResult(stage="plain", verdict="pass")

    outcome = await ReviewPipeline([Plain()]).review(_task())
    assert outcome.task.metadata["review_pipeline"]["stage_results"] == {
        "plain": {"verdict": "pass", "reason": None}
    }
    assert "metadata" not in to_dict(outcome.results[0])


async def test_the_pipeline_emits_its_stage_events_for_the_panel(caplog):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    await ReviewPipeline([StakeholderPanel([CEO, DESIGNER])]).review(_task())
    records = [r for r in caplog.records if r.name == "clientsim.events"]
    assert [r.clientsim_event for r in records] == [
        events.REVIEW_PIPELINE_STARTED,
        events.REVIEW_STAGE_COMPLETED,
        events.REVIEW_PIPELINE_COMPLETED,
    ]
    assert records[1].clientsim_fields["stage"] == "stakeholders"
    assert records[1].clientsim_fields["verdict"] == "fail"


async def test_no_deliverable_fails_without_asking_anyone():
    model = Answers({})  # any call would fail: no answer for any role
    result = await StakeholderPanel([CEO], model=model).review(_task(None))
    assert result.verdict is ReviewVerdict.FAIL
    assert result.reason == "no deliverable"
    assert model.calls == 0


def test_the_prompts_show_the_role_the_criteria_and_the_deliverable():
    system = review_system_prompt(CEO)
    assert "Role: CEO" in system
    assert "What you care about:\n- cost" in system
    assert "Your goals:\n- ship what pays off" in system
    user = review_user_prompt(_task())
    assert "Acceptance criteria:\n1. The page accepts card payments" in user
    assert user.endswith(f"Deliverable (attempt 1):\n{SPLIT}")


# ----- models: fakes, failures, concurrency -------------------------------------------


class Answers(GenericFakeChatModel):
    """langchain-core's fake chat model answering structured calls by role: the
    ``Role:`` line of the system prompt picks the answer (a dict, or an exception to
    raise); it counts its calls, and with ``gather`` set, each call waits until that
    many calls are in flight."""

    messages: Any = Field(default_factory=lambda: iter(()))
    by_role: dict[str, Any] = Field(default_factory=dict)
    calls: int = 0
    gather: int = 0
    arrived: Any = None

    def __init__(self, by_role: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(by_role=by_role, **kwargs)

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        raise NotImplementedError  # async only

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
        self.calls += 1
        if self.gather:
            if self.arrived is None:
                self.arrived = anyio.Event()
            if self.calls >= self.gather:
                self.arrived.set()
            await self.arrived.wait()
        role = next(
            line.removeprefix("Role: ")
            for line in messages[0].content.splitlines()
            if line.startswith("Role: ")
        )
        answer = self.by_role[role]
        if isinstance(answer, BaseException):
            raise answer
        message = AIMessage(
            content="",
            tool_calls=[
                {
                    "name": "stakeholder_review",
                    "args": answer,
                    "id": role,
                    "type": "tool_call",
                }
            ],
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


PASS = {"verdict": "pass", "reason": "Fine by me.", "concerns": []}
FAIL = {"verdict": "fail", "reason": "Too expensive.", "concerns": ["the cost"]}


async def test_members_answer_through_any_chat_model_with_structured_output():
    model = Answers({"CEO": FAIL, "Designer": PASS, "Engineering Lead": PASS})
    panel = StakeholderPanel([CEO, DESIGNER, ENGINEER], model=model, rule="unanimous")
    result = await panel.review(_task())
    assert result.verdict is ReviewVerdict.FAIL
    assert result.reason == (
        "2 of 3 passed (unanimous). CEO: Too expensive. Concerns: the cost."
    )
    assert model.calls == 3
    assert panel.token_usage.calls == 3


async def test_members_review_concurrently():
    # Each call waits until all three are in flight: one at a time would hang.
    model = Answers({"CEO": PASS, "Designer": PASS, "Engineering Lead": PASS}, gather=3)
    panel = StakeholderPanel([CEO, DESIGNER, ENGINEER], model=model)
    with anyio.fail_after(5):
        result = await panel.review(_task())
    assert result.verdict is ReviewVerdict.PASS


async def test_a_members_model_error_fails_the_review_loudly_naming_the_member():
    model = Answers({"CEO": PASS, "Designer": RuntimeError("provider is down")})
    panel = StakeholderPanel(
        [CEO, DESIGNER], model=model, rule="decider", decider="CEO"
    )
    with pytest.raises(
        ModelError, match=r"the Designer's review failed.*provider is down"
    ):
        await panel.review(_task())


@pytest.mark.parametrize(
    "answer",
    [
        {"verdict": "maybe", "reason": "Hmm.", "concerns": []},
        {"verdict": "pass", "reason": 3, "concerns": []},
        {"verdict": "fail", "reason": "No.", "concerns": "one string"},
    ],
)
async def test_an_answer_out_of_shape_fails_the_review_loudly(answer):
    panel = StakeholderPanel(
        [CEO, DESIGNER], model=Answers({"CEO": PASS, "Designer": answer})
    )
    with pytest.raises(
        InvalidModelOutputError, match="the Designer's review could not"
    ):
        await panel.review(_task())


async def test_each_call_is_bounded_by_timeouts_model_call():
    class Hanging(Answers):
        async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
            await anyio.sleep_forever()

    panel = StakeholderPanel(
        [CEO], model=Hanging({}), timeouts=Timeouts(model_call=0.05)
    )
    with anyio.fail_after(5), pytest.raises(ModelError, match="model_call"):
        await panel.review(_task())


async def test_a_failing_member_fails_the_task_in_the_engine_never_passes_it():
    from clientsim.tasks import InMemoryTaskEngine

    async def worker(task, feedback):
        return SPLIT

    panel = StakeholderPanel(
        [CEO, DESIGNER], model=Answers({"CEO": PASS, "Designer": ValueError("boom")})
    )
    async with InMemoryTaskEngine(
        worker, review_pipeline=ReviewPipeline([panel])
    ) as engine:
        task = await engine.create_task(REQUIREMENT, project="default")
        done = await engine.wait_for(task.task_id, timeout=10)
    assert done.status is TaskStatus.FAILED
    assert done.error is not None
    assert done.error.type == "ModelError"
    assert "Designer" in done.error.message
    assert done.error.status is TaskStatus.IN_REVIEW


async def test_a_roles_own_model_wins_for_that_member():
    own = RoleTemplate(name="Auditor", cares_about=("audit log",), model="offline")
    panel = StakeholderPanel([CEO, own], model=Answers({"CEO": PASS}), rule="unanimous")
    result = await panel.review(_task())  # the auditor reviews offline
    assert _members(result) == {"CEO": "pass", "Auditor": "fail"}


# ----- bad configs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("team", "options", "match"),
    [
        ([], {}, "at least one member"),
        ("CEO", {}, "list of role names"),
        ([CEO, 3], {}, r"team\[1\] must be a role name"),
        ([CEO, CEO], {}, "more than once"),
        ([CEO], {"rule": "vote"}, "rule must be one of 'unanimous', 'majority'"),
        ([CEO, DESIGNER], {"rule": "decider"}, "needs decider=<a member>"),
        ([CEO, DESIGNER], {"rule": "decider", "decider": "Sales"}, "must be a member"),
        ([CEO, DESIGNER], {"decider": "CEO"}, "for rule='decider' only"),
        ([CEO], {"name": " "}, "name must be a non-blank string"),
        ([CEO], {"seed": "7"}, "seed"),
        ([CEO], {"timeouts": 30}, "timeouts must be a Timeouts"),
        ([CEO], {"model": 3}, "model"),
    ],
)
def test_bad_configs_are_refused_naming_what_is_allowed(team, options, match):
    with pytest.raises(ConfigError, match=match):
        StakeholderPanel(team, **options)


def test_from_config_builds_the_same_panel():
    panel = StakeholderPanel.from_config(
        team=[CEO, DESIGNER], rule="decider", decider="Designer", name="panel", seed=3
    )
    assert (panel.name, panel.rule, panel.decider, panel.seed) == (
        "panel",
        "decider",
        "Designer",
        3,
    )


class _TestRoles:
    @hookimpl
    def clientsim_register_roles(self, register):
        register(
            "test_auditor",
            lambda: RoleTemplate(name="Test Auditor", cares_about=("audit log",)),
        )


async def test_members_given_by_name_come_from_the_role_registry():
    plugin = _TestRoles()
    register_plugin(plugin)
    try:
        panel = StakeholderPanel(["test auditor", "CEO"], rule="unanimous")
        assert panel.member_names[0] == "Test Auditor"
        result = await panel.review(_task(SPLIT + " Every change is in the audit log."))
        assert _members(result)["Test Auditor"] == "pass"
        with pytest.raises(UnknownStrategyError, match="role"):
            StakeholderPanel(["No Such Role"])
    finally:
        unregister_plugin(plugin)


# ----- the offline model's stakeholder reviews ----------------------------------------


def test_offline_reviews_disagree_by_what_each_role_cares_about():
    def review(role: RoleTemplate) -> dict[str, Any]:
        from clientsim.llm import Turn

        turns = [
            Turn("system", review_system_prompt(role)),
            Turn("user", review_user_prompt(_task())),
        ]
        return _offline_review.answer("stakeholder_review", turns, 0)

    assert review(CEO) == {
        "verdict": "pass",
        "reason": "As the CEO, I accept it: it meets the acceptance criterion and "
        "covers 'cost'.",
        "concerns": [],
    }
    assert review(DESIGNER)["verdict"] == "fail"
    assert review(DESIGNER)["concerns"] == [
        "does not address accessibility, which the Designer cares about"
    ]
    assert review(DESIGNER) == review(DESIGNER)  # deterministic


def test_offline_reviews_fail_a_missed_acceptance_criterion_naming_it():
    from clientsim.llm import Turn

    task = _task("Hosting cost stays flat.")
    turns = [
        Turn("system", review_system_prompt(CEO)),
        Turn("user", review_user_prompt(task)),
    ]
    answer = _offline_review.answer("stakeholder_review", turns, 0)
    assert answer["verdict"] == "fail"
    assert answer["reason"] == (
        "As the CEO, I cannot accept it: it misses 1 of 1 acceptance criteria."
    )
    assert answer["concerns"] == [
        "acceptance criterion not met: The page accepts card payments"
    ]


@pytest.mark.parametrize(
    ("item", "text", "expected"),
    [
        ("accessibility", "Keyboard accessible and screen-reader tested.", True),
        ("time to market", "We shipped on time.", False),
        ("time to market", "Time to market: two weeks.", True),
        ("the", "anything", True),  # nothing to look for
    ],
)
def test_coverage_compares_content_words_by_their_first_letters(item, text, expected):
    assert _offline_review.covered(item, text) is expected


# ----- review_stages in the client simulation config ----------------------------------

_stage_names = st.sampled_from(["stakeholder_panel", "internal", "myapp/gate"])
_options = st.dictionaries(
    st.sampled_from(["rule", "name", "decider", "seed", "team"]),
    st.one_of(
        st.integers(0, 9),
        st.text(min_size=1, max_size=8),
        st.lists(st.text(min_size=1, max_size=8), max_size=3),
    ),
    max_size=3,
)


@given(
    stages=st.lists(
        st.builds(
            lambda name, options: {"strategy": name, **options}, _stage_names, _options
        ),
        max_size=3,
    )
)
def test_review_stages_round_trip_through_plain_data(stages):
    from clientsim.simulation import ClientSimulationConfig

    config = ClientSimulationConfig.from_dict({"review_stages": stages})
    assert [dict(item) for item in config.review_stages] == stages
    data = config.to_dict()
    assert ("review_stages" in data) is bool(stages)  # left out while empty
    assert ClientSimulationConfig.from_dict(data) == config


@pytest.mark.parametrize(
    ("stages", "match"),
    [
        ("stakeholder_panel", "expected a list"),
        (
            [{"team": ["CEO"]}],
            r"review_stages\[0\] must be a mapping with a 'strategy'",
        ),
        (
            [{"strategy": " "}],
            r"review_stages\[0\] must be a mapping with a 'strategy'",
        ),
        (["stakeholder_panel"], r"expected a mapping @ .*review_stages\[0\]"),
    ],
)
def test_bad_review_stages_are_refused_naming_the_item(stages, match):
    from clientsim.simulation import ClientSimulationConfig

    with pytest.raises(ConfigError, match=match):
        ClientSimulationConfig.from_dict({"review_stages": stages})


def test_the_runner_refuses_review_stages_it_cannot_put_anywhere():
    from clientsim.requirements import TemplateGenerator
    from clientsim.simulation import (
        ClientSimulationConfig,
        SimulationRunner,
        build_clients,
    )

    class NoPipeline:  # a task engine of its own, without a review pipeline
        async def create_task(self, *args, **kwargs): ...
        async def wait_for(self, *args, **kwargs): ...

    parts = {
        "clients": build_clients(ClientSimulationConfig()),
        "generator": TemplateGenerator(),
    }
    panel = StakeholderPanel([CEO])
    with pytest.raises(ConfigError, match="need a task engine with a review pipeline"):
        SimulationRunner(**parts, task_engine=NoPipeline(), review_stages=[panel])
    with pytest.raises(ConfigError, match="review_stages must be review stages"):
        SimulationRunner(**parts, task_engine=NoPipeline(), review_stages=["panel"])


def test_the_review_stage_registry_builds_a_panel_from_a_config():
    from clientsim import build_review_stage
    from clientsim.factory import review_stages

    assert {"internal", "client", "stakeholder_panel"} <= set(review_stages.names())
    panel = build_review_stage(
        {
            "strategy": "stakeholder_panel",
            "team": [{"name": "Legal", "cares_about": ["liability"]}, CEO],
            "rule": "decider",
            "decider": "legal",
        },
        seed=4,
    )
    assert isinstance(panel, StakeholderPanel)
    assert (panel.member_names, panel.decider, panel.seed) == (
        ("Legal", "CEO"),
        "Legal",
        4,
    )
    with pytest.raises(ConfigError, match=r"team\[0\]: .*extra fields"):
        build_review_stage(
            {"strategy": "stakeholder_panel", "team": [{"name": "X", "cares": []}]}
        )
