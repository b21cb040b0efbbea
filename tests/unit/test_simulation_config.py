"""ClientSimulationConfig: the six parts, files, and clear errors."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.errors import ConfigError
from clientsim.simulation.config import ClientSimulationConfig


def test_defaults_make_a_runnable_config():
    config = ClientSimulationConfig()
    assert config.pool.size == 5
    assert config.generators.strategy == "template"
    assert config.feedback.strategy == "criteria_check"
    assert config.report.strategy == "summary"
    assert config.intake.strategy == "direct"
    assert ClientSimulationConfig.from_dict(config.to_dict()) == config


def test_a_yaml_file_loads(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        """
pool:
  size: 4
  ai_ratio: 0.5
  hybrid_ratio: 0.5
  selection_strategy: domain_matched
  strictness_range: [0.1, 0.9]
generators:
  strategy: dataset
feedback:
  strategy: scored
  rubric: {correctness: 0.6, clarity: 0.4}
report:
  strategy: detailed
runner:
  rounds: 2
  requirements_per_round: 3
  max_concurrent: 2
continuous:
  interval_seconds: 5
"""
    )
    config = ClientSimulationConfig.from_file(path)
    assert config.pool.counts() == {"ai": 2, "human": 0, "hybrid": 2}
    assert config.pool.strictness_range == (0.1, 0.9)
    assert config.feedback.rubric == {"correctness": 0.6, "clarity": 0.4}
    assert config.runner.rounds == 2


def test_a_toml_file_loads(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[pool]\nsize = 2\n\n[report]\nstrategy = "json_export"\n')
    assert ClientSimulationConfig.from_file(path).report.strategy == "json_export"


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"pol": {}}, "pol"),
        ({"pool": {"size": 0}}, "size"),
        ({"pool": {"size": "3"}}, "size"),
        ({"pool": {"ai_ratio": 0.4}}, "add up to 1.0"),
        ({"runner": {"rounds": -1}}, "rounds"),
        ({"runner": {"task_timeout_seconds": 0}}, "task_timeout_seconds"),
        ({"feedback": {"strategy": ""}}, "strategy"),
        ({"generators": {"options": []}}, "options"),
    ],
)
def test_bad_configs_name_the_key(data, named):
    with pytest.raises(ConfigError, match=named):
        ClientSimulationConfig.from_dict(data)


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        ClientSimulationConfig.from_file(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("pool: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        ClientSimulationConfig.from_file(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- pool\n")
    with pytest.raises(ConfigError, match="mapping of the six parts"):
        ClientSimulationConfig.from_file(listed)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
PARTS = ["pool", "generators", "feedback", "report", "runner", "continuous", "intake"]
KEYS = [
    "size",
    "ai_ratio",
    "strategy",
    "rounds",
    "rubric",
    "options",
    "model",
    "interval_seconds",
]


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(PARTS) | st.text(max_size=6),
        st.dictionaries(
            st.sampled_from(KEYS) | st.text(max_size=6), JSONISH, max_size=3
        )
        | JSONISH,
        max_size=4,
    )
)
def test_any_data_gives_a_config_or_a_config_error(data):
    with contextlib.suppress(ConfigError):
        ClientSimulationConfig.from_dict(data)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"continuous": {"max_rounds": 0}}, "max_rounds"),
        ({"continuous": {"max_rounds": "3"}}, "max_rounds"),
        ({"pool": {"domains": "backend"}}, "expected a list"),
        ({"intake": {"default_project": " "}}, "project name"),
    ],
)
def test_more_bad_values_name_the_key(data, named):
    with pytest.raises(ConfigError, match=named):
        ClientSimulationConfig.from_dict(data)
