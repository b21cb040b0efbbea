"""A Redis server for the rate budget tests: Debian's ``redis-server`` on a unix
socket in a temporary folder (no port to collide on, so pytest-xdist workers each
start their own), without persistence, stopped at the end of the session. The
fixture skips, printing why, only when no server can be started here."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


START_SECONDS = 10.0


def _ping(socket: Path) -> bool:
    import redis

    client = redis.Redis(unix_socket_path=str(socket), socket_timeout=1.0)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@pytest.fixture(name="redis_url", scope="session")
def _redis_url() -> Iterator[str]:
    """``unix://.../redis.sock?db=0`` of a fresh server, stopped after the session."""
    try:
        import redis  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the redis package is not installed ({exc}): pip install redis")
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="clientsim-redis-") as folder:
        socket = Path(folder) / "redis.sock"
        command = [
            binary,
            *("--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700"),
            *("--save", "", "--appendonly", "no", "--dir", folder),
            *("--daemonize", "no", "--loglevel", "warning"),
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + START_SECONDS
            while not (socket.exists() and _ping(socket)):
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    output = process.communicate()[0].decode(errors="replace")
                    pytest.skip(f"redis-server did not start: {output.strip()[-500:]}")
                time.sleep(0.05)  # polling a starting server: there is no event
            yield f"unix://{socket}?db=0"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
