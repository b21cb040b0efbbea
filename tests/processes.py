"""Run a Python script in a child process against the clientsim under test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import clientsim


def run_script(
    source: str, folder: Path, *, timeout: float
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Write ``source`` to ``folder/script.py``, run it to its end, and return the
    finished process and the ``time.monotonic()`` at which it had exited."""
    script = folder / "script.py"
    script.write_text(source, encoding="utf-8")
    here = str(Path(clientsim.__file__).parents[1])  # the clientsim under test
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done, time.monotonic()
