"""``clientsim team``: seed 001's operations on the command line, on the run store.

``start`` (a team file), ``batch`` (many sessions of it, on an executor), ``next``
(one or more turns), ``what-if`` (fork at a turn with
a change), ``show`` (transcript and analyses), ``memory`` and ``roles``. Sessions live
in the store ``--store`` names (default: ``DATABASE_URL``, else the default store file),
so each command can run in a new process.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import click

from clientsim._cli_errors import exits_cleanly
from clientsim._cli_store import open_cli_store, store_option


if TYPE_CHECKING:
    from clientsim.teams.session import TeamSession

__all__ = ["team"]

T = TypeVar("T")


def _run(work: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(work)


async def _with_session(
    session_id: str,
    store: str | None,
    action: Callable[[TeamSession], Awaitable[T]],
) -> T:
    from clientsim.teams.session import TeamSession  # noqa: PLC0415

    opened = open_cli_store(store)
    try:
        session = await TeamSession.load(session_id, opened)
        return await action(session)
    finally:
        await opened.aclose()


def _echo_messages(session: TeamSession, messages: tuple[Any, ...]) -> None:
    first = session.turn - len(messages) + 1
    for offset, message in enumerate(messages):
        who = message.label
        click.echo(f"[{first + offset:>3}] {who}: {message.content}")


def _echo_status(session: TeamSession) -> None:
    ending = session.ending
    status = f"ended: {ending.reason}" if ending else "open"
    click.echo(f"session {session.session_id}: turn {session.turn}, {status}")
    error = session.result().error
    if error is not None:
        click.echo(f"error: {error.source}: {error.type}: {error.message}", err=True)


@click.group("team")
def team() -> None:
    """Simulate a team of roles discussing a scenario (start, next, what-if)."""


@team.command("start")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--turns",
    type=click.IntRange(min=0),
    default=None,
    help="Turns to run now (default: to the end).",
)
@click.option("--seed", type=int, default=None, help="Override the file's seed.")
@click.option("--model", default=None, help="Override the file's model spec.")
@click.option("--session-id", default=None, help="The id to give the session.")
@store_option
@exits_cleanly("team start")
def start_command(scenario: Path, **options: Any) -> None:
    """Start a session from a team file and run it (SCENARIO: YAML, TOML, JSON)."""
    from clientsim.teams.session import start  # noqa: PLC0415

    async def work() -> None:
        opened = open_cli_store(options["store"])
        try:
            session = await start(
                scenario,
                seed=options["seed"],
                model=options["model"],
                store=opened,
                session_id=options["session_id"],
            )
            click.echo(f"started session {session.session_id}")
            click.echo(f"[  0] Facilitator: {session.opening}")
            turns = options["turns"]
            for _ in range(turns if turns is not None else 10**9):
                messages = await session.next()
                if not messages:
                    break
                _echo_messages(session, messages)
            _echo_status(session)
        finally:
            await opened.aclose()

    _run(work)


@team.command("batch")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--sessions",
    type=click.IntRange(min=1),
    default=None,
    help="How many sessions, seeded from the file's seed up (default 1).",
)
@click.option(
    "--seed", "seeds", type=int, multiple=True, help="A session's seed (repeatable)."
)
@click.option(
    "--turns",
    type=click.IntRange(min=1),
    default=None,
    help="Turns each session runs to (default: to the end).",
)
@click.option(
    "--what-if",
    "what_ifs",
    multiple=True,
    metavar="AT_TURN:TARGET.FIELD=VALUE",
    help="A branch of every session, e.g. 2:CEO.goal=Ship in Q3 (repeatable).",
)
@click.option("--model", default=None, help="Override the file's model spec.")
@click.option(
    "--executor",
    default=None,
    help="Where the sessions run: local (default, or the file's), ray, a plugin's.",
)
@click.option(
    "--parallel", type=click.IntRange(min=1), default=None, help="Sessions at once."
)
@click.option("--batch-id", default=None, help="Sessions are BATCH_ID-1, -2, ...")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per session.")
@store_option
@exits_cleanly("team batch")
def batch_command(scenario: Path, **options: Any) -> None:
    """Run many sessions of a team file to their end, on an executor, into the store
    (exit 1 if any stopped on a fault)."""
    from clientsim.teams.batch import run_sessions  # noqa: PLC0415

    plans = [_what_if_plan(text) for text in options["what_ifs"]]

    async def work() -> list[Any]:
        opened = open_cli_store(options["store"])
        try:
            return await run_sessions(
                scenario,
                seeds=options["seeds"] or None,
                sessions=options["sessions"],
                turns=options["turns"],
                what_ifs=plans,
                model=options["model"],
                executor=options["executor"],
                parallel=options["parallel"],
                store=opened,
                batch_id=options["batch_id"],
            )
        finally:
            await opened.aclose()

    runs = _run(work)
    for run in runs:
        if options["as_json"]:
            data = {
                "session_id": run.session_id,
                "seed": run.seed,
                "turns": run.turns,
                "ending": run.ending,
                "branches": [record.session_id for record in run.branches],
                "error": run.error,
            }
            click.echo(json.dumps(data))
            continue
        status = f"ended: {run.ending}" if run.ending else "open"
        branches = f", {len(run.branches)} what-if branches" if run.branches else ""
        click.echo(
            f"session {run.session_id} (seed {run.seed}): turn {run.turns}, "
            f"{status}{branches}"
        )
        if run.error is not None:
            click.echo(f"error: {run.session_id}: {run.error}", err=True)
    if any(run.error is not None for run in runs):
        raise SystemExit(1)


def _what_if_plan(text: str) -> dict[str, Any]:
    from clientsim.errors import ConfigError  # noqa: PLC0415

    turn, colon, change = text.partition(":")
    if not colon or not turn.strip().isdigit():
        raise click.BadParameter(
            f"a what-if is AT_TURN:TARGET.FIELD=VALUE (e.g. '2:CEO.goal=Ship in Q3'); "
            f"got {text!r}",
            param_hint="--what-if",
        )
    if not change.strip():
        raise ConfigError(f"--what-if {text!r} names no change after the turn")
    return {"at_turn": int(turn), "change": change}


@team.command("next")
@click.argument("session_id")
@click.option(
    "--turns",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many turns to run.",
)
@store_option
@exits_cleanly("team next")
def next_command(session_id: str, turns: int, store: str | None) -> None:
    """Run the next turn(s) of a stored session."""

    async def action(session: TeamSession) -> None:
        if session.is_complete:
            _echo_status(session)
            return
        for _ in range(turns):
            messages = await session.next()
            if not messages:
                break
            _echo_messages(session, messages)
        _echo_status(session)

    _run(lambda: _with_session(session_id, store, action))


@team.command("what-if")
@click.argument("session_id")
@click.option(
    "--at-turn",
    type=int,
    required=True,
    help="The turn from which the branch differs.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="TARGET.FIELD=VALUE",
    help="A change: CEO.goal=..., scenario.budget=... (repeatable).",
)
@click.option("--add-role", "add", multiple=True, help="A role to add.")
@click.option("--remove-role", "remove", multiple=True, help="A member to remove.")
@click.option(
    "--turns",
    type=click.IntRange(min=1),
    default=None,
    help="Turns the branch runs to (default: as many as the original).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@store_option
@exits_cleanly("team what-if")
def what_if_command(session_id: str, at_turn: int, **options: Any) -> None:
    """Fork a stored session at a turn with a change, and compare the branches."""
    from clientsim.teams.whatif import WhatIfChange  # noqa: PLC0415

    change = WhatIfChange(
        sets=WhatIfChange.parse(options["sets"]).sets,
        add=options["add"],
        remove=options["remove"],
    )
    turns, as_json = options["turns"], options["as_json"]

    async def action(session: TeamSession) -> None:
        comparison = await session.what_if(change, at_turn=at_turn, turns=turns)
        if as_json:
            click.echo(json.dumps(_comparison_data(comparison), indent=2))
        else:
            click.echo(comparison.render())

    _run(lambda: _with_session(session_id, options["store"], action))


@team.command("show")
@click.argument("session_id")
@click.option("--json", "as_json", is_flag=True, help="Print the stored record.")
@store_option
@exits_cleanly("team show")
def show_command(session_id: str, as_json: bool, store: str | None) -> None:
    """Show a stored session: its transcript and the analyst's analyses."""
    from clientsim.render.teams import analysis_text, session_text  # noqa: PLC0415

    async def action(session: TeamSession) -> None:
        if as_json:
            click.echo(json.dumps(session.to_data(), indent=2))
            return
        click.echo(session_text(session, analyses=False))
        for analysis in session.analyses:
            click.echo(analysis_text(analysis))

    _run(lambda: _with_session(session_id, store, action))


