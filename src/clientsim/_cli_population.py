"""``clientsim population``: seed 002's studies on the command line, on the run store.

``run`` (a study file: a survey, focus group, interview, customer journey or A/B
intervention; resumable), ``show`` (a stored run's results, as text, JSON or CSV),
``checkpoints`` and ``restore``, and ``profile`` / ``segments`` / ``individuals`` (a
population without running anything). Runs live in the store ``--store`` names
(default: ``DATABASE_URL``, else the default store file).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import click

from clientsim._cli_errors import EXIT_FAILED, exits_cleanly
from clientsim._cli_store import open_cli_store, store_option


if TYPE_CHECKING:
    from clientsim.population.control import StudySession
    from clientsim.store.base import SimulationStore

__all__ = ["population"]


async def _stored_session(run_id: str, opened: SimulationStore) -> StudySession:
    """The session of a stored run, rebuilt from the study kept in its metadata."""
    from clientsim.errors import ConfigError  # noqa: PLC0415
    from clientsim.population.control import begin  # noqa: PLC0415

    info = await opened.get_simulation(run_id)
    config = info.metadata.get("config") if info is not None else None
    if info is None or not isinstance(config, dict):
        known = [
            r.simulation_id
            for r in await opened.runs()
            if isinstance(r.metadata.get("config"), dict)
        ]
        raise ConfigError(
            f"no study run {run_id!r} in the store; study runs: "
            f"{', '.join(known) or '(none)'}"
        )
    return await begin(config, store=opened, run_id=run_id)


def _echo_results(
    results: Any, as_json: bool, csv: Path | None, html: Path | None = None
) -> None:
    if csv is not None:
        results.to_csv(csv)
        click.echo(f"wrote {csv}")
    if html is not None:
        results.write_html(html)
        click.echo(f"wrote {html}")
    if as_json:
        click.echo(results.to_json())
    elif csv is None and html is None:
        click.echo(results.render())


def _html_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--html",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the results as a self-contained HTML page to this file.",
    )(function)


@click.group("population")
def population() -> None:
    """Run population studies: surveys, focus groups, interviews, journeys, A/B tests."""


@population.command("run")
@click.argument("study", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--run-id", default=None, help="The run's id (an existing one resumes).")
@click.option("--seed", type=int, default=None, help="Override the file's seed.")
@click.option("--model", default=None, help="Override the file's model spec.")
@click.option(
    "--executor",
    metavar="NAME",
    default=None,
    help="Where the units run (overrides the file's executor): local, ray, a plugin's.",
)
@click.option(
    "--max-units",
    type=click.IntRange(min=1),
    default=None,
    help="Run at most this many units now (the rest on a later run).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option(
    "--csv",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write one row per persona and question to this CSV file.",
)
@_html_option
@store_option
@exits_cleanly("population run")
def run_command(study: Path, **options: Any) -> None:
    """Run a study file (STUDY: YAML, TOML, JSON); rerun to resume."""
    import attrs  # noqa: PLC0415

    from clientsim.population.control import begin  # noqa: PLC0415
    from clientsim.population.study import load_study  # noqa: PLC0415

    config = load_study(study)
    keys = ("seed", "model", "executor")
    overrides = {k: options[k] for k in keys if options[k] is not None}
    config = attrs.evolve(config, **overrides) if overrides else config

    async def work() -> int:
        opened = open_cli_store(options["store"])
        try:
            session = await begin(config, store=opened, run_id=options["run_id"])
            click.echo(f"study run {session.run_id}: {len(session.personas)} personas")

            def progress(point: Any) -> None:
                click.echo(f"[{point.units:>5}] units stored, checkpoint {point.id}")

            await session.run(max_units=options["max_units"], on_checkpoint=progress)
            status = await session.status()
            if status["units"] < status["expected"]:
                click.echo(
                    f"{status['units']} of {status['expected']} units stored; rerun "
                    f"with --run-id {session.run_id} to go on"
                )
                return 0
            results = await session.end()
            _echo_results(results, options["as_json"], options["csv"], options["html"])
            return EXIT_FAILED if status["failed"] else 0
        finally:
            await opened.aclose()

    code = anyio.run(work)
    if code:
        sys.exit(code)


@population.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option(
    "--csv",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write one row per persona and question to this CSV file.",
)
@_html_option
@store_option
@exits_cleanly("population show")
def show_command(run_id: str, **options: Any) -> None:
    """Show a stored study run's results."""
    from clientsim.population.control import results_of  # noqa: PLC0415

    async def work() -> Any:
        opened = open_cli_store(options["store"])
        try:
            session = await _stored_session(run_id, opened)
            return await results_of(
                opened, run_id, intervention=session.study.intervention is not None
            )
        finally:
            await opened.aclose()

    _echo_results(anyio.run(work), options["as_json"], options["csv"], options["html"])


