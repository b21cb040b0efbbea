"""Every file a run writes has the permissions the user's umask gives (0666 & ~umask),
like any file their programs write: none is 0600 because of how it was written.

Real ``clientsim run`` and ``clientsim report --html`` processes, started with the
umask set.
"""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from tests.integration.test_cli import CLI, TIMEOUT, explain, offline_env, scaffold


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_every_output_file_honours_the_umask(tmp_path: Path, umask: int) -> None:
    env = offline_env()
    config = scaffold(tmp_path, env)

    def clientsim(*args: str | Path) -> None:
        done = subprocess.run(
            [*CLI, *map(str, args)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            umask=umask,
        )
        assert done.returncode == 0, explain(done)

    clientsim("run", config, "-q")
    output = tmp_path / "my-agent" / "experiments"
    (run,) = output.glob("exp_*")
    clientsim("report", run, "--html")
    files = [path for path in output.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"metadata.json", "summary.json", "traces.jsonl"} <= names
    assert {"observations.jsonl", "run.log", "report.html", "runs.sqlite"} <= names
    modes = {
        str(path.relative_to(output)): oct(stat.S_IMODE(path.stat().st_mode))
        for path in files
    }
    expected = oct(0o666 & ~umask)
    assert modes == dict.fromkeys(modes, expected)
