"""``clientsim run CONFIG --replicates N [--executor ray]`` on a client simulation
config: the replicates through :func:`clientsim.simulation.run_simulations`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import anyio
import click

from clientsim._cli_errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK


if TYPE_CHECKING:
    from clientsim.simulation import ClientSimulationConfig, SimulationResult

__all__ = ["run_replicates"]


def run_replicates(config: ClientSimulationConfig, options: dict[str, Any]) -> NoReturn:
    """Run the replicates, print each one's report (JSON reports as one list), and
    exit: 0, or 1 if a replicate failed. A clientsim error propagates (exit 2)."""
    from clientsim.simulation import run_simulations  # noqa: PLC0415

    target = options["worker"]
    if target is not None:
        here = str(Path.cwd())
        if here not in sys.path:  # a worker module in the current folder
            sys.path.insert(0, here)

    async def main_task() -> list[SimulationResult]:
        from clientsim.llm import aclose_models  # noqa: PLC0415

        try:
            return await run_simulations(
                config,
                replicates=options["replicates"] or 1,
                executor=options["executor"],
                worker=target,
            )
        finally:
            await aclose_models()

    try:
        results = anyio.run(main_task)
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if not options["quiet"]:
        reports = [result.report(config.report.strategy) for result in results]
        if all(isinstance(report, str) for report in reports):
            click.echo("\n\n".join(str(report) for report in reports))
        else:
            click.echo(json.dumps(reports, indent=2))
    failed = [result for result in results if result.status != "completed"]
    for result in failed:
        click.echo(f"error: {result.simulation_id}: {result.error}", err=True)
    sys.exit(EXIT_FAILED if failed else EXIT_OK)
