"""The experiment file (seed 003): loading, defaults, ranges, errors, overrides."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from clientsim.errors import ConfigError
from clientsim.experiments.config import (
    AgentConfig,
    ExperimentConfig,
    InputItem,
    MultiTurnConfig,
    OutcomeConfig,
    PersonaConfig,
    ReplayArgsConfig,
    RunnerConfig,
    SupervisorConfig,
    SupervisorMetadata,
    experiment_config_from_dict,
    load_experiment_config,
)


def write_config(root: Path, text: str, name: str = "simulation.yaml") -> Path:
    """Write ``text`` as ``<root>/configs/<name>``, the seed's layout."""
    folder = root / "configs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def base(**extra: object) -> dict[str, object]:
    return {
        "name": "t",
        "description": "d",
        "runner": {"target": "my_agent:run"},
        **extra,
    }


def error_of(data: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict(data)
    return str(info.value)


# ------------------------------------------------------------- the seed's files

SEED_COMPLETE_EXAMPLE = """\
# FluxLoop Simulation Configuration
# ------------------------------------------------------------
# Controls how experiments execute (iterations, runner target, output paths).
# Adjust runner module/function to point at your agent entry point.
name: my_agent_experiment
description: AI agent simulation experiment
iterations: 1 # Number of times to cycle through inputs/personas
parallel_runs: 1 # Increase for concurrent execution (ensure thread safety)
run_delay_seconds: 0 # Optional delay between runs to avoid rate limits
seed: 42 # Set for reproducibility; remove for randomness
runner:
  module_path: "examples.simple_agent"
  function_name: "run"
  target: "examples.simple_agent:run"
  working_directory: . # Relative to project root; adjust if agent lives elsewhere
  python_path: # Optional custom PYTHONPATH entries
  timeout_seconds: 120 # Abort long-running traces
  max_retries: 3 # Automatic retry attempts on error
replay_args:
  enabled: false
  recording_file: recordings/args_recording.jsonl
  override_param_path: data.content
multi_turn:
  enabled: false # Enable to drive conversations via supervisor
  max_turns: 8 # Safety cap on total turns per conversation
  auto_approve_tools: true # Automatically approve tool calls when supported
  persona_override: null # Force a specific persona id (optional)
  supervisor:
    provider: openai # openai (LLM generated) | mock (scripted playback)
    model: gpt-4o-mini
    system_prompt: |
      You supervise an AI assistant supporting customers.
      Review the entire transcript and decide whether to continue.
      When continuing, craft the next user message consistent with the persona.
      When terminating, explain the reason and provide any closing notes.
    metadata:
      scripted_questions: [] # Array of user utterances for sequential playback
      mock_decision: terminate # Fallback when no scripted questions remain
      mock_reason: script_complete # Termination reason for scripted runs
      mock_closing: "Thanks for the help. I have no further questions."
output_directory: experiments
save_traces: true
save_aggregated_metrics: true
inputs:
  - Where is my order?
"""


def test_the_seeds_complete_example_loads_with_its_values(tmp_path):
    path = write_config(tmp_path / "my-agent", SEED_COMPLETE_EXAMPLE)
    config = ExperimentConfig.from_file(path)
    assert config.name == "my_agent_experiment"
    assert config.description == "AI agent simulation experiment"
    assert (config.iterations, config.parallel_runs) == (1, 1)
    assert config.run_delay_seconds == 0
    assert config.seed == 42
    assert config.runner == RunnerConfig(
        module_path="examples.simple_agent",
        function_name="run",
        target="examples.simple_agent:run",
        working_directory=".",
        python_path=None,
        timeout_seconds=120,
        max_retries=3,
    )
    assert config.runner.resolved_target == "examples.simple_agent:run"
    assert config.replay_args == ReplayArgsConfig()
    supervisor = config.multi_turn.supervisor
    assert config.multi_turn == MultiTurnConfig(supervisor=supervisor)
    assert supervisor.provider == "openai"
    assert supervisor.model == "gpt-4o-mini"
    assert supervisor.system_prompt is not None
    assert supervisor.system_prompt.startswith("You supervise an AI assistant")
    assert supervisor.system_prompt.endswith("closing notes.\n")
    assert supervisor.metadata == SupervisorMetadata()
    assert config.output_directory == "experiments"
    assert config.save_traces is True
    assert config.save_aggregated_metrics is True
    assert config.base_dir == (tmp_path / "my-agent").absolute()
    assert config.grid_size == 1


MINIMAL = """\
name: quick_test
description: Quick validation test
iterations: 1
runner:
  target: "my_agent:run"
"""

STANDARD = """\
name: agent_test
description: Standard agent testing
iterations: 10
seed: 42
runner:
  target: "examples.simple_agent:run"
  timeout_seconds: 120
  max_retries: 3
output_directory: experiments
save_traces: true
"""

MULTI_TURN_LLM = """\
name: conversation_test
description: Multi-turn conversation testing
iterations: 5
runner:
  target: "my_agent:run"
  timeout_seconds: 300
multi_turn:
  enabled: true
  max_turns: 12
  auto_approve_tools: true
  supervisor:
    provider: openai
    model: gpt-4o-mini
    system_prompt: |
      You supervise an AI assistant for a travel booking platform.
      Continue if customer needs more help with flights, hotels, or bookings.
      Terminate when reservation is complete or all questions answered.
"""

MULTI_TURN_SCRIPTED = """\
name: scripted_conversation
description: Deterministic multi-turn testing
iterations: 1
seed: 42
runner:
  target: "my_agent:run"
multi_turn:
  enabled: true
  max_turns: 5
  supervisor:
    provider: mock
    metadata:
      scripted_questions:
        - "What are your business hours?"
        - "Do you have weekend availability?"
        - "Great, thanks for the info!"
      mock_decision: terminate
      mock_reason: script_complete
"""

REPLAY = """\
name: replay_test
description: Test with recorded arguments
iterations: 3
runner:
  target: "my_handler:handle_request"
  timeout_seconds: 60
replay_args:
  enabled: true
  recording_file: recordings/production_args.jsonl
  override_param_path: request.body.message
output_directory: experiments
"""

STRESS = """\
name: production_stress_test
description: High-volume production simulation
iterations: 100
parallel_runs: 5
run_delay_seconds: 0.1
seed: null # Random for diversity
runner:
  target: "my_agent:run"
  timeout_seconds: 180
  max_retries: 5
multi_turn:
  enabled: true
  max_turns: 15
  supervisor:
    provider: openai
    model: gpt-4o
output_directory: stress_tests
save_traces: true
save_aggregated_metrics: true
"""


def _check_minimal(config: ExperimentConfig) -> None:
    assert (config.name, config.iterations) == ("quick_test", 1)
    assert config.runner == RunnerConfig(target="my_agent:run")


def _check_standard(config: ExperimentConfig) -> None:
    assert (config.name, config.iterations, config.seed) == ("agent_test", 10, 42)
    assert config.runner is not None
    assert config.runner.target == "examples.simple_agent:run"
    assert (config.runner.timeout_seconds, config.runner.max_retries) == (120, 3)
    assert (config.output_directory, config.save_traces) == ("experiments", True)


def _check_multi_turn_llm(config: ExperimentConfig) -> None:
    assert config.iterations == 5
    assert config.runner is not None
    assert config.runner.timeout_seconds == 300
    turns = config.multi_turn
    assert (turns.enabled, turns.max_turns, turns.auto_approve_tools) == (
        True,
        12,
        True,
    )
    assert (turns.supervisor.provider, turns.supervisor.model) == (
        "openai",
        "gpt-4o-mini",
    )
    assert turns.supervisor.model_spec == "openai:gpt-4o-mini"
    assert "travel booking platform" in (turns.supervisor.system_prompt or "")


def _check_scripted(config: ExperimentConfig) -> None:
    turns = config.multi_turn
    assert (turns.enabled, turns.max_turns) == (True, 5)
    assert turns.supervisor.provider == "mock"
    assert turns.supervisor.metadata == SupervisorMetadata(
        scripted_questions=(
            "What are your business hours?",
            "Do you have weekend availability?",
            "Great, thanks for the info!",
        ),
        mock_decision="terminate",
        mock_reason="script_complete",
    )


def _check_replay(config: ExperimentConfig) -> None:
    assert config.iterations == 3
    assert config.runner is not None
    assert config.runner.target == "my_handler:handle_request"
    assert config.runner.timeout_seconds == 60
    assert config.replay_args == ReplayArgsConfig(
        enabled=True,
        recording_file="recordings/production_args.jsonl",
        override_param_path="request.body.message",
    )


def _check_stress(config: ExperimentConfig) -> None:
    assert (config.iterations, config.parallel_runs) == (100, 5)
    assert config.run_delay_seconds == pytest.approx(0.1)
    assert config.seed is None
    assert config.runner is not None
    assert (config.runner.timeout_seconds, config.runner.max_retries) == (180, 5)
    assert (config.multi_turn.enabled, config.multi_turn.max_turns) == (True, 15)
    assert config.multi_turn.supervisor.model == "gpt-4o"
    assert config.output_directory == "stress_tests"
    assert config.grid_size == 100


@pytest.mark.parametrize(
    ("text", "check"),
    [
        (MINIMAL, _check_minimal),
        (STANDARD, _check_standard),
        (MULTI_TURN_LLM, _check_multi_turn_llm),
        (MULTI_TURN_SCRIPTED, _check_scripted),
        (REPLAY, _check_replay),
        (STRESS, _check_stress),
    ],
    ids=["minimal", "standard", "multi-turn-llm", "scripted", "replay", "stress"],
)
def test_the_seeds_complete_examples_load(tmp_path, text, check):
    path = write_config(tmp_path, text + 'inputs: ["Hello"]\n')
    config = load_experiment_config(path)
    check(config)
    assert config.base_dir == tmp_path.absolute()


# -------------------------------------------------------------------- defaults


def test_defaults_are_the_seeds():
    config = ExperimentConfig.from_dict(base())
    assert config.iterations == 1
    assert config.parallel_runs == 1
    assert config.run_delay_seconds == 0
    assert config.seed == 42
    assert config.output_directory == "experiments"
    assert config.save_traces is True
    assert config.save_aggregated_metrics is True
    runner = RunnerConfig()
    assert runner.target is runner.module_path is runner.function_name is None
    assert runner.working_directory == "."
    assert runner.python_path is None
    assert (runner.timeout_seconds, runner.max_retries) == (120, 3)
    assert runner.resolved_target is None
    replay = config.replay_args
    assert replay.enabled is False
    assert replay.recording_file == "recordings/args_recording.jsonl"
    assert replay.override_param_path == "data.content"
    turns = config.multi_turn
    assert (turns.enabled, turns.max_turns, turns.auto_approve_tools) == (
        False,
        8,
        True,
    )
    assert turns.persona_override is None
    supervisor = turns.supervisor
    assert (supervisor.provider, supervisor.model) == ("openai", "gpt-4o-mini")
    assert supervisor.system_prompt is None
    assert supervisor.temperature is None
    metadata = supervisor.metadata
    assert metadata.scripted_questions == ()
    assert metadata.mock_decision == "terminate"
    assert metadata.mock_reason == "script_complete"
    assert metadata.mock_closing == "Thanks for the help. I have no further questions."


def test_clientsims_own_defaults():
    config = ExperimentConfig.from_dict(base())
    assert config.inputs == ()
    assert config.inputs_file is None
    assert config.personas == ()
    assert config.model == "offline"
    assert config.agent is None
    assert config.outcomes == ()
    assert config.pass_outcomes == ()
    assert config.cache is True
    assert config.store is None
    assert config.personas_or_default() == (PersonaConfig(id="default"),)


# ------------------------------------------------------------------------ ranges

RANGES = [
    ("iterations", 1, 1000),
    ("parallel_runs", 1, 10_000),
    ("runner.timeout_seconds", 10, 3600),
    ("runner.max_retries", 0, 10),
    ("multi_turn.max_turns", 2, 50),
]


def nested(path: str, value: object) -> dict[str, object]:
    """``base()`` with ``value`` at the dotted ``path``."""
    data = base()
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target.setdefault(key, {})  # type: ignore[assignment]
    target[last] = value
    return data


def read_back(config: ExperimentConfig, path: str) -> object:
    value: object = config
    for key in path.split("."):
        value = getattr(value, key)
    return value


@pytest.mark.parametrize(("path", "low", "high"), RANGES)
def test_integer_ranges_take_their_ends(path, low, high):
    for value in (low, high):
        assert read_back(ExperimentConfig.from_dict(nested(path, value)), path) == value


@pytest.mark.parametrize(("path", "low", "high"), RANGES)
def test_integer_ranges_refuse_just_outside(path, low, high):
    for value in (low - 1, high + 1):
        message = error_of(nested(path, value))
        assert f"{path}: expected an integer from {low} to {high}" in message
        assert f"got {value} (an integer)" in message


def test_parallel_runs_explains_why_it_allows_more_than_the_seed():
    message = error_of(base(parallel_runs=10_001))
    assert "the seed documents 1-20" in message
    assert "I/O-bound" in message
    assert ExperimentConfig.from_dict(base(parallel_runs=20)).parallel_runs == 20
    assert ExperimentConfig.from_dict(base(parallel_runs=500)).parallel_runs == 500


@pytest.mark.parametrize(
    ("path", "low", "high"),
    [("run_delay_seconds", 0, 60), ("multi_turn.supervisor.temperature", 0, 2)],
)
def test_number_ranges(path, low, high):
    for value in (low, low + 0.001, high - 0.001, high, 0.5):
        config = ExperimentConfig.from_dict(nested(path, value))
        assert read_back(config, path) == pytest.approx(value)
    for value in (low - 0.001, high + 0.001):
        message = error_of(nested(path, value))
        assert f"{path}: expected a number from {low} to {high}" in message
        assert f"got {value}" in message


def test_an_integer_is_fine_where_a_number_is_expected():
    config = ExperimentConfig.from_dict(base(run_delay_seconds=2))
    assert config.run_delay_seconds == 2.0
    assert isinstance(config.run_delay_seconds, float)


# -------------------------------------------------------------- unknown keys


@pytest.mark.parametrize(
    ("data", "key", "suggestion"),
    [
        (base(iteration=3), "iteration", "iterations"),
        (
            nested("runner.timeout_secnds", 30),
            "runner.timeout_secnds",
            "timeout_seconds",
        ),
        (
            nested("multi_turn.supervisor.modle", "x"),
            "multi_turn.supervisor.modle",
            "model",
        ),
        (base(inputs=[{"content": "x", "intnet": "y"}]), "inputs[0].intnet", "intent"),
    ],
)
def test_unknown_keys_are_named_with_a_suggestion(data, key, suggestion):
    message = error_of(data)
    assert f"{key}: unknown key" in message
    assert f"did you mean {suggestion!r}?" in message


def test_unknown_keys_list_the_allowed_keys_at_their_level():
    message = error_of(nested("runner.zzz", 1))
    assert "allowed keys in runner: target, module_path, function_name" in message
    assert "did you mean" not in message
    top = error_of(base(qqq=1))
    assert "qqq: unknown key; allowed keys at the top level: name, description" in top


def test_base_dir_is_not_a_file_key():
    assert "base_dir: unknown key" in error_of(base(base_dir="elsewhere"))


# ---------------------------------------------------------------- wrong types


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            base(iterations="5"),
            "iterations: expected an integer from 1 to 1000; got '5' (a string)",
        ),
        (base(iterations=1.5), "got 1.5 (a number)"),
        (base(iterations=True), "got true (a boolean)"),
        (base(iterations=2.0), "got 2.0 (a number)"),
        (
            base(save_traces="yes"),
            "save_traces: expected true or false; got 'yes' (a string)",
        ),
        (
            base(save_traces=1),
            "save_traces: expected true or false; got 1 (an integer)",
        ),
        (base(name=5), "name: expected a non-empty string; got 5 (an integer)"),
        (base(name="  "), "name: expected a non-empty string; got '  '"),
        (base(seed="42"), "seed: expected an integer or null; got '42' (a string)"),
        (
            base(multi_turn=[]),
            "multi_turn: expected a mapping of multi-turn settings; got []",
        ),
        (base(inputs="hello"), "inputs: expected a list of inputs"),
        (base(inputs={"content": "x"}), "inputs: expected a list of inputs"),
        (base(personas=[{"id": "Expert User"}]), "personas[0].id: expected a slug"),
        (base(inputs=[5]), "inputs[0]: expected a string or a mapping with content"),
        (
            nested("multi_turn.supervisor.provider", "anthropic"),
            "multi_turn.supervisor.provider: expected one of 'openai', 'mock'; got 'anthropic'",
        ),
        (
            nested("multi_turn.supervisor.metadata.mock_decision", "stop"),
            "mock_decision: expected one of 'terminate', 'continue'",
        ),
        (
            nested("multi_turn.supervisor.metadata.scripted_questions", "Hi?"),
            "scripted_questions: expected a list of strings; got 'Hi?'",
        ),
        (
            nested("multi_turn.supervisor.metadata.scripted_questions", ["a", 2]),
            "multi_turn.supervisor.metadata.scripted_questions[1]: expected a string; got 2",
        ),
        (
            nested("replay_args.override_param_path", ""),
            "override_param_path: expected a non-empty dot path",
        ),
        (
            nested("runner.python_path", [1]),
            "runner.python_path: expected a list of strings, a single string, or null",
        ),
    ],
)
def test_wrong_types_are_never_coerced(data, expected):
    assert expected in error_of(data)


