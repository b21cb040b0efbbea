"""Invariants of the experiment file loader.

(a) any JSON-like data, random or shaped like a real file, either loads or raises
    ``ConfigError``, never another exception;
(b) any text saved as a ``.yaml`` file does the same through ``from_file``;
(c) valid configs survive ``to_dict`` -> ``from_dict`` (and JSON text) unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
)


SETTINGS = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# ------------------------------------------------------------- (a) any data

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
JSON_LIKE = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
# Values that often pass one check so that later checks get exercised too.
PLAUSIBLE: st.SearchStrategy[object] = st.sampled_from(
    [
        "my_agent:run",
        "a.b:C.d",
        "a",
        "run",
        "data.content",
        "x.jsonl",
        "in.yaml",
        "openai",
        "mock",
        "terminate",
        "continue",
        "agent",
        "customer",
        "resolved",
        "default",
        "expert_user",
        "offline",
        "gpt-4o",
        "",
        " ",
        "(",
        ".",
        "a..b",
        0,
        1,
        2,
        10,
        50,
        60,
        1000,
        3600,
        10_000,
        -1,
        0.5,
        2.5,
        True,
        False,
        None,
        [],
        {},
        ["resolved"],
        ["a", "b"],
        [{"id": "a"}],
        [{"name": "resolved"}],
    ]
)

# Which keys of a class hold another class (a mapping) or a list of them.
NESTED: dict[tuple[type, str], type] = {
    (ExperimentConfig, "runner"): RunnerConfig,
    (ExperimentConfig, "replay_args"): ReplayArgsConfig,
    (ExperimentConfig, "multi_turn"): MultiTurnConfig,
    (ExperimentConfig, "agent"): AgentConfig,
    (MultiTurnConfig, "supervisor"): SupervisorConfig,
    (SupervisorConfig, "metadata"): SupervisorMetadata,
}
LISTED: dict[tuple[type, str], type] = {
    (ExperimentConfig, "inputs"): InputItem,
    (ExperimentConfig, "personas"): PersonaConfig,
    (ExperimentConfig, "outcomes"): OutcomeConfig,
}


def shaped(cls: type) -> st.SearchStrategy[dict[str, object]]:
    """Mappings that use ``cls``'s real key names (and sometimes a wrong one)."""
    optional: dict[str, st.SearchStrategy[object]] = {}
    for field in attrs.fields(cls):
        if field.name == "base_dir":
            continue
        choices = [JSON_LIKE, PLAUSIBLE]
        if (cls, field.name) in NESTED:
            choices.append(shaped(NESTED[cls, field.name]))
        if (cls, field.name) in LISTED:
            item = LISTED[cls, field.name]
            choices.append(st.lists(shaped(item) | PLAUSIBLE, max_size=3))
        optional[field.name] = st.one_of(*choices)
    optional["iteration"] = PLAUSIBLE
    return st.fixed_dictionaries({}, optional=optional)


def load_or_config_error(data: object) -> None:
    message = None
    try:
        config = ExperimentConfig.from_dict(data)  # type: ignore[arg-type]
    except ConfigError as error:
        message = str(error)
    if message is None:
        again = ExperimentConfig.from_dict(config.to_dict(), base_dir=config.base_dir)
        assert again == config
    else:
        assert message.startswith("invalid experiment config:")


@SETTINGS
@given(JSON_LIKE)
def test_any_json_like_data_loads_or_raises_config_error(data):
    load_or_config_error(data)


@SETTINGS
@given(shaped(ExperimentConfig))
def test_data_shaped_like_a_file_loads_or_raises_config_error(data):
    load_or_config_error(data)


@SETTINGS
@given(
    shaped(ExperimentConfig),
    st.sampled_from(
        [{"runner": {"target": "my_agent:run"}}, {"agent": {"system_prompt": "x"}}]
    ),
)
def test_nearly_valid_data_loads_or_raises_config_error(data, what_runs):
    load_or_config_error({"name": "t", "description": "d", **what_runs, **data})


# --------------------------------------------------------------- (b) any text

YAMLISH = st.text(
    alphabet=st.sampled_from(list("abnm:-_ []{},#'\"!&*|>?%@`\n\t0123456789.\\")),
    max_size=80,
)


@pytest.fixture(name="yaml_file", scope="module")
def _yaml_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("project") / "configs" / "simulation.yaml"


@SETTINGS
@given(st.text(max_size=200) | YAMLISH)
def test_any_text_as_a_yaml_file_loads_or_raises_config_error(yaml_file, text):
    yaml_file.parent.mkdir(exist_ok=True)
    yaml_file.write_text(text, encoding="utf-8", errors="surrogatepass")
    message = None
    try:
        ExperimentConfig.from_file(yaml_file)
    except ConfigError as error:
        message = str(error)
    assert message is None or str(yaml_file) in message


