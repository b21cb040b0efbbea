"""Credentials never reach what a run writes down, and a resume still has them."""

from __future__ import annotations

import json

import pytest

from clientsim._secrets import redact_config, redact_url
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
