"""Credentials never reach what a run writes down, and a resume still has them."""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from clientsim import (
    HybridSimulationRunner,
    MessageDraft,
    Outcome,
    Outcomes,
    ParticipantRole,
    ScriptedParticipant,
)
from clientsim._secrets import redact_config, redact_url
from clientsim.channels import HTTPChannel, WebSocketChannel
from clientsim.errors import ChannelError, ConfigError
from clientsim.experiments import ExperimentConfig, run_experiment
from tests.openai_server import serve


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("https://bot:hunter2@example.com/v1", "https://bot:***@example.com/v1"),
        ("https://tok3n@example.com/v1", "https://***@example.com/v1"),
        (
            "wss://example.com/ws?api_key=abc&room=7",
            "wss://example.com/ws?api_key=***&room=***",
        ),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_redact_config_walks_mappings_lists_and_secret_keys():
    data = {
        "agent": {
            "strategy": "http",
            "base_url": "https://u:pw12345@example.com/v1",
            "headers": {"Authorization": "Bearer sk-12345678"},
        },
        "termination": ["outcome_reached", {"strategy": "x", "api_key": "k-123"}],
        "name": "keeps plain text",
    }
    redacted = json.dumps(redact_config(data))
    for secret in ("pw12345", "sk-12345678", "k-123"):
        assert secret not in redacted
    assert "keeps plain text" in redacted
    assert '"Authorization": "***"' in redacted


async def test_a_run_stores_no_credentials_and_resumes_with_the_files(tmp_path):
    async with serve() as server:
        host = server.base_url.split("://", 1)[1]
        secret = "s3cretTOKEN42"  # noqa: S105 - a made-up credential
        config = ExperimentConfig.from_dict(
            {
                "name": "secrets",
                "description": "",
                "agent": f"http://user:{secret}@{host}",
                "inputs": ["I forgot my password", "Where is my order?"],
                "output_directory": str(tmp_path / "out"),
            },
            base_dir=tmp_path,
        )
        first = await run_experiment(config)
        assert first.failed == 0
        assert len(server.requests) == 2
        written = [
            path
            for path in (tmp_path / "out").rglob("*")
            if path.is_file() and secret.encode() in path.read_bytes()
        ]
        assert written == []
        # Resuming with the same file finds the run the same (credentials aside)
        # and reaches the agent with the file's credentials.
        again = await run_experiment(config, resume=first.run_id)
        assert again.skipped == 2
        assert again.failed == 0


# ----- every channel, every output ---------------------------------------------------------

TOKEN = "qs-T0KEN-4242"  # noqa: S105 - made-up credentials, one per place they hide
BEARER = "hdr-BEARER-9191"
PASSWORD = "pw-PASS-7373"  # noqa: S105
BASIC = base64.b64encode(f"bot:{PASSWORD}".encode()).decode()
SECRETS = (TOKEN, BEARER, PASSWORD, BASIC)


def chain(error: BaseException) -> list[BaseException]:
    """``error`` and every error it was raised from or raised while handling."""
    found: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        pending += [current.__cause__, current.__context__]
    return found


def shown(error: BaseException) -> str:
    """Everything an exception chain can show: str, repr, args and attributes."""
    return "\n".join(
        f"{exc}\n{exc!r}\n{exc.args!r}\n{vars(exc)!r}\n"
        + "".join(traceback.format_exception_only(exc))
        for exc in chain(error)
    )


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked in: {text[:2000]}"


