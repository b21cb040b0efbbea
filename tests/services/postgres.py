"""A PostgreSQL server for the store tests, started from the machine's own binaries.

``postgres_server`` (session scope) starts one server per test process (so each
pytest-xdist worker has its own): ``initdb`` and ``pg_ctl`` from
``/usr/lib/postgresql/*/bin`` (the newest) or ``PATH``, in a temporary folder, as the
``postgres`` user when the tests run as root (``initdb`` refuses root), listening on
127.0.0.1 at a free port with trust authentication, and stopped at the end. With
``CLIENTSIM_TEST_POSTGRES_URL`` set, that server is used instead. The fixture skips,
printing why, only when no server can be started.

``postgres_url`` gives each test a fresh database on that server (dropped after it).

A contributor starts the same kind of server by hand with (from the repository root)::

    python -m tests.services.postgres          # prints DATABASE_URL=...; Ctrl-C stops it
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest


__all__ = ["LocalPostgres", "NoPostgresError", "create_database", "drop_database"]

URL_VARIABLE: Final = "CLIENTSIM_TEST_POSTGRES_URL"


class NoPostgresError(RuntimeError):
    """No PostgreSQL server can be started here (the message says why)."""


def _binaries() -> Path:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise NoPostgresError(
            "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin "
            "or on PATH; install them (Debian: apt-get install postgresql) or set "
            f"{URL_VARIABLE} to a server's URL"
        )
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalPostgres:
    """A throwaway PostgreSQL server in a temporary folder (``start()``, ``stop()``)."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.port = 0
        self._prefix: list[str] = []
        self._bin = Path()

    @property
    def url(self) -> str:
        """The URL of the server's ``postgres`` database (user ``postgres``)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        """Start the server; returns :attr:`url`. Raises :class:`NoPostgresError`."""
        self._bin = _binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="clientsim-pg-"))
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                import pwd

                user = pwd.getpwnam("postgres")
            except KeyError:
                user = None
            if runuser is None or user is None:
                raise NoPostgresError(
                    "the tests run as root, and initdb refuses root; there is no "
                    "'postgres' user (or no runuser) to run it as"
                )
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._prefix = [runuser, "-u", "postgres", "--"]
        data = self.folder / "data"
        self._run(
            "initdb", "-D", str(data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        for _ in range(5):  # the port may be taken between probing and binding
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=300"
            )
            try:
                self._run(
                    "pg_ctl", "start", "-w", "-t", "60", "-D", str(data),
                    "-l", str(self.folder / "server.log"), "-o", options,
                )  # fmt: skip
            except NoPostgresError:
                continue
            return self.url
        log = self.folder / "server.log"
        raise NoPostgresError(
            "pg_ctl could not start a server: "
            + (log.read_text(errors="replace")[-2000:] if log.exists() else "no log")
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        if self.folder is None:
            return
        data = self.folder / "data"
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(NoPostgresError):
                self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(data))
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def _run(self, program: str, *args: str) -> None:
        command = [*self._prefix, str(self._bin / program), *args]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                cwd=self.folder,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise NoPostgresError(f"{program} failed: {exc}") from exc
        if done.returncode != 0:
            raise NoPostgresError(
                f"{program} failed (exit {done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-2000:]}"
            )


def _admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=30) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")


def create_database(server_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    _admin(server_url, f'CREATE DATABASE "{name}"')
    return _with_database(server_url, name)


def drop_database(server_url: str, url: str) -> None:
    """Drop a database :func:`create_database` made (closing its connections)."""
    name = url.partition("?")[0].rsplit("/", 1)[1]
    _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(name="postgres_server", scope="session")
def _postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server for this test process (its admin database)."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        pytest.skip(
            f"psycopg is not installed ({exc}); pip install 'clientsim[postgresql]'"
        )
    given = os.environ.get(URL_VARIABLE, "").strip()
    if given:
        yield given
        return
    server = LocalPostgres()
    try:
        url = server.start()
    except NoPostgresError as exc:
        server.stop()
        pytest.skip(f"no PostgreSQL server for the tests: {exc}")
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(name="postgres_url")
def _postgres_url(postgres_server: str) -> Iterator[str]:
    """The URL of a fresh, empty database for one test (dropped after it)."""
    url = create_database(postgres_server)
    try:
        yield url
    finally:
        drop_database(postgres_server, url)


def main() -> None:
    """Start a server, print its URL, and stop it on Ctrl-C (or SIGTERM)."""
    server = LocalPostgres()
    try:
        url = server.start()
    except NoPostgresError as exc:
        server.stop()
        raise SystemExit(f"no PostgreSQL server: {exc}") from exc
    print(f"DATABASE_URL={url}", flush=True)
    print("PostgreSQL is running; Ctrl-C stops it and deletes its data.", flush=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