def test_null_for_a_key_with_a_default_says_how_to_get_the_default():
    assert (
        "iterations: expected an integer from 1 to 1000; got null; remove the key "
        "to use the default (1)"
    ) in error_of(base(iterations=None))
    assert (
        "multi_turn.max_turns: expected an integer from 2 to 50; got null"
        in error_of(nested("multi_turn.max_turns", None))
    )
    assert "replay_args: expected a mapping of replay settings; got null" in error_of(
        base(replay_args=None)
    )


def test_null_is_allowed_where_the_seed_allows_it():
    config = ExperimentConfig.from_dict(
        nested("multi_turn.persona_override", None) | {"seed": None}
    )
    assert config.seed is None
    assert config.multi_turn.persona_override is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"description": "d", "agent": {"system_prompt": "x"}},
            "name: required key missing",
        ),
        (
            {"name": "t", "agent": {"system_prompt": "x"}},
            "description: required key missing",
        ),
        (
            {"name": "t", "description": "", "agent": {}},
            "agent.system_prompt: required key missing",
        ),
        (
            base(inputs=[{"id": "a"}]),
            "inputs[0].content: required key missing; expected a non-empty string",
        ),
        (base(personas=[{"name": "A"}]), "personas[0].id: required key missing"),
        (base(outcomes=[{}]), "outcomes[0].name: required key missing"),
    ],
)
def test_missing_required_keys_are_named(data, expected):
    assert expected in error_of(data)