@asynccontextmanager
async def refusing(status: int) -> AsyncIterator[str]:
    """A server on 127.0.0.1 that refuses every request (a WebSocket handshake too)
    with ``status`` and a body quoting its URL and Authorization header."""

    async def refuse(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        return web.Response(status=status, text=f"refused {request.path_qs} {auth}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    runner = web.AppRunner(app, access_log=None)  # the server's log is not ours
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def test_channel_reprs_and_option_errors_show_no_secret():
    headers = {"Authorization": f"Bearer {BEARER}"}
    channels = [
        WebSocketChannel(f"wss://h/ws?token={TOKEN}", headers=headers),
        WebSocketChannel(f"wss://bot:{PASSWORD}@h/ws?token={TOKEN}"),
        HTTPChannel(base_url=f"https://h/v1?key={TOKEN}", headers=headers),
        HTTPChannel(base_url=f"https://bot:{PASSWORD}@h/v1"),
    ]
    assert_clean("".join(repr(channel) for channel in channels))
    bad = [
        lambda: WebSocketChannel("wss://h/ws", headers={**headers, "X-Retries": 3}),
        lambda: HTTPChannel(base_url="https://h/v1", headers={**headers, "X": None}),
        lambda: WebSocketChannel(f"wss://h:99999/ws?token={TOKEN}"),
        lambda: WebSocketChannel(f"https://bot:{PASSWORD}@h/ws?token={TOKEN}"),
        lambda: HTTPChannel(base_url=f"ftp://bot:{PASSWORD}@h/v1?key={TOKEN}"),
        lambda: WebSocketChannel(f"wss://bot:{PASSWORD}@h/ws", headers=headers),
    ]
    for make in bad:
        with pytest.raises(ConfigError) as caught:
            make()
        assert_clean(shown(caught.value))


def _hybrid(channel: object, **options: object) -> HybridSimulationRunner:
    return HybridSimulationRunner(
        ScriptedParticipant(ParticipantRole.CUSTOMER, []),
        channel,  # type: ignore[arg-type]
        None,
        Outcomes((Outcome("resolved", "Solved"),)),
        initial_message=MessageDraft("Hello", ParticipantRole.CUSTOMER),
        reply_timeout_seconds=5,
        **options,
    )


def _channels(host: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {BEARER}"}
    return {
        "http-header": HTTPChannel(
            base_url=f"http://{host}/v1?key={TOKEN}", headers=headers, max_retries=0
        ),
        "http-basic": HTTPChannel(
            base_url=f"http://bot:{PASSWORD}@{host}/v1", max_retries=0
        ),
        "webhook": HTTPChannel(
            base_url=f"http://{host}/hook?token={TOKEN}",
            mode="webhook",
            reply_path="reply",
            headers=headers,
            max_retries=0,
        ),
        "websocket-header": WebSocketChannel(
            f"ws://{host}/agent?token={TOKEN}", headers=headers
        ),
        "websocket-basic": WebSocketChannel(f"ws://bot:{PASSWORD}@{host}/agent"),
    }


@pytest.mark.parametrize("status", [401, 503])
@pytest.mark.parametrize(
    "kind",
    ["http-header", "http-basic", "webhook", "websocket-header", "websocket-basic"],
)
async def test_a_failing_agent_leaks_no_secret_anywhere(kind, status, caplog):
    caplog.set_level(logging.DEBUG)
    async with refusing(status) as host:
        channel = _channels(host)[kind]
        async with channel:  # type: ignore[attr-defined]
            recorded = await _hybrid(channel).run()
            with pytest.raises(ChannelError) as raised:
                await _hybrid(channel, raise_on_error=True).run()
    assert recorded.error is not None
    assert recorded.error.source == "channel"
    assert str(status) in recorded.error.message  # what failed is still said
    assert raised.value.status == status
    assert_clean(repr(recorded))
    assert_clean(shown(raised.value))
    logged = [
        f"{record.getMessage()} {getattr(record, 'clientsim_fields', '')}"
        for record in caplog.records
    ]
    assert any("conversation.failed" in line for line in logged)
    assert_clean("\n".join(logged))
    formatter = logging.Formatter()
    assert_clean("".join(formatter.format(record) for record in caplog.records))


async def test_an_experiment_with_a_failing_agent_writes_no_secret(tmp_path):
    async with refusing(503) as host:
        for kind, agent in {
            "ws": f"ws://{host}/agent?token={TOKEN}",
            "http": f"http://bot:{PASSWORD}@{host}/v1",
        }.items():
            config = ExperimentConfig.from_dict(
                {
                    "name": f"leaky-{kind}",
                    "description": "",
                    "agent": agent,
                    "inputs": ["Where is my order?"],
                    "output_directory": str(tmp_path / "out"),
                    "runner": {"max_retries": 0},
                },
                base_dir=tmp_path,
            )
            result = await run_experiment(config)
            assert result.failed == 1
    files = [path for path in (tmp_path / "out").rglob("*") if path.is_file()]
    assert any(path.name == "run.log" for path in files)
    written = "\n".join(path.read_text(errors="replace") for path in files)
    assert "503" in written  # the failure is recorded...
    assert_clean(written)  # ...without the credentials
