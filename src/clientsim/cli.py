"""The ``clientsim`` command: ``run``, ``init``, ``report`` and ``team``.

The only place in clientsim that starts an event loop. Exit codes: 0 every
conversation done (with ``--fail-under`` / ``fail_under``: the pass rate at or above
it), 1 some conversations failed or timed out (with a threshold: the pass rate below
it), 2 bad configuration or usage, 3 a bug in clientsim, 130 interrupted (Ctrl-C; what
finished is stored and the command to resume is printed).
"""

from __future__ import annotations

import json
import math
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec

import attrs
import click

from clientsim._cli_compare import compare
from clientsim._cli_errors import EXIT_INTERRUPTED, EXIT_OK
from clientsim._cli_errors import exits_cleanly as _exits_cleanly
from clientsim._cli_errors import fail as _fail
from clientsim._cli_output import Reporter, finish
from clientsim._cli_population import population
from clientsim._cli_team import team
from clientsim.errors import ClientSimError, ConfigError, DuplicateSimulationError
from clientsim.observability.logs import configure_logging
from clientsim.observability.otel import OTEL_HELP, OTEL_TARGETS, otel_option


if TYPE_CHECKING:
    from clientsim.experiments.config import ExperimentConfig
    from clientsim.experiments.run import ExperimentResult

__all__ = ["main"]

P = ParamSpec("P")


EXPERIMENT = "experiment"
CLIENT_SIMULATION = "client-simulation"
KINDS = (EXPERIMENT, CLIENT_SIMULATION)
_EXPERIMENT_KEYS = frozenset(
    {"name", "description", "inputs", "inputs_file", "personas", "agent", "customer"}
    | {"multi_turn", "outcomes", "iterations", "parallel_runs", "replay_args"}
)
_CLIENT_KEYS = frozenset(
    {
        "pool",
        "generators",
        "feedback",
        "report",
        "continuous",
        "intake",
        "review_stages",
    }
)


class _SeedType(click.ParamType):  # type: ignore[type-arg]
    name = "INTEGER|none"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        if value is None or isinstance(value, int):
            return value
        if str(value).lower() in {"none", "null", "random"}:
            return "none"
        try:
            return int(value)
        except ValueError:
            self.fail(f"{value!r} is not an integer or 'none'", param, ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="clientsim")
def main() -> None:
    """Rehearse AI agents against simulated clients."""
    from clientsim.llm.rates import rate_limit_from_env  # noqa: PLC0415

    try:
        configure_logging()  # LOG_LEVEL, if set
        rate_limit_from_env()  # RATE_LIMIT_*: a bad value fails before any work
    except ConfigError as exc:
        _fail(str(exc))


