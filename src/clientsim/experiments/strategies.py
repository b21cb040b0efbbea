"""The experiment file's strategy keys: ``agent``, ``customer``, ``termination``,
``evaluator``, ``executor`` and ``hybrid`` (clientsim's own, beyond seed 003).

A strategy is written as its name, or as a mapping with a ``strategy`` key naming it
plus that strategy's options, exactly as :mod:`clientsim.factory` builds it::

    customer: {strategy: llm, model: offline}
    termination:
      - {strategy: closing_phrases, phrases: ["bye"]}
      - clientsim-example-plugin/politeness
    evaluator: {strategy: llm, instructions: "Resolved means a refund was issued."}
    agent: {strategy: http, base_url: "http://127.0.0.1:8000/v1", mode: webhook}
    executor: {strategy: ray, address: "ray://head:10001", workers: 2}

A name a plugin registers through the ``clientsim`` entry point group is used exactly
like a built-in's. Names are checked when the file loads: an unknown one is an error
that lists the known names, with a did-you-mean.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

import attrs

from clientsim._secrets import redact_url
from clientsim.errors import ConfigError
from clientsim.experiments._config_checks import (
    _as_tuple,
    _Check,
    _FieldError,
    _is_dotted,
    _is_number,
    _json_copy,
    _json_problem,
    _optional,
    _show,
)
from clientsim.experiments.schema import AgentConfig
from clientsim.registry import Registry


__all__ = [
    "AGENT_SCHEMES",
    "HybridConfig",
    "StrategySpec",
    "check_agent_string",
    "check_criteria_key",
]

AGENT_SCHEMES: Final = ("http", "https", "ws", "wss")
"""URL schemes an ``agent:`` string may use (OpenAI-compatible HTTP, WebSocket)."""


def _freeze(value: object) -> object:
    """JSON data as immutable values: mappings become read-only, lists tuples."""
    if isinstance(value, Mapping):
        return types.MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def _thaw(value: object) -> Any:
    """Immutable JSON data back to plain dicts and lists."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value


def _as_options(value: object) -> Any:
    if isinstance(value, Mapping):
        problem = _json_problem(value)
        if problem is not None:
            raise ConfigError(f"options: expected JSON data; {problem.lstrip()}")
        return _freeze(_json_copy(value))
    return value


@attrs.frozen
class StrategySpec:
    """One strategy as a file names it: its name and its options.

    Attributes:
        strategy: the registered name (a built-in's or a plugin's).
        options: the strategy's options, read-only.

    Example:
        >>> spec = StrategySpec.parse({"strategy": "deadline", "seconds": 30})
        >>> spec.strategy, spec.to_config()
        ('deadline', {'strategy': 'deadline', 'seconds': 30})
    """

    strategy: str = attrs.field(
        validator=_Check(
            "a strategy name (a non-empty string)",
            lambda v: isinstance(v, str) and bool(v),
        )
    )
    options: Mapping[str, object] = attrs.field(
        factory=lambda: types.MappingProxyType({}), converter=_as_options
    )

    @classmethod
    def parse(cls, value: object) -> StrategySpec:
        """A spec from a name or a mapping with a ``strategy`` key.

        Raises:
            ConfigError: anything else, or a mapping without a ``strategy`` name.
        """
        if isinstance(value, StrategySpec):
            return value
        if isinstance(value, str) and value:
            return cls(value)
        if isinstance(value, Mapping):
            options = dict(value)
            name = options.pop("strategy", None)
            if not isinstance(name, str) or not name:
                raise _FieldError(
                    "strategy",
                    "a strategy mapping needs a 'strategy' key naming it; got "
                    f"{_show(name)}",
                )
            return cls(name, options)
        raise ConfigError(
            "expected a strategy name, or a mapping with a 'strategy' key and its "
            f"options; got {_show(value)}"
        )

    def to_config(self) -> dict[str, Any]:
        """The plain config :mod:`clientsim.factory` builds from."""
        return {"strategy": self.strategy, **_thaw(self.options)}

    def to_data(self) -> str | dict[str, Any]:
        """How a file writes it: the bare name when there are no options."""
        return self.to_config() if self.options else self.strategy