@population.command("checkpoints")
@click.argument("run_id")
@store_option
@exits_cleanly("population checkpoints")
def checkpoints_command(run_id: str, store: str | None) -> None:
    """List a study run's checkpoints."""

    async def work() -> list[Any]:
        opened = open_cli_store(store)
        try:
            return await (await _stored_session(run_id, opened)).checkpoints()
        finally:
            await opened.aclose()

    for point in anyio.run(work):
        when = point.created_at.isoformat(timespec="seconds")
        click.echo(f"{point.id}  {point.units:>5} units  {when}  {point.label}")


@population.command("restore")
@click.argument("run_id")
@click.argument("checkpoint_id")
@click.option("--new-run-id", default=None, help="The new run's id.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@store_option
@exits_cleanly("population restore")
def restore_command(run_id: str, checkpoint_id: str, **options: Any) -> None:
    """Start a new run from a checkpoint of RUN_ID and run the rest."""

    async def work() -> Any:
        opened = open_cli_store(options["store"])
        try:
            session = await _stored_session(run_id, opened)
            restored = await session.restore(
                checkpoint_id, run_id=options["new_run_id"]
            )
            click.echo(f"restored {checkpoint_id} of {run_id} as {restored.run_id}")
            await restored.run()
            return await restored.end()
        finally:
            await opened.aclose()

    _echo_results(anyio.run(work), options["as_json"], None)


def _population_of(study: Path) -> Any:
    from clientsim.population.control import begin  # noqa: PLC0415

    async def work() -> Any:
        return await begin(study)

    session = anyio.run(work)
    from clientsim.population.generate import Population  # noqa: PLC0415

    return Population(name=session.study.name, personas=session.personas)


@population.command("profile")
@click.argument("study", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the profile as JSON.")
@_html_option
@exits_cleanly("population profile")
def profile_command(study: Path, as_json: bool, html: Path | None) -> None:
    """The distribution of each demographic dimension of a study's population."""
    profile = _population_of(study).profile()
    if html is not None:
        from clientsim.render.population import profile_page  # noqa: PLC0415

        html.write_text(profile_page(profile), encoding="utf-8")
        click.echo(f"wrote {html}")
    elif as_json:
        click.echo(json.dumps(profile.rows(), indent=2))
    else:
        click.echo(profile.render())


@population.command("segments")
@click.argument("study", type=click.Path(dir_okay=False, path_type=Path))
@exits_cleanly("population segments")
def segments_command(study: Path) -> None:
    """List a study population's segments and their sizes."""
    for name, members in _population_of(study).segments().items():
        click.echo(f"{name}: {len(members)}")


@population.command("individuals")
@click.argument("study", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--segment", default=None, help="Only this segment's personas.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@exits_cleanly("population individuals")
def individuals_command(study: Path, segment: str | None, as_json: bool) -> None:
    """List a study population's personas."""
    from clientsim.config.values import to_dict  # noqa: PLC0415

    for persona in _population_of(study).individuals(segment=segment):
        if as_json:
            click.echo(json.dumps(to_dict(persona)))
        else:
            shown = ", ".join(persona.demographics.values())
            click.echo(
                f"{persona.id}  {persona.name}  [{persona.segment or '-'}]  {shown}"
            )