@main.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--iterations", type=int, help="Times to cycle through inputs x personas."
)
@click.option("--parallel-runs", type=int, help="Conversations run at once.")
@click.option("--seed", type=_SeedType(), help="Run seed, or 'none' for a random one.")
@click.option(
    "--multi-turn/--single-turn",
    default=None,
    help="Drive conversations with the supervisor.",
)
@click.option("--max-turns", type=int, help="Safety cap on turns per conversation.")
@click.option(
    "--auto-approve/--no-auto-approve", default=None, help="Auto-approve tool calls."
)
@click.option("--supervisor-model", help="The supervisor's model (name or spec).")
@click.option(
    "--supervisor-temperature", type=float, help="The supervisor's temperature."
)
@click.option("--persona", help="Use only this persona id.")
@click.option("--output-dir", help="Where experiment folders go.")
@click.option("--model", help="Model spec for every simulated part, e.g. 'offline'.")
@click.option(
    "--executor",
    metavar="NAME",
    help="Where conversations run: local, ray, a plugin's.",
)
@click.option("--resume", "resume", metavar="RUN_ID", help="Finish an earlier run.")
@click.option(
    "--record-cassette",  # absolute: a later chdir does not change what it means
    type=click.Path(dir_okay=False, path_type=Path, resolve_path=True),
    help="Record every model call and agent reply to this file.",
)
@click.option(
    "--replay-cassette",
    type=click.Path(dir_okay=False, path_type=Path, resolve_path=True),
    help="Answer every model call and agent reply from this file; call nothing live.",
)
@click.option(
    "--cassette-replay",
    type=click.Choice(["all", "simulator"]),
    default="all",
    help="What a replay answers: 'all', or 'simulator' (your agent is called live).",
)
@click.option("--strict/--no-strict", default=True, help="A cassette miss is an error.")
@click.option(
    "--rate-limit", type=float, help="Model calls per second, for the whole run."
)
@click.option(
    "--fail-under",
    metavar="RATE",
    help="Exit 1 if the pass rate is below RATE, 0 to 1 (overrides fail_under).",
)
@click.option(
    "--junit-xml",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write one JUnit test case per conversation to this file.",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="No progress output; the pass rate still."
)
@click.option(
    "--yes",
    "-y",
    is_flag=True,
    help="Run a grid of more than 100,000 conversations (refused without it).",
)
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    help="What CONFIG is; by default told from its keys.",
)
@click.option(
    "--worker",
    metavar="TARGET",
    help="Client simulation: the agent doing the work, 'module:function' (an async "
    "worker(task, feedback) -> str or a participant); default: a simulated agent.",
)
@click.option(
    "--replicates",
    type=click.IntRange(min=1),
    help="Client simulation: run it this many times, seeded runner.seed up.",
)
@click.option(
    "--otel", type=click.Choice(OTEL_TARGETS), callback=otel_option, help=OTEL_HELP
)
@_exits_cleanly("run")
def run(config: Path, **options: Any) -> None:
    """Run what CONFIG describes: an experiment (a simulation.yaml) or a client
    simulation (pool, generators, feedback, report, runner)."""
    kind = options["kind"] or detect_kind(config)
    if kind == CLIENT_SIMULATION:
        _run_client_simulation(config, options)
    if options["worker"] is not None:
        _fail("--worker applies to client simulation configs only")
    if options["replicates"] is not None:
        _fail("--replicates applies to client simulation configs only")
    loaded = _with_threshold(_load(config, options), options["fail_under"])
    record, replay = options["record_cassette"], options["replay_cassette"]
    # Absolute before a chdir below, so the path means what it meant.
    junit = None if options["junit_xml"] is None else options["junit_xml"].resolve()
    if loaded.runner is not None and loaded.agent is None:
        # The seed's working_directory: the agent runs where its project expects.
        os.chdir(loaded.resolve_path(loaded.runner.working_directory))
    reporter = Reporter(quiet=options["quiet"], total=loaded.grid_size)
    started: dict[str, str] = {}

    def on_start(run_id: str, directory: Path) -> None:
        started["run_id"] = run_id
        reporter.start(run_id, directory)

    from clientsim.experiments.run import run_experiment  # noqa: PLC0415

    async def main_task() -> ExperimentResult:
        try:
            return await run_experiment(
                loaded,
                resume=options["resume"],
                cassette=record or replay,
                cassette_mode="replay" if replay is not None else "record",
                cassette_replay=options["cassette_replay"],
                strict=options["strict"],
                requests_per_second=options["rate_limit"],
                progress=reporter.progress,
                on_start=on_start,
                allow_large_grid=options["yes"],
            )
        finally:
            from clientsim.llm import aclose_models  # noqa: PLC0415

            await aclose_models()

    import anyio  # noqa: PLC0415

    try:
        result = anyio.run(main_task)
    except KeyboardInterrupt:
        reporter.stop()
        click.echo("\nInterrupted: finished conversations are stored.", err=True)
        if "run_id" in started:
            click.echo(
                f"Resume with: {_resume_command(started['run_id'])}",
                err=True,
            )
        sys.exit(EXIT_INTERRUPTED)
    except (ConfigError, DuplicateSimulationError) as exc:
        reporter.stop()
        _fail(str(exc))
    reporter.stop()
    finish(result, junit=junit, quiet=options["quiet"])
    sys.exit(result.exit_code)


def _resume_command(run_id: str) -> str:
    """This command line again, with ``--resume RUN_ID`` instead of any earlier one."""
    words = list(sys.argv[1:])
    if "--resume" in words:
        at = words.index("--resume")
        del words[at : at + 2]
    words = [word for word in words if not word.startswith("--resume=")]
    return shlex.join(["clientsim", *words, "--resume", run_id])


_OVERRIDES = (
    "iterations",
    "parallel_runs",
    "multi_turn",
    "max_turns",
    "auto_approve",
    "supervisor_model",
    "supervisor_temperature",
    "persona",
    "output_dir",
    "model",
    "executor",
)


