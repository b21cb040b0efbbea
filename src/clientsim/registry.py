"""Names to strategies: one :class:`Registry` per family.

A registry fills itself on first use by calling its family's pluggy hook on every
registered plugin, the built-ins included; it refills when a plugin is added or removed.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Final, Generic, TypeVar

import attrs

from clientsim.errors import (
    ClientSimError,
    ConfigError,
    DuplicateStrategyError,
    PluginError,
    UnknownStrategyError,
)


__all__ = ["Registry", "StrategyConfig"]

T = TypeVar("T")

StrategyConfig = str | Mapping[str, object]
"""A strategy given in a config: a bare name, or a mapping with a ``strategy`` key
naming it plus that strategy's options."""

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
    _manual: dict[str, Callable[..., T]] = attrs.field(factory=dict, init=False)
    _filling: bool = attrs.field(default=False, init=False)
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
        if not self._filling:
            # Registered by hand, outside a hook: keep it across refills.
            self._ensure_loaded()
            if name in self._entries:
                raise DuplicateStrategyError(self.family, name)
            self._manual[name] = factory
        elif name in self._entries:
            raise DuplicateStrategyError(self.family, name)
        self._entries[name] = factory

    def _ensure_loaded(self) -> dict[str, Callable[..., T]]:
        from clientsim import plugins  # noqa: PLC0415 - plugins imports registries lazily

        if plugins.generation() != self._generation and not self._filling:
            manager = plugins.get_plugin_manager()
            self._entries = dict(self._manual)
            self._filling = True
            try:
                getattr(manager.hook, self.hook)(register=self.register)
            except ClientSimError:
                self._entries = {}
                raise
            except Exception as exc:
                self._entries = {}
                raise PluginError(
                    f"a clientsim plugin failed while registering {self.family}s "
                    f"({self.hook}): {type(exc).__name__}: {exc}"
                ) from exc
            finally:
                self._filling = False
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

    def check(self, config: StrategyConfig, /, *, context: Iterable[str] = ()) -> None:
        """Check a config without building it: the name is registered and the
        options are ones the factory takes (``context`` names the arguments the
        caller will offer at build time, which the config need not give).

        Raises:
            UnknownStrategyError: the name is not registered.
            ConfigError: an option the factory does not take, or a required one
                that neither the config nor the context gives.
        """
        name, options = self._split(config)
        spec = _Signature.of(self.get(name))
        if spec is not None:
            spec.check(self.family, name, options)
            offered = dict.fromkeys(spec.accepted(dict.fromkeys(context)))
            spec.check_required(self.family, name, {**options, **offered})

    def build(self, config: StrategyConfig, /, **context: object) -> T:
        """Build a strategy from a config: a name, or a mapping with ``strategy`` + options.

        ``context`` offers objects a config cannot hold (e.g. ``model=my_chat_model``);
        each is passed only to a factory that takes an argument of that name (or
        ``**kwargs``), so one context can serve a list of different strategies. A key
        given both in the config and in the context is an error.

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
        spec = _Signature.of(factory)
        if spec is not None:
            spec.check(self.family, name, options)
            context = spec.accepted(context)
            spec.check_required(self.family, name, {**options, **context})
        try:
            return factory(**options, **context)
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


@attrs.frozen
class _Signature:
    """What a factory accepts, read once per build from its signature."""

    named: tuple[str, ...]
    required: tuple[str, ...]
    var_keyword: bool

    @classmethod
    def of(cls, factory: Callable[..., object]) -> _Signature | None:
        try:
            parameters = inspect.signature(factory).parameters.values()
        except (TypeError, ValueError):  # no signature to read: let the call decide
            return None
        kinds = (
            inspect.Parameter.KEYWORD_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )
        named = tuple(p.name for p in parameters if p.kind in kinds)
        required = tuple(
            p.name for p in parameters if p.kind in kinds and p.default is p.empty
        )
        var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
        return cls(named, required, var_keyword)

    def check(self, family: str, name: str, options: Mapping[str, object]) -> None:
        # A factory that names its options gets exactly those from a config, even if it
        # also takes **kwargs (to pass context on); one that names none takes anything.
        if self.var_keyword and not self.named:
            return
        unknown = sorted(set(options) - set(self.named))
        if unknown:
            raise ConfigError(
                f"unknown option(s) {', '.join(map(repr, unknown))} for {family} "
                f"{name!r}; allowed: {', '.join(map(repr, self.named)) or '(none)'}"
            )

    def accepted(self, context: Mapping[str, object]) -> dict[str, object]:
        if self.var_keyword:
            return dict(context)
        return {key: value for key, value in context.items() if key in self.named}

    def check_required(
        self, family: str, name: str, given: Mapping[str, object]
    ) -> None:
        missing = [key for key in self.required if key not in given]
        if missing:
            raise ConfigError(
                f"{family} {name!r} needs option(s) {', '.join(map(repr, missing))}"
            )