def test_every_problem_is_reported_at_once():
    message = error_of(base(iterations=0, save_traces="no", iteration=1))
    assert message.startswith("invalid experiment config:\n  - ")
    assert "iteration: unknown key" in message
    assert "save_traces: expected true or false" in message


def test_the_top_level_must_be_a_mapping():
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        ExperimentConfig.from_dict(["name"])  # type: ignore[arg-type]


# ------------------------------------------------------------------ the runner


@pytest.mark.parametrize(
    "target",
    [
        "my_agent:run",
        "my_agent:Agent.process",
        "my_agent:agent.handle",
        "examples.simple_agent:run",
        "src.agents.support:Bot.reply",
    ],
)
def test_target_patterns_that_resolve(target):
    config = ExperimentConfig.from_dict(nested("runner.target", target))
    assert config.runner is not None
    assert config.runner.resolved_target == target


@pytest.mark.parametrize(
    "target",
    [
        "my_agent",
        "my_agent:",
        ":run",
        "my-agent:run",
        "a:b:c",
        "a..b:run",
        "a:run()",
        "a:b.",
        " a:b",
        "",
    ],
)
def test_target_patterns_that_do_not(target):
    message = error_of(nested("runner.target", target))
    assert (
        "runner.target: expected 'module:function', 'module:Class.method' or "
        "'module:instance.method'" in message
    )
    assert repr(target) in message