def _load(config: Path, options: dict[str, Any]) -> ExperimentConfig:
    """The experiment file with the command line's overrides applied (exit 2 if bad)."""
    from clientsim.experiments.config import ExperimentConfig  # noqa: PLC0415

    record, replay = options["record_cassette"], options["replay_cassette"]
    if record is not None and replay is not None:
        _fail("use --record-cassette or --replay-cassette, not both")
    if replay is not None and not replay.is_file():
        _fail(
            f"--replay-cassette {replay}: no such file; record one first with "
            "--record-cassette"
        )
    rate = options["rate_limit"]
    if rate is not None and rate <= 0:
        _fail(f"--rate-limit must be > 0 calls per second; got {rate}")
    try:
        loaded = ExperimentConfig.from_file(config)
        overrides = {key: options[key] for key in _OVERRIDES}
        if overrides["output_dir"] is not None:
            # A command-line path is relative to where the command runs.
            overrides["output_dir"] = str(Path(overrides["output_dir"]).resolve())
        loaded = loaded.with_overrides(**overrides)
        seed = options["seed"]
        if seed == "none":
            loaded = attrs.evolve(loaded, seed=None)
        elif seed is not None:
            loaded = loaded.with_overrides(seed=seed)
        loaded.grid_size  # noqa: B018 - reading it checks the inputs now
    except ClientSimError as exc:
        _fail(str(exc))
    if loaded.runner is not None and loaded.agent is None:
        workdir = loaded.resolve_path(loaded.runner.working_directory)
        if not workdir.is_dir():
            _fail(
                f"runner.working_directory {loaded.runner.working_directory!r}: "
                f"{workdir} is not a folder"
            )
    return loaded


def _with_threshold(loaded: ExperimentConfig, text: str | None) -> ExperimentConfig:
    """``loaded`` with ``--fail-under`` (which wins over the file's ``fail_under``)."""
    if text is None:
        return loaded
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0 <= rate <= 1:
        _fail(
            "--fail-under must be a number from 0 to 1 (the lowest pass rate that "
            f"exits 0, e.g. 0.8 for 80%); got {text!r}"
        )
    return attrs.evolve(loaded, fail_under=rate)


main.add_command(team)
main.add_command(compare)
main.add_command(population)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@click.option(
    "--template",
    default=None,
    metavar="NAME",
    help="A population study instead of an experiment: market_survey, focus_group, "
    "ab_intervention or customer_journey.",
)
@_exits_cleanly("init")
def init(directory: Path, force: bool, template: str | None) -> None:
    """Scaffold an experiment folder (or, with --template, a population study) with a
    working offline example."""
    from clientsim.experiments.scaffold import scaffold  # noqa: PLC0415
    from clientsim.population.templates import scaffold_study  # noqa: PLC0415

    try:
        if template is not None:
            written = scaffold_study(directory, template, force=force)
        else:
            written = scaffold(directory, force=force)
    except ClientSimError as exc:
        _fail(str(exc))
    for path in written:
        click.echo(f"wrote {path}")
    if template is not None:
        click.echo(f"\nNext: clientsim population run {written[0]}")
    else:
        click.echo(f"\nNext: clientsim run {directory / 'configs' / 'simulation.yaml'}")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--failures", default=5, show_default=True, help="Failing conversations shown."
)
@click.option("--json", "as_json", is_flag=True, help="Print summary.json instead.")
@click.option(
    "--html",
    "as_html",
    is_flag=True,
    help="Write a self-contained HTML report (DIR/report.html) and print its path.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where --html writes the report (implies --html).",
)
@_exits_cleanly("report")
def report(
    directory: Path,
    failures: int,
    as_json: bool,
    as_html: bool,
    output: Path | None,
) -> None:
    """Summarise an experiment folder (experiments/exp_...)."""
    as_html = as_html or output is not None
    if as_json and as_html:
        _fail("use --json or --html (--output), not both")
    try:
        if as_html:
            from clientsim.render.html import (  # noqa: PLC0415
                write_html_report,
            )

            click.echo(str(write_html_report(directory, output)))
            return
        if as_json:
            import json  # noqa: PLC0415

            from clientsim.experiments.output import (  # noqa: PLC0415
                load_experiment,
                record_from_trace,
                summarize,
            )

            loaded = load_experiment(directory)
            summary = loaded.summary or summarize(
                [record_from_trace(trace) for trace in loaded.traces]
            )
            click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
            return
        from clientsim.render.text import render_text_report  # noqa: PLC0415

        click.echo(render_text_report(directory, failures=failures))
    except ClientSimError as exc:
        _fail(str(exc))


