"""Registry: names to factories, filled lazily through the plugin hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from clientsim import hookimpl
from clientsim.errors import (
    ConfigError,
    DuplicateStrategyError,
    SimulationError,
    UnknownStrategyError,
)
from clientsim.factory import termination_strategies
from clientsim.plugins import register_plugin, unregister_plugin
from clientsim.registry import Registry


BUILTIN_TERMINATION = {
    "any_of",
    "closing_phrases",
    "deadline",
    "goal_reached",
    "max_messages",
    "outcome_reached",
}


class Stop:
    """A stand-in strategy with one required and one optional option."""

    def __init__(self, *, after: int, label: str = "stop") -> None:
        self.after = after
        self.label = label

    async def check(self, context: object) -> None:
        return None


class Registers:
    """A plugin that registers ``factories`` as termination strategies and counts calls."""

    def __init__(self, **factories: Callable[..., object]) -> None:
        self.factories = factories
        self.calls = 0

    @hookimpl
    def clientsim_register_termination(self, register):
        self.calls += 1
        for name, factory in self.factories.items():
            register(name.replace("__", "/"), factory)


@pytest.fixture(name="add_plugin")
def _add_plugin() -> Iterator[Callable[[object], object]]:
    added: list[object] = []

    def add(plugin: object) -> object:
        register_plugin(plugin)
        added.append(plugin)
        return plugin

    try:
        yield add
    finally:
        for plugin in reversed(added):
            unregister_plugin(plugin)


@pytest.fixture(name="registry")
def _registry() -> Registry[object]:
    return Registry(family="gadget", hook="clientsim_register_termination")


# --- register --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["stop", "stop_now", "stop-now", "v2", "acme/stop", "Acme.io/stop_now"]
)
def test_register_accepts_slugs_and_namespaced_names(registry, name):
    registry.register(name, Stop)


@pytest.mark.parametrize(
    "name", ["", "Stop", "stop now", "_stop", "acme/", "/stop", "a/b/c", "acme/Stop", 3]
)
def test_register_refuses_other_names_naming_them(registry, name):
    with pytest.raises(ConfigError) as caught:
        registry.register(name, Stop)
    message = str(caught.value)
    assert message.startswith("gadget name must be a lowercase slug")
    assert "'dist/name'" in message
    assert message.endswith(f"got {name!r}")


def test_register_refuses_what_is_not_callable(registry):
    with pytest.raises(
        ConfigError, match="gadget 'stop' must be registered with a callable"
    ):
        registry.register("stop", "Stop")


def test_register_refuses_a_second_registration_of_a_name(registry):
    registry.register("stop", Stop)
    with pytest.raises(
        DuplicateStrategyError, match="gadget 'stop' is already registered"
    ):
        registry.register("stop", Stop)


# --- lazy filling through the hooks ----------------------------------------------


def test_hooks_run_on_first_lookup_only_and_again_after_a_plugin_change(
    registry, add_plugin
):
    plugin = add_plugin(Registers(test__stop=Stop))
    assert plugin.calls == 0  # registering a plugin does not load anything
    assert "test/stop" in registry
    assert plugin.calls == 1
    registry.names()
    registry.get("test/stop")
    assert plugin.calls == 1  # cached until the plugins change
    add_plugin(Registers(test__other=Stop))
    assert {"test/stop", "test/other"} <= set(registry.names())
    assert plugin.calls == 2


def test_a_registered_plugin_adds_names_and_unregistering_removes_them(registry):
    plugin = Registers(test__stop=Stop)
    register_plugin(plugin)
    try:
        assert registry.get("test/stop") is Stop
        assert set(registry.names()) >= BUILTIN_TERMINATION | {"test/stop"}
        assert "test/stop" in list(registry)
    finally:
        unregister_plugin(plugin)
    assert "test/stop" not in registry
    assert set(registry.names()) >= BUILTIN_TERMINATION
    with pytest.raises(UnknownStrategyError):
        registry.get("test/stop")


def test_builtins_fill_the_family_registries():
    assert set(termination_strategies.names()) >= BUILTIN_TERMINATION
    assert termination_strategies.names() == tuple(
        sorted(termination_strategies.names())
    )


def test_a_plugin_reusing_a_builtin_name_fails_every_lookup_until_removed(registry):
    plugin = Registers(max_messages=Stop)
    register_plugin(plugin)
    try:
        for _ in range(2):
            with pytest.raises(
                DuplicateStrategyError, match="'max_messages'"
            ) as caught:
                registry.names()
            assert caught.value.family == "gadget"
            assert caught.value.name == "max_messages"
    finally:
        unregister_plugin(plugin)
    assert registry.get("max_messages") is not Stop


def test_a_plugin_registering_an_invalid_name_fails_the_lookup(registry):
    plugin = Registers(Bad_Name=Stop)
    register_plugin(plugin)
    try:
        with pytest.raises(ConfigError, match="got 'Bad_Name'"):
            registry.get("max_messages")
    finally:
        unregister_plugin(plugin)
    assert "max_messages" in registry


# --- get -------------------------------------------------------------------------


def test_get_an_unknown_name_lists_the_names_and_the_closest(registry, add_plugin):
    add_plugin(Registers(test__stop=Stop))
    with pytest.raises(UnknownStrategyError) as caught:
        registry.get("test/stpo")
    error = caught.value
    assert error.family == "gadget"
    assert error.available == registry.names()
    assert str(error).startswith("unknown gadget 'test/stpo'; available: 'any_of'")
    assert str(error).endswith("did you mean 'test/stop'?")


@pytest.mark.parametrize("name", [None, 3, ["max_messages"]])
def test_get_a_name_that_is_not_a_string_is_unknown(registry, name):
    with pytest.raises(UnknownStrategyError) as caught:
        registry.get(name)
    assert str(caught.value).startswith(f"unknown gadget {str(name)!r}; available:")


# --- build -----------------------------------------------------------------------


def test_build_from_a_name_or_a_mapping(registry, add_plugin):
    add_plugin(Registers(test__stop=Stop, test__plain=lambda: "plain"))
    assert registry.build("test/plain") == "plain"
    built = registry.build({"strategy": "test/stop", "after": 3})
    assert isinstance(built, Stop)
    assert (built.after, built.label) == (3, "stop")


def test_build_does_not_change_the_config(registry, add_plugin):
    add_plugin(Registers(test__stop=Stop))
    config = {"strategy": "test/stop", "after": 3, "label": "x"}
    registry.build(config)
    assert config == {"strategy": "test/stop", "after": 3, "label": "x"}


def test_build_passes_context_as_keyword_arguments(registry, add_plugin):
    add_plugin(Registers(test__stop=Stop))
    built = registry.build({"strategy": "test/stop", "after": 2}, label="from caller")
    assert built.label == "from caller"


def test_build_refuses_an_option_given_by_both_config_and_caller(registry, add_plugin):
    add_plugin(Registers(test__stop=Stop))
    with pytest.raises(
        ConfigError, match=r"\['after'\] given both in the config and by"
    ):
        registry.build({"strategy": "test/stop", "after": 2}, after=3)


def test_build_names_unknown_options_and_the_allowed_ones(registry, add_plugin):
    add_plugin(Registers(test__stop=Stop))
    with pytest.raises(ConfigError) as caught:
        registry.build({"strategy": "test/stop", "after": 1, "colour": 1, "aftre": 2})
    assert str(caught.value) == (
        "unknown option(s) 'aftre', 'colour' for gadget 'test/stop'; "
        "allowed: 'after', 'label'"
    )


def test_build_names_missing_options(registry, add_plugin):
    add_plugin(Registers(test__stop=Stop))
    with pytest.raises(
        ConfigError, match=r"gadget 'test/stop' needs option\(s\) 'after'"
    ):
        registry.build("test/stop")


def test_build_says_when_a_factory_takes_no_options(registry, add_plugin):
    add_plugin(Registers(test__plain=lambda: "plain"))
    with pytest.raises(
        ConfigError, match=r"'x' for gadget 'test/plain'; allowed: \(none\)"
    ):
        registry.build({"strategy": "test/plain", "x": 1})


def test_build_lets_a_factory_with_var_keywords_decide(registry, add_plugin):
    add_plugin(Registers(test__any=lambda **options: options))
    assert registry.build({"strategy": "test/any", "a": 1}, b=2) == {"a": 1, "b": 2}


@pytest.mark.parametrize("raised", [TypeError("bad type"), ValueError("bad value")])
def test_build_turns_factory_type_and_value_errors_into_config_errors(
    registry, add_plugin, raised
):
    def factory(**_: object) -> object:
        raise raised

    add_plugin(Registers(test__failing=factory))
    with pytest.raises(
        ConfigError, match="invalid options for gadget 'test/failing'"
    ) as caught:
        registry.build("test/failing")
    assert caught.value.__cause__ is raised
    assert str(raised) in str(caught.value)


def test_build_lets_clientsim_errors_from_a_factory_through(registry, add_plugin):
    error = SimulationError("not now")

    def factory() -> object:
        raise error

    add_plugin(Registers(test__failing=factory))
    with pytest.raises(SimulationError) as caught:
        registry.build("test/failing")
    assert caught.value is error


def test_build_checks_the_builtin_options(registry):
    with pytest.raises(ConfigError, match="'max_messages' needs option"):
        registry.build("max_messages")
    with pytest.raises(ConfigError, match="max_messages must be an int >= 1; got 0"):
        registry.build({"strategy": "max_messages", "max_messages": 0})


@pytest.mark.parametrize("config", [3, None, ("max_messages",), b"max_messages"])
def test_build_refuses_a_config_that_is_neither_name_nor_mapping(registry, config):
    with pytest.raises(
        ConfigError, match="a gadget config must be a name or a mapping"
    ):
        registry.build(config)


@pytest.mark.parametrize("config", [{}, {"strategy": 3}, {"name": "max_messages"}])
def test_build_needs_the_discriminator_key_and_lists_the_names(registry, config):
    with pytest.raises(ConfigError) as caught:
        registry.build(config)
    message = str(caught.value)
    assert message.startswith("a gadget config needs a 'strategy' key naming one of:")
    assert "'max_messages'" in message
    assert "'any_of'" in message


def test_build_uses_the_family_discriminator_key(add_plugin):
    pool = Registry(
        family="client pool",
        hook="clientsim_register_termination",
        key="selection_strategy",
    )
    add_plugin(Registers(test__stop=Stop))
    built = pool.build({"selection_strategy": "test/stop", "after": 4})
    assert built.after == 4
    with pytest.raises(ConfigError, match="needs a 'selection_strategy' key"):
        pool.build({"strategy": "test/stop", "after": 4})