def test_module_path_and_function_name_resolve_to_a_target():
    runner = RunnerConfig(module_path="examples.simple_agent", function_name="run")
    assert runner.resolved_target == "examples.simple_agent:run"
    method = RunnerConfig(module_path="my_agent", function_name="Agent.process")
    assert method.resolved_target == "my_agent:Agent.process"
    both = RunnerConfig(target="a:b", module_path="a", function_name="b")
    assert both.resolved_target == "a:b"


@pytest.mark.parametrize(
    ("runner", "expected"),
    [
        (
            {"module_path": "a"},
            "runner.function_name: module_path and function_name go together",
        ),
        (
            {"function_name": "run"},
            "runner.module_path: module_path and function_name go together",
        ),
        (
            {"target": "a:b", "module_path": "a", "function_name": "c"},
            "runner.target: target 'a:b' disagrees with module_path:function_name 'a:c'",
        ),
        (
            {"module_path": "a-b", "function_name": "run"},
            "runner.module_path: expected a dotted Python module path",
        ),
        (
            {"module_path": "a", "function_name": "run()"},
            "runner.function_name: expected a function name",
        ),
        ({}, "runner.target: nothing to run"),
        ({"timeout_seconds": 30}, "runner.target: nothing to run"),
    ],
)
def test_runner_targets_that_cannot_be_resolved(runner, expected):
    assert expected in error_of(base(runner=runner))


