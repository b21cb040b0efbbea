"""The ``--store`` option the CLI's run-store commands share (``team``,
``population``): a path or URL, else ``DATABASE_URL``, else the default store file."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final


if TYPE_CHECKING:
    from clientsim.store.base import SimulationStore

__all__ = ["STORE_HELP", "open_cli_store", "store_option"]

STORE_HELP: Final = (
    "The run store: a path or URL (sqlite:///file.db). "
    "Default: DATABASE_URL, else the default store file."
)


def store_option(function: Callable[..., None]) -> Callable[..., None]:
    """Add ``--store PATH|URL`` to a click command."""
    import click  # noqa: PLC0415

    return click.option("--store", default=None, metavar="PATH|URL", help=STORE_HELP)(
        function
    )


def open_cli_store(store: str | None) -> SimulationStore:
    """The store ``--store`` names (see :func:`clientsim.store.open_store`)."""
    from clientsim.store import open_store  # noqa: PLC0415

    return open_store(store)
