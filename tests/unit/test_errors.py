"""The error tree: its shape, its builtin bases, and what its messages say."""

from __future__ import annotations

import ast
import inspect
import pickle
import warnings
from datetime import UTC, datetime

import pytest

from clientsim import errors
from clientsim.errors import (
    AgentTimeoutError,
    ChannelError,
    ClientSimDeprecationWarning,
    ClientSimError,
    ClientSimWarning,
    ConfigError,
    DuplicateSimulationError,
    DuplicateStrategyError,
    IllegalTransitionError,
    InvalidModelOutputError,
    ModelError,
    ParticipantError,
    PluginError,
    SessionClosedError,
    SimulationError,
    UnknownStrategyError,
)
from clientsim.factory import termination_strategies
from clientsim.models import Conversation, Message, ParticipantRole


PARENTS = [
    (ClientSimError, Exception),
    (ConfigError, ClientSimError),
    (ConfigError, ValueError),
    (UnknownStrategyError, ConfigError),
    (DuplicateStrategyError, ConfigError),
    (IllegalTransitionError, ClientSimError),
    (IllegalTransitionError, ValueError),
    (DuplicateSimulationError, ClientSimError),
    (PluginError, ClientSimError),
    (ChannelError, ClientSimError),
    (SessionClosedError, ChannelError),
    (AgentTimeoutError, ChannelError),
    (AgentTimeoutError, TimeoutError),
    (ModelError, ClientSimError),
    (InvalidModelOutputError, ModelError),
    (SimulationError, ClientSimError),
    (ParticipantError, SimulationError),
    (ClientSimWarning, UserWarning),
    (ClientSimDeprecationWarning, ClientSimWarning),
    (ClientSimDeprecationWarning, DeprecationWarning),
]


@pytest.mark.parametrize(
    ("cls", "parent"), PARENTS, ids=[f"{c.__name__}-{p.__name__}" for c, p in PARENTS]
)
def test_error_tree(cls, parent):
    assert issubclass(cls, parent)


def _exported_classes() -> list[type]:
    exported = [getattr(errors, name) for name in errors.__all__]
    return [obj for obj in exported if inspect.isclass(obj)]


@pytest.mark.parametrize("cls", _exported_classes(), ids=lambda c: c.__name__)
def test_every_error_is_a_clientsim_error_and_every_warning_a_clientsim_warning(cls):
    if issubclass(cls, Warning):
        assert issubclass(cls, ClientSimWarning)
        assert not issubclass(cls, ClientSimError)
    else:
        assert issubclass(cls, ClientSimError)


def test_every_exported_class_is_in_the_docstring_tree():
    tree = errors.__doc__ or ""
    for cls in _exported_classes():
        assert cls.__name__ in tree, cls.__name__


def test_every_class_in_the_module_is_exported():
    defined = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and obj.__module__ == errors.__name__
    }
    functions = {"is_transient"}
    assert defined == set(errors.__all__) - functions
    assert errors.__all__ == sorted(errors.__all__)


def test_errors_module_imports_nothing_from_clientsim_at_runtime():
    source = inspect.getsource(errors)
    runtime_imports = []
    for node in ast.parse(source).body:  # top level only: TYPE_CHECKING blocks are If
        if isinstance(node, ast.ImportFrom) and node.module:
            runtime_imports.append(node.module)
        elif isinstance(node, ast.Import):
            runtime_imports.extend(alias.name for alias in node.names)
    assert runtime_imports
    assert not [m for m in runtime_imports if m.split(".")[0] == "clientsim"]


def test_unknown_strategy_error_lists_the_names_and_the_closest_match():
    error = UnknownStrategyError(
        "feedback strategy",
        "scord",
        ["scored", "binary", "adversarial", "criteria_check"],
    )
    assert str(error) == (
        "unknown feedback strategy 'scord'; available: 'adversarial', 'binary', "
        "'criteria_check', 'scored'; did you mean 'scored'?"
    )
    assert error.family == "feedback strategy"
    assert error.name == "scord"
    assert error.available == ("adversarial", "binary", "criteria_check", "scored")


def test_unknown_strategy_error_without_a_close_match_does_not_guess():
    error = UnknownStrategyError("participant", "zzz", ["llm", "scripted"])
    assert str(error) == "unknown participant 'zzz'; available: 'llm', 'scripted'"
    assert "did you mean" not in str(error)


