"""An interrupted experiment: no result is returned (the cancellation propagates), and
the run folder, the store and both reports say ``interrupted`` and how to finish it.

A cancelled coroutine cannot return a value under anyio's structured concurrency, so
"interrupted" lives where it can be true: in ``metadata.json``, the store's status and
the reports written from the folder, never on an ``ExperimentResult``.
"""

from __future__ import annotations

import html
import json
import textwrap
from pathlib import Path

import anyio
import anyio.from_thread
import anyio.lowlevel
import attrs
import pytest

from clientsim.experiments import ExperimentResult, run_experiment
from clientsim.models import ConversationRecord
from clientsim.render.html import render_html_report
from clientsim.render.text import render_text_report
from clientsim.runners.batch import BatchResult
from clientsim.store import SQLiteStore


AGENT = """
import anyio


async def run(message: str) -> str:
    if message.startswith("hold"):
        await anyio.sleep_forever()  # until the run is cancelled
    return "I've sent a password reset link to your email."
"""

CONFIG = """
name: interrupted
description: two conversations finish, then the run is cancelled
iterations: 1
parallel_runs: 1
seed: 3
runner:
  target: "interrupted_run_agent:run"
  python_path: [src]
  timeout_seconds: 60
  max_retries: 0
inputs: ["I forgot my password", "Reset it please", "hold on", "hold again"]
outcomes:
  - name: resolved
    patterns: ["reset link"]
    sender: agent
pass_outcomes: [resolved]
"""


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "interrupted_run_agent.py").write_text(AGENT)
    path = root / "simulation.yaml"
    path.write_text(textwrap.dedent(CONFIG))
    return path


def test_the_results_have_no_interrupted_field():
    names = {field.name for field in attrs.fields(ExperimentResult)}
    names |= {field.name for field in attrs.fields(BatchResult)}
    assert "interrupted" not in names


async def test_an_interrupted_run_returns_nothing_and_its_folder_says_so(tmp_path):
    path = _project(tmp_path)
    started: dict[str, object] = {}
    returned: list[ExperimentResult] = []

    def on_start(run_id: str, directory: Path) -> None:
        started.update(run_id=run_id, directory=directory)

    token = anyio.lowlevel.current_token()
    with anyio.fail_after(60), anyio.CancelScope() as scope:

        def progress(record: ConversationRecord, done: int, total: int) -> None:
            if done == 2:  # the next conversation waits forever: cancel now
                # progress runs in a worker thread: reach the event loop by its token
                anyio.from_thread.run_sync(scope.cancel, token=token)

        returned.append(
            await run_experiment(path, progress=progress, on_start=on_start)
        )
    assert scope.cancelled_caught
    assert returned == []  # a cancelled coroutine returns no value

    run_id, folder = started["run_id"], started["directory"]
    assert isinstance(run_id, str)
    assert isinstance(folder, Path)
    metadata = json.loads((folder / "metadata.json").read_text())
    assert (metadata["status"], metadata["stored"], metadata["grid_size"]) == (
        "interrupted",
        2,
        4,
    )
    traces = (folder / "artifacts" / "traces.jsonl").read_text().splitlines()
    assert len(traces) == 2
    async with SQLiteStore(path.parent / "experiments" / "runs.sqlite") as store:
        info = await store.get_simulation(run_id)
        assert info is not None
        assert info.status == "interrupted"
        assert len(await store.conversations(run_id)) == 2

    sentence = "This run was interrupted: 2 of 4 conversations finished and are shown"
    command = f"clientsim run <experiment file> --resume {run_id}"
    text = render_text_report(folder)
    assert sentence in text
    assert f"\nFinish it with: {command}\n" in text
    page = render_html_report(folder)
    assert (
        f'<p class="unfinished" role="status">{sentence} here. Finish it with '
        f"<code>{html.escape(command)}</code></p>"
    ) in page
    assert "<dt>Status</dt><dd>interrupted</dd>" in page


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("done", None),
        ("running", "This run has not finished: it is still running, or its process"),
    ],
)
def test_a_finished_or_killed_run_is_told_apart(tmp_path, status, shown):
    from clientsim.experiments.output import ExperimentWriter, new_experiment_dir

    folder = new_experiment_dir(tmp_path)
    writer = ExperimentWriter(folder, save_traces=True, save_aggregated_metrics=True)
    writer.write_metadata(
        {"name": "x", "run_id": folder.name, "status": status, "grid_size": 3}
    )
    text, page = render_text_report(folder), render_html_report(folder)
    if shown is None:
        assert "not finished" not in text
        assert "interrupted" not in text
        assert 'class="unfinished"' not in page
    else:
        assert shown in text
        assert (
            f"Finish it with: clientsim run <experiment file> --resume {folder.name}"
            in text
        )
        assert shown in page
        assert f"--resume {folder.name}</code>" in page
