"""Every example script runs offline (no API key, no network) and exits 0."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest


_FOLDER = Path(__file__).parents[1] / "examples"
EXAMPLES = sorted(_FOLDER.glob("*.py")) + sorted(_FOLDER.glob("*/*.py"))
OFFLINE = {
    **os.environ,
    "CLIENTSIM_MODEL": "",
    "OPENAI_API_KEY": "",
    "OPENAI_BASE_URL": "http://127.0.0.1:9/unreachable",
}


def run(script: Path, *, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script)],
        env=OFFLINE,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


@functools.cache
def first_run(script: Path) -> subprocess.CompletedProcess[str]:
    """The script's first run in this process: the tests below that run a script
    twice (to compare the runs) reuse it as their first."""
    return run(script)


@pytest.mark.parametrize(
    "script", EXAMPLES, ids=[str(p.relative_to(_FOLDER)) for p in EXAMPLES]
)
def test_example_runs_offline(script):
    process = first_run(script)
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip()
    assert "Unclosed" not in process.stderr


def test_support_desk_prints_transcript_outcome_and_timing():
    script = next(p for p in EXAMPLES if p.name == "support_desk.py")
    first = first_run(script)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "customer: Hello, I need help" in out
    assert "agent: " in out
    assert "Outcome: " in out
    assert "Conversation completed in " in out
    again = run(script, check=True).stdout
    transcript = [line for line in out.splitlines() if line.startswith("[+")]
    assert transcript == [line for line in again.splitlines() if line.startswith("[+")]


EXPERIMENTS = sorted((Path(__file__).parents[1] / "examples").glob("*/simulation.yaml"))


@pytest.mark.parametrize(
    "experiment", EXPERIMENTS, ids=[p.parent.name for p in EXPERIMENTS]
)
def test_experiment_files_run_offline(experiment, tmp_path):
    process = subprocess.run(
        [
            *(sys.executable, "-c", "from clientsim.cli import main; main()", "run"),
            *(str(experiment), "--output-dir", str(tmp_path)),
        ],
        env=OFFLINE,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    assert "pass rate" in process.stdout
    (folder,) = tmp_path.glob("exp_*")
    assert (folder / "summary.json").is_file()
    assert (folder / "artifacts" / "traces.jsonl").is_file()


def test_the_client_simulation_example_shows_strictness_at_work():
    script = _FOLDER / "client_simulation" / "run.py"
    first = first_run(script)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "acceptance rate" in out
    lines = [line for line in out.splitlines() if line.startswith("strictness")]
    assert len(lines) == 2
    again = run(script, check=True).stdout
    assert [
        line for line in again.splitlines() if line.startswith("strictness")
    ] == lines
