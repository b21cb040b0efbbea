"""clientsim: rehearse AI agents against simulated clients before real ones arrive.

The top level re-exports the public API of both halves: the conversation simulator
(participants, channels, runners, termination, outcome evaluation) and the client
simulation of seed 000 (clients, requirements, feedback, review, intake, the task
engine, simulation runs, reports and stores), plus the error tree, the ``build_*``
factories and :data:`hookimpl`. Everything else is reachable by module path.

Names load on first use, so ``import clientsim`` stays fast and loads no LangChain.
"""

import typing as _typing


if _typing.TYPE_CHECKING:
    from clientsim.analysis.paired import PairedComparison
    from clientsim.analysis.runs import RunComparison, compare_runs
    from clientsim.channels import (
        Channel,
        HTTPChannel,
        InMemoryChannel,
        QueueSession,
        RunnableChannel,
        Session,
        TargetChannel,
        WebSocketChannel,
    )
    from clientsim.clients import (
        AIClient,
        ClientInterface,
        ConsoleHuman,
        HumanClient,
        HybridClient,
        QueueHuman,
        ReviewContext,
        SubmitContext,
    )
    from clientsim.clients.pool import (
        ClientPoolConfig,
        ClientSelectionStrategy,
        DomainMatchedStrategy,
        RoundRobinStrategy,
        WeightedRandomStrategy,
    )
    from clientsim.errors import (
        AgentTimeoutError,
        CassetteDivergenceError,
        CassetteMissError,
        ChannelError,
        ClientSimDeprecationWarning,
        ClientSimError,
        ClientSimWarning,
        ConfigError,
        DuplicateSimulationError,
        DuplicateStrategyError,
        HumanTimeoutError,
        IllegalTransitionError,
        InvalidModelOutputError,
        InvalidTypeError,
        ModelError,
        ParticipantError,
        PluginError,
        RateLimitedError,
        SessionClosedError,
        SimulationError,
        StatisticsError,
        UnknownStrategyError,
    )
    from clientsim.evaluation import (
        CriteriaJudge,
        CriteriaVerdict,
        CriterionVerdict,
        LLMOutcomeEvaluator,
        OutcomeEvaluator,
        PairwiseJudge,
        PairwiseVerdict,
        RuleBasedOutcomeEvaluator,
    )
    from clientsim.experiments.cassette import Cassette
    from clientsim.experiments.config import ExperimentConfig
    from clientsim.experiments.paired import PairedExperimentResult, run_paired
    from clientsim.experiments.run import ExperimentResult, run_experiment
    from clientsim.factory import (
        build_channel,
        build_client_pool_strategy,
        build_entry_point_strategy,
        build_executor,
        build_feedback_strategy,
        build_intake_strategy,
        build_metric,
        build_outcome_evaluator,
        build_participant,
        build_population_mode,
        build_report_strategy,
        build_requirement_generator,
        build_review_stage,
        build_role,
        build_termination,
        build_turn_policy,
        build_work_entry_adapter,
    )
    from clientsim.feedback import (
        AdversarialFeedback,
        BinaryFeedback,
        CriteriaCheckFeedback,
        FeedbackStrategy,
        ScoredFeedback,
    )
    from clientsim.intake import (
        AgentIntake,
        DirectAdapter,
        DirectIntake,
        EntryPointStrategy,
        IntakeAdapter,
        IntakeDecision,
        IntakeEngine,
        IntakeEntryAdapter,
        IntakeStrategy,
        ProjectAdapter,
        TaskBoardEntryAdapter,
        TaskEngineWorkPipeline,
        WorkEntryAdapter,
        WorkItem,
        WorkPipeline,
        WorkSource,
    )
    from clientsim.interventions import (
        InterventionResults,
        required_sample_size,
        run_intervention,
    )
    from clientsim.llm import OfflineChatModel
    from clientsim.llm.budget import RateBudget
    from clientsim.models import (
        ClientFeedback,
        ClientProfile,
        ClientRequest,
        Conversation,
        ConversationResult,
        Ending,
        Intent,
        MemoryState,
        Message,
        MessageDraft,
        Outcome,
        Outcomes,
        ParticipantRole,
        Priority,
        RequestStatus,
        ReviewStageResult,
        ReviewVerdict,
        RoleTemplate,
        SessionAnalysis,
        SimulatedRun,
        SimulationRuns,
        Speaker,
        Task,
        TaskRequirement,
        TaskSource,
        TaskStatus,
        TaskType,
        TeamSessionRecord,
        Timeouts,
        TokenUsage,
        ToolCall,
    )
    from clientsim.models.intervention import Intervention, load_intervention
    from clientsim.models.script_result import ScriptResult
    from clientsim.observability.logs import configure_logging
    from clientsim.participants import (
        LLMParticipant,
        Participant,
        ScriptedParticipant,
        TypingModel,
    )
    from clientsim.participants.channel import ChannelParticipant
    from clientsim.plugins import hookimpl
    from clientsim.population import (
        DemographicTemplate,
        FocusGroupMode,
        Population,
        PopulationProfile,
        PopulationSpec,
        SegmentSpec,
        StudyResults,
        demographic_template,
        demographic_templates,
        extract_fields,
        generate_population,
        load_demographic_template,
        load_population_spec,
        talk_to,
        think,
        with_extraction,
    )
    from clientsim.population.enrich import enrich
    from clientsim.population.fragments import (
        fragments,
        get_fragment,
        load_fragments,
        register_fragment,
    )
    from clientsim.population.interview import InterviewMode
    from clientsim.population.participant import PersonaParticipant
    from clientsim.population.sequence import SequenceMode
    from clientsim.population.state import PersonaState
    from clientsim.population.survey import SurveyMode
    from clientsim.population.triggers import Trigger
    from clientsim.reports import (
        DetailedReport,
        JsonExportReport,
        MetricsOnlyReport,
        ReportStrategy,
        SummaryReport,
    )
    from clientsim.requirements import (
        DatasetGenerator,
        HybridGenerator,
        LLMGenerator,
        ProceduralGenerator,
        RequirementGenerator,
        TemplateGenerator,
    )
    from clientsim.review import (
        ClientReviewStage,
        InternalReviewStage,
        ReviewPipeline,
        ReviewStage,
    )
    from clientsim.runners import (
        FullSimulationRunner,
        GroupMember,
        GroupSimulationRunner,
        GroupStep,
        HybridSimulationRunner,
        Runner,
    )
    from clientsim.runners.agents import resolve_agent
    from clientsim.runners.batch import (
        BatchCell,
        BatchResult,
        BatchRunner,
        ConversationJob,
    )
    from clientsim.runners.build import build_runner
    from clientsim.runners.executors import Executor, LocalExecutor
    from clientsim.runners.ray_executor import RayExecutor
    from clientsim.runners.scripted import run_script
    from clientsim.runners.simulate import simulate
    from clientsim.simulation import (
        ClientSimulationConfig,
        ContinuousMode,
        ContinuousModeConfig,
        FeedbackConfig,
        IntakeConfig,
        ReportConfig,
        RequirementGeneratorConfig,
        SimulationMetrics,
        SimulationResult,
        SimulationRunner,
        SimulationRunnerConfig,
        TaskOutcome,
        run_simulations,
    )
    from clientsim.store import (
        InMemoryStore,
        PostgresStore,
        SimulationInfo,
        SimulationStore,
        SQLiteStore,
        open_store,
    )
    from clientsim.tasks import (
        InMemoryTaskEngine,
        ParticipantWorker,
        TaskEngine,
        Worker,
    )
    from clientsim.teams import (
        MemoryManager,
        SimulationAnalyst,
        StakeholderPanel,
        run_sessions,
    )
    from clientsim.teams.participant import RoleParticipant
    from clientsim.teams.roles import get_role, roles
    from clientsim.teams.scenario import TeamConfig, TeamScenario
    from clientsim.teams.session import TeamSession
    from clientsim.teams.whatif import WhatIfChange, WhatIfComparison
    from clientsim.termination import (
        AnyOf,
        ClosingPhrases,
        ConversationComplete,
        Deadline,
        GoalReached,
        MaxMessages,
        OutcomeReached,
        TerminationContext,
        TerminationStrategy,
    )
    from clientsim.turns import MemberInfo, TurnPolicy