# ------------------------------------------------------- (c) valid round trips

IDENT = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True)
DOTTED = st.lists(IDENT, min_size=1, max_size=3).map(".".join)
TEXT = st.text(max_size=20)
NON_EMPTY = st.text(min_size=1, max_size=20).filter(str.strip)
SLUG = st.from_regex(r"[a-z0-9]+(?:[_-][a-z0-9]+){0,2}", fullmatch=True)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


T = TypeVar("T")


def optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


RUNNERS = st.builds(
    RunnerConfig,
    target=st.tuples(DOTTED, DOTTED).map(":".join),
    working_directory=NON_EMPTY,
    python_path=optional(st.lists(TEXT, max_size=3).map(tuple)),
    timeout_seconds=st.integers(10, 3600),
    max_retries=st.integers(0, 10),
) | st.builds(RunnerConfig, module_path=DOTTED, function_name=DOTTED)

SUPERVISORS = st.builds(
    SupervisorConfig,
    provider=st.sampled_from(["openai", "mock"]),
    model=NON_EMPTY,
    system_prompt=optional(TEXT),
    temperature=optional(st.floats(0, 2)),
    metadata=st.builds(
        SupervisorMetadata,
        scripted_questions=st.lists(TEXT, max_size=3).map(tuple),
        mock_decision=st.sampled_from(["terminate", "continue"]),
        mock_reason=TEXT,
        mock_closing=TEXT,
    ),
)

INPUTS = st.builds(
    InputItem,
    id=optional(st.from_regex(r"in-[a-z]{1,6}", fullmatch=True)),
    content=NON_EMPTY,
    intent=optional(TEXT),
    metadata=st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=3),
)


@st.composite
def experiments(draw: st.DrawFn) -> ExperimentConfig:
    personas = draw(
        st.lists(
            st.builds(PersonaConfig, id=SLUG, description=TEXT, name=optional(TEXT)),
            max_size=3,
            unique_by=lambda persona: persona.id,
        )
    )
    outcomes = draw(
        st.lists(
            st.builds(
                OutcomeConfig,
                name=SLUG,
                description=TEXT,
                patterns=st.lists(
                    st.sampled_from([r"\bok\b", "refund", "^thanks", "[0-9]+"]),
                    max_size=2,
                ).map(tuple),
                sender=optional(st.sampled_from(["agent", "customer"])),
            ),
            max_size=3,
            unique_by=lambda outcome: outcome.name,
        )
    )
    names = [outcome.name for outcome in outcomes]
    ids = [persona.id for persona in personas]
    runs_code = draw(st.booleans())
    return ExperimentConfig(
        name=draw(NON_EMPTY),
        description=draw(TEXT),
        iterations=draw(st.integers(1, 1000)),
        parallel_runs=draw(st.integers(1, 10_000)),
        run_delay_seconds=draw(st.floats(0, 60) | st.integers(0, 60)),
        seed=draw(optional(st.integers())),
        runner=draw(RUNNERS) if runs_code else None,
        replay_args=draw(
            st.builds(
                ReplayArgsConfig,
                enabled=st.booleans(),
                recording_file=NON_EMPTY,
                override_param_path=DOTTED,
            )
        ),
        multi_turn=draw(
            st.builds(
                MultiTurnConfig,
                enabled=st.booleans(),
                max_turns=st.integers(2, 50),
                auto_approve_tools=st.booleans(),
                persona_override=(
                    optional(st.sampled_from(ids)) if ids else optional(SLUG)
                ),
                supervisor=SUPERVISORS,
            )
        ),
        output_directory=draw(NON_EMPTY),
        save_traces=draw(st.booleans()),
        save_aggregated_metrics=draw(st.booleans()),
        inputs=draw(
            st.lists(INPUTS, max_size=3, unique_by=lambda item: item.id or object())
        ),
        inputs_file=draw(
            optional(st.sampled_from(["in.jsonl", "data/in.yaml", "a.json"]))
        ),
        personas=tuple(personas),
        model=draw(NON_EMPTY),
        agent=None
        if runs_code
        else draw(
            st.builds(AgentConfig, model=optional(NON_EMPTY), system_prompt=NON_EMPTY)
        ),
        outcomes=tuple(outcomes),
        pass_outcomes=tuple(
            draw(st.lists(st.sampled_from(names), unique=True)) if names else ()
        ),
        cache=draw(st.booleans()),
        store=draw(optional(NON_EMPTY)),
        base_dir=Path("/project"),
    )


@SETTINGS
@given(experiments())
def test_valid_configs_round_trip(config):
    data = config.to_dict()
    assert ExperimentConfig.from_dict(data, base_dir=config.base_dir) == config
    text = json.dumps(data)
    assert (
        ExperimentConfig.from_dict(json.loads(text), base_dir=config.base_dir) == config
    )
