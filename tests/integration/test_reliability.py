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
    seen = matrix.observe_cli_hang(tmp_path)
    assert matrix.problems(matrix.CLI_HANG, seen) == [], seen


@pytest.mark.parametrize("kind", sorted(matrix.LAUGHING_FILES))
def test_a_billion_laughs_file_is_refused_quickly_in_bounded_memory(tmp_path, kind):
    config = matrix.billion_laughs(tmp_path, kind)
    # The address-space cap stops a runaway expansion here, not at the machine's limit.
    measured = matrix.measure(
        [sys.executable, "-m", "clientsim", "run", "-q", str(config)],
        timeout=20,
        memory_limit=2 * matrix.GIB,
        cwd=tmp_path,
    )
    assert not measured.killed, "still expanding after 20 s"
    assert measured.returncode == 2, measured.stderr[-1000:]
    assert "Traceback" not in measured.stderr, measured.stderr[-1000:]
    assert "alias" in measured.stderr, measured.stderr[-1000:]
    assert measured.peak_rss_mb < matrix.RSS_LIMIT_MB, measured