__all__ = [
    "AIClient",
    "AdversarialFeedback",
    "AgentIntake",
    "AgentTimeoutError",
    "AnyOf",
    "BatchCell",
    "BatchResult",
    "BatchRunner",
    "BinaryFeedback",
    "Cassette",
    "CassetteDivergenceError",
    "CassetteMissError",
    "Channel",
    "ChannelError",
    "ChannelParticipant",
    "ClientFeedback",
    "ClientInterface",
    "ClientPoolConfig",
    "ClientProfile",
    "ClientRequest",
    "ClientReviewStage",
    "ClientSelectionStrategy",
    "ClientSimDeprecationWarning",
    "ClientSimError",
    "ClientSimWarning",
    "ClientSimulationConfig",
    "ClosingPhrases",
    "ConfigError",
    "ConsoleHuman",
    "ContinuousMode",
    "ContinuousModeConfig",
    "Conversation",
    "ConversationComplete",
    "ConversationJob",
    "ConversationResult",
    "CriteriaCheckFeedback",
    "CriteriaJudge",
    "CriteriaVerdict",
    "CriterionVerdict",
    "DatasetGenerator",
    "Deadline",
    "DemographicTemplate",
    "DetailedReport",
    "DirectAdapter",
    "DirectIntake",
    "DomainMatchedStrategy",
    "DuplicateSimulationError",
    "DuplicateStrategyError",
    "Ending",
    "EntryPointStrategy",
    "Executor",
    "ExperimentConfig",
    "ExperimentResult",
    "FeedbackConfig",
    "FeedbackStrategy",
    "FocusGroupMode",
    "FullSimulationRunner",
    "GoalReached",
    "GroupMember",
    "GroupSimulationRunner",
    "GroupStep",
    "HTTPChannel",
    "HumanClient",
    "HumanTimeoutError",
    "HybridClient",
    "HybridGenerator",
    "HybridSimulationRunner",
    "IllegalTransitionError",
    "InMemoryChannel",
    "InMemoryStore",
    "InMemoryTaskEngine",
    "IntakeAdapter",
    "IntakeConfig",
    "IntakeDecision",
    "IntakeEngine",
    "IntakeEntryAdapter",
    "IntakeStrategy",
    "Intent",
    "InternalReviewStage",
    "Intervention",
    "InterventionResults",
    "InterviewMode",
    "InvalidModelOutputError",
    "InvalidTypeError",
    "JsonExportReport",
    "LLMGenerator",
    "LLMOutcomeEvaluator",
    "LLMParticipant",
    "LocalExecutor",
    "MaxMessages",
    "MemberInfo",
    "MemoryManager",
    "MemoryState",
    "Message",
    "MessageDraft",
    "MetricsOnlyReport",
    "ModelError",
    "OfflineChatModel",
    "Outcome",
    "OutcomeEvaluator",
    "OutcomeReached",
    "Outcomes",
    "PairedComparison",
    "PairedExperimentResult",
    "PairwiseJudge",
    "PairwiseVerdict",
    "Participant",
    "ParticipantError",
    "ParticipantRole",
    "ParticipantWorker",
    "PersonaParticipant",
    "PersonaState",
    "PluginError",
    "Population",
    "PopulationProfile",
    "PopulationSpec",
    "PostgresStore",
    "Priority",
    "ProceduralGenerator",
    "ProjectAdapter",
    "QueueHuman",
    "QueueSession",
    "RateBudget",
    "RateLimitedError",
    "RayExecutor",
    "ReportConfig",
    "ReportStrategy",
    "RequestStatus",
    "RequirementGenerator",
    "RequirementGeneratorConfig",
    "ReviewContext",
    "ReviewPipeline",
    "ReviewStage",
    "ReviewStageResult",
    "ReviewVerdict",
    "RoleParticipant",
    "RoleTemplate",
    "RoundRobinStrategy",
    "RuleBasedOutcomeEvaluator",
    "RunComparison",
    "RunnableChannel",
    "Runner",
    "SQLiteStore",
    "ScoredFeedback",
    "ScriptResult",
    "ScriptedParticipant",
    "SegmentSpec",
    "SequenceMode",
    "Session",
    "SessionAnalysis",
    "SessionClosedError",
    "SimulatedRun",
    "SimulationAnalyst",
    "SimulationError",
    "SimulationInfo",
    "SimulationMetrics",
    "SimulationResult",
    "SimulationRunner",
    "SimulationRunnerConfig",
    "SimulationRuns",
    "SimulationStore",
    "Speaker",
    "StakeholderPanel",
    "StatisticsError",
    "StudyResults",
    "SubmitContext",
    "SummaryReport",
    "SurveyMode",
    "TargetChannel",
    "Task",
    "TaskBoardEntryAdapter",
    "TaskEngine",
    "TaskEngineWorkPipeline",
    "TaskOutcome",
    "TaskRequirement",
    "TaskSource",
    "TaskStatus",
    "TaskType",
    "TeamConfig",
    "TeamScenario",
    "TeamSession",
    "TeamSessionRecord",
    "TemplateGenerator",
    "TerminationContext",
    "TerminationStrategy",
    "Timeouts",
    "TokenUsage",
    "ToolCall",
    "Trigger",
    "TurnPolicy",
    "TypingModel",
    "UnknownStrategyError",
    "WebSocketChannel",
    "WeightedRandomStrategy",
    "WhatIfChange",
    "WhatIfComparison",
    "WorkEntryAdapter",
    "WorkItem",
    "WorkPipeline",
    "WorkSource",
    "Worker",
    "__version__",
    "build_channel",
    "build_client_pool_strategy",
    "build_entry_point_strategy",
    "build_executor",
    "build_feedback_strategy",
    "build_intake_strategy",
    "build_metric",
    "build_outcome_evaluator",
    "build_participant",
    "build_population_mode",
    "build_report_strategy",
    "build_requirement_generator",
    "build_review_stage",
    "build_role",
    "build_runner",
    "build_termination",
    "build_turn_policy",
    "build_work_entry_adapter",
    "compare_runs",
    "configure_logging",
    "demographic_template",
    "demographic_templates",
    "enrich",
    "extract_fields",
    "fragments",
    "generate_population",
    "get_fragment",
    "get_role",
    "hookimpl",
    "load_demographic_template",
    "load_fragments",
    "load_intervention",
    "load_population_spec",
    "open_store",
    "register_fragment",
    "required_sample_size",
    "resolve_agent",
    "roles",
    "run_experiment",
    "run_intervention",
    "run_paired",
    "run_script",
    "run_sessions",
    "run_simulations",
    "simulate",
    "talk_to",
    "think",
    "with_extraction",
]

# Each public name and the module it comes from, loaded on first use.


def __getattr__(name: str) -> object:
    from clientsim._exports import EXPORTS  # noqa: PLC0415

    module = EXPORTS.get(name)
    if module is not None:
        from importlib import import_module  # noqa: PLC0415

        value: object = getattr(import_module(module), name)
    elif name == "__version__":
        value = _package_version()
    else:
        raise AttributeError(f"module 'clientsim' has no attribute {name!r}")
    globals()[name] = value  # served from the namespace from now on
    return value


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("clientsim")
    except PackageNotFoundError:  # running from a source tree
        from clientsim._version import __version__  # noqa: PLC0415

        return __version__


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