def test_python_path_may_be_a_single_string():
    config = ExperimentConfig.from_dict(nested("runner.python_path", "src"))
    assert config.runner is not None
    assert config.runner.python_path == ("src",)
    listed = ExperimentConfig.from_dict(
        nested("runner.python_path", ["src", "../shared"])
    )
    assert listed.runner is not None
    assert listed.runner.python_path == ("src", "../shared")
    assert RunnerConfig(python_path="src").python_path == ("src",)


def test_runner_or_agent_exactly_one():
    nothing = error_of({"name": "t", "description": "d"})
    assert "runner: nothing to run: set runner.target" in nothing
    assert "agent.system_prompt" in nothing
    both = error_of(base(agent={"system_prompt": "Help."}))
    assert "agent: give either runner" in both
    agent_only = ExperimentConfig.from_dict(
        {"name": "t", "description": "d", "agent": {"system_prompt": "Help."}}
    )
    assert agent_only.agent == AgentConfig(system_prompt="Help.")
    assert agent_only.runner is None
    assert "agent.system_prompt: expected a non-empty string" in error_of(
        {"name": "t", "description": "d", "agent": {"system_prompt": ""}}
    )


# ------------------------------------------------------- personas and outcomes


def test_persona_ids_are_unique():
    message = error_of(base(personas=[{"id": "novice"}, {"id": "novice"}]))
    assert "personas[1].id: 'novice' is already used by personas[0]" in message


def test_persona_override_names_a_declared_persona():
    personas = [{"id": "novice"}, {"id": "expert_user"}]
    message = error_of(
        base(personas=personas, multi_turn={"persona_override": "expert-user"})
    )
    assert "multi_turn.persona_override: 'expert-user' names no persona" in message
    assert "did you mean 'expert_user'?" in message
    config = ExperimentConfig.from_dict(
        base(
            personas=personas,
            multi_turn={"persona_override": "expert_user"},
            inputs=["a", "b"],
            iterations=3,
        )
    )
    assert config.selected_personas() == (PersonaConfig(id="expert_user"),)
    assert config.personas_or_default() == config.personas
    assert config.grid_size == 2 * 1 * 3


def test_grid_size_is_inputs_times_personas_times_iterations():
    config = ExperimentConfig.from_dict(
        base(personas=[{"id": "a"}, {"id": "b"}], inputs=["x"] * 5, iterations=4)
    )
    assert config.grid_size == 5 * 2 * 4


def test_persona_override_without_declared_personas_becomes_the_persona():
    config = ExperimentConfig.from_dict(
        nested("multi_turn.persona_override", "expert_user")
    )
    assert config.selected_personas() == (PersonaConfig(id="expert_user"),)


def test_outcomes_and_pass_outcomes():
    outcomes = [
        {
            "name": "resolved",
            "description": "Fixed",
            "patterns": [r"\bfixed\b"],
            "sender": "agent",
        },
        {"name": "escalated"},
    ]
    config = ExperimentConfig.from_dict(
        base(outcomes=outcomes, pass_outcomes=["resolved"])
    )
    assert config.outcomes[0] == OutcomeConfig(
        name="resolved", description="Fixed", patterns=(r"\bfixed\b",), sender="agent"
    )
    assert config.pass_outcomes == ("resolved",)
    message = error_of(base(outcomes=outcomes, pass_outcomes=["resolvd"]))
    assert "pass_outcomes[0]: 'resolvd' is not an outcome name" in message
    assert "did you mean 'resolved'?" in message
    assert "(no outcomes declared)" in error_of(base(pass_outcomes=["resolved"]))


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ({"name": "Resolved"}, "outcomes[0].name: expected a lowercase slug"),
        ({"name": "a__b"}, "outcomes[0].name: expected a lowercase slug"),
        (
            {"name": "ok", "patterns": ["("]},
            "outcomes[0].patterns[0]: expected a regular expression",
        ),
        (
            {"name": "ok", "sender": "bot"},
            "outcomes[0].sender: expected one of 'agent', 'customer' or null",
        ),
    ],
)
def test_bad_outcomes(outcome, expected):
    assert expected in error_of(base(outcomes=[outcome]))


def test_outcome_names_are_unique():
    message = error_of(base(outcomes=[{"name": "ok"}, {"name": "ok"}]))
    assert "outcomes[1].name: 'ok' is already used by outcomes[0]" in message


