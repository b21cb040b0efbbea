"""The command's exit codes for what is not a conversation's failure: a clientsim error
or a file it cannot use is exit 2 with one line; a bug in clientsim itself is exit 3
with its traceback, never exit 1 (which means "some conversations failed")."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from clientsim._cli_errors import EXIT_CONFIG, EXIT_INTERNAL
from clientsim._cli_errors import exits_cleanly as _exits_cleanly
from clientsim.errors import ConfigError


def _command(error: BaseException) -> click.Command:
    @click.command()
    @_exits_cleanly("report")
    def command() -> None:
        raise error

    return command


def test_a_bug_exits_3_with_its_traceback_and_a_line_to_report_it():
    result = CliRunner().invoke(_command(KeyError("boom")))
    assert result.exit_code == EXIT_INTERNAL == 3
    assert "Traceback (most recent call last)" in result.output
    assert "KeyError: 'boom'" in result.output
    assert result.output.rstrip().splitlines()[-1] == (
        "error: clientsim report failed on an internal error (KeyError); this is a "
        "bug in clientsim: please report it with the traceback above"
    )


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (ConfigError("the file is wrong; fix it"), "error: the file is wrong; fix it"),
        (PermissionError(13, "Permission denied", "/x"), "error: cannot use '/x'"),
    ],
)
def test_what_a_user_can_fix_exits_2_in_one_line(error, said):
    result = CliRunner().invoke(_command(error))
    assert result.exit_code == EXIT_CONFIG
    assert result.output.startswith(said)
    assert "Traceback" not in result.output


def test_clicks_own_usage_errors_stay_clicks():
    result = CliRunner().invoke(_command(click.UsageError("no such option")))
    assert result.exit_code == 2
    assert "Usage:" in result.output
