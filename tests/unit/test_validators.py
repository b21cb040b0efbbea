"""The shared checks: one message style, the right error class, three forms."""

from __future__ import annotations

import math

import attrs
import pytest

from clientsim._validators import (
    FieldError,
    a_bool,
    a_number,
    a_text,
    an_int,
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_seconds,
    check_text,
    one_of,
    or_none,
    shown,
)
from clientsim.errors import ConfigError, InvalidTypeError


@pytest.mark.parametrize(
    ("kwargs", "value", "message"),
    [
        ({}, "3", "n must be an int; got '3'"),
        ({"low": 1}, 0, "n must be an int >= 1; got 0"),
        ({"high": 5}, 6, "n must be an int <= 5; got 6"),
        ({"low": 1, "high": 5}, 9, "n must be an int from 1 to 5; got 9"),
    ],
)
def test_check_int_names_the_value_and_what_is_allowed(kwargs, value, message):
    with pytest.raises(ConfigError) as caught:
        check_int("n", value, **kwargs)
    assert str(caught.value) == message


@pytest.mark.parametrize("value", [True, 1.0, "1", None])
def test_a_wrong_type_is_an_invalid_type_error(value):
    with pytest.raises(InvalidTypeError):
        check_int("n", value, low=0)


def test_a_value_out_of_range_is_a_config_error_but_not_a_type_error():
    with pytest.raises(ConfigError) as caught:
        check_int("n", -1, low=0)
    assert not isinstance(caught.value, TypeError)


def test_good_values_come_back():
    assert check_int("n", 3, low=1, high=5) == 3
    assert check_number("x", 2, low=0) == 2.0
    assert isinstance(check_number("x", 2, low=0), float)
    assert check_seconds("t", 0, zero=True) == 0.0
    assert check_seconds("t", None, optional=True) is None
    assert check_text("s", "hi", non_empty=True) == "hi"
    assert check_text("s", None, optional=True) is None
    assert check_bool("b", False) is False
    assert check_choice("c", "a", ["a", "b"]) == "a"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: check_number("x", math.nan, low=0),
            "x must be a number >= 0; got nan",
        ),
        (lambda: check_number("x", math.inf), "x must be a number; got inf"),
        (lambda: check_number("x", 0, above=0), "x must be a number > 0; got 0"),
        (
            lambda: check_number("x", 2, low=0, high=1),
            "x must be a number from 0 to 1; got 2",
        ),
        (lambda: check_number("x", 0.5, low=1.5), "x must be a number >= 1.5; got 0.5"),
        (lambda: check_seconds("t", 0), "t must be a number of seconds > 0; got 0"),
        (
            lambda: check_seconds("t", -1, zero=True, optional=True),
            "t must be a number of seconds >= 0 or None; got -1",
        ),
        (lambda: check_text("s", "  ", non_empty=True), "s must be a non-empty string"),
        (lambda: check_bool("b", 1), "b must be True or False; got 1"),
        (
            lambda: a_bool(optional=True).check("b", "yes"),
            "b must be None, True or False; got 'yes'",
        ),
        (
            lambda: check_choice("mode", "recrod", ["record", "replay"]),
            (
                "mode must be one of 'record', 'replay'; got 'recrod'; "
                "did you mean 'record'?"
            ),
        ),
    ],
)
def test_every_check_speaks_the_same_way(call, message):
    with pytest.raises(ConfigError, match="^" + message.replace("?", r"\?")):
        call()


def test_checks_are_attrs_validators():
    @attrs.frozen
    class Settings:
        count: int = attrs.field(validator=an_int(low=1))
        limit: float | None = attrs.field(default=None, validator=or_none(a_number(0)))

    assert Settings(count=2, limit=None).count == 2
    with pytest.raises(ConfigError, match="count must be an int >= 1; got 0"):
        Settings(count=0)
    with pytest.raises(ConfigError, match="limit must be a number >= 0 or None"):
        Settings(count=1, limit=-1)


def test_in_file_checks_use_the_files_words_and_name_the_key():
    @attrs.frozen
    class Section:
        iterations: int = attrs.field(validator=an_int(1, 1000).in_file())
        seed: int | None = attrs.field(
            default=None, validator=or_none(an_int()).in_file()
        )
        name: str = attrs.field(default="x", validator=a_text(non_empty=True).in_file())
        mode: str = attrs.field(default="a", validator=one_of("a", "b").in_file())

    with pytest.raises(FieldError) as caught:
        Section(iterations="5")
    assert caught.value.key == "iterations"
    assert (
        caught.value.detail == "expected an integer from 1 to 1000; got '5' (a string)"
    )
    with pytest.raises(FieldError, match="seed: expected an integer or null; got true"):
        Section(iterations=1, seed=True)
    with pytest.raises(FieldError, match="expected a non-empty string; got ''"):
        Section(iterations=1, name="")
    with pytest.raises(FieldError, match="did you mean 'b'"):
        Section(iterations=1, mode="bb")


def test_values_are_shown_as_written_in_a_file():
    assert shown(None) == "null"
    assert shown(True) == "true (a boolean)"
    assert shown("5") == "'5' (a string)"
    assert shown([1]) == "[1] (a list)"
    assert shown(2**80) == "a very large integer"
    assert shown("x" * 100).endswith("... (a string)")
