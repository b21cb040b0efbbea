"""Reading config files: YAML alias bombs and self-reference are refused, fast."""

from __future__ import annotations

import subprocess
import sys

import pytest

from clientsim.config import MAX_VALUES, parse_text
from clientsim.errors import ConfigError
from clientsim.experiments import ExperimentConfig


def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)
    ]
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_is_refused():
    with pytest.raises(ConfigError, match=r"expands to more than 1,000,000 values"):
        parse_text(_bomb(), ".yaml", "bomb.yaml")


def test_aliases_that_expand_modestly_are_fine():
    data = parse_text(_bomb(levels=3), ".yaml", "small.yaml")
    assert isinstance(data, dict)
    assert len(data["a3"]) == 9
    assert MAX_VALUES > 9**4


def test_a_file_that_contains_itself_is_refused():
    with pytest.raises(ConfigError, match="refers to itself"):
        parse_text("a: &a [*a]\n", ".yaml", "self.yaml")


def test_a_bomb_in_a_strategy_option_of_an_experiment_file(tmp_path):
    file = tmp_path / "simulation.yaml"
    file.write_text(
        _bomb()
        + 'name: t\ndescription: ""\ninputs: [hi]\nagent: {system_prompt: hi}\n'
        + "customer: {strategy: llm, persona: *a9}\n"
    )
    with pytest.raises(ConfigError, match="expands to more than"):
        ExperimentConfig.from_file(file)


def test_the_cli_refuses_a_bomb_with_one_line(tmp_path):
    file = tmp_path / "simulation.yaml"
    file.write_text(_bomb() + 'name: t\ndescription: ""\n')
    done = subprocess.run(
        [sys.executable, "-m", "clientsim", "run", str(file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "expands to more than" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
