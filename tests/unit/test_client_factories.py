"""Seed 000's factory table: every name, a misspelled one, plugins, and the adapters."""

from __future__ import annotations

from typing import Any

import pytest

import clientsim
from clientsim import factory
from clientsim.clients.pool import (
    DomainMatchedStrategy,
    RoundRobinStrategy,
    WeightedRandomStrategy,
)
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.feedback import (
    AdversarialFeedback,
    BinaryFeedback,
    CriteriaCheckFeedback,
    ScoredFeedback,
)
from clientsim.intake import (
    AgentIntake,
    DirectAdapter,
    DirectIntake,
    IntakeAdapter,
    IntakeEngine,
    IntakeEntryAdapter,
    IntakeStrategy,
    ProjectAdapter,
    TaskBoardEntryAdapter,
    TaskEngineWorkPipeline,
    WorkSource,
)
from clientsim.models import TokenUsage
from clientsim.models.client import (
    ClientRequest,
    RequestStatus,
    TaskRequirement,
    TaskStatus,
)
from clientsim.plugins import register_plugin, unregister_plugin
from clientsim.reports import (
    DetailedReport,
    JsonExportReport,
    MetricsOnlyReport,
    SummaryReport,
)
from clientsim.requirements import (
    DatasetGenerator,
    LLMGenerator,
    ProceduralGenerator,
    TemplateGenerator,
)
from clientsim.simulation.config import (
    ClientSimulationConfig,
    FeedbackConfig,
    IntakeConfig,
    ReportConfig,
    RequirementGeneratorConfig,
)
from clientsim.tasks import InMemoryTaskEngine


TABLE = [
    (factory.build_requirement_generator, {}, "template", TemplateGenerator),
    (factory.build_requirement_generator, {}, "llm", LLMGenerator),
    (factory.build_requirement_generator, {}, "dataset", DatasetGenerator),
    (factory.build_requirement_generator, {}, "procedural", ProceduralGenerator),
    (factory.build_feedback_strategy, {"client_id": "c1"}, "binary", BinaryFeedback),
    (factory.build_feedback_strategy, {"client_id": "c1"}, "scored", ScoredFeedback),
    (
        factory.build_feedback_strategy,
        {"client_id": "c1"},
        "criteria_check",
        CriteriaCheckFeedback,
    ),
    (
        factory.build_feedback_strategy,
        {"client_id": "c1"},
        "adversarial",
        AdversarialFeedback,
    ),
    (factory.build_report_strategy, {}, "summary", SummaryReport),
    (factory.build_report_strategy, {}, "detailed", DetailedReport),
    (factory.build_report_strategy, {}, "json_export", JsonExportReport),
    (factory.build_report_strategy, {}, "metrics_only", MetricsOnlyReport),
    (factory.build_client_pool_strategy, {}, "round_robin", RoundRobinStrategy),
    (factory.build_client_pool_strategy, {}, "weighted_random", WeightedRandomStrategy),
    (factory.build_client_pool_strategy, {}, "domain_matched", DomainMatchedStrategy),
    (factory.build_entry_point_strategy, {}, "direct", DirectAdapter),
    (
        factory.build_entry_point_strategy,
        {"project_id": "billing"},
        "project",
        ProjectAdapter,
    ),
    (factory.build_entry_point_strategy, {}, "intake", IntakeAdapter),
]


async def worker(task: Any, feedback: Any) -> str:
    return "Done: " + "; ".join(task.requirement.acceptance_criteria)


@pytest.mark.parametrize(
    ("build", "extra", "name", "kind"),
    TABLE,
    ids=[f"{b.__name__}-{n}" for b, _, n, _ in TABLE],
)
def test_every_name_of_the_table_builds_its_strategy(build, extra, name, kind):
    assert isinstance(build(name, **extra), kind)


@pytest.mark.parametrize(
    ("build", "extra", "name"),
    [
        (factory.build_requirement_generator, {}, "templte"),
        (factory.build_feedback_strategy, {"client_id": "c"}, "scord"),
        (factory.build_report_strategy, {}, "sumary"),
        (factory.build_client_pool_strategy, {}, "round-robin"),
        (factory.build_entry_point_strategy, {}, "drect"),
    ],
)
def test_a_misspelled_name_lists_the_known_ones(build, extra, name):
    with pytest.raises(UnknownStrategyError, match="did you mean"):
        build(name, **extra)


def test_the_hybrid_generator_is_refused_by_the_factory():
    with pytest.raises(UnknownStrategyError) as caught:
        factory.build_requirement_generator("hybrid")
    assert "template" in str(caught.value)