def test_supervisor_model_spec():
    assert SupervisorConfig().model_spec == "openai:gpt-4o-mini"
    assert SupervisorConfig(model="openai:gpt-4o").model_spec == "openai:gpt-4o"
    assert SupervisorConfig(model="offline").model_spec == "offline"


# ------------------------------------------------------------------- overrides


def test_overrides_apply_the_seeds_cli_flags(tmp_path):
    config = ExperimentConfig.from_dict(
        base(personas=[{"id": "expert_user"}]), base_dir=tmp_path
    )
    changed = config.with_overrides(
        iterations=20,
        parallel_runs=4,
        seed=7,
        multi_turn=True,
        max_turns=15,
        auto_approve=False,
        supervisor_model="gpt-4o",
        supervisor_temperature=0.3,
        persona="expert_user",
        output_dir="out",
    )
    assert (changed.iterations, changed.parallel_runs, changed.seed) == (20, 4, 7)
    turns = changed.multi_turn
    assert (turns.enabled, turns.max_turns, turns.auto_approve_tools) == (
        True,
        15,
        False,
    )
    assert turns.supervisor.model == "gpt-4o"
    assert turns.supervisor.temperature == pytest.approx(0.3)
    assert turns.persona_override == "expert_user"
    assert changed.output_directory == "out"
    assert changed.base_dir == tmp_path
    assert config.iterations == 1  # the original is untouched


def test_no_overrides_change_nothing(tmp_path):
    config = ExperimentConfig.from_dict(base(), base_dir=tmp_path)
    assert config.with_overrides() == config


def test_the_model_override_sets_the_supervisor_model_unless_that_is_given():
    config = ExperimentConfig.from_dict(base())
    assert config.with_overrides(model="openai:gpt-4o").model == "openai:gpt-4o"
    assert (
        config.with_overrides(model="openai:gpt-4o").multi_turn.supervisor.model
        == "openai:gpt-4o"
    )
    both = config.with_overrides(model="offline", supervisor_model="gpt-4o")
    assert (both.model, both.multi_turn.supervisor.model) == ("offline", "gpt-4o")


def test_output_dir_may_be_a_path():
    config = ExperimentConfig.from_dict(base())
    assert config.with_overrides(output_dir=Path("runs")).output_directory == "runs"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"iterations": 0}, "iterations: expected an integer from 1 to 1000; got 0"),
        (
            {"iterations": "5"},
            "iterations: expected an integer from 1 to 1000; got '5'",
        ),
        (
            {"parallel_runs": 10_001},
            "parallel_runs: expected an integer from 1 to 10000",
        ),
        (
            {"max_turns": 51},
            "multi_turn.max_turns: expected an integer from 2 to 50; got 51",
        ),
        (
            {"supervisor_temperature": 2.5},
            "multi_turn.supervisor.temperature: expected a number from 0 to 2",
        ),
        (
            {"persona": "nobody"},
            "multi_turn.persona_override: 'nobody' names no persona",
        ),
        (
            {"persona": "Not A Slug"},
            "multi_turn.persona_override: expected a persona id",
        ),
        (
            {"multi_turn": "yes"},
            "multi_turn.enabled: expected true or false; got 'yes'",
        ),
        ({"output_dir": ""}, "output_directory: expected a non-empty string"),
        ({"model": ""}, "model: expected a non-empty string"),
    ],
)
def test_invalid_overrides_are_refused_like_file_values(overrides, expected):
    config = ExperimentConfig.from_dict(base(personas=[{"id": "expert_user"}]))
    with pytest.raises(ConfigError) as info:
        config.with_overrides(**overrides)
    assert str(info.value).startswith("invalid experiment config (after overrides): ")
    assert expected in str(info.value)


# ---------------------------------------------------------------------- inputs


def test_inline_inputs_strings_and_mappings_get_ids():
    config = ExperimentConfig.from_dict(
        base(
            inputs=[
                "Where is my order?",
                {
                    "content": "Refund please",
                    "intent": "Get a refund",
                    "id": "refund",
                    "metadata": {"order": 1234, "tags": ["vip", None]},
                },
                {"content": "Cancel"},
            ]
        )
    )
    items = config.resolved_inputs()
    assert [item.id for item in items] == ["0", "refund", "2"]
    assert items[0] == InputItem(id="0", content="Where is my order?")
    assert items[1].intent == "Get a refund"
    assert items[1].metadata == {"order": 1234, "tags": ["vip", None]}
    assert config.inputs[0].id is None  # ids are given when resolving


def test_no_inputs_is_an_error_only_when_resolving():
    config = ExperimentConfig.from_dict(base())
    with pytest.raises(ConfigError, match="no inputs to run: add an `inputs:` list"):
        config.resolved_inputs()


def test_duplicate_input_ids():
    message = error_of(
        base(inputs=[{"id": "a", "content": "x"}, {"id": "a", "content": "y"}])
    )
    assert "inputs[1].id: id 'a' is already used by inputs[0]" in message
    clash = error_of(base(inputs=[{"id": "1", "content": "x"}, "y"]))
    assert "inputs[1].id: id '1' is already used by inputs[0]" in clash