def test_unknown_strategy_error_with_nothing_registered():
    error = UnknownStrategyError("channel", "http", [])
    assert str(error) == "unknown channel 'http'; available: (none)"
    assert error.available == ()


def test_unknown_strategy_error_is_caught_as_value_error():
    with pytest.raises(ValueError, match="did you mean 'max_messages'"):
        termination_strategies.get("max_mesages")


def test_a_registry_miss_carries_family_name_and_available():
    with pytest.raises(UnknownStrategyError) as caught:
        termination_strategies.get("closing_phrase")
    error = caught.value
    assert error.family == "termination strategy"
    assert error.name == "closing_phrase"
    assert set(error.available) >= {"closing_phrases", "max_messages", "any_of"}
    assert str(error).endswith("did you mean 'closing_phrases'?")


def test_duplicate_strategy_error_names_family_and_name_and_the_way_out():
    error = DuplicateStrategyError("termination strategy", "max_messages")
    message = str(error)
    assert "termination strategy 'max_messages' is already registered" in message
    assert "'dist/name'" in message
    assert (error.family, error.name) == ("termination strategy", "max_messages")


def test_participant_error_keeps_the_conversation():
    conversation = Conversation(
        [Message("hi", datetime(2026, 1, 1, tzinfo=UTC), ParticipantRole.CUSTOMER)]
    )
    error = ParticipantError("the agent failed", conversation=conversation)
    assert error.conversation is conversation
    assert str(error) == "the agent failed"
    assert ParticipantError("no conversation").conversation is None


def test_agent_timeout_is_caught_as_timeout_error():
    with pytest.raises(TimeoutError):
        raise AgentTimeoutError("the agent did not answer within 30s")


def test_deprecation_warning_is_seen_as_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="old_name"):
        warnings.warn(
            "old_name is deprecated", ClientSimDeprecationWarning, stacklevel=1
        )


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (TimeoutError("slow"), True),
        (ConnectionResetError("reset"), True),
        (type("RateLimitError", (Exception,), {})("429"), True),
        (type("APIStatusError", (Exception,), {"status_code": 503})("down"), True),
        (type("APIStatusError", (Exception,), {"status_code": 400})("bad"), False),
        (ValueError("a bug"), False),
        (KeyError("missing"), False),
    ],
    ids=["timeout", "connection", "rate-limit", "http-503", "http-400", "value", "key"],
)
def test_transient_errors_are_told_from_logic_errors(error, transient):
    assert errors.is_transient(error) is transient


def test_a_wrapped_transient_error_is_transient():
    outer = errors.ModelError("the model call failed")
    outer.__cause__ = ConnectionError("dropped")
    assert errors.is_transient(outer)
    assert not errors.is_transient(errors.ModelError("the answer was not JSON"))


def test_a_channel_error_keeps_its_status_and_says_whether_it_is_transient():
    plain = ChannelError("the reply was not JSON")
    assert plain.status is None
    assert plain.transient is False
    assert ChannelError("overloaded", status=503).transient
    assert ChannelError("slow down", status=429).transient
    assert not ChannelError("who are you?", status=401).transient
    assert ChannelError("dropped", transient=True).transient
    assert not ChannelError(
        "a 503, but not worth it", status=503, transient=False
    ).transient
    assert AgentTimeoutError("slow").transient
    assert not SessionClosedError("closed").transient
    with pytest.raises(ChannelError) as caught:
        _fail_while_handling(ConnectionResetError("peer reset"))
    assert caught.value.transient  # from its context: raised while handling it


def _fail_while_handling(error: Exception) -> None:
    try:
        raise error
    except OSError:
        raise ChannelError("the agent failed")  # noqa: B904 - the context is the cause


def test_a_channel_error_survives_pickling_with_its_status_and_flag():
    error = ChannelError("overloaded", status=503, transient=True)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (str(copy), copy.status, copy.transient) == ("overloaded", 503, True)
    timeout = pickle.loads(pickle.dumps(AgentTimeoutError("slow")))  # noqa: S301
    assert isinstance(timeout, TimeoutError)
    assert timeout.transient


def test_is_transient_takes_an_errors_own_word():
    refused = ChannelError("not retried", transient=False)
    refused.__cause__ = ConnectionRefusedError("down")
    assert not errors.is_transient(refused)
    flagged = type("Flagged", (Exception,), {"transient": True})("x")
    assert errors.is_transient(flagged)