def test_config_objects_are_accepted():
    generator = factory.build_requirement_generator(
        RequirementGeneratorConfig(
            strategy="procedural", options={"max_dependencies": 1}
        )
    )
    assert isinstance(generator, ProceduralGenerator)
    scored = factory.build_feedback_strategy(
        FeedbackConfig(strategy="scored", rubric={"correctness": 1.0}), client_id="ada"
    )
    assert isinstance(scored, ScoredFeedback)
    assert isinstance(
        factory.build_report_strategy(ReportConfig(strategy="detailed")), DetailedReport
    )
    pool = ClientSimulationConfig.from_dict(
        {"pool": {"selection_strategy": "domain_matched"}}
    ).pool
    assert isinstance(factory.build_client_pool_strategy(pool), DomainMatchedStrategy)


def test_intake_strategies_and_their_checks():
    engine = InMemoryTaskEngine(worker)
    direct = factory.build_intake_strategy(
        IntakeConfig(strategy="direct"), task_engine=engine, default_project="p"
    )
    assert isinstance(direct, DirectIntake)
    agent = factory.build_intake_strategy(
        "agent", task_engine=engine, default_project="p", provider="offline"
    )
    assert isinstance(agent, AgentIntake)
    with pytest.warns(clientsim.errors.ClientSimWarning):
        degraded = factory.build_intake_strategy(
            "agent", task_engine=engine, default_project="p"
        )
    assert degraded.degraded
    with pytest.raises(ConfigError, match="task_engine"):
        factory.build_intake_strategy(
            "direct", task_engine=object(), default_project="p"
        )
    with pytest.raises(ConfigError, match="default_project"):
        factory.build_intake_strategy("direct", task_engine=engine, default_project=" ")
    with pytest.raises(UnknownStrategyError, match="did you mean 'agent'"):
        factory.build_intake_strategy("agnt", task_engine=engine, default_project="p")


async def test_a_cost_tracker_hears_of_every_intake_decision():
    spent: list[TokenUsage] = []
    async with InMemoryTaskEngine(worker) as engine:
        strategy = factory.build_intake_strategy(
            IntakeConfig(strategy="agent", model="offline"),
            task_engine=engine,
            default_project="p",
            cost_tracker=spent.append,
        )
        assert isinstance(strategy, IntakeStrategy)
        assert strategy.name == "agent"  # the wrapped strategy's attributes show
        assert not strategy.degraded
        async with IntakeEngine(strategy, engine, default_project="p") as intake:
            request = await intake.submit(
                "c1", TaskRequirement(title="t", description="d")
            )
    assert request.status is RequestStatus.TASK_CREATED
    assert len(spent) == 1
    assert spent[0].calls == 1


def test_a_plugin_adds_a_feedback_strategy():
    class Lenient:
        def __init__(self, *, client_id: str) -> None:
            self.client_id = client_id

        async def evaluate(self, context: Any, profile: Any) -> Any:
            raise NotImplementedError

    class Plugin:
        @clientsim.hookimpl
        def clientsim_register_feedback_strategies(self, register: Any) -> None:
            register("acme/lenient", Lenient)

    plugin = Plugin()
    register_plugin(plugin)
    try:
        built = factory.build_feedback_strategy("acme/lenient", client_id="c9")
        assert isinstance(built, Lenient)
        assert built.client_id == "c9"
    finally:
        unregister_plugin(plugin)
    with pytest.raises(UnknownStrategyError):
        factory.build_feedback_strategy("acme/lenient", client_id="c9")


async def test_entry_points_file_work_their_way():
    requirement = TaskRequirement(title="CSV export", description="Export invoices")
    async with (
        InMemoryTaskEngine(worker) as engine,
        IntakeEngine(DirectIntake(), engine, default_project="main") as intake,
    ):
        _, direct = await factory.build_entry_point_strategy("direct").enter(
            "c1", requirement, intake=intake
        )
        _, billed = await factory.build_entry_point_strategy(
            "project", project_id="billing"
        ).enter("c1", requirement, intake=intake)
        request, through = await factory.build_entry_point_strategy("intake").enter(
            "c1", requirement, intake=intake
        )
        for task in (direct, billed, through):
            assert task is not None
            await engine.wait_for(task.task_id, timeout=10)
    assert direct is not None
    assert direct.project == "main"
    assert billed is not None
    assert billed.project == "billing"
    assert request is not None
    assert request.status is RequestStatus.TASK_CREATED
    with pytest.raises(ConfigError, match="project_id"):
        factory.build_entry_point_strategy("project")