def test_input_metadata_must_be_json():
    message = error_of(base(inputs=[{"content": "x", "metadata": {"when": {1: 2}}}]))
    assert (
        "inputs[0].metadata: expected JSON data; ['when'] has a key that is not a string"
        in message
    )
    assert "inputs[0].metadata: expected a mapping of string keys" in error_of(
        base(inputs=[{"content": "x", "metadata": ["a"]}])
    )


def test_inputs_file_jsonl(tmp_path):
    (tmp_path / "data").mkdir()
    lines = [
        '"Where is my order?"',
        "",
        json.dumps({"content": "Refund", "id": "r"}),
        json.dumps({"content": "Cancel", "intent": "Cancel my plan"}),
    ]
    (tmp_path / "data" / "inputs.jsonl").write_text("\n".join(lines), encoding="utf-8")
    config = ExperimentConfig.from_dict(
        base(inputs=["inline"], inputs_file="data/inputs.jsonl"), base_dir=tmp_path
    )
    items = config.resolved_inputs()
    assert [(item.id, item.content) for item in items] == [
        ("0", "inline"),
        ("1", "Where is my order?"),
        ("r", "Refund"),
        ("3", "Cancel"),
    ]
    assert items[3].intent == "Cancel my plan"
    assert config.grid_size == 4


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_inputs_file_holding_a_list(tmp_path, suffix):
    items = ["Hello", {"content": "Refund", "id": "r", "metadata": {"k": 1}}]
    text = json.dumps(items)  # JSON is YAML too
    (tmp_path / f"inputs{suffix}").write_text(text, encoding="utf-8")
    config = ExperimentConfig.from_dict(
        base(inputs_file=f"inputs{suffix}"), base_dir=tmp_path
    )
    assert config.resolved_inputs() == (
        InputItem(id="0", content="Hello"),
        InputItem(id="r", content="Refund", metadata={"k": 1}),
    )


def test_inputs_file_relative_to_the_project_root(tmp_path):
    path = write_config(tmp_path, MINIMAL + "inputs_file: inputs.yaml\n")
    (tmp_path / "inputs.yaml").write_text("- Hello\n- content: Bye\n", encoding="utf-8")
    assert [i.content for i in load_experiment_config(path).resolved_inputs()] == [
        "Hello",
        "Bye",
    ]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("in.jsonl", '"ok"\n{"content": \n', "line 2 is not valid JSON at line 1"),
        (
            "in.jsonl",
            '"ok"\n{"content": ""}\n',
            "line 2: content: expected a non-empty string",
        ),
        ("in.jsonl", '{"content": "x", "extra": 1}\n', "line 1: extra: unknown key"),
        ("in.jsonl", "5\n", "line 1: expected a string or a mapping with content"),
        (
            "in.yaml",
            "content: x\n",
            "expected a list of inputs (strings or mappings); got {'content': 'x'}",
        ),
        ("in.yaml", "- a\n- [b]\n", "[1]: expected a string or a mapping with content"),
        ("in.yaml", "- a\n  b: [\n", "is not valid YAML at line"),
        (
            "in.json",
            '[{"id": "a", "content": "x"}, {"id": "a", "content": "y"}]',
            "inputs_file[1].id: id 'a' is already used by inputs_file[0]",
        ),
    ],
)
def test_bad_inputs_files(tmp_path, name, text, expected):
    (tmp_path / name).write_text(text, encoding="utf-8")
    config = ExperimentConfig.from_dict(base(inputs_file=name), base_dir=tmp_path)
    with pytest.raises(ConfigError) as info:
        config.resolved_inputs()
    assert expected in str(info.value)


def test_missing_inputs_file_names_its_path(tmp_path):
    config = ExperimentConfig.from_dict(
        base(inputs_file="nope.jsonl"), base_dir=tmp_path
    )
    with pytest.raises(ConfigError, match="does not exist") as info:
        config.resolved_inputs()
    assert str(tmp_path / "nope.jsonl") in str(info.value)


def test_an_empty_inputs_file_gives_no_inputs(tmp_path):
    (tmp_path / "in.yaml").write_text("", encoding="utf-8")
    config = ExperimentConfig.from_dict(base(inputs_file="in.yaml"), base_dir=tmp_path)
    with pytest.raises(ConfigError, match="no inputs to run"):
        config.resolved_inputs()


def test_inputs_file_must_be_a_known_kind():
    assert (
        "inputs_file: expected a path to a .jsonl, .yaml, .yml or .json file"
        in error_of(base(inputs_file="inputs.csv"))
    )


# ------------------------------------------------------------------- base_dir


def test_base_dir_is_the_parent_of_a_configs_folder(tmp_path):
    path = write_config(tmp_path / "my-agent", MINIMAL)
    config = load_experiment_config(path)
    assert config.base_dir == (tmp_path / "my-agent").absolute()
    assert (
        config.resolve_path("recordings/a.jsonl")
        == config.base_dir / "recordings/a.jsonl"
    )
    assert config.output_path == config.base_dir / "experiments"
    assert config.store_path == config.base_dir / "experiments" / "runs.sqlite"


def test_base_dir_is_the_files_folder_elsewhere(tmp_path):
    folder = tmp_path / "settings"
    folder.mkdir()
    (folder / "sim.yaml").write_text(MINIMAL + "store: db/runs.db\n", encoding="utf-8")
    config = ExperimentConfig.from_file(folder / "sim.yaml")
    assert config.base_dir == folder.absolute()
    assert config.store_path == folder.absolute() / "db" / "runs.db"


