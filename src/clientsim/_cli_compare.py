"""``clientsim compare RUN_A RUN_B``: two runs of one experiment, cell by cell.

RUN_A and RUN_B are run ids in the run store (``--store``; default ``DATABASE_URL``,
else the default store file) or experiment folders (``experiments/exp_...``), whose
conversations are read from their ``artifacts/traces.jsonl`` (or, without one, from
the ``runs.sqlite`` beside the folder). Exit 0: no significant regression; 1: run B
passes significantly less often than run A (so CI can gate on it); 2: bad input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import attrs
import click

from clientsim._cli_errors import exits_cleanly, fail
from clientsim.errors import ConfigError


if TYPE_CHECKING:
    from clientsim.models.records import ConversationRecord

__all__ = ["compare"]


@attrs.frozen
class _Loaded:
    run_id: str
    metadata: Mapping[str, Any]
    records: Sequence[ConversationRecord]


def _is_folder(text: str) -> bool:
    path = Path(text)
    return path.is_dir() and (
        (path / "metadata.json").is_file()
        or (path / "artifacts" / "traces.jsonl").is_file()
        or (path / "summary.json").is_file()
    )


async def _from_store(run_id: str, store_url: str | Path | None) -> _Loaded:
    from clientsim.store import SQLiteStore, open_store  # noqa: PLC0415

    store = open_store(store_url)
    if isinstance(store, SQLiteStore) and not store.path.is_file():
        where = "the default store" if store_url is None else "--store"
        raise ConfigError(
            f"cannot find run {run_id!r}: {where} {str(store.path)!r} does not exist; "
            "give --store PATH|URL (or DATABASE_URL), or an experiment folder"
        )
    try:
        info = await store.get_simulation(run_id)
        if info is None:
            known = [run.simulation_id for run in await store.runs()]
            shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
            raise ConfigError(
                f"no run {run_id!r} in the store {_shown(store)}; runs there: "
                f"{shown or '(none)'}"
            )
        return _Loaded(run_id, info.metadata, await store.conversations(run_id))
    finally:
        await store.aclose()


def _shown(store: object) -> str:
    where = getattr(store, "path", None) or getattr(store, "url", None)  # no password
    return repr(str(where)) if where is not None else "(in memory)"


async def _from_folder(text: str, store_url: str | None) -> _Loaded:
    from clientsim.experiments.output import (  # noqa: PLC0415
        load_experiment,
        record_from_trace,
    )

    loaded = load_experiment(Path(text))
    metadata = loaded.metadata or {}
    run_id = metadata.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        run_id = loaded.directory.name
    if loaded.has_traces:
        records = [record_from_trace(line) for line in loaded.traces]
        return _Loaded(run_id, metadata, records)
    beside = loaded.directory.parent / "runs.sqlite"
    return await _from_store(run_id, store_url or beside)


async def _load(text: str, store_url: str | None) -> _Loaded:
    if _is_folder(text):
        return await _from_folder(text, store_url)
    if "/" in text or "\\" in text:
        raise ConfigError(
            f"{text!r} is neither a run id nor an experiment folder (a folder with "
            "metadata.json or artifacts/traces.jsonl)"
        )
    return await _from_store(text, store_url)


@click.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option(
    "--store",
    default=None,
    metavar="PATH|URL",
    help="The run store holding the runs (default: DATABASE_URL, else "
    "experiments/runs.sqlite).",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML page with the flipped cells side by side.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Significance level of the regression test.",
)
@click.option(
    "--pass-outcome",
    "pass_outcomes",
    multiple=True,
    metavar="NAME",
    help="An outcome that counts as a pass (repeatable; default: the runs' "
    "pass_outcomes).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Flipped cells shown in the text output.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@exits_cleanly("compare")
def compare(run_a: str, run_b: str, **options: Any) -> None:
    """Compare RUN_B with RUN_A (run ids or experiment folders) cell by cell.

    Lists the cells that flipped (pass -> fail first, transcripts side by side),
    McNemar's test and the change in pass rate with its interval. Exits 1 when RUN_B
    is a significant regression, 0 otherwise, 2 on bad input.
    """
    from clientsim.analysis.runs import compare_records  # noqa: PLC0415

    store_url: str | None = options["store"]

    async def load_both() -> tuple[_Loaded, _Loaded]:
        return await _load(run_a, store_url), await _load(run_b, store_url)

    first, second = anyio.run(load_both)
    if first.run_id == second.run_id and run_a == run_b:
        fail(f"RUN_A and RUN_B are the same run ({run_a!r}); give two runs")
    given = tuple(options["pass_outcomes"]) or None
    comparison = compare_records(
        first.records,
        second.records,
        run_a=first.run_id,
        run_b=second.run_id,
        metadata_a=first.metadata,
        metadata_b=second.metadata,
        pass_outcomes=given,
        alpha=options["alpha"],
    )
    from clientsim.render.compare import (  # noqa: PLC0415
        comparison_text,
        write_comparison_html,
    )

    if options["as_json"]:
        click.echo(json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(comparison_text(comparison, limit=options["limit"]), nl=False)
    if options["html_path"] is not None:
        written = write_comparison_html(comparison, options["html_path"])
        click.echo(f"wrote {written}", err=True)
    sys.exit(comparison.exit_code)
