"""Every built-in channel builds by name from a config, and bad configs say why."""

from __future__ import annotations

import pytest

from clientsim.channels import (
    HTTPChannel,
    InMemoryChannel,
    RunnableChannel,
    TargetChannel,
    WebSocketChannel,
)
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.factory import build_channel, channels


CONFIGS = {
    "memory": ({"strategy": "memory"}, InMemoryChannel),
    "target": (
        {"strategy": "target", "target": "tests.channels.targets_agents:echo"},
        TargetChannel,
    ),
    "runnable": (
        {
            "strategy": "runnable",
            "runnable": "tests.channels.targets_agents:shouting",
            "stateful": False,
            "input_key": None,
        },
        RunnableChannel,
    ),
    "http": (
        {"strategy": "http", "base_url": "http://127.0.0.1:9/v1", "model": "bot"},
        HTTPChannel,
    ),
    "websocket": (
        {"strategy": "websocket", "url": "ws://127.0.0.1:9/agent", "format": "text"},
        WebSocketChannel,
    ),
}


def test_the_table_covers_every_builtin_channel():
    assert {name for name in channels.names() if "/" not in name} == set(CONFIGS)


@pytest.mark.parametrize("name", sorted(CONFIGS))
async def test_build_every_builtin_channel(name):
    config, cls = CONFIGS[name]
    channel = build_channel(config)
    assert type(channel) is cls
    aclose = getattr(channel, "aclose", None)
    if aclose is not None:
        await aclose()


def test_unknown_channel_names_suggest_the_closest():
    with pytest.raises(UnknownStrategyError, match="did you mean 'websocket'"):
        build_channel("websockets")


def test_bad_channel_options_are_config_errors():
    with pytest.raises(ConfigError, match="base_url"):
        build_channel({"strategy": "http", "base_url": "ftp://nowhere"})
    with pytest.raises(ConfigError, match="stateful must be"):
        build_channel(
            {
                "strategy": "runnable",
                "runnable": "tests.channels.targets_agents:shouting",
                "stateful": "yes",
            }
        )