async def test_work_entry_adapters_drive_the_pipeline():
    requirement = TaskRequirement(
        title="Audit log", description="Log every admin action"
    )
    request = (
        ClientRequest(request_id="r1", client_id="c1", requirement=requirement)
        .transition(RequestStatus.TRIAGING)
        .transition(RequestStatus.SCOPING, scoping_notes="Admin panel only")
        .transition(RequestStatus.APPROVED)
    )
    async with InMemoryTaskEngine(worker) as engine:
        pipeline = TaskEngineWorkPipeline(engine)
        intake = factory.build_work_entry_adapter(
            WorkSource.INTAKE, work_pipeline=pipeline, default_project="ops"
        )
        assert isinstance(intake, IntakeEntryAdapter)
        task = await intake.enter(request)
        assert "Scoping notes:\nAdmin panel only" in task.requirement.description
        assert task.request_id == "r1"
        assert task.project == "ops"
        board = factory.build_work_entry_adapter(
            "task_board", work_pipeline=pipeline, default_project="ops"
        )
        assert isinstance(board, TaskBoardEntryAdapter)
        filed = await board.submit(
            "Fix login", "The login button does nothing", project="web"
        )
        assert filed.task.project == "web"
        assert filed.correlation_id
        done = await engine.wait_for(filed.task.task_id, timeout=10)
        assert done.status is TaskStatus.COMPLETED
        with pytest.raises(ConfigError, match="approved"):
            await intake.enter(
                ClientRequest(request_id="r2", client_id="c", requirement=requirement)
            )
    with pytest.raises(ConfigError, match="work_pipeline"):
        factory.build_work_entry_adapter(
            "intake", work_pipeline=object(), default_project="p"
        )
    with pytest.raises(UnknownStrategyError, match="task_board"):
        factory.build_work_entry_adapter(
            "taskboard", work_pipeline=pipeline, default_project="p"
        )


def _anything(**_: object) -> object:
    return object()


class _BuildsTheWrongKind:
    """A plugin whose factories build objects of no family at all."""

    @clientsim.hookimpl
    def clientsim_register_requirement_generators(self, register: Any) -> None:
        register("test/wrong", _anything)

    @clientsim.hookimpl
    def clientsim_register_feedback_strategies(self, register: Any) -> None:
        register("test/wrong", _anything)

    @clientsim.hookimpl
    def clientsim_register_report_strategies(self, register: Any) -> None:
        register("test/wrong", _anything)

    @clientsim.hookimpl
    def clientsim_register_client_pool_strategies(self, register: Any) -> None:
        register("test/wrong", _anything)

    @clientsim.hookimpl
    def clientsim_register_intake_strategies(self, register: Any) -> None:
        register("test/wrong", _anything)

    @clientsim.hookimpl
    def clientsim_register_entry_points(self, register: Any) -> None:
        register("test/wrong", _anything)

    @clientsim.hookimpl
    def clientsim_register_work_entry_adapters(self, register: Any) -> None:
        class Half:
            source = WorkSource.TASK_BOARD

            def __init__(self, **_: object) -> None:
                self.work_pipeline = None

        register("test/wrong", _anything)
        register("test/half", Half)


@pytest.fixture(name="wrong_kind_plugin")
def _wrong_kind_plugin():
    plugin = _BuildsTheWrongKind()
    register_plugin(plugin)
    try:
        yield plugin
    finally:
        unregister_plugin(plugin)


WRONG_KIND = [
    (
        "build_requirement_generator",
        {},
        "requirement generator",
        "async generate(count, *, seed) method",
    ),
    (
        "build_feedback_strategy",
        {"client_id": "c1"},
        "feedback strategy",
        "async evaluate(context, profile) method",
    ),
    ("build_report_strategy", {}, "report strategy", "render(result) method"),
    (
        "build_client_pool_strategy",
        {},
        "client pool strategy",
        "select(clients, requirement) method",
    ),
    (
        "build_intake_strategy",
        {"task_engine": InMemoryTaskEngine(worker), "default_project": "p"},
        "intake strategy",
        "async process(request) method",
    ),
    (
        "build_entry_point_strategy",
        {},
        "entry point strategy",
        "async enter(client_id, requirement, *, intake) method",
    ),
    (
        "build_work_entry_adapter",
        {"work_pipeline": None, "default_project": "p"},
        "work-entry adapter",
        "source or work_pipeline or default_project attribute",
    ),
]


@pytest.mark.usefixtures("wrong_kind_plugin")
@pytest.mark.parametrize(
    ("build", "extra", "family", "lacks"), WRONG_KIND, ids=[w[0] for w in WRONG_KIND]
)
def test_a_plugin_building_the_wrong_kind_is_a_config_error(
    build, extra, family, lacks
):
    with pytest.raises(ConfigError) as caught:
        getattr(factory, build)("test/wrong", **extra)
    assert str(caught.value) == (
        f"{family} factory for 'test/wrong' returned object, which has no {lacks}"
    )


@pytest.mark.usefixtures("wrong_kind_plugin")
def test_a_work_entry_adapter_missing_one_member_is_named():
    with pytest.raises(
        ConfigError, match="returned Half, which has no default_project"
    ):
        factory.build_work_entry_adapter(
            "test/half", work_pipeline=None, default_project="p"
        )
