"""LOG_LEVEL: the clientsim logger's level, in the command and from Python."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim import configure_logging
from clientsim.errors import ConfigError
from clientsim.observability.logs import LEVELS, parse_log_level


ROOT = Path(__file__).parents[2]
CLI = (sys.executable, "-P", "-m", "clientsim")


def clientsim(
    *args: str, cwd: Path, level: str | None
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "OPENAI_API_KEY"}
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/unreachable"
    env["PYTHONPATH"] = str(ROOT / "src")
    env.pop("LOG_LEVEL", None)
    if level is not None:
        env["LOG_LEVEL"] = level
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(name="experiment", scope="module")
def _experiment(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("logs")
    done = clientsim("init", "agent", cwd=folder, level=None)
    assert done.returncode == 0, done.stderr
    return folder / "agent"


def test_log_level_debug_shows_every_event_on_stderr(experiment):
    done = clientsim("run", "configs/simulation.yaml", cwd=experiment, level="debug")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(
        " DEBUG clientsim.events: conversation.message " in line for line in lines
    )
    assert any(" DEBUG clientsim.events: model.called " in line for line in lines)
    assert any(" INFO clientsim.events: batch.finished " in line for line in lines)
    assert "[1/" in done.stdout  # the progress lines are unchanged


@pytest.mark.parametrize(("level", "shown"), [("WARNING", False), ("20", True)])
def test_a_higher_level_hides_the_debug_events(experiment, level, shown):
    done = clientsim("run", "configs/simulation.yaml", cwd=experiment, level=level)
    assert done.returncode == 0, done.stderr
    assert "DEBUG" not in done.stderr
    assert ("INFO clientsim.events: batch.finished" in done.stderr) is shown


def test_without_log_level_stderr_stays_quiet(experiment):
    done = clientsim("run", "configs/simulation.yaml", cwd=experiment, level=None)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


@pytest.mark.parametrize("level", ["bogus", "-1", "51", "debug please"])
def test_a_bad_log_level_exits_2_naming_the_variable(experiment, level):
    done = clientsim("run", "configs/simulation.yaml", cwd=experiment, level=level)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "error: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (in "
        f"any case) or a number from 0 to 50; got {level!r}"
    )
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


@given(st.sampled_from(LEVELS), st.data())
def test_level_names_in_any_case(name, data):
    cased = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in name)
    padding = data.draw(st.sampled_from(["", " ", "\t"]))
    assert parse_log_level(padding + cased + padding) == logging.getLevelName(name)


@given(st.integers(min_value=0, max_value=50))
def test_numbers_from_0_to_50(number):
    assert parse_log_level(str(number)) == number
    assert parse_log_level(number) == number


@given(st.text(max_size=12))
def test_anything_else_is_refused_naming_the_variable(text):
    stripped = text.strip()
    if stripped.upper() in LEVELS or (
        stripped.isdecimal() and stripped.isascii() and int(stripped) <= 50
    ):
        return
    with pytest.raises(ConfigError, match=r"^LOG_LEVEL must be one of DEBUG, INFO"):
        parse_log_level(text, name="LOG_LEVEL")


@pytest.fixture(name="clientsim_logger")
def _clientsim_logger(monkeypatch):
    logger = logging.getLogger("clientsim")
    level, handlers = logger.level, list(logger.handlers)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    yield logger
    logger.setLevel(level)
    logger.handlers[:] = handlers


def test_configure_logging_reads_log_level_and_adds_one_handler(
    clientsim_logger, monkeypatch, capsys
):
    before = len(clientsim_logger.handlers)
    assert configure_logging() is None  # unset: nothing changes
    assert len(clientsim_logger.handlers) == before
    monkeypatch.setenv("LOG_LEVEL", "Error")
    assert configure_logging() == logging.ERROR
    assert configure_logging("debug") == logging.DEBUG  # an argument wins
    assert len(clientsim_logger.handlers) == before + 1
    logging.getLogger("clientsim.teams").debug("remembered %d facts", 3)
    assert "DEBUG clientsim.teams: remembered 3 facts" in capsys.readouterr().err
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(ConfigError, match=r"^LOG_LEVEL must be"):
        configure_logging()
    with pytest.raises(ConfigError, match=r"^level must be"):
        configure_logging("chatty")


def test_a_bad_rate_limit_exits_2_before_any_work(experiment):
    env = {key: value for key, value in os.environ.items() if key != "LOG_LEVEL"}
    env |= {"PYTHONPATH": str(ROOT / "src"), "RATE_LIMIT_REQUESTS": "many"}
    done = subprocess.run(
        [*CLI, "run", "configs/simulation.yaml"],
        cwd=experiment,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: RATE_LIMIT_REQUESTS must be a whole number")
    assert done.stdout == ""
