"""Checks for clientsim. A bare ``nox`` runs everything but ``bench``.

Sessions run on the interpreter nox itself runs under (Python 3.11+).
"""

from __future__ import annotations

import os
from pathlib import Path

import nox
from nox.command import CommandFailed


nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck", "docs", "examples"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PLUGIN_FIXTURE = ROOT / "tests" / "plugin_dist"


def group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


#: Test processes: the machine and CI have 2 cores. More workers than cores only add
#: start-up time (each worker imports the suite) and contention on the subprocess tests.
TEST_WORKERS = min(2, os.cpu_count() or 1)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite on 2 processes (installs the fake third-party plugin it needs).

    ``--dist loadgroup`` keeps the tests marked ``xdist_group("ray")`` on one worker,
    so they share one Ray cluster. ``nox -s tests -- -n 0`` runs them in one process.
    """
    session.install("-e", ".", *group("tests"))
    session.install(str(PLUGIN_FIXTURE))
    session.run(
        "pytest", "-n", str(TEST_WORKERS), "--dist", "loadgroup", *session.posargs
    )


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


#: Options that make a benchmark small, tried in this order on a script that has no
#: ``--quick``: the first one its source names is passed.
SMALL_OPTIONS = (
    ("--conversations", "200"),
    ("--calls", "200"),
    ("--requests", "200"),
)


def small_arguments(source: str) -> list[str]:
    """The arguments that make a benchmark script quick: ``--quick`` if it has it,
    else a small size for the first size option it names, else none."""
    if '"--quick"' in source:
        return ["--quick"]
    for option, value in SMALL_OPTIONS:
        if f'"{option}"' in source:
            return [option, value]
    return []


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Run every benchmark script in benchmarks/ and print its figures.

    Not part of a bare ``nox``. A script that accepts ``--quick`` gets it, else a small
    size if it has a size option (see ``small_arguments``): a check that it still runs;
    such figures are too rough to judge a target. Arguments:
    ``--full`` runs the full figures; names (``nox -s bench -- ray_executor``) run only
    those scripts. Every script runs even if one fails; the session fails at the end,
    naming the failures.
    """
    # pytest_cassette.py runs pytest; otel_overhead.py exports spans; the Ray, store
    # and rate budget benchmarks use the extras (a script that finds no PostgreSQL or
    # Redis server says so and skips that figure).
    session.install("-e", ".[otel,ray,postgresql,redis]", "pytest>=8.2")
    full = "--full" in session.posargs
    names = {name.removesuffix(".py") for name in session.posargs if name != "--full"}
    scripts = sorted((ROOT / "benchmarks").glob("*.py"))
    unknown = names - {script.stem for script in scripts}
    if unknown:
        session.error(f"no benchmark named {', '.join(sorted(unknown))}")
    failed: list[str] = []
    for script in scripts:
        if names and script.stem not in names:
            continue
        small = [] if full else small_arguments(script.read_text(encoding="utf-8"))
        session.log(f"benchmark: {' '.join([script.name, *small])}")
        try:
            session.run("python", str(script), *small, env=dict(os.environ))
        except CommandFailed:
            failed.append(script.name)
    if failed:
        session.error(f"benchmarks failed: {', '.join(failed)}")