def check_agent_string(value: str) -> None:
    """An ``agent:`` string must be a URL the resolver reaches or ``module:attr``.

    Raises:
        ConfigError: neither.
    """
    if "://" in value:
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme not in AGENT_SCHEMES:
            raise ConfigError(
                f"expected an http(s):// URL (an OpenAI-compatible chat endpoint), a "
                f"ws(s):// URL or 'module:attr'; got a URL with scheme {scheme!r}"
            )
        if not parts.hostname:
            raise ConfigError(
                f"the {scheme}:// URL {redact_url(value)!r} has no host; write it as "
                f"{scheme}://HOST[:PORT]/PATH"
            )
        return
    module, sep, attribute = value.partition(":")
    if not (sep and _is_dotted(module) and _is_dotted(attribute)):
        raise ConfigError(
            "expected an http(s):// URL (an OpenAI-compatible chat endpoint), a "
            "ws(s):// URL, or 'module:attr' naming a callable, a channel, a "
            f"participant or a LangChain runnable / LangGraph graph; got {_show(value)}"
        )


_SECONDS: Final = _optional(
    _Check("a number of seconds > 0", lambda v: _is_number(v) and v > 0)  # type: ignore[operator]
)


@attrs.frozen(kw_only=True)
class HybridConfig:
    """Real-time settings of a conversation with a real agent (clientsim's own key
    ``hybrid``); ``null`` (or leaving a key out) keeps the runner's default.

    Attributes:
        reply_timeout_seconds: longest wait for the agent's first message of a turn.
        quiet_period_seconds: silence that ends an agent's burst of messages.
        max_turn_seconds: longest an agent's burst may go on.
        max_duration_seconds: the whole conversation's deadline.

    Example:
        >>> HybridConfig(reply_timeout_seconds=5).settings()
        {'reply_timeout_seconds': 5.0}
    """

    reply_timeout_seconds: float | None = attrs.field(default=None, validator=_SECONDS)
    quiet_period_seconds: float | None = attrs.field(default=None, validator=_SECONDS)
    max_turn_seconds: float | None = attrs.field(default=None, validator=_SECONDS)
    max_duration_seconds: float | None = attrs.field(default=None, validator=_SECONDS)

    def settings(self) -> dict[str, float]:
        """The settings that were given, as the Hybrid runner takes them."""
        return {
            field.name: float(value)
            for field in attrs.fields(HybridConfig)
            if (value := getattr(self, field.name)) is not None
        }


_CONTEXT: Final = ("model", "role", "intent", "persona", "seed", "target", "runnable")
"""What the run offers strategy factories at build time (not needed in the file)."""


def check_strategy_names(
    agent: object,
    customer: StrategySpec | None,
    termination: tuple[StrategySpec, ...],
    evaluator: StrategySpec | None,
    executor: StrategySpec | None = None,
) -> None:
    """Every strategy a file names is registered (plugins' included), with options
    its factory takes.

    Raises:
        ConfigError: naming the key, the value and the known names.
    """
    from clientsim import factory  # noqa: PLC0415 - loads the plugins only when used

    checks: list[tuple[str, StrategySpec, tuple[Registry[Any], ...]]] = []
    if isinstance(agent, StrategySpec):
        checks.append(("agent", agent, (factory.channels, factory.participants)))
    if customer is not None:
        checks.append(("customer", customer, (factory.participants,)))
    checks.extend(
        (f"termination[{index}]", spec, (factory.termination_strategies,))
        for index, spec in enumerate(termination)
    )
    if evaluator is not None:
        checks.append(("evaluator", evaluator, (factory.outcome_evaluators,)))
    if executor is not None:
        checks.append(("executor", executor, (factory.executors,)))
    for key, spec, registries in checks:
        found = [registry for registry in registries if spec.strategy in registry]
        if found:
            try:
                found[0].check(spec.to_config(), context=_CONTEXT)
            except ConfigError as exc:
                raise _FieldError(key, str(exc)) from None
            continue
        known = sorted({name for registry in registries for name in registry.names()})
        family = " or ".join(registry.family for registry in registries)
        from clientsim.errors import UnknownStrategyError  # noqa: PLC0415

        error = UnknownStrategyError(family, spec.strategy, known)
        raise _FieldError(f"{key}.strategy", str(error))