def test_from_dict_resolves_against_the_given_root_or_the_cwd(tmp_path, monkeypatch):
    assert ExperimentConfig.from_dict(base(), base_dir=tmp_path).base_dir == tmp_path
    monkeypatch.chdir(tmp_path)
    config = experiment_config_from_dict(base())
    assert config.base_dir == Path.cwd()
    absolute = tmp_path / "elsewhere"
    assert config.resolve_path(absolute) == absolute


# ---------------------------------------------------------------------- files


def test_toml_and_json_files(tmp_path):
    toml = write_config(
        tmp_path,
        """\
        name = "toml_test"
        description = "From TOML"
        iterations = 3

        [runner]
        target = "my_agent:run"

        [multi_turn.supervisor]
        provider = "mock"
        """,
        "simulation.toml",
    )
    config = load_experiment_config(toml)
    assert (config.name, config.iterations) == ("toml_test", 3)
    assert config.multi_turn.supervisor.provider == "mock"
    js = write_config(tmp_path, json.dumps(base(iterations=2)), "simulation.json")
    assert load_experiment_config(js).iterations == 2


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("sim.yaml", "name: [unclosed\n", "is not valid YAML at line 2"),
        ("sim.yaml", "name: a\n  bad: indent\n", "is not valid YAML at line 2"),
        ("sim.toml", "name = \n", "is not valid TOML"),
        ("sim.json", '{"name": "t",\n "x": }', "is not valid JSON at line 2, column 7"),
        (
            "sim.yaml",
            "- a\n- b\n",
            "the top level must be a mapping of keys to values; got ['a', 'b']",
        ),
        ("sim.yaml", "", "the top level must be a mapping of keys to values; got null"),
        (
            "sim.yaml",
            "name: t\ndescription: d\niteration: 2\nrunner: {target: 'a:b'}\n",
            "iteration: unknown key",
        ),
    ],
)
def test_bad_files_name_their_path(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_file(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_missing_unreadable_and_unknown_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_experiment_config(tmp_path / "configs" / "simulation.yaml")
    with pytest.raises(ConfigError, match=r"unsupported file type \.ini; use \.yaml"):
        load_experiment_config(tmp_path / "simulation.ini")
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    with pytest.raises(ConfigError, match="cannot read experiment config"):
        load_experiment_config(folder)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ConfigError, match="cannot read experiment config"):
        load_experiment_config(binary)


# ---------------------------------------------------------------- round trips


def test_to_dict_round_trips(tmp_path):
    config = ExperimentConfig.from_dict(
        base(
            runner={"target": "a:b", "python_path": "src", "timeout_seconds": 30},
            inputs=["x", {"content": "y", "metadata": {"a": [1, 2.5, None]}}],
            personas=[{"id": "expert_user", "description": "Knows it", "name": "Ann"}],
            outcomes=[{"name": "resolved", "patterns": ["ok"], "sender": "agent"}],
            pass_outcomes=["resolved"],
            multi_turn={
                "enabled": True,
                "supervisor": {
                    "temperature": 1,
                    "metadata": {"scripted_questions": ["a"]},
                },
            },
            seed=None,
            store="runs.db",
        ),
        base_dir=tmp_path,
    )
    data = config.to_dict()
    assert "base_dir" not in data
    assert json.loads(json.dumps(data)) == data  # plain JSON data
    assert ExperimentConfig.from_dict(data, base_dir=tmp_path) == config
    runner = data["runner"]
    assert isinstance(runner, dict)
    assert runner["python_path"] == ["src"]


def test_seed_example_round_trips(tmp_path):
    config = load_experiment_config(write_config(tmp_path, SEED_COMPLETE_EXAMPLE))
    assert (
        ExperimentConfig.from_dict(config.to_dict(), base_dir=config.base_dir) == config
    )


# ---------------------------------------------------------- building in Python


def test_values_built_in_python_are_checked_too():
    with pytest.raises(
        ConfigError, match="timeout_seconds: expected an integer from 10 to 3600; got 5"
    ):
        RunnerConfig(timeout_seconds=5)
    with pytest.raises(ConfigError, match="content: expected a non-empty string"):
        InputItem(content="")
    with pytest.raises(ConfigError, match="target: expected 'module:function'"):
        RunnerConfig(target="nope")
    with pytest.raises(
        ConfigError, match="metadata: expected a mapping of string keys"
    ):
        InputItem(content="x", metadata={"a": object()})
    with pytest.raises(
        ConfigError, match="scripted_questions: expected a list of strings"
    ):
        SupervisorMetadata(scripted_questions="abc")
    with pytest.raises(
        ConfigError, match="temperature: expected a number from 0 to 2 or null"
    ):
        SupervisorConfig(temperature=True)


def test_python_construction_converts_lists_and_strings():
    config = ExperimentConfig(
        name="t",
        description="",
        agent=AgentConfig(system_prompt="Help."),
        inputs=["a", InputItem(content="b")],
        personas=[PersonaConfig(id="p")],
    )
    assert config.inputs == (InputItem(content="a"), InputItem(content="b"))
    assert config.personas == (PersonaConfig(id="p"),)
    assert hash(config.inputs[0]) == hash(InputItem(content="a"))
