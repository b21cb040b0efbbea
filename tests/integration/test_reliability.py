"""The reliability promises, end to end, against agents that misbehave.

Every run against a misbehaving agent (tests/misbehaving_agents.py: never answers, slow,
floods, disconnects mid-stream, invalid JSON, HTML pages, 5xx forever, 429 with
Retry-After, a 1 GiB body, callables that hang or flood) ends within its deadline
(``max_duration_seconds``) + 1 s, with a recorded reason: an ending reason, or an error
record of the agent's side with the right class and ``transient`` flag. A run never
takes more than 100 MB, whatever the agent sends or the input file holds.

Runs go through the public API: :func:`clientsim.simulate` against real loopback
servers and callables, and ``clientsim run`` in a child process. The cases that
measure memory run in a child process whose peak RSS is its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest

from tests import misbehaving_agents as matrix


@pytest.mark.parametrize("case", matrix.CASES, ids=lambda case: case.name)
async def test_a_run_against_a_misbehaving_agent_ends_in_time_with_a_reason(case):
    # The hard stop only keeps a broken build from hanging the session; the promise
    # (deadline + 1 s) is checked on the measured time.
    with anyio.fail_after(case.deadline + matrix.HANG_RELEASE_SECONDS + 40):
        seen = await matrix.run_case(case)
    assert matrix.problems(case, seen) == [], seen


def test_clientsim_run_with_a_sync_agent_that_never_returns_ends_and_exits(tmp_path):
    deadline = 2.0
    measured, traces = matrix.cli_hang(tmp_path, deadline, timeout=deadline + 15)
    assert not measured.killed, (
        f"clientsim run did not exit within {deadline + 15:g} s; stderr: "
        f"{measured.stderr[-500:]}"
    )
    assert measured.returncode in {0, 1}, measured.stderr
    assert len(traces) == 1, traces
    trace = traces[0]
    assert trace["conversation_seconds"] <= deadline + matrix.SLACK_SECONDS, trace
    ending, error = trace["ending"], trace["error"]
    assert error is not None or ending["reason"] in matrix.SILENT, trace
    if error is not None:
        assert error["side"] == "agent", error


LAUGHS = "\n".join(
    f"{indent}a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]"
    if level
    else f"{indent}a0: &a0 [{', '.join(['lol'] * 10)}]"
    for indent in ["{indent}"]
    for level in range(9)
)
"""Nine levels of ten aliases each: 10^9 leaves in about 1 KB."""

LAUGHING_FILES = {
    "experiment": (
        "laughs.yaml",
        "name: laughs\ndescription: ''\nagent: {system_prompt: You help.}\n"
        "inputs:\n  - content: hi\n    metadata:\n" + LAUGHS.format(indent="      "),
    ),
    "client-simulation": (
        "laughs.yaml",
        "generators:\n  options:\n" + LAUGHS.format(indent="    "),
    ),
    "inputs-file": (
        "inputs.yaml",
        "- content: hi\n  metadata:\n" + LAUGHS.format(indent="    "),
    ),
}


def billion_laughs(folder: Path, kind: str) -> Path:
    """A file of ``kind`` whose aliases expand to 10^9 leaves; the file to run."""
    name, text = LAUGHING_FILES[kind]
    (folder / name).write_text(text)
    if kind != "inputs-file":
        return folder / name
    config = folder / "simulation.yaml"
    config.write_text(
        "name: laughs\ndescription: ''\nagent: {system_prompt: You help.}\n"
        "inputs_file: inputs.yaml\n"
    )
    return config


@pytest.mark.parametrize("kind", sorted(LAUGHING_FILES))
def test_a_billion_laughs_file_is_refused_quickly_in_bounded_memory(tmp_path, kind):
    config = billion_laughs(tmp_path, kind)
    measured = matrix.measure(
        [sys.executable, "-m", "clientsim", "run", "-q", str(config)],
        timeout=20,
        memory_limit=2
        * matrix.GIB,  # a runaway expansion stops here, not at the machine
        cwd=tmp_path,
    )
    assert not measured.killed, "still expanding after 20 s"
    assert measured.returncode == 2, measured.stderr[-1000:]
    assert "Traceback" not in measured.stderr, measured.stderr[-1000:]
    assert "alias" in measured.stderr, measured.stderr[-1000:]
    assert measured.peak_rss_mb < matrix.RSS_LIMIT_MB, measured
