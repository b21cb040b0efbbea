"""Deterministic loopback agents and CLI helpers for the spine tests.

The agents answer from a fixed table, so a test can assert whole transcripts: an
OpenAI-compatible chat completions endpoint, a JSON webhook (both on the scripted
server of ``tests/channels/http_servers.py``) and a WebSocket agent (on
``tests/channels/ws_server.py``). Each records what it received.

:func:`run_cli` runs ``python -P -m clientsim`` as a real subprocess without blocking
the event loop, so the agents keep answering while it runs. Its environment puts the
clientsim this process imported first on ``PYTHONPATH`` (absolute), so the subprocess
runs the same code wherever its working directory is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
from aiohttp import web

import clientsim
from tests.channels import http_servers as http
from tests.channels import ws_server as ws


CLIENTSIM_SRC = Path(clientsim.__file__).resolve().parents[1]
TIMEOUT = 90  # seconds for any one command; each takes a few seconds here

# What the shop agent answers to each customer message; anything else gets FALLBACK.
ANSWERS: Mapping[str, str] = {
    "Where is my order?": "Which order number, please?",
    "It is order 42": "Order 42 is on its way and arrives tomorrow.",
    "Can I get a refund instead?": "Done: refund issued for order 42.",
    "Thank you, that is all": "You are welcome, goodbye.",
}
FALLBACK = "Could you say that again?"
BROKEN = "Our systems are down, please call back later."


def shop_answer(message: str) -> str:
    return ANSWERS.get(message, FALLBACK)


# ----------------------------------------------------------------- the subprocess


def cli_env(**extra: str) -> dict[str, str]:
    """No model provider reachable; this process's clientsim first on the path."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"OPENAI_API_KEY", "CLIENTSIM_DISABLE_PLUGINS"}
    }
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/unreachable"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    paths = [str(CLIENTSIM_SRC)]
    paths += [
        str(Path(entry).resolve())
        for entry in env.get("PYTHONPATH", "").split(os.pathsep)
        if entry
    ]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.update(extra)
    return env


async def run_cli(
    *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -P -m clientsim ARGS`` in ``cwd``; the event loop keeps running."""
    command = [sys.executable, "-P", "-m", "clientsim", *map(str, args)]
    with anyio.fail_after(TIMEOUT):
        done = await anyio.run_process(
            command, cwd=cwd, env=dict(env or cli_env()), check=False
        )
    return subprocess.CompletedProcess(
        command, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def explain(done: subprocess.CompletedProcess[str]) -> str:
    return (
        f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )


# ------------------------------------------------------------- experiment folders


def experiment_folder(output: Path) -> Path:
    """The one ``exp_*`` folder under ``output``."""
    (folder,) = sorted(output.glob("exp_*"))
    return folder


def traces(folder: Path) -> list[dict[str, Any]]:
    text = (folder / "artifacts" / "traces.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def summary(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def transcript(trace: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(message["role"], message["content"]) for message in trace["transcript"]]


# ------------------------------------------------------------- experiment runs


def write(folder: Path, config: str, files: dict[str, str] | None = None) -> Path:
    """``folder/simulation.yaml`` (and ``files``, by relative path)."""
    for name, source in (files or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    path = folder / "simulation.yaml"
    path.write_text(textwrap.dedent(config), encoding="utf-8")
    return path


async def run_ok(folder: Path) -> Path:
    """Run ``folder/simulation.yaml``; it must exit 0. Returns the experiment folder."""
    done = await run_cli("run", "simulation.yaml", cwd=folder)
    assert done.returncode == 0, explain(done)
    return experiment_folder(folder / "experiments")


# ----------------------------------------------------------------- HTTP agents


def openai_agent(answer: Callable[[str], str] = shop_answer) -> http.Step:
    """An OpenAI-compatible step: the completion answers the last user message."""

    async def step(request: web.Request, received: http.Received) -> web.StreamResponse:
        users = [m["content"] for m in received.body["messages"] if m["role"] == "user"]
        return await http.completion(answer(users[-1]))(request, received)

    return step


def webhook_agent(answer: Callable[[str], str] = shop_answer) -> http.Step:
    """A JSON webhook: ``{"text", "conversation"}`` in, two replies out under
    ``data.replies`` (the answer, then the number of the turn in this conversation)."""
    turns: dict[str, int] = {}

    async def step(request: web.Request, received: http.Received) -> web.StreamResponse:
        body = received.body
        conversation = body["conversation"]
        turns[conversation] = turns.get(conversation, 0) + 1
        replies = [answer(body["text"]), f"(turn {turns[conversation]})"]
        return web.json_response({"data": {"replies": replies}})

    return step


# ----------------------------------------------------------------- WebSocket agent


def ws_agent(answer: Callable[[str], str] = shop_answer) -> ws.Behaviour:
    """Answers each customer message with the answer and 'Anything else?'."""

    async def behaviour(connection: ws.Connection) -> None:
        async for content in connection.customer_messages():
            await connection.say(answer(content), "Anything else?")
            await connection.end_turn()

    return behaviour
