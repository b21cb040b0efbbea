"""Names to strategies: one :class:`Registry` per family.

A registry fills itself on first use by calling its family's pluggy hook on every
registered plugin, the built-ins included; it refills when a plugin is added or removed.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Final, Generic, TypeVar

import attrs

from clientsim.errors import (
    ClientSimError,
    ConfigError,
    DuplicateStrategyError,
    UnknownStrategyError,
)


__all__ = ["Registry", "StrategyConfig"]

T = TypeVar("T")

#: A strategy given in a config: a bare name, or a mapping with a ``strategy`` key
#: naming it plus that strategy's options.
StrategyConfig = str | Mapping[str, object]

_NAME: Final = re.compile(r"(?:[A-Za-z0-9][\w.-]*/)?[a-z0-9][a-z0-9_-]*")


@attrs.define
class Registry(Generic[T]):
    """Maps strategy names of one family to factories building them.

    Args:
        family: what the family is called in messages, e.g. ``"termination strategy"``.
        hook: the name of the pluggy hook whose implementations fill it.
        key: the discriminator key in a config mapping.
    """

    family: str
    hook: str
    key: str = "strategy"
    _entries: dict[str, Callable[..., T]] = attrs.field(factory=dict, init=False)
    _generation: int = attrs.field(default=-1, init=False)

    def register(self, name: str, factory: Callable[..., T]) -> None:
        """Add ``factory`` under ``name``; hooks call this through their ``register``.

        Raises:
            DuplicateStrategyError: the name is taken in this family.
            ConfigError: the name is not a lowercase slug (optionally ``dist/name``).
        """
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:
            raise ConfigError(
                f"{self.family} name must be a lowercase slug such as 'closing_phrases', "
                f"optionally namespaced as 'dist/name'; got {name!r}"
            )
        if not callable(factory):
            raise ConfigError(
                f"{self.family} {name!r} must be registered with a callable"
            )
        if name in self._entries:
            raise DuplicateStrategyError(self.family, name)
        self._entries[name] = factory

    def _ensure_loaded(self) -> dict[str, Callable[..., T]]:
        from clientsim import plugins  # noqa: PLC0415 - plugins imports registries lazily

        generation = plugins.generation()
        if generation != self._generation:
            manager = plugins.get_plugin_manager()
            self._entries = {}
            try:
                getattr(manager.hook, self.hook)(register=self.register)
            except Exception:
                self._entries = {}
                raise
            self._generation = plugins.generation()
        return self._entries

    def get(self, name: str) -> Callable[..., T]:
        """Return the factory registered as ``name``.

        Raises:
            UnknownStrategyError: no such name; the error lists the names there are.
        """
        entries = self._ensure_loaded()
        try:
            return entries[name]
        except (KeyError, TypeError):
            raise UnknownStrategyError(self.family, str(name), list(entries)) from None

    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted."""
        return tuple(sorted(self._ensure_loaded()))

    def __contains__(self, name: object) -> bool:
        return name in self._ensure_loaded()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def build(self, config: StrategyConfig, /, **context: object) -> T:
        """Build a strategy from a config: a name, or a mapping with ``strategy`` + options.

        ``context`` adds keyword arguments that do not come from the config (e.g. a
        model object); config options win over nothing: a key given in both is an error.

        Raises:
            UnknownStrategyError: the name is not registered.
            ConfigError: the options do not fit the strategy.
        """
        name, options = self._split(config)
        factory = self.get(name)
        overlap = set(options) & set(context)
        if overlap:
            raise ConfigError(
                f"{self.family} {name!r}: {sorted(overlap)} given both in the config "
                "and by the caller"
            )
        options.update(context)
        _check_options(self.family, name, factory, options)
        try:
            return factory(**options)
        except ClientSimError:
            raise
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"invalid options for {self.family} {name!r}: {exc}"
            ) from exc

    def _split(self, config: StrategyConfig) -> tuple[str, dict[str, object]]:
        if isinstance(config, str):
            return config, {}
        if not isinstance(config, Mapping):
            raise ConfigError(
                f"a {self.family} config must be a name or a mapping with a "
                f"{self.key!r} key; got {type(config).__name__}"
            )
        options = dict(config)
        name = options.pop(self.key, None)
        if not isinstance(name, str):
            raise ConfigError(
                f"a {self.family} config needs a {self.key!r} key naming one of: "
                + ", ".join(repr(n) for n in self.names())
                + f"; got {name!r}"
            )
        return name, options


def _check_options(
    family: str,
    name: str,
    factory: Callable[..., object],
    options: Mapping[str, object],
) -> None:
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature: let the call decide
        return
    parameters = signature.parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return
    allowed = [
        p.name
        for p in parameters
        if p.kind
        in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for {family} {name!r}; "
            f"allowed: {', '.join(map(repr, allowed)) or '(none)'}"
        )
    missing = [
        p.name
        for p in parameters
        if p.default is inspect.Parameter.empty
        and p.kind
        in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        and p.name not in options
    ]
    if missing:
        raise ConfigError(
            f"{family} {name!r} needs option(s) {', '.join(map(repr, missing))}"
        )
