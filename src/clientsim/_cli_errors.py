"""How every ``clientsim`` command fails: exit codes, and errors as one or two lines.

Exit codes: 0 done, 1 some conversations failed (or the pass rate is below the
threshold), 2 bad configuration or usage, 3 a bug in clientsim, 130 interrupted.
Private to the command line (:mod:`clientsim.cli` and its command groups).
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Final, NoReturn, ParamSpec

import click

from clientsim.errors import ClientSimError


__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "exits_cleanly",
    "fail",
    "failure_message",
    "leaf",
]

P = ParamSpec("P")

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_CONFIG: Final = 2
EXIT_INTERNAL: Final = 3
EXIT_INTERRUPTED: Final = 130

_WHAT_TO_DO: Final = {
    "run": "check that output_directory (or --output-dir) is a folder you can write to",
    "init": "give a folder you can write to",
    "report": "check that the path is one you can read (and, with --output, write)",
    "team": "check that the store (--store or DATABASE_URL) is a file you can write to",
    "compare": "check that the store (--store or DATABASE_URL) and folders are readable",
}


def leaf(exc: BaseException) -> BaseException:
    """The one error inside nested exception groups of one error each, or ``exc``."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def failure_message(exc: BaseException, command: str) -> str | None:
    """What a command's failure means and what to do, or ``None``: not ours to say."""
    exc = leaf(exc)
    if isinstance(exc, ClientSimError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f" {str(exc.filename)!r}" if exc.filename is not None else ""
        reason = exc.strerror or str(exc)
        return (
            f"cannot use{where}: {reason}; {_WHAT_TO_DO[command.split(maxsplit=1)[0]]}"
        )
    if isinstance(exc, UnicodeError):
        return f"a file is not UTF-8 text ({exc}); {_WHAT_TO_DO[command.split(maxsplit=1)[0]]}"
    return None


def exits_cleanly(command: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Any clientsim error or file-system failure of ``command``: exit 2 with one or
    two lines saying what is wrong and what to do, never a traceback. Anything else is
    a bug in clientsim: its traceback (to report), a line saying so, and exit 3, so
    that exit 1 keeps meaning "some conversations failed"."""

    def decorate(function: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                function(*args, **kwargs)
            except (click.ClickException, click.exceptions.Exit, click.Abort):
                raise  # click's own: usage errors, exits
            except Exception as exc:  # noqa: BLE001 - each failure gets its exit code
                message = failure_message(exc, command)
                if message is None:
                    traceback.print_exc()
                    click.echo(
                        f"error: clientsim {command} failed on an internal error "
                        f"({type(leaf(exc)).__name__}); this is a bug in clientsim: "
                        "please report it with the traceback above",
                        err=True,
                    )
                    sys.exit(EXIT_INTERNAL)
                fail(message)

        return wrapper

    return decorate


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_CONFIG)
