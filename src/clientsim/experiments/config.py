"""The experiment file of seed 003: what to run, how often, and where results go.

An experiment file (``configs/simulation.yaml`` in the seed's project layout, or TOML,
or JSON) is read into an :class:`ExperimentConfig`, a tree of frozen attrs values. Every
key, type, default and range of seed 003 is kept; clientsim adds its own keys (inputs,
personas, a simulated agent, outcomes, the cache and the run store), documented on
:class:`ExperimentConfig` as clientsim's own.

Loading is strict: a wrong type is never coerced (``"5"`` is not an integer, ``1.5`` is
not an integer, ``true`` is not an integer), an unknown key is refused with the keys
that are allowed there (and a did-you-mean), and every problem is one
:class:`~clientsim.errors.ConfigError` whose message gives the key path (such as
``multi_turn.max_turns`` or ``inputs[2].content``), the value given and what is allowed.

Example:
    >>> config = ExperimentConfig.from_dict(
    ...     {
    ...         "name": "quick_test",
    ...         "description": "Quick validation test",
    ...         "runner": {"target": "my_agent:run"},
    ...         "inputs": ["Where is my order?"],
    ...     }
    ... )
    >>> config.runner.resolved_target, config.grid_size
    ('my_agent:run', 1)
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias, cast, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from clientsim.errors import ConfigError


__all__ = [
    "AgentConfig",
    "ExperimentConfig",
    "InputItem",
    "JsonValue",
    "MultiTurnConfig",
    "OutcomeConfig",
    "PersonaConfig",
    "ReplayArgsConfig",
    "RunnerConfig",
    "SupervisorConfig",
    "SupervisorMetadata",
    "experiment_config_from_dict",
    "load_experiment_config",
]

JsonValue: TypeAlias = (
    "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
)
"""Plain JSON data: what an input's ``metadata`` may hold and what ``to_dict`` gives."""

_TARGET_FORMS: Final = (
    "'module:function', 'module:Class.method' or 'module:instance.method' (dotted "
    "Python identifiers on both sides, e.g. 'examples.simple_agent:run')"
)
_PERSONA_ID: Final = re.compile(r"[a-z0-9_-]+")
# The rule clientsim.models.Outcome applies to outcome names.
_OUTCOME_NAME: Final = re.compile(r"[a-z0-9]+(?:[_-][a-z0-9]+)*")
_CONFIG_SUFFIXES: Final = (".yaml", ".yml", ".toml", ".json")
_INPUTS_SUFFIXES: Final = (".jsonl", ".yaml", ".yml", ".json")


# --------------------------------------------------------------------------- errors


class _FieldError(ConfigError):
    """A value broke a field's rule. ``key`` is the (relative) key path, or ``""``."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(f"{key}: {detail}" if key else detail)
        self.key = key
        self.detail = detail


class _WrongType(TypeError):  # noqa: N818 - internal, explained before it escapes
    """A loaded value has the wrong type; the explanation adds the key and what fits."""

    def __init__(self, value: object) -> None:
        super().__init__(f"got {_show(value)}")
        self.value = value


def _plain(value: object) -> str:
    """A value as it looks in a YAML or JSON file: ``null``, ``true``, ``'text'``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and value.bit_length() > 64:
        return "a very large integer"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _show(value: object) -> str:
    """A value as the user wrote it, with its kind: ``'5' (a string)``, ``null``."""
    if value is None or (_is_int(value) and value.bit_length() > 64):  # type: ignore[attr-defined]
        return _plain(value)
    kinds = {bool: "a boolean", str: "a string", int: "an integer", float: "a number"}
    kinds |= {list: "a list", tuple: "a list", dict: "a mapping"}
    return f"{_plain(value)} ({kinds.get(type(value), type(value).__name__)})"


def _did_you_mean(name: object, choices: Iterable[str]) -> str:
    close = (
        difflib.get_close_matches(name, list(choices), n=1)
        if isinstance(name, str)
        else []
    )
    return f"; did you mean {close[0]!r}?" if close else ""


# ----------------------------------------------------------------------- validators


