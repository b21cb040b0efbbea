"""``clientsim compare``, run as a real program on real stored runs.

One experiment (the one ``clientsim init`` writes, offline) runs three times into one
store: with its agent, with a deliberately broken agent (a ``module:function`` target
that never helps), and with its agent again. Comparing the first run with the broken
one is a significant regression (exit 1); the agent against itself is not (exit 0).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import attrs
import pytest


CLI = (sys.executable, "-P", "-m", "clientsim")
TIMEOUT = 60
STARTED = re.compile(r"^run (exp_\d{8}_\d{6}(?:_\d+)?) -> ", re.MULTILINE)
BROKEN_AGENT = '''
def run(message: str) -> str:
    """An agent broken by a bad change: it no longer understands anyone."""
    return "Sorry, I'm not sure I follow. Could you tell me a bit more?"
'''


def offline_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"OPENAI_API_KEY", "DATABASE_URL"}
    }
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/unreachable"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def clientsim(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *map(str, args)],
        cwd=cwd,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def explain(done: subprocess.CompletedProcess[str]) -> str:
    return (
        f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )


@attrs.frozen
class Runs:
    project: Path
    good: str
    broken: str
    good_again: str


def _run(project: Path, config: str) -> str:
    done = clientsim("run", config, cwd=project)
    started = STARTED.search(done.stdout + done.stderr)
    assert started is not None, explain(done)
    return started.group(1)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("compare")
    done = clientsim("init", "my-agent", cwd=root)
    assert done.returncode == 0, explain(done)
    project = root / "my-agent"
    (project / "broken_agent.py").write_text(BROKEN_AGENT, encoding="utf-8")
    config = (project / "configs" / "simulation.yaml").read_text(encoding="utf-8")
    assert 'target: "agent:run"' in config
    (project / "configs" / "broken.yaml").write_text(
        config.replace('target: "agent:run"', 'target: "broken_agent:run"'),
        encoding="utf-8",
    )
    return Runs(
        project=project,
        good=_run(project, "configs/simulation.yaml"),
        broken=_run(project, "configs/broken.yaml"),
        good_again=_run(project, "configs/simulation.yaml"),
    )


def test_a_broken_agent_is_a_significant_regression_and_exits_1(runs: Runs) -> None:
    done = clientsim("compare", runs.good, runs.broken, cwd=runs.project)
    assert done.returncode == 1, explain(done)
    out = done.stdout
    assert f"clientsim compare: {runs.good} (A) -> {runs.broken} (B)" in out
    assert "paired cells: 12; pass = status 'done' and outcome in ['resolved']" in out
    assert "pass rate A: 66.7%" in out
    assert "pass rate B: 0.0%" in out
    assert "change in pass rate: -66.7 pts (95% interval" in out
    assert "McNemar (exact): 8 pass->fail, 0 fail->pass, p = 0.007812" in out
    assert "verdict: REGRESSION" in out
    assert "flipped cells: 8" in out
    # Both transcripts side by side: run A's reply on the left, run B's on the right.
    side_by_side = [
        line
        for line in out.splitlines()
        if line.startswith("agent: Your refund has been issued")
        and " | agent: " in line
    ]
    assert side_by_side, out
    assert "not sure I follow" in side_by_side[0].split(" | ", 1)[1]
    # A long reply is cut to its column, with an ellipsis.
    assert "\u2026" in side_by_side[0]


def test_the_same_agent_twice_exits_0_with_no_flip(runs: Runs) -> None:
    done = clientsim("compare", runs.good, runs.good_again, cwd=runs.project)
    assert done.returncode == 0, explain(done)
    assert "flipped cells: 0" in done.stdout
    assert "McNemar (exact): 0 pass->fail, 0 fail->pass, p = 1" in done.stdout
    assert "no significant change at alpha 0.05" in done.stdout


def test_a_fix_is_no_regression_and_exits_0(runs: Runs) -> None:
    done = clientsim(
        "compare",
        runs.broken,
        runs.good,
        "--store",
        "experiments/runs.sqlite",
        cwd=runs.project,
    )
    assert done.returncode == 0, explain(done)
    assert "verdict: IMPROVEMENT" in done.stdout
    assert "[fail->pass]" in done.stdout
    assert "[pass->fail]" not in done.stdout


def test_json_output_and_folders_compare_like_run_ids(runs: Runs) -> None:
    done = clientsim("compare", runs.good, runs.broken, "--json", cwd=runs.project)
    assert done.returncode == 1, explain(done)
    data = json.loads(done.stdout)
    assert data["run_a"] == runs.good
    assert data["run_b"] == runs.broken
    assert (data["pairs"], data["pass_to_fail"], data["fail_to_pass"]) == (12, 8, 0)
    assert data["regression"] is True
    assert data["test"]["name"] == "mcnemar_exact"
    assert data["change"]["value"] == pytest.approx(-8 / 12)
    assert data["change"]["low"] < data["change"]["high"] < 0
    assert [flip["flip"] for flip in data["flipped"]] == ["pass->fail"] * 8
    by_folder = clientsim(
        "compare",
        runs.project / "experiments" / runs.good,
        f"experiments/{runs.broken}",
        "--json",
        cwd=runs.project,
    )
    assert by_folder.returncode == 1, explain(by_folder)
    assert json.loads(by_folder.stdout) == data


def test_html_page_shows_the_flipped_cells_side_by_side(runs: Runs) -> None:
    page = runs.project / "out" / "compare.html"
    done = clientsim(
        "compare", runs.good, runs.broken, "--html", page, cwd=runs.project
    )
    assert done.returncode == 1, explain(done)
    assert f"wrote {page}" in done.stderr
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert f"{runs.good} &rarr; {runs.broken}" in text
    assert "REGRESSION" in text
    assert "Flipped cells (8)" in text
    assert text.count('<div class="pair">') == 8
    assert text.count('<div class="columns">') == 8
    assert "Your refund has been issued" in text
    assert "I&#x27;m not sure I follow" in text
    assert "<script" not in text  # nothing runs, nothing is fetched
    assert "default-src 'none'" in text
    assert "--fail:#c0392b" in text  # the HTML report's stylesheet


def test_an_unknown_run_exits_2_naming_it_and_the_known_runs(runs: Runs) -> None:
    done = clientsim("compare", "exp_19990101_000000", runs.broken, cwd=runs.project)
    assert done.returncode == 2, explain(done)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: no run 'exp_19990101_000000' in the store")
    for run_id in (runs.good, runs.broken, runs.good_again):
        assert run_id in lines[0]


def test_bad_input_exits_2(runs: Runs, tmp_path: Path) -> None:
    missing = clientsim("compare", runs.good, runs.broken, cwd=tmp_path)
    assert missing.returncode == 2, explain(missing)
    assert "does not exist" in missing.stderr
    alpha = clientsim(
        "compare", runs.good, runs.broken, "--alpha", "0", cwd=runs.project
    )
    assert alpha.returncode == 2, explain(alpha)
    same = clientsim("compare", runs.good, runs.good, cwd=runs.project)
    assert same.returncode == 2, explain(same)
    assert "the same run" in same.stderr
    path = clientsim("compare", "no/such/folder", runs.good, cwd=runs.project)
    assert path.returncode == 2, explain(path)
    assert "neither a run id nor an experiment folder" in path.stderr


def test_a_folder_without_traces_is_read_from_the_store_beside_it(runs: Runs) -> None:
    source = runs.project / "experiments" / runs.good
    copy = runs.project / "experiments" / "no-traces"
    shutil.copytree(source, copy)
    (copy / "artifacts" / "traces.jsonl").unlink()
    done = clientsim("compare", copy, runs.broken, "--json", cwd=runs.project)
    assert done.returncode == 1, explain(done)
    data = json.loads(done.stdout)
    assert data["run_a"] == runs.good  # the run id its metadata.json names
    assert (data["pass_to_fail"], data["fail_to_pass"]) == (8, 0)
