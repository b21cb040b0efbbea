"""What ``clientsim run`` prints while an experiment runs and when it is over.

Private to :mod:`clientsim.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click


if TYPE_CHECKING:
    from clientsim.experiments.run import ExperimentResult
    from clientsim.models import ConversationRecord


__all__ = ["Reporter", "finish", "pass_rate_line", "print_result"]


class Reporter:
    """A rich progress bar on a terminal; one plain line per conversation otherwise."""

    def __init__(self, *, quiet: bool, total: int) -> None:
        self.quiet = quiet
        self.total = total
        self.tty = sys.stdout.isatty()
        self._progress: Any = None
        self._task: Any = None

    def start(self, run_id: str, directory: Path) -> None:
        if self.quiet:
            return
        click.echo(f"run {run_id} -> {directory}")
        if self.tty:
            from rich.progress import (  # noqa: PLC0415
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]conversations"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            )
            self._progress.start()
            self._task = self._progress.add_task("run", total=self.total)

    def progress(self, record: ConversationRecord, finished: int, total: int) -> None:
        if self.quiet:
            return
        if self._progress is not None:
            self._progress.update(self._task, completed=finished, total=total)
            return
        outcome = (
            record.result.outcome.name
            if record.result and record.result.outcome
            else "-"
        )
        try:
            click.echo(
                f"[{finished}/{total}] {record.key} {record.status.value} "
                f"outcome={outcome}"
            )
        except BrokenPipeError:  # piped into `head`: keep running, stop printing
            self.quiet = True

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def pass_rate_line(summary: Any) -> str | None:
    """``pass rate 80.0% (95% CI 49.0%-94.3%)`` from a run's summary, or ``None``
    when it has no pass rate (no conversations).

    The rate is ``summary["pass_rate"]["value"]``: the conversations that passed
    (status ``done`` and, with ``pass_outcomes``, one of those outcomes; without,
    no error) over every conversation stored for the run. ``fail_under`` and
    ``--fail-under`` compare this value, unrounded.

    Example:
        >>> pass_rate_line({"pass_rate": {"value": 0.8, "ci95_low": 0.49,
        ...     "ci95_high": 0.943}})
        'pass rate 80.0% (95% CI 49.0%-94.3%)'
    """
    pass_rate = summary.get("pass_rate", {})
    value = pass_rate.get("value")
    if not isinstance(value, float):
        return None
    return (
        f"pass rate {value:.1%} (95% CI {pass_rate.get('ci95_low', 0):.1%}"
        f"-{pass_rate.get('ci95_high', 0):.1%})"
    )


def finish(result: ExperimentResult, *, junit: Path | None, quiet: bool) -> None:
    """Write the JUnit report (if asked for; whatever the pass rate), then print
    the result."""
    if junit is not None:
        from clientsim.experiments.junit import write_junit_xml  # noqa: PLC0415

        junit.parent.mkdir(parents=True, exist_ok=True)
        write_junit_xml(
            result.records,
            junit,
            suite=result.config.name,
            pass_outcomes=result.config.pass_outcomes,
        )
    print_result(result, quiet=quiet)


def print_result(result: ExperimentResult, *, quiet: bool) -> None:
    """The lines after a run: what was stored, the pass rate (``--quiet`` too), the
    threshold's verdict, where the results are, and the failures (on stderr)."""
    summary = result.summary
    by_status = summary.get("by_status", {})
    line = ", ".join(f"{name} {count}" for name, count in by_status.items())
    click.echo(
        f"{result.run_id}: {len(result.records)} of {result.total} stored ({line})"
    )
    rate = pass_rate_line(summary)
    if rate is not None:
        click.echo(rate)
    threshold = result.config.fail_under
    if threshold is not None and result.below_threshold:
        click.echo(
            f"the pass rate is below the threshold {threshold:.1%} "
            "(--fail-under / fail_under): exit 1",
            err=True,
        )
    elif threshold is not None and not quiet:
        click.echo(f"the pass rate meets the threshold {threshold:.1%}")
    if not quiet:
        click.echo(f"results: {result.directory}")
        click.echo(f"report:  clientsim report {result.directory}")
    if result.failed:
        click.echo(
            f"{result.failed} conversation(s) failed or timed out; see "
            f"{result.directory / 'artifacts' / 'traces.jsonl'}",
            err=True,
        )
