"""The ``executor`` key of experiment and study files, and ``--executor``: names and
mappings are read, checked against the registry when the file loads, and written back;
anything else is one ConfigError naming the key and what fits."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.errors import ConfigError
from clientsim.experiments.config import ExperimentConfig
from clientsim.population.study import load_study


BASE: dict[str, Any] = {
    "name": "t",
    "description": "",
    "agent": {"system_prompt": "Help."},
}
STUDY: dict[str, Any] = {
    "name": "s",
    "population": {"name": "Adults", "demographic_base": "usa", "size": 3},
}
NAMES = st.sampled_from(["local", "ray"])
RAY_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "address": st.sampled_from(["auto", "ray://head:10001", "127.0.0.1:6379"]),
        "workers": st.integers(min_value=1, max_value=64),
    },
)
UNKNOWN = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda name: name not in {"local", "ray"}
)
NOT_A_STRATEGY = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=2),
    st.just(""),
)


def _experiment(executor: object) -> ExperimentConfig:
    return ExperimentConfig.from_dict({**BASE, "executor": executor})


def test_the_default_is_local():
    config = ExperimentConfig.from_dict(BASE)
    assert config.executor.to_config() == {"strategy": "local"}
    assert config.to_dict()["executor"] == "local"
    assert _experiment(None).executor == config.executor  # null: the default
    assert load_study(STUDY).executor == "local"


@given(name=NAMES)
def test_a_name_is_read_and_written_back(name):
    config = _experiment(name)
    assert config.executor.strategy == name
    assert config.to_dict()["executor"] == name
    assert ExperimentConfig.from_dict(config.to_dict()) == config


@given(options=RAY_OPTIONS)
def test_a_mapping_keeps_its_options(options):
    config = _experiment({"strategy": "ray", **options})
    assert config.executor.to_config() == {"strategy": "ray", **options}
    assert ExperimentConfig.from_dict(config.to_dict()) == config
    study = load_study({**STUDY, "executor": {"strategy": "ray", **options}})
    assert dict(study.executor) == {"strategy": "ray", **options}  # type: ignore[arg-type]


@given(value=NOT_A_STRATEGY)
def test_anything_else_is_refused_naming_the_key(value):
    with pytest.raises(ConfigError, match=r"executor: expected .*name"):
        _experiment(value)
    with pytest.raises(ConfigError, match=r"executor: expected an executor name"):
        load_study({**STUDY, "executor": value})


@given(name=UNKNOWN)
def test_an_unknown_name_lists_the_known_ones(name):
    with pytest.raises(
        ConfigError, match=r"executor\.strategy: unknown executor"
    ) as info:
        _experiment(name)
    assert "'local', 'ray'" in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match=r"'local', 'ray'"):
        load_study({**STUDY, "executor": name})


@given(option=st.from_regex(r"[a-z]{3,10}", fullmatch=True))
def test_an_option_the_executor_does_not_take_is_refused_at_load(option):
    if option in {"address", "workers"} or option.startswith("runtime"):
        return
    with pytest.raises(ConfigError, match=r"unknown option.*allowed: 'address'"):
        _experiment({"strategy": "ray", option: 1})
    with pytest.raises(ConfigError, match=r"unknown option.*allowed: 'address'"):
        load_study({**STUDY, "executor": {"strategy": "ray", option: 1}})


def test_a_mapping_without_strategy_names_the_key():
    with pytest.raises(ConfigError, match=r"executor\.strategy: a strategy mapping"):
        _experiment({"workers": 2})


def test_the_command_line_override_keeps_the_files_options_for_the_same_name():
    config = _experiment({"strategy": "ray", "address": "auto", "workers": 2})
    assert config.with_overrides(executor="ray").executor == config.executor
    assert config.with_overrides(executor="local").executor.to_config() == {
        "strategy": "local"
    }
    assert config.with_overrides().executor == config.executor
    other = config.with_overrides(executor={"strategy": "ray", "workers": 4})
    assert other.executor.to_config() == {"strategy": "ray", "workers": 4}
    with pytest.raises(ConfigError, match=r"after overrides\): executor\.strategy"):
        config.with_overrides(executor="nosuch")
