"""Reading config files: YAML alias bombs and self-reference are refused, fast."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

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


# ----- a billion laughs, measured: refused in under a second and 100 MB ------------

_MEASURE = """
import json, sys, time
from clientsim.errors import ConfigError
kind, path = sys.argv[1], sys.argv[2]
if kind == "experiment":
    from clientsim.experiments import ExperimentConfig as Config
else:
    from clientsim.simulation import ClientSimulationConfig as Config
start = time.perf_counter()
try:
    Config.from_file(path)
except ConfigError as exc:
    outcome = str(exc)
else:
    outcome = "loaded"
seconds = time.perf_counter() - start
print(json.dumps({"outcome": outcome, "seconds": seconds}))
"""

# A small parent runs the measured process and reads its peak from RUSAGE_CHILDREN:
# Linux counts the memory of the process that forked a child in the child's peak, so
# a child of the test runner itself would report the runner's size.
_LAUNCH = """
import json, resource, subprocess, sys
done = subprocess.run([sys.executable, "-c", *sys.argv[1:]], capture_output=True,
                      text=True, check=True)
figures = json.loads(done.stdout)
figures["peak_bytes"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps(figures))
"""


def _laughs(leaves_power: int) -> str:
    """Ten ``lol`` a level, ``leaves_power`` levels: 10**leaves_power leaves."""
    lines = ["l0: &l0 [" + ", ".join(['"lol"'] * 10) + "]"]
    lines += [
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]"
        for i in range(1, leaves_power)
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (
            "experiment",
            'name: t\ndescription: ""\ninputs: [hi]\nagent: {system_prompt: hi}\n'
            "customer:\n  strategy: llm\n  persona:\n"
            + textwrap.indent(_laughs(9), "    "),
        ),
        ("client-simulation", "pool:\n  size: 2\n" + textwrap.indent(_laughs(9), "  ")),
    ],
)
def test_a_billion_laughs_is_refused_within_a_second_and_100_mb(tmp_path, kind, text):
    file = tmp_path / "bomb.yaml"
    file.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH, _MEASURE, kind, str(file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert "expands to more than 1,000,000 values" in figures["outcome"]
    assert figures["seconds"] < 1.0, figures
    assert figures["peak_bytes"] < 100 * 2**20, figures


def test_merge_keys_cannot_expand_a_file_either():
    lines = ["m0: &m0 {" + ", ".join(f"k{i}: {i}" for i in range(10)) + "}"]
    lines += [
        f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 10)}], own{i}: 1}}"
        for i in range(1, 12)
    ]
    with pytest.raises(ConfigError, match="expands to more than"):
        parse_text("\n".join(lines), ".yaml", "merge.yaml")


def test_a_merge_key_may_still_be_overridden():
    text = "base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  x: 3\n"
    assert parse_text(text, ".yaml", "f.yaml") == {
        "base": {"x": 1, "y": 2},
        "item": {"x": 3, "y": 2},
    }


# ----- a key twice: an error naming the key and the line, never "last one wins" ----


@pytest.mark.parametrize(
    ("suffix", "text", "expected"),
    [
        (
            ".yaml",
            "iterations: 1\nseed: 2\niterations: 3\n",
            r"line 3.*'iterations'.*line 1",
        ),
        (".yml", "a:\n  b: 1\n  c: 2\n  b: 3\n", r"line 4.*'b'"),
        (".yaml", "{1: a, 1: b}", r"line 1.*key 1 appears twice"),
        (".json", '{"a": 1,\n "b": {"c": 1,\n\n  "c": 2}}', r"'c' twice.*line 4"),
        (".json", '[{"x": 1}, {"x": 1, "x": 2}]', r"'x' twice.*line 1"),
        (".toml", "x = 1\nx = 2\n", r"not valid TOML"),
    ],
)
def test_a_key_twice_is_refused_with_key_and_line(suffix, text, expected):
    with pytest.raises(ConfigError, match=expected):
        parse_text(text, suffix, f"config{suffix}")


def test_a_key_twice_in_an_experiment_file_names_the_file(tmp_path):
    file = tmp_path / "simulation.yaml"
    file.write_text('name: a\ndescription: ""\ninputs: [hi]\nname: b\n')
    with pytest.raises(ConfigError, match=r"simulation.yaml.*line 4.*'name'"):
        ExperimentConfig.from_file(file)


def test_a_key_twice_in_an_inputs_file_line(tmp_path):
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text('{"content": "hi"}\n{"content": "a", "content": "b"}\n')
    file = tmp_path / "simulation.yaml"
    file.write_text(
        f'name: a\ndescription: ""\ninputs_file: {inputs}\n'
        "agent: {system_prompt: hi}\n"
    )
    with pytest.raises(ConfigError, match=r"line 2.*'content' twice"):
        ExperimentConfig.from_file(file).grid_size  # noqa: B018 - reads the inputs


def test_a_key_twice_in_a_client_simulation_config(tmp_path):
    from clientsim.simulation import ClientSimulationConfig

    file = tmp_path / "clients.json"
    file.write_text('{"pool": {"size": 2, "size": 3}}')
    with pytest.raises(ConfigError, match=r"'size' twice.*line 1"):
        ClientSimulationConfig.from_file(file)


def test_a_key_twice_in_a_requirements_file(tmp_path):
    from clientsim.requirements.dataset import load_requirements

    file = tmp_path / "corpus.jsonl"
    file.write_text('{"title": "a", "title": "b", "description": "c"}\n')
    with pytest.raises(ConfigError, match=r"corpus.jsonl line 1.*'title' twice"):
        load_requirements(file)
