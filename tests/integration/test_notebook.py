"""Notebooks end to end: a real offline experiment rendered and turned into pandas,
and ``examples/notebooks/quickstart.ipynb`` executed in a real Jupyter kernel."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

from clientsim.experiments import ExperimentConfig, run_experiment
from clientsim.notebook import COLUMNS, ordered


ROOT = Path(__file__).parents[2]
QUICKSTART = ROOT / "examples" / "notebooks" / "quickstart.ipynb"
POPULATION = ROOT / "examples" / "notebooks" / "population.ipynb"
KERNEL = "clientsim-test-python"


def config(tmp_path: Path) -> ExperimentConfig:
    return ExperimentConfig.from_dict(
        {
            "name": "notebook_test",
            "description": "<b>not bold</b>",
            "model": "offline",
            "seed": 7,
            "iterations": 2,
            "agent": {"system_prompt": "You are a support agent for an online shop."},
            "multi_turn": {
                "enabled": True,
                "max_turns": 4,
                "supervisor": {"model": "offline"},
            },
            "personas": [{"id": "patient"}, {"id": "rushed"}],
            "inputs": [
                "I was charged twice <script>alert(1)</script>",
                "My parcel has not arrived.",
            ],
            "outcomes": [
                {"name": "resolved", "patterns": ["refund", "tracking"]},
                {"name": "escalated", "patterns": ["specialist"]},
            ],
            "pass_outcomes": ["resolved"],
        },
        base_dir=tmp_path,
    )


async def test_an_experiment_renders_and_becomes_a_frame(tmp_path):
    result = await run_experiment(config(tmp_path))

    page = result._repr_html_()
    assert "ExperimentResult" in page
    assert result.run_id in page
    assert "<svg" in page
    assert "Pass rate" in page
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert page.count('<tr><td style="') == 8
    assert "hidden" not in page

    frame = result.to_pandas()
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 8
    assert set(frame["persona"]) == {"patient", "rushed"}
    assert set(frame["status"]) == {"done"}
    assert set(frame["outcome"]) <= {"resolved", "escalated"}
    assert (frame["turns"] >= 1).all()
    assert (frame["total_tokens"] > 0).all()
    counts = frame.groupby("persona")["key"].count().to_dict()
    assert counts == {"patient": 4, "rushed": 4}
    passed = (frame["outcome"] == "resolved").sum()
    assert f"({passed}/8" in page
    assert frame["seed"].tolist() == [record.seed for record in ordered(result.records)]


LOOP_STARTERS = {"run", "run_until_complete", "new_event_loop", "apply"}
ENTRY_POINTS = {
    "cli.py",
    "_cli_team.py",
    "_cli_population.py",
    "_cli_compare.py",
    "_cli_simulations.py",
    "__main__.py",
    "pytest_plugin.py",
}  # own the loop


def test_only_entry_points_start_an_event_loop():
    """Top-level ``await`` in Jupyter needs a library that never starts its own loop:
    no ``anyio.run``, ``asyncio.run``, ``loop.run_until_complete`` or
    ``nest_asyncio.apply`` outside the entry points (the CLI, the pytest plugin)."""
    found = []
    for path in sorted((ROOT / "src" / "clientsim").rglob("*.py")):
        if path.name in ENTRY_POINTS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [alias.name for alias in node.names]
                module = getattr(node, "module", None) or ""
                if "nest_asyncio" in names or module == "nest_asyncio":
                    found.append(f"{path.name}:{node.lineno} imports nest_asyncio")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LOOP_STARTERS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"anyio", "asyncio", "loop", "nest_asyncio"}
            ):
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}")
    assert found == []


@pytest.fixture(name="kernel_name")
def _kernel_name(tmp_path, monkeypatch):
    """A kernel spec for this interpreter, made in a temp dir: the test does not
    depend on a ``python3`` kernel being installed anywhere."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    sys.executable,
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                ],
                "display_name": "clientsim tests",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("CLIENTSIM_DISABLE_PLUGINS", "1")
    monkeypatch.setenv("OPENAI_API_KEY", "")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/unreachable")
    return KERNEL


def test_the_quickstart_notebook_runs(kernel_name, tmp_path):
    notebook = nbformat.read(QUICKSTART, as_version=4)
    nbformat.validate(notebook)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert any(line.startswith("result = await runner.run()") for line in code)
    assert not any("anyio.run(" in source for source in code)

    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError if any cell fails

    outputs = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    ]
    assert not [output for output in outputs if output.output_type == "error"]
    pages = [
        output["data"]["text/html"]
        for output in outputs
        if "text/html" in output.get("data", {})
    ]
    text = "\n".join(pages)
    assert 'class="clientsim-result"' in text
    assert 'class="clientsim-conversation"' in text
    assert "clientsim-customer" in text
    assert "clientsim-agent" in text
    assert 'class="clientsim-batch"' in text
    assert "<svg" in text
    assert "Pass rate" in text
    assert "ExperimentResult" in text
    assert "patient" in text  # the pandas tables
    assert "rushed" in text
    assert "mean_turns" in text


def test_the_population_notebook_runs(kernel_name, tmp_path):
    notebook = nbformat.read(POPULATION, as_version=4)
    nbformat.validate(notebook)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert not any("anyio.run(" in source for source in code)
    client = nbclient.NotebookClient(
        notebook,
        timeout=180,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError if any cell fails
    outputs = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    ]
    assert not [output for output in outputs if output.output_type == "error"]
    pages = [
        output["data"]["text/html"]
        for output in outputs
        if "text/html" in output.get("data", {})
    ]
    assert len(pages) == 5  # profile, survey, A/B test, two frames
    profile, survey, ab, frame, ab_frame = pages
    assert "<svg" in profile
    assert "young_professionals" in profile
    assert "interest" in survey
    assert "<svg" in survey
    assert "emotional_appeal" in ab
    assert "purchase_intent" in ab
    assert "<svg" in ab
    assert "interest" in frame
    assert "rational_appeal" in ab_frame
