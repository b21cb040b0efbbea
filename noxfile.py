"""Checks for clientsim. A bare ``nox`` runs everything but ``bench``.

Sessions run on the interpreter nox itself runs under (Python 3.11+).
"""

from __future__ import annotations

import os
from pathlib import Path

import nox


nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck", "docs", "examples"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PLUGIN_FIXTURE = ROOT / "tests" / "plugin_dist"


def group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (installs the fake third-party plugin it needs)."""
    session.install("-e", ".", *group("tests"))
    session.install(str(PLUGIN_FIXTURE))
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src."""
    session.install("-e", ".", *group("typing"))
    session.run("mypy", "src")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation with warnings as errors."""
    session.install("-e", ".", *group("docs"))
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        str(ROOT / "site"),
        env={"NO_MKDOCS_2_WARNING": "1"},
    )


@nox.session
def examples(session: nox.Session) -> None:
    """Run every example script offline."""
    session.install("-e", ".", *group("examples"))
    env = {"CLIENTSIM_MODEL": "", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    folder = ROOT / "examples"
    for script in sorted(folder.glob("*.py")) + sorted(folder.glob("*/*.py")):
        session.log(f"example: {script.relative_to(folder)}")
        session.run("python", str(script), env=env)
    for experiment in sorted((ROOT / "examples").glob("*/simulation.yaml")):
        session.log(f"experiment: {experiment.relative_to(ROOT)}")
        output = Path(session.create_tmp()).resolve() / "experiments"
        session.run(
            "clientsim", "run", str(experiment), "--output-dir", str(output), env=env
        )


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Print the benchmark figures (not part of a bare ``nox``)."""
    # pytest_cassette.py runs pytest; otel_overhead.py exports spans.
    session.install("-e", ".[otel]", "pytest>=8.2")
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        session.run("python", str(script), *session.posargs, env=dict(os.environ))
