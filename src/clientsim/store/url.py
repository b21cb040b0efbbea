"""The store factory: a run store from a URL, or from ``DATABASE_URL``.

The forms it takes:

- ``sqlite:///relative/path.db`` (three slashes: relative to the working directory),
  ``sqlite:////absolute/path.db`` (four: an absolute path), or a bare path
  (``runs/store.db``): a :class:`~clientsim.store.SQLiteStore` on that file;
- ``memory://`` (or ``sqlite://``, ``sqlite:///:memory:``): an
  :class:`~clientsim.store.InMemoryStore`;
- ``postgresql://user:password@host:port/database`` (also ``postgres://`` and
  ``postgresql+psycopg://``): a :class:`~clientsim.store.PostgresStore` (the
  ``postgresql`` extra).

Messages never show a URL's password or query values.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote, urlsplit

from clientsim._secrets import redact_url
from clientsim.errors import ConfigError
from clientsim.store.memory import InMemoryStore
from clientsim.store.sqlite import SQLiteStore


if TYPE_CHECKING:
    from clientsim.store.postgres import PostgresStore


__all__ = ["DATABASE_URL", "DEFAULT_STORE_URL", "open_store"]

DATABASE_URL: Final = "DATABASE_URL"
"""The environment variable :func:`open_store` reads when it is given no URL."""

DEFAULT_STORE_URL: Final = "sqlite:///experiments/runs.sqlite"
"""The store when neither a URL nor ``DATABASE_URL`` is given: the run store a
``clientsim run`` with the default ``output_directory`` uses, so runs and team
sessions of one project share one file."""

_FORMS: Final = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, a bare file path, "
    "memory://, or postgresql://user:password@host/database"
)
_MEMORY: Final = frozenset({"memory://", "sqlite://", "sqlite:///:memory:"})
_POSTGRES: Final = frozenset({"postgres", "postgresql"})


def open_store(
    url: str | os.PathLike[str] | None = None,
) -> InMemoryStore | SQLiteStore | PostgresStore:
    """The run store a URL names (no I/O yet: it opens on first use).

    Args:
        url: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, a bare path,
            ``memory://``, or ``postgresql://user:password@host/database``
            (``postgres://``, ``postgresql+psycopg://``); ``None`` reads the ``DATABASE_URL`` environment
            variable, and without it (or with it empty) uses
            :data:`DEFAULT_STORE_URL` (``experiments/runs.sqlite``).

    Returns:
        A :class:`~clientsim.store.SQLiteStore`, an
        :class:`~clientsim.store.InMemoryStore` or a
        :class:`~clientsim.store.PostgresStore`; use it with ``async with``.

    Raises:
        ConfigError: a URL of another form, or a PostgreSQL URL without the
            ``postgresql`` extra installed; the message names ``DATABASE_URL`` when
            the URL came from it, and never shows a password.

    Example:
        >>> open_store("memory://")
        InMemoryStore(_closed=False)
        >>> open_store("sqlite:///runs/store.db").path.as_posix()
        'runs/store.db'
        >>> open_store("sqlite:////srv/clientsim/store.db").path.as_posix()
        '/srv/clientsim/store.db'
        >>> open_store("postgresql://bot:hunter2@db/sims")
        PostgresStore('postgresql://bot:***@db/sims')
        >>> open_store("ftp://bot:hunter2@db/sims")
        Traceback (most recent call last):
        ...
        clientsim.errors.ConfigError: the store URL 'ftp://bot:***@db/sims' names a store clientsim does not know (ftp scheme); use sqlite:///relative/path.db, sqlite:////absolute/path.db, a bare file path, memory://, or postgresql://user:password@host/database
    """  # noqa: E501
    source = "the store URL"
    if url is None:
        url = os.environ.get(DATABASE_URL, "").strip()
        if url:
            source = DATABASE_URL
        else:
            url = DEFAULT_STORE_URL
    if isinstance(url, os.PathLike):
        return SQLiteStore(Path(url))
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(
            f"a store URL must be a non-empty string ({_FORMS}); got {url!r}"
        )
    text = url.strip()
    if text in _MEMORY:
        return InMemoryStore()
    if "://" not in text:
        return SQLiteStore(Path(text).expanduser())
    if text.partition("://")[0].lower().partition("+")[0] in _POSTGRES:
        return _postgres(text, source)
    return SQLiteStore(_sqlite_path(text, source))


def _postgres(url: str, source: str) -> PostgresStore:
    scheme = url.partition("://")[0].lower()
    if scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise ConfigError(
            f"{source} {redact_url(url)!r} names PostgreSQL through {scheme!r}; "
            "clientsim talks to PostgreSQL through psycopg 3: use postgresql://, "
            "postgres:// or postgresql+psycopg://"
        )
    from clientsim.store.postgres import PostgresStore  # noqa: PLC0415

    try:
        return PostgresStore(url)
    except ConfigError as exc:
        raise ConfigError(f"{source} {redact_url(url)!r}: {exc}") from exc


def _sqlite_path(url: str, source: str) -> Path:
    shown = f"{source} {redact_url(url)!r}"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ConfigError(f"{shown} is not a URL ({exc}); use {_FORMS}") from exc
    scheme = parts.scheme.lower()
    if scheme != "sqlite":
        raise ConfigError(
            f"{shown} names a store clientsim does not know ({scheme or 'no'} "
            f"scheme); use {_FORMS}"
        )
    if parts.netloc:
        raise ConfigError(
            f"{shown} has a host ({parts.netloc.rpartition('@')[2]!r}); an SQLite "
            "URL names a file: sqlite:///relative/path.db (three slashes) or "
            "sqlite:////absolute/path.db (four)"
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"{shown} has a query or fragment, which an SQLite store URL does not "
            "take; give just the file: sqlite:///relative/path.db"
        )
    path = unquote(parts.path)[1:]  # the slash after the (empty) host is no part
    if not path or path.endswith("/"):
        raise ConfigError(
            f"{shown} names no file; use sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db"
        )
    return Path(path).expanduser()