# ----- what a file is, and running a client simulation ---------------------------------

# Options of `run` that only an experiment file takes, with their defaults.
_EXPERIMENT_ONLY = {
    # --executor also runs a client simulation's replicates (--replicates).
    **dict.fromkeys(key for key in _OVERRIDES if key != "executor"),
    "seed": None,
    "resume": None,
    "record_cassette": None,
    "replay_cassette": None,
    "cassette_replay": "all",
    "rate_limit": None,
    "yes": False,
}


def detect_kind(path: Path) -> str:
    """``"experiment"`` or ``"client-simulation"``, told from the file's top-level keys.

    A file that cannot be read or parsed counts as an experiment file, whose loader
    then says exactly what is wrong with it. Exits 2 with one line when the keys fit
    neither kind, or both.
    """
    from clientsim.config import parse_text, read_text  # noqa: PLC0415

    try:
        data = parse_text(read_text(path, "config"), path.suffix.lower(), str(path))
    except ConfigError:
        return EXPERIMENT
    if not isinstance(data, dict):
        return EXPERIMENT
    keys = {str(key) for key in data}
    experiment = keys & _EXPERIMENT_KEYS
    client = keys & _CLIENT_KEYS
    if experiment and not client:
        return EXPERIMENT
    if client and not experiment:
        return CLIENT_SIMULATION
    if experiment and client:
        _fail(
            f"{path} has keys of an experiment file ({', '.join(sorted(experiment))}) "
            f"and of a client simulation config ({', '.join(sorted(client))}); say "
            "which it is with --kind experiment or --kind client-simulation"
        )
    return _fail(
        f"{path} is neither an experiment file (expected keys such as name, "
        "description, inputs, runner, agent) nor a client simulation config (expected "
        f"keys such as pool, generators, feedback, report, runner); it has: "
        f"{', '.join(sorted(keys)) or '(no keys)'}"
    )


def _run_client_simulation(path: Path, options: dict[str, Any]) -> NoReturn:
    """``clientsim run`` on a client simulation config: run it, print its report."""
    given = sorted(
        "--" + key.replace("_", "-")
        for key, default in _EXPERIMENT_ONLY.items()
        if options.get(key) not in (default, False)
    )
    if given:
        _fail(f"{', '.join(given)}: for experiment files only, not client simulations")
    from clientsim.simulation import ClientSimulationConfig  # noqa: PLC0415

    try:
        config = ClientSimulationConfig.from_file(path)
        if options["replicates"] is not None or options["executor"] is not None:
            from clientsim._cli_simulations import run_replicates  # noqa: PLC0415

            run_replicates(config, options)
        worker = _worker(options["worker"])
    except ClientSimError as exc:
        _fail(str(exc))

    async def main_task() -> str | dict[str, Any]:
        from clientsim.llm import aclose_models  # noqa: PLC0415
        from clientsim.simulation import SimulationRunner  # noqa: PLC0415
        from clientsim.tasks import InMemoryTaskEngine  # noqa: PLC0415

        try:
            engine = InMemoryTaskEngine(worker)
            runner = SimulationRunner.from_config(config, task_engine=engine)
            result = await runner.run()
            return result.report(config.report.strategy)
        finally:
            await aclose_models()

    import anyio  # noqa: PLC0415

    try:
        report = anyio.run(main_task)
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except ClientSimError as exc:
        _fail(str(exc))
    if not options["quiet"]:
        click.echo(report if isinstance(report, str) else json.dumps(report, indent=2))
    sys.exit(EXIT_OK)


def _worker(target: str | None) -> object:
    """The client simulation's worker: a target, or a simulated agent."""
    if target is None:
        from clientsim.participants import LLMParticipant  # noqa: PLC0415

        return LLMParticipant.from_config(role="agent", model="offline")
    from clientsim.channels.target import import_target  # noqa: PLC0415

    here = str(Path.cwd())
    if here not in sys.path:  # a worker module in the current folder, as python -m does
        sys.path.insert(0, here)
    return import_target(target, instantiate=True)