@attrs.frozen
class _Check:
    """An attrs validator: ``test(value)`` must hold; ``allowed`` says what fits."""

    allowed: str
    test: Callable[[object], bool]

    def __call__(self, _: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not self.test(value):
            raise _FieldError(
                attribute.name, f"expected {self.allowed}; got {_show(value)}"
            )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _optional(check: _Check) -> _Check:
    return _Check(f"{check.allowed} or null", lambda v: v is None or check.test(v))


def _int_in(low: int, high: int, why: str = "") -> _Check:
    return _Check(
        f"an integer from {low} to {high}{why}",
        lambda v: _is_int(v) and low <= v <= high,  # type: ignore[operator]
    )


def _number_in(low: float, high: float) -> _Check:
    return _Check(
        f"a number from {low:g} to {high:g}",
        lambda v: _is_number(v) and low <= v <= high,  # type: ignore[operator]
    )


def _text(*, non_empty: bool = False) -> _Check:
    if non_empty:
        return _Check(
            "a non-empty string", lambda v: isinstance(v, str) and bool(v.strip())
        )
    return _Check("a string", lambda v: isinstance(v, str))


def _choice(*options: str) -> _Check:
    return _Check("one of " + ", ".join(map(repr, options)), lambda v: v in options)


def _matches(pattern: re.Pattern[str], allowed: str) -> _Check:
    return _Check(
        allowed, lambda v: isinstance(v, str) and pattern.fullmatch(v) is not None
    )


_BOOL: Final = _Check("true or false", lambda v: isinstance(v, bool))
_STR_LIST: Final = _Check(
    "a list of strings",
    lambda v: isinstance(v, tuple) and all(isinstance(i, str) for i in v),
)


def _instance(cls: type, allowed: str) -> _Check:
    return _Check(allowed, lambda v: isinstance(v, cls))


def _items(cls: type, allowed: str) -> _Check:
    return _Check(
        allowed, lambda v: isinstance(v, tuple) and all(isinstance(i, cls) for i in v)
    )


def _as_tuple(value: object) -> Any:
    """Lists (and other iterables) become tuples; strings and mappings stay to be refused."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return value
    return tuple(value)


def _as_float(value: object) -> Any:
    if _is_int(value):
        try:
            return float(value)  # type: ignore[arg-type]
        except OverflowError:
            return value
    return value


def _is_dotted(value: str) -> bool:
    return all(part.isidentifier() for part in value.split("."))


def _json_problem(value: object, where: str = "") -> str | None:
    """Where ``value`` stops being plain JSON data, or ``None`` if it is JSON."""
    if value is None or isinstance(value, str | bool | int | float):
        return None
    children: list[tuple[str, object]] = []
    if isinstance(value, list | tuple):
        children = [(f"{where}[{index}]", item) for index, item in enumerate(value)]
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{where} has a key that is not a string: {_show(key)}"
            children.append((f"{where}[{key!r}]", item))
    else:
        return f"{where or 'the value'} is {_show(value)}"
    return next(
        (found for place, item in children if (found := _json_problem(item, place))),
        None,
    )


def _json_copy(value: object) -> JsonValue:
    if isinstance(value, list | tuple):
        return [_json_copy(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _json_copy(item) for key, item in value.items()}
    return value  # type: ignore[return-value]  # checked by _json_problem


_JSON_OBJECT: Final = _Check(
    "a mapping of string keys to JSON values (null, booleans, numbers, strings, "
    "lists, mappings)",
    lambda v: isinstance(v, Mapping) and _json_problem(v) is None,
)


def _as_json_object(value: object) -> Any:
    if isinstance(value, Mapping) and _json_problem(value) is None:
        return _json_copy(value)
    return value


# --------------------------------------------------------------------------- values


def _as_python_path(value: object) -> Any:
    return (value,) if isinstance(value, str) else _as_tuple(value)


def _check_target(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    module, sep, attribute_path = (
        value.partition(":") if isinstance(value, str) else ("", "", "")
    )
    if not (sep and _is_dotted(module) and _is_dotted(attribute_path)):
        raise _FieldError(
            attribute.name, f"expected {_TARGET_FORMS}; got {_show(value)}"
        )


@attrs.frozen(kw_only=True)
class RunnerConfig:
    """How clientsim calls your agent's code (seed 003, ``runner``).

    Give ``target`` (recommended) or ``module_path`` with ``function_name``; when both
    are given they must agree.

    Attributes:
        target: ``"module:function"``, ``"module:Class.method"`` (zero-argument
            constructor) or ``"module:instance.method"``.
        module_path: dotted module path, used with ``function_name``.
        function_name: the function (or ``Class.method``) in ``module_path``.
        working_directory: relative to the project root.
        python_path: extra ``PYTHONPATH`` entries (a single string is one entry).
        timeout_seconds: per-run limit, 10 to 3600.
        max_retries: retries of transient errors, 0 to 10.

    Raises:
        ConfigError: a value is out of range, or the target cannot be resolved.

    Example:
        >>> RunnerConfig(module_path="examples.simple_agent", function_name="run").resolved_target
        'examples.simple_agent:run'
    """

    target: str | None = attrs.field(default=None, validator=_check_target)
    module_path: str | None = attrs.field(
        default=None,
        validator=_optional(
            _Check(
                "a dotted Python module path (e.g. 'examples.simple_agent')",
                lambda v: isinstance(v, str) and _is_dotted(v),
            )
        ),
    )
    function_name: str | None = attrs.field(
        default=None,
        validator=_optional(
            _Check(
                "a function name or dotted attribute path (e.g. 'run', 'Agent.process')",
                lambda v: isinstance(v, str) and _is_dotted(v),
            )
        ),
    )
    working_directory: str = attrs.field(default=".", validator=_text(non_empty=True))
    python_path: tuple[str, ...] | None = attrs.field(
        default=None,
        converter=_as_python_path,
        validator=_Check(
            "a list of strings, a single string, or null",
            lambda v: v is None or _STR_LIST.test(v),
        ),
    )
    timeout_seconds: int = attrs.field(default=120, validator=_int_in(10, 3600))
    max_retries: int = attrs.field(default=3, validator=_int_in(0, 10))

    def __attrs_post_init__(self) -> None:
        _ = self.resolved_target

    @property
    def resolved_target(self) -> str | None:
        """``target``, or ``"module_path:function_name"``; ``None`` if neither is set.

        Raises:
            ConfigError: only one of ``module_path`` and ``function_name`` is given,
                or ``target`` disagrees with them.
        """
        if (self.module_path is None) != (self.function_name is None):
            missing = "function_name" if self.function_name is None else "module_path"
            raise _FieldError(
                missing,
                "module_path and function_name go together: give both, or give "
                f"target alone (module_path={self.module_path!r}, "
                f"function_name={self.function_name!r})",
            )
        combined = (
            f"{self.module_path}:{self.function_name}"
            if self.module_path is not None
            else None
        )
        if self.target is not None and combined is not None and self.target != combined:
            raise _FieldError(
                "target",
                f"target {self.target!r} disagrees with module_path:function_name "
                f"{combined!r}; give target alone, or make them agree",
            )
        return self.target if self.target is not None else combined


@attrs.frozen(kw_only=True)
class ReplayArgsConfig:
    """Replay of recorded call arguments (seed 003, ``replay_args``).

    Attributes:
        enabled: replay recorded arguments instead of building them.
        recording_file: JSONL file of recorded ``{"args", "kwargs"}`` lines.
        override_param_path: dot path in the recorded kwargs that receives each input.

    Example:
        >>> ReplayArgsConfig(enabled=True).override_param_path
        'data.content'
    """

    enabled: bool = attrs.field(default=False, validator=_BOOL)
    recording_file: str = attrs.field(
        default="recordings/args_recording.jsonl", validator=_text(non_empty=True)
    )
    override_param_path: str = attrs.field(
        default="data.content",
        validator=_matches(
            re.compile(r"[^.\s]+(?:\.[^.\s]+)*"),
            "a non-empty dot path such as 'data.content'",
        ),
    )


@attrs.frozen(kw_only=True)
class SupervisorMetadata:
    """The mock supervisor's script (seed 003, ``multi_turn.supervisor.metadata``).

    Attributes:
        scripted_questions: user messages played back in order.
        mock_decision: what to do when the script runs out.
        mock_reason: the termination reason recorded for scripted runs.
        mock_closing: the final user message.

    Example:
        >>> SupervisorMetadata(scripted_questions=["Hours?"]).scripted_questions
        ('Hours?',)
    """

    scripted_questions: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_STR_LIST
    )
    mock_decision: Literal["terminate", "continue"] = attrs.field(
        default="terminate", validator=_choice("terminate", "continue")
    )
    mock_reason: str = attrs.field(default="script_complete", validator=_text())
    mock_closing: str = attrs.field(
        default="Thanks for the help. I have no further questions.", validator=_text()
    )


@attrs.frozen(kw_only=True)
class SupervisorConfig:
    """The multi-turn supervisor (seed 003, ``multi_turn.supervisor``).

    Attributes:
        provider: ``"openai"`` (an LLM decides and writes follow-ups) or ``"mock"``
            (scripted playback from ``metadata``).
        model: model name or clientsim model spec.
        system_prompt: custom supervisor prompt; ``None`` for the built-in one.
        temperature: sampling temperature, 0 to 2; ``None`` for the model's default
            (set by the CLI's ``--supervisor-temperature``).
        metadata: the mock provider's script.

    Example:
        >>> SupervisorConfig(model="gpt-4o").model_spec
        'openai:gpt-4o'
    """

    provider: Literal["openai", "mock"] = attrs.field(
        default="openai", validator=_choice("openai", "mock")
    )
    model: str = attrs.field(default="gpt-4o-mini", validator=_text(non_empty=True))
    system_prompt: str | None = attrs.field(default=None, validator=_optional(_text()))
    temperature: float | None = attrs.field(
        default=None, converter=_as_float, validator=_optional(_number_in(0, 2))
    )
    metadata: SupervisorMetadata = attrs.field(
        factory=SupervisorMetadata,
        validator=_instance(SupervisorMetadata, "a mapping of supervisor metadata"),
    )

    @property
    def model_spec(self) -> str:
        """``model`` as a clientsim model spec: bare names are OpenAI models."""
        if ":" in self.model or self.model == "offline":
            return self.model
        return f"openai:{self.model}"


@attrs.frozen(kw_only=True)
class MultiTurnConfig:
    """Multi-turn conversations driven by a supervisor (seed 003, ``multi_turn``).

    Attributes:
        enabled: extend each input into a conversation.
        max_turns: safety cap on turns (a user message and an agent reply), 2 to 50.
        auto_approve_tools: approve the agent's tool calls automatically.
        persona_override: run every conversation with this persona id.
        supervisor: the supervisor's settings.

    Example:
        >>> MultiTurnConfig(enabled=True, max_turns=12).supervisor.provider
        'openai'
    """

    enabled: bool = attrs.field(default=False, validator=_BOOL)
    max_turns: int = attrs.field(default=8, validator=_int_in(2, 50))
    auto_approve_tools: bool = attrs.field(default=True, validator=_BOOL)
    persona_override: str | None = attrs.field(
        default=None,
        validator=_optional(
            _matches(
                _PERSONA_ID, "a persona id (lowercase letters, digits, '_' and '-')"
            )
        ),
    )
    supervisor: SupervisorConfig = attrs.field(
        factory=SupervisorConfig,
        validator=_instance(SupervisorConfig, "a mapping of supervisor settings"),
    )


@attrs.frozen(kw_only=True)
class InputItem:
    """One input: the first thing the simulated customer says. In a file, a bare
    string is an input with that ``content``.

    Attributes:
        id: a stable id; inputs without one get their position (``"0"``, ``"1"``...).
        content: the message text.
        intent: what the simulated customer wants, in free text.
        metadata: any JSON data, passed along to the run's records.

    Example:
        >>> InputItem(content="Where is my order?", intent="Track order 1234").id is None
        True
    """

    id: str | None = attrs.field(
        default=None, validator=_optional(_text(non_empty=True))
    )
    content: str = attrs.field(validator=_text(non_empty=True))
    intent: str | None = attrs.field(default=None, validator=_optional(_text()))
    metadata: dict[str, JsonValue] = attrs.field(
        factory=dict, converter=_as_json_object, validator=_JSON_OBJECT, hash=False
    )


@attrs.frozen(kw_only=True)
class PersonaConfig:
    """A simulated customer's persona (clientsim's own key ``personas``).

    Attributes:
        id: a slug of lowercase letters, digits, ``_`` and ``-``.
        description: who the customer is and how they talk.
        name: a display name.

    Example:
        >>> PersonaConfig(id="expert_user", description="Knows the product well").id
        'expert_user'
    """

    id: str = attrs.field(
        validator=_matches(
            _PERSONA_ID, "a slug of lowercase letters, digits, '_' and '-'"
        )
    )
    description: str = attrs.field(default="", validator=_text())
    name: str | None = attrs.field(default=None, validator=_optional(_text()))


@attrs.frozen(kw_only=True)
class AgentConfig:
    """A simulated agent (clientsim's own key ``agent``): clientsim's own LLM agent,
    used instead of ``runner.target`` to rehearse before the real code exists.

    Attributes:
        model: model spec; ``None`` uses the experiment's ``model``.
        system_prompt: the agent's instructions.

    Example:
        >>> AgentConfig(system_prompt="You are a helpful support agent.").model is None
        True
    """

    model: str | None = attrs.field(
        default=None, validator=_optional(_text(non_empty=True))
    )
    system_prompt: str = attrs.field(validator=_text(non_empty=True))


def _check_patterns(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    _STR_LIST(_, attribute, value)
    for index, pattern in enumerate(value):
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError, ValueError) as exc:
            raise _FieldError(
                f"{attribute.name}[{index}]",
                f"expected a regular expression; got {pattern!r} ({exc})",
            ) from exc


@attrs.frozen(kw_only=True)
class OutcomeConfig:
    """A labelled way a run can end (clientsim's own key ``outcomes``).

    Attributes:
        name: a lowercase slug, as :class:`clientsim.models.Outcome` requires.
        description: what the outcome means (LLM judges read it).
        patterns: regular expressions; a message matching one signals the outcome.
        sender: whose messages ``patterns`` look at; ``None`` for both.

    Example:
        >>> OutcomeConfig(name="resolved", patterns=[r"\\bresolved\\b"]).patterns
        ('\\\\bresolved\\\\b',)
    """

    name: str = attrs.field(
        validator=_matches(
            _OUTCOME_NAME,
            "a lowercase slug (letters a-z, digits, single '_' or '-' between them)",
        )
    )
    description: str = attrs.field(default="", validator=_text())
    patterns: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_check_patterns
    )
    sender: Literal["agent", "customer"] | None = attrs.field(
        default=None, validator=_optional(_choice("agent", "customer"))
    )


def _as_inputs(value: object) -> Any:
    value = _as_tuple(value)
    if isinstance(value, tuple):
        return tuple(InputItem(content=i) if isinstance(i, str) else i for i in value)
    return value


def _check_inputs_file(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not (
        isinstance(value, str) and value.lower().endswith(_INPUTS_SUFFIXES)
    ):
        raise _FieldError(
            attribute.name,
            "expected a path to a .jsonl, .yaml, .yml or .json file, or null; "
            f"got {_show(value)}",
        )


_PARALLEL_WHY: Final = (
    " (the seed documents 1-20; clientsim allows more because simulated customers "
    "and network-bound agents are I/O-bound)"
)


@attrs.frozen(kw_only=True)
class ExperimentConfig:
    """An experiment file (seed 003), loaded and checked.

    Seed 003's keys keep its types, defaults and ranges, except ``parallel_runs``:
    the seed documents 1-20, clientsim allows up to 10000 because simulated customers
    and network-bound agents are I/O-bound, not CPU-bound.

    clientsim's own keys, beyond the seed: ``inputs``, ``inputs_file``, ``personas``,
    ``model``, ``agent``, ``outcomes``, ``pass_outcomes``, ``cache`` and ``store``.

    Attributes:
        name: experiment name (required).
        description: what the experiment tests (required).
        iterations: cycles through inputs x personas, 1 to 1000.
        parallel_runs: runs at once, 1 to 10000.
        run_delay_seconds: pause between run starts, 0 to 60.
        seed: random seed; ``None`` for a random one.
        runner: how to call your agent's code (exclusive with ``agent``).
        replay_args: replay recorded call arguments.
        multi_turn: multi-turn conversations.
        output_directory: where results go, relative to the project root.
        save_traces: write ``artifacts/traces.jsonl`` and ``observations.jsonl``.
        save_aggregated_metrics: write ``summary.json``.
        inputs: the inputs; a bare string is an input with that content.
        inputs_file: a ``.jsonl`` file (a string or an input object per line) or a
            ``.yaml``/``.yml``/``.json`` file holding a list, read after ``inputs``.
        personas: simulated customer personas; empty means one persona ``default``.
        model: model spec for the simulated parts (simulated agent, outcome judges);
            ``"offline"`` needs no key and no network.
        agent: a simulated agent to rehearse against (exclusive with ``runner``).
        outcomes: the outcome labels a run can end with.
        pass_outcomes: names in ``outcomes`` that count as a pass.
        cache: keep a persistent cache of LLM responses.
        store: SQLite run store path; ``None`` for ``<output_directory>/runs.sqlite``.
        base_dir: the project root that relative paths are resolved against; set by
            the loader, never read from the file.

    Raises:
        ConfigError: a value is wrong, or the keys do not fit together.

    Example:
        >>> config = ExperimentConfig(
        ...     name="rehearsal",
        ...     description="Rehearse before the agent exists",
        ...     agent=AgentConfig(system_prompt="You sell train tickets."),
        ...     inputs=["I need a ticket to Lyon"],
        ... )
        >>> [item.id for item in config.resolved_inputs()]
        ['0']
    """

    name: str = attrs.field(validator=_text(non_empty=True))
    description: str = attrs.field(validator=_text())
    iterations: int = attrs.field(default=1, validator=_int_in(1, 1000))
    parallel_runs: int = attrs.field(
        default=1, validator=_int_in(1, 10_000, _PARALLEL_WHY)
    )
    run_delay_seconds: float = attrs.field(
        default=0.0, converter=_as_float, validator=_number_in(0, 60)
    )
    seed: int | None = attrs.field(
        default=42, validator=_optional(_Check("an integer", _is_int))
    )
    runner: RunnerConfig | None = attrs.field(
        default=None,
        validator=_optional(_instance(RunnerConfig, "a mapping of runner settings")),
    )
    replay_args: ReplayArgsConfig = attrs.field(
        factory=ReplayArgsConfig,
        validator=_instance(ReplayArgsConfig, "a mapping of replay settings"),
    )
    multi_turn: MultiTurnConfig = attrs.field(
        factory=MultiTurnConfig,
        validator=_instance(MultiTurnConfig, "a mapping of multi-turn settings"),
    )
    output_directory: str = attrs.field(
        default="experiments", validator=_text(non_empty=True)
    )
    save_traces: bool = attrs.field(default=True, validator=_BOOL)
    save_aggregated_metrics: bool = attrs.field(default=True, validator=_BOOL)
    inputs: tuple[InputItem, ...] = attrs.field(
        default=(),
        converter=_as_inputs,
        validator=_items(InputItem, "a list of inputs (strings or mappings)"),
    )
    inputs_file: str | None = attrs.field(default=None, validator=_check_inputs_file)
    personas: tuple[PersonaConfig, ...] = attrs.field(
        default=(),
        converter=_as_tuple,
        validator=_items(PersonaConfig, "a list of personas (mappings)"),
    )
    model: str = attrs.field(default="offline", validator=_text(non_empty=True))
    agent: AgentConfig | None = attrs.field(
        default=None,
        validator=_optional(_instance(AgentConfig, "a mapping of agent settings")),
    )
    outcomes: tuple[OutcomeConfig, ...] = attrs.field(
        default=(),
        converter=_as_tuple,
        validator=_items(OutcomeConfig, "a list of outcomes (mappings)"),
    )
    pass_outcomes: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_STR_LIST
    )
    cache: bool = attrs.field(default=True, validator=_BOOL)
    store: str | None = attrs.field(
        default=None, validator=_optional(_text(non_empty=True))
    )
    base_dir: Path = attrs.field(factory=Path.cwd, converter=Path)

    def __attrs_post_init__(self) -> None:
        self._check_what_runs()
        _unique("personas", "id", [p.id for p in self.personas])
        outcome_names = [o.name for o in self.outcomes]
        _unique("outcomes", "name", outcome_names)
        for index, name in enumerate(self.pass_outcomes):
            if name not in outcome_names:
                raise _FieldError(
                    f"pass_outcomes[{index}]",
                    f"{name!r} is not an outcome name; allowed: "
                    f"{', '.join(map(repr, outcome_names)) or '(no outcomes declared)'}"
                    f"{_did_you_mean(name, outcome_names)}",
                )
        override = self.multi_turn.persona_override
        persona_ids = [p.id for p in self.personas]
        if override is not None and persona_ids and override not in persona_ids:
            raise _FieldError(
                "multi_turn.persona_override",
                f"{override!r} names no persona; allowed: "
                f"{', '.join(map(repr, persona_ids))}{_did_you_mean(override, persona_ids)}",
            )
        _with_ids(self.inputs, len(self.inputs))

    def _check_what_runs(self) -> None:
        if self.runner is not None and self.agent is not None:
            raise _FieldError(
                "agent",
                "give either runner (your agent's code) or agent (a simulated agent), "
                "not both",
            )
        if self.agent is None and (
            self.runner is None or self.runner.resolved_target is None
        ):
            raise _FieldError(
                "runner.target" if self.runner is not None else "runner",
                "nothing to run: set runner.target (or runner.module_path and "
                "runner.function_name) to test your agent's code, or set "
                "agent.system_prompt to rehearse against a simulated agent",
            )

    # ----------------------------------------------------------------- loading

    @classmethod
    def from_dict(
        cls, data: Mapping[str, object], *, base_dir: Path | None = None
    ) -> ExperimentConfig:
        """Build a config from plain data, as a YAML, TOML or JSON file holds it.

        Args:
            data: the file's top-level mapping.
            base_dir: the project root for relative paths; the current directory
                if ``None``.

        Raises:
            ConfigError: naming every problem's key path, the value and what fits.

        Example:
            >>> ExperimentConfig.from_dict({"name": "t", "description": "",
            ...     "runner": {"target": "my_agent:run"}, "iteration": 3})
            Traceback (most recent call last):
            ...
            clientsim.errors.ConfigError: invalid experiment config: iteration: unknown key; ...
        """
        return _build(data, base_dir, "invalid experiment config")

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ExperimentConfig:
        """Load an experiment file (``.yaml``/``.yml``, ``.toml`` or ``.json``).

        The project root (``base_dir``) is the parent of the ``configs`` folder when
        the file sits in one (seed layout ``my-agent/configs/simulation.yaml`` gives
        ``my-agent/``), else the file's folder.

        Args:
            path: the file.

        Raises:
            ConfigError: the file is missing or unreadable, is not valid YAML, TOML or
                JSON (with the line), its top level is not a mapping, or a value is
                wrong; the message names the file.

        Example:
            >>> ExperimentConfig.from_file("nowhere/configs/sim.yaml")
            Traceback (most recent call last):
            ...
            clientsim.errors.ConfigError: experiment config nowhere/configs/sim.yaml does not exist
        """
        return load_experiment_config(path)

    def to_dict(self) -> dict[str, JsonValue]:
        """The config as plain data that :meth:`from_dict` reads back (``base_dir`` aside).

        Example:
            >>> config = ExperimentConfig(name="t", description="", agent=AgentConfig(
            ...     system_prompt="Help."))
            >>> ExperimentConfig.from_dict(config.to_dict(), base_dir=config.base_dir) == config
            True
        """
        data: dict[str, JsonValue] = _converter().unstructure(self)
        return data

    def with_overrides(
        self,
        *,
        iterations: int | None = None,
        parallel_runs: int | None = None,
        seed: int | None = None,
        multi_turn: bool | None = None,
        max_turns: int | None = None,
        auto_approve: bool | None = None,
        supervisor_model: str | None = None,
        supervisor_temperature: float | None = None,
        persona: str | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        model: str | None = None,
    ) -> ExperimentConfig:
        """This config with the command line's flags applied (``None``: not given).

        Values are checked exactly like file values. ``model`` sets ``model`` and,
        unless ``supervisor_model`` is given too, the supervisor's model.

        Args:
            iterations: ``--iterations``.
            parallel_runs: ``--parallel-runs``.
            seed: ``--seed``.
            multi_turn: ``--multi-turn``; sets ``multi_turn.enabled``.
            max_turns: ``--max-turns``.
            auto_approve: ``--auto-approve``; sets ``multi_turn.auto_approve_tools``.
            supervisor_model: ``--supervisor-model``.
            supervisor_temperature: ``--supervisor-temperature``.
            persona: ``--persona``; sets ``multi_turn.persona_override``.
            output_dir: ``--output-dir``; sets ``output_directory``.
            model: ``--model``.

        Raises:
            ConfigError: an override is out of range or of the wrong type.

        Example:
            >>> config = ExperimentConfig(name="t", description="", agent=AgentConfig(
            ...     system_prompt="Help."))
            >>> config.with_overrides(iterations=20, multi_turn=True).iterations
            20
        """
        data = self.to_dict()
        turns = cast("dict[str, JsonValue]", data["multi_turn"])
        supervisor = cast("dict[str, JsonValue]", turns["supervisor"])
        if output_dir is not None and not isinstance(output_dir, str):
            output_dir = os.fspath(output_dir)
        if model is not None and supervisor_model is None:
            supervisor_model = model
        for target, key, value in (
            (data, "iterations", iterations),
            (data, "parallel_runs", parallel_runs),
            (data, "seed", seed),
            (data, "output_directory", output_dir),
            (data, "model", model),
            (turns, "enabled", multi_turn),
            (turns, "max_turns", max_turns),
            (turns, "auto_approve_tools", auto_approve),
            (turns, "persona_override", persona),
            (supervisor, "model", supervisor_model),
            (supervisor, "temperature", supervisor_temperature),
        ):
            if value is not None:
                target[key] = value
        return _build(
            data, self.base_dir, "invalid experiment config (after overrides)"
        )

    # -------------------------------------------------------------- derived data

    def resolve_path(self, path: str | os.PathLike[str]) -> Path:
        """``path`` resolved against ``base_dir`` (absolute paths stay as they are)."""
        given = Path(path)
        return given if given.is_absolute() else self.base_dir / given

    @property
    def output_path(self) -> Path:
        """``output_directory`` resolved against ``base_dir``."""
        return self.resolve_path(self.output_directory)

    @property
    def store_path(self) -> Path:
        """The SQLite run store: ``store``, or ``<output_directory>/runs.sqlite``."""
        if self.store is not None:
            return self.resolve_path(self.store)
        return self.output_path / "runs.sqlite"

    def personas_or_default(self) -> tuple[PersonaConfig, ...]:
        """``personas``, or one persona with id ``"default"`` when none are given."""
        return self.personas or (PersonaConfig(id="default"),)

    def selected_personas(self) -> tuple[PersonaConfig, ...]:
        """The personas runs use: only ``multi_turn.persona_override`` when it is set.

        With no ``personas`` declared, the override becomes a persona of that id.
        """
        override = self.multi_turn.persona_override
        if override is None:
            return self.personas_or_default()
        chosen = tuple(p for p in self.personas if p.id == override)
        return chosen or (PersonaConfig(id=override),)

    def resolved_inputs(self) -> tuple[InputItem, ...]:
        """``inputs`` followed by those of ``inputs_file``, every one with an id.

        Inputs without an id get their position, counting from 0 (``"0"``, ``"1"``...).
        ``inputs_file`` is read relative to ``base_dir`` (blocking file I/O).

        Raises:
            ConfigError: there are no inputs, the inputs file is missing or malformed,
                or two inputs share an id.
        """
        items = list(self.inputs)
        if self.inputs_file is not None:
            items.extend(_read_inputs_file(self.resolve_path(self.inputs_file)))
        if not items:
            raise ConfigError(
                "no inputs to run: add an `inputs:` list (each a string, or a mapping "
                "with content, and optionally id, intent, metadata) or set "
                "`inputs_file` to a .jsonl, .yaml or .json file"
            )
        return _with_ids(items, len(self.inputs))

    @property
    def grid_size(self) -> int:
        """How many runs: inputs x selected personas x iterations (reads ``inputs_file``).

        Raises:
            ConfigError: as :meth:`resolved_inputs`.
        """
        return (
            len(self.resolved_inputs())
            * len(self.selected_personas())
            * self.iterations
        )


def _unique(key: str, attribute: str, values: list[str]) -> None:
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in seen:
            raise _FieldError(
                f"{key}[{index}].{attribute}",
                f"{value!r} is already used by {key}[{seen[value]}]; each {attribute} in "
                f"{key} must be unique",
            )
        seen[value] = index


def _with_ids(items: Iterable[InputItem], inline: int) -> tuple[InputItem, ...]:
    """Give inputs without an id their position as id; refuse duplicate ids.

    The first ``inline`` items come from ``inputs``, the rest from ``inputs_file``.
    """

    def key(index: int) -> str:
        return (
            f"inputs[{index}]" if index < inline else f"inputs_file[{index - inline}]"
        )

    result: list[InputItem] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        item_id = item.id if item.id is not None else str(index)
        if item_id in seen:
            raise _FieldError(
                f"{key(index)}.id",
                f"id {item_id!r} is already used by {key(seen[item_id])}; input ids must "
                "be unique (an input without an id gets its position among all inputs, "
                "counting from 0, as id)",
            )
        seen[item_id] = index
        result.append(item if item.id is not None else attrs.evolve(item, id=item_id))
    return tuple(result)


# -------------------------------------------------------------------- converter


@cache
def _converter() -> cattrs.Converter:
    """A strict converter: no coercion, unknown keys refused, errors kept per key."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    for kind in (int, float, str, bool):
        conv.register_structure_hook(kind, _strict(kind))
    conv.register_structure_hook_func(_is_literal, _structure_literal)
    conv.register_structure_hook_func(
        _is_tuple, lambda value, type_: _structure_tuple(conv, value, type_)
    )
    conv.register_structure_hook_factory(attrs.has, lambda cls: _attrs_hook(conv, cls))
    conv.register_unstructure_hook_func(
        lambda type_: type_ is tuple or _is_tuple(type_),
        lambda value: [conv.unstructure(item) for item in value],
    )
    conv.register_unstructure_hook(
        InputItem,
        make_dict_unstructure_fn(
            InputItem, conv, metadata=override(unstruct_hook=_json_copy)
        ),
    )
    conv.register_unstructure_hook(
        ExperimentConfig,
        make_dict_unstructure_fn(ExperimentConfig, conv, base_dir=override(omit=True)),
    )
    return conv


def _is_literal(type_: object) -> bool:
    return get_origin(type_) is Literal


def _is_tuple(type_: object) -> bool:
    return get_origin(type_) is tuple


def _strict(kind: type) -> Callable[[object, type], object]:
    def structure(value: object, _: type) -> object:
        if kind is float and _is_number(value):
            return _as_float(value)
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        raise _WrongType(value)

    return structure


def _structure_literal(value: object, type_: type) -> object:
    if isinstance(value, str) and value in get_args(type_):
        return value
    raise _WrongType(value)


def _structure_tuple(
    conv: cattrs.Converter, value: object, type_: type
) -> tuple[object, ...]:
    if not isinstance(value, list | tuple):
        raise _WrongType(value)
    item_type = get_args(type_)[0]
    hook = conv.get_structure_hook(item_type)
    items: list[object] = []
    errors: list[Exception] = []
    for index, item in enumerate(value):
        try:
            items.append(hook(item, item_type))
        except Exception as exc:  # noqa: BLE001 - collected and explained per key, as cattrs does
            exc.add_note(
                cattrs.IterableValidationNote(f"item {index}", index, item_type)
            )
            errors.append(exc)
    if errors:
        raise cattrs.IterableValidationError(f"in {type_}", errors, type_)
    return tuple(items)


def _structure_python_path(value: object, _: type) -> tuple[str, ...] | None:
    converted = _as_python_path(value)
    if converted is None or _STR_LIST.test(converted):
        return cast("tuple[str, ...] | None", converted)
    raise _WrongType(value)


def _structure_json_object(value: object, _: type) -> object:
    if not isinstance(value, Mapping):
        raise _WrongType(value)
    problem = _json_problem(value)
    if problem is not None:
        raise _FieldError("", f"expected JSON data; {problem.lstrip()}")
    return _json_copy(value)


def _attrs_hook(conv: cattrs.Converter, cls: type) -> Callable[[object, type], object]:
    overrides: dict[str, Any] = {
        ExperimentConfig: {"base_dir": override(omit=True)},
        RunnerConfig: {"python_path": override(struct_hook=_structure_python_path)},
        InputItem: {"metadata": override(struct_hook=_structure_json_object)},
    }.get(cls, {})
    generated: Callable[[Mapping[str, Any], Any], object] = make_dict_structure_fn(
        cls, conv, **overrides
    )

    def structure(value: object, _: type) -> object:
        if cls is InputItem and isinstance(value, str):
            value = {"content": value}
        if not isinstance(value, Mapping):
            raise _WrongType(value)
        return generated(value, cls)

    return structure


# ------------------------------------------------------------------ explanation


def _join(path: str, key: object) -> str:
    name = key if isinstance(key, str) else repr(key)
    if not path:
        return name
    return f"{path}{name}" if name.startswith("[") else f"{path}.{name}"


def _allowed(field: attrs.Attribute[Any] | None, type_: object) -> str:
    """What fits a key: its validator's words, else words for its type."""
    if field is not None and isinstance(field.validator, _Check):
        return field.validator.allowed
    if type_ is InputItem:
        return (
            "a string or a mapping with content (and optionally id, intent, metadata)"
        )
    if isinstance(type_, type) and attrs.has(type_):
        return "a mapping"
    names: dict[object, str] = {str: "a string", int: "an integer", float: "a number"}
    return names.get(type_, str(type_))


def _null_hint(field: attrs.Attribute[Any] | None) -> str:
    if field is None or field.default is attrs.NOTHING:
        return ""
    if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]  # a class
        return "; remove the key to use the default"
    return f"; remove the key to use the default ({_plain(field.default)})"


def _unknown_keys(path: str, error: cattrs.ForbiddenExtraKeysError) -> Iterator[str]:
    allowed = [f.name for f in attrs.fields(error.cl) if f.name != "base_dir"]
    where = f"in {path}" if path else "at the top level"
    for key in sorted(error.extra_fields, key=str):
        yield (
            f"{_join(path, key)}: unknown key; allowed keys {where}: "
            f"{', '.join(allowed)}{_did_you_mean(key, allowed)}"
        )


def _problems(
    exc: BaseException, path: str, field: attrs.Attribute[Any] | None, type_: object
) -> Iterator[str]:
    """One line per problem: ``key.path: what is wrong``."""
    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        yield from _group_problems(exc, path, field, type_)
    elif isinstance(exc, _FieldError):
        where = _join(path, exc.key) if exc.key else path
        yield f"{where}: {exc.detail}" if where else exc.detail
    elif isinstance(exc, _WrongType):
        hint = _null_hint(field) if exc.value is None else ""
        yield _at(
            path, f"expected {_allowed(field, type_)}; got {_show(exc.value)}{hint}"
        )
    elif isinstance(exc, KeyError):
        yield _at(path, f"required key missing; expected {_allowed(field, type_)}")
    else:
        yield _at(path, str(exc))


def _at(path: str, text: str) -> str:
    return f"{path}: {text}" if path else text


def _group_problems(
    exc: cattrs.ClassValidationError | cattrs.IterableValidationError,
    path: str,
    field: attrs.Attribute[Any] | None,
    type_: object,
) -> Iterator[str]:
    if isinstance(exc, cattrs.ClassValidationError):
        fields = attrs.fields_dict(exc.cl)
        with_notes, others = exc.group_exceptions()
        for sub, note in with_notes:
            name = note.name
            yield from _problems(sub, _join(path, name), fields.get(name), note.type)
    else:
        items, others = exc.group_exceptions()
        for sub, item in items:
            yield from _problems(sub, f"{path}[{item.index}]", None, item.type)
    for sub in others:
        if isinstance(sub, cattrs.ForbiddenExtraKeysError):
            yield from _unknown_keys(path, sub)
        else:
            yield from _problems(sub, path, field, type_)


def _explain(
    head: str, exc: BaseException, path: str = "", type_: object = None
) -> ConfigError:
    problems = list(dict.fromkeys(_problems(exc, path, None, type_)))
    if len(problems) == 1:
        return ConfigError(f"{head}: {problems[0]}")
    return ConfigError(f"{head}:" + "".join(f"\n  - {p}" for p in problems))


_LOAD_ERRORS: Final = (
    cattrs.BaseValidationError,
    ConfigError,
    TypeError,
    ValueError,
    KeyError,
)


def _build(data: object, base_dir: Path | None, head: str) -> ExperimentConfig:
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{head}: the top level must be a mapping of keys to values; got {_show(data)}"
        )
    try:
        config = _converter().structure(data, ExperimentConfig)
        return attrs.evolve(
            config, base_dir=base_dir if base_dir is not None else Path.cwd()
        )
    except _LOAD_ERRORS as exc:
        raise _explain(head, exc) from exc


# ------------------------------------------------------------------------ files


def _parse(text: str, suffix: str, what: str) -> object:
    """Parse YAML, TOML or JSON text; ``ConfigError`` with the line when it is not."""
    if suffix in {".yaml", ".yml"}:
        try:
            import yaml  # noqa: PLC0415 - only needed to read YAML
        except ImportError as exc:  # pragma: no cover - pyyaml is a dependency
            raise ConfigError(
                f"cannot read {what}: install pyyaml to read YAML"
            ) from exc
        try:
            return yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = (
                f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            )
            raise ConfigError(
                f"{what} is not valid YAML{where}: {exc.problem or exc.context}"
            ) from exc
        except (
            yaml.YAMLError,
            ValueError,
            TypeError,
            OverflowError,
            RecursionError,
        ) as exc:
            raise ConfigError(f"{what} is not valid YAML: {exc}") from exc
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except (tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
            raise ConfigError(f"{what} is not valid TOML: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc}") from exc


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from exc


def _project_root(path: Path) -> Path:
    folder = path.absolute().parent
    return folder.parent if folder.name == "configs" else folder


def load_experiment_config(path: str | os.PathLike[str]) -> ExperimentConfig:
    """Load an experiment file; the same as :meth:`ExperimentConfig.from_file`.

    Args:
        path: a ``.yaml``/``.yml``, ``.toml`` or ``.json`` file.

    Raises:
        ConfigError: see :meth:`ExperimentConfig.from_file`.

    Example:
        >>> load_experiment_config("simulation.ini")
        Traceback (most recent call last):
        ...
        clientsim.errors.ConfigError: cannot load experiment config simulation.ini: ...
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in _CONFIG_SUFFIXES:
        raise ConfigError(
            f"cannot load experiment config {file}: unsupported file type "
            f"{suffix or '(no suffix)'}; use {', '.join(_CONFIG_SUFFIXES)}"
        )
    data = _parse(
        _read_text(file, "experiment config"), suffix, f"experiment config {file}"
    )
    return _build(data, _project_root(file), f"invalid experiment config {file}")


def experiment_config_from_dict(
    data: Mapping[str, object], *, base_dir: Path | None = None
) -> ExperimentConfig:
    """Build a config from plain data; the same as :meth:`ExperimentConfig.from_dict`.

    Raises:
        ConfigError: see :meth:`ExperimentConfig.from_dict`.

    Example:
        >>> experiment_config_from_dict({"name": "t", "description": "",
        ...     "agent": {"system_prompt": "Help."}}).model
        'offline'
    """
    return _build(data, base_dir, "invalid experiment config")


def _read_inputs_file(path: Path) -> list[InputItem]:
    what = f"inputs_file {path}"
    text = _read_text(path, "inputs_file")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        entries: list[tuple[str, str, object]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                where = f"{what} line {number}"
                entries.append((where, "", _parse(line, ".json", where)))
    else:
        data = _parse(text, suffix, what)
        if data is None:
            return []
        if not isinstance(data, list):
            raise ConfigError(
                f"{what}: expected a list of inputs (strings or mappings); got {_show(data)}"
            )
        entries = [(what, f"[{index}]", item) for index, item in enumerate(data)]
    items: list[InputItem] = []
    for where, key, entry in entries:
        try:
            items.append(_converter().structure(entry, InputItem))
        except _LOAD_ERRORS as exc:
            raise _explain(f"invalid {where}", exc, key, InputItem) from exc
    return items