# ----- the experiment config's fields --------------------------------------------


def _as_agent(value: object) -> Any:
    """A mapping with ``strategy`` is a channel (or participant) strategy; one
    without is clientsim's simulated agent (:class:`AgentConfig`)."""
    if isinstance(value, Mapping):
        if "strategy" in value:
            return StrategySpec.parse(value)
        return AgentConfig(**value)
    return value


def _check_agent(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None or isinstance(value, AgentConfig | StrategySpec):
        return
    if not isinstance(value, str):
        raise _FieldError(
            attribute.name,
            "expected a URL, 'module:attr', a mapping with a 'strategy' key (a "
            "channel) or a mapping of simulated agent settings (system_prompt, "
            f"model); got {value!r}",
        )
    try:
        check_agent_string(value)
    except ConfigError as exc:
        raise _FieldError(attribute.name, str(exc)) from None


_SPEC: Final = _Check(
    "a strategy name, or a mapping with a 'strategy' key and its options",
    lambda v: isinstance(v, StrategySpec),
)
_SPECS: Final = _Check(
    "a strategy (a name or a mapping with a 'strategy' key) or a list of them",
    lambda v: isinstance(v, tuple) and all(isinstance(s, StrategySpec) for s in v),
)


def _as_optional_spec(value: object) -> Any:
    return None if value is None else StrategySpec.parse(value)


LOCAL: Final = StrategySpec("local")
"""The default ``executor``: conversations as tasks in this process."""


def _as_executor(value: object) -> Any:
    """``executor``: a name or a mapping; ``null`` is the default, ``local``."""
    try:
        return LOCAL if value is None else StrategySpec.parse(value)
    except _FieldError as exc:
        raise _FieldError(f"executor.{exc.key}", exc.detail) from None
    except ConfigError as exc:
        raise _FieldError("executor", str(exc)) from None


def override_executor(spec: StrategySpec, value: object) -> Any:
    """The file's ``executor`` as plain data after ``--executor value`` (``None``:
    not given). Naming the file's executor again keeps its options (its address)."""
    if value is None or isinstance(value, StrategySpec):
        return value if value is None else value.to_data()
    if value == spec.strategy:
        return spec.to_data()
    return dict(value) if isinstance(value, Mapping) else value


def _as_specs(value: object) -> Any:
    if value is None:
        return ()
    if isinstance(value, str | Mapping | StrategySpec):
        return (StrategySpec.parse(value),)
    items: list[StrategySpec] = []
    for index, item in enumerate(_as_tuple(value)):
        try:
            items.append(StrategySpec.parse(item))
        except ConfigError as exc:
            raise _FieldError(f"[{index}]", str(exc)) from None
    return tuple(items)


def check_criteria_key(
    _: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    """The ``criteria:`` key: a list of one-line, non-blank, distinct strings.

    Raises:
        ConfigError: naming the key (and the item's index) and what fits.
    """
    if value == ():
        return
    if not isinstance(value, tuple):
        raise _FieldError(
            attribute.name,
            "expected a list of criteria (one-line strings such as 'the agent "
            f"apologises'); got {_show(value)}",
        )
    seen: set[str] = set()
    for index, item in enumerate(value):
        key = f"{attribute.name}[{index}]"
        if not isinstance(item, str) or not item.strip():
            raise _FieldError(key, f"expected a non-blank string; got {_show(item)}")
        if "\n" in item or "\r" in item:
            raise _FieldError(key, f"expected one line; got {_show(item)}")
        if item in seen:
            raise _FieldError(key, f"repeats {item!r}; criteria must differ")
        seen.add(item)