@team.command("memory")
@click.argument("session_id")
@click.option("--member", default=None, help="One member's memory only.")
@store_option
@exits_cleanly("team memory")
def memory_command(session_id: str, member: str | None, store: str | None) -> None:
    """Print what each member of a stored session remembers, as JSON."""
    from clientsim.models import to_dict  # noqa: PLC0415

    async def action(session: TeamSession) -> None:
        names = [member] if member else list(session.memories)
        data = {name: to_dict(session.memory(name)) for name in names}
        click.echo(json.dumps(data, indent=2))

    _run(lambda: _with_session(session_id, store, action))


@team.command("roles")
@exits_cleanly("team roles")
def roles_command() -> None:
    """List the role templates (built-in and plugins')."""
    from clientsim.teams.roles import roles  # noqa: PLC0415

    for role in roles():
        click.echo(f"{role.key:<20} {role.name}: {role.description}")


def _comparison_data(comparison: Any) -> dict[str, Any]:
    from clientsim.models import to_dict  # noqa: PLC0415

    def message(value: Any) -> Any:
        return None if value is None else to_dict(value)

    return {
        "at_turn": comparison.at_turn,
        "change": comparison.change.to_data(),
        "original_id": comparison.original_id,
        "branch_id": comparison.branch_id,
        "first_difference": comparison.first_difference,
        "model_calls": comparison.model_calls,
        "rows": [
            {
                "turn": row.turn,
                "same": row.same,
                "original": message(row.original),
                "branch": message(row.branch),
            }
            for row in comparison.rows
        ],
        "original_outcome": comparison.original_outcome,
        "branch_outcome": comparison.branch_outcome,
        "original_analysis": message(comparison.original_analysis),
        "branch_analysis": message(comparison.branch_analysis),
    }
