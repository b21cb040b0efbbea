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

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import attrs

from clientsim.config import (
    CONFIG_SUFFIXES,
    converter,
    explain_file_error,
    parse_text,
    read_text,
    register_structure_overrides,
    register_unstructure_overrides,
    structure_file,
)
from clientsim.errors import ConfigError
from clientsim.experiments._config_checks import (
    _BOOL,
    _PARALLEL_WHY,
    _STR_LIST,
    _as_float,
    _as_tuple,
    _Check,
    _check_experiment,
    _check_inputs_file,
    _choice,
    _instance,
    _int_in,
    _is_int,
    _items,
    _json_copy,
    _number_in,
    _optional,
    _show,
    _text,
    _with_ids,
)
from clientsim.experiments.loading import (
    _structure_agent,
    _structure_strategies,
    _structure_strategy,
    _unstructure_agent,
    _unstructure_spec,
    read_inputs_file,
)
from clientsim.experiments.schema import (
    AgentConfig,
    InputItem,
    JsonValue,
    MultiTurnConfig,
    OutcomeConfig,
    PersonaConfig,
    ReplayArgsConfig,
    RunnerConfig,
    SupervisorConfig,
    SupervisorMetadata,
)
from clientsim.experiments.strategies import (
    _SPEC,
    _SPECS,
    HybridConfig,
    StrategySpec,
    _as_agent,
    _as_executor,
    _as_optional_spec,
    _as_specs,
    _check_agent,
    check_criteria_key,
    check_strategy_names,
    override_executor,
)


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


def _as_optional_float(value: object) -> Any:
    return None if value is None else _as_float(value)


def _as_inputs(value: object) -> Any:
    value = _as_tuple(value)
    if isinstance(value, tuple):
        return tuple(InputItem(content=i) if isinstance(i, str) else i for i in value)
    return value


@attrs.frozen(kw_only=True)
class ExperimentConfig:
    """An experiment file (seed 003), loaded and checked.

    Seed 003's keys keep its types, defaults and ranges, except ``parallel_runs``:
    the seed documents 1-20, clientsim allows up to 10000 because simulated customers
    and network-bound agents are I/O-bound, not CPU-bound.

    clientsim's own keys, beyond the seed: ``inputs``, ``inputs_file``, ``personas``,
    ``model``, ``agent``, ``outcomes``, ``pass_outcomes``, ``cache``, ``store``,
    ``first``, ``fail_under`` and ``executor``.

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
        criteria: written criteria each finished conversation is judged on (by a
            criteria judge on ``model``); the verdicts go into the traces.
        pass_outcomes: names in ``outcomes`` that count as a pass.
        cache: keep a persistent cache of LLM responses.
        store: an SQLite path or a ``postgresql://`` URL (``None``: see the docs).
        first: who opens each conversation: ``"customer"`` (the input) or
            ``"agent"`` (its opening first; the input then answers it).
        fail_under: ``clientsim run`` exits 1 when the pass rate is below this
            fraction, 0 to 1; ``None``: no threshold.
        otel: export the run as OpenTelemetry spans: ``"console"`` or ``"otlp"``
            (needs the ``otel`` extra); ``None``: no export. ``clientsim run --otel``
            or an :func:`~clientsim.observability.otel.instrument` already in place
            wins.
        executor: where the conversations run: ``local`` (this process, the
            default), ``ray`` (the ``ray`` extra; ``{strategy: ray, address: ...,
            workers: 2}``) or a plugin's; see :mod:`clientsim.runners.executors`.
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
    agent: AgentConfig | StrategySpec | str | None = attrs.field(
        default=None, converter=_as_agent, validator=_check_agent
    )
    customer: StrategySpec | None = attrs.field(
        default=None, converter=_as_optional_spec, validator=_optional(_SPEC)
    )
    termination: tuple[StrategySpec, ...] = attrs.field(
        default=(), converter=_as_specs, validator=_SPECS
    )
    evaluator: StrategySpec | None = attrs.field(
        default=None, converter=_as_optional_spec, validator=_optional(_SPEC)
    )
    criteria: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=check_criteria_key
    )
    hybrid: HybridConfig = attrs.field(
        factory=HybridConfig,
        validator=_instance(HybridConfig, "a mapping of hybrid settings"),
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
    first: str = attrs.field(default="customer", validator=_choice("customer", "agent"))
    fail_under: float | None = attrs.field(
        default=None,
        converter=_as_optional_float,
        validator=_optional(_number_in(0, 1)),
    )
    otel: str | None = attrs.field(
        default=None, validator=_optional(_choice("console", "otlp"))
    )
    executor: StrategySpec = attrs.field(
        default=None, converter=_as_executor, validator=_SPEC
    )
    base_dir: Path = attrs.field(factory=Path.cwd, converter=Path)

    def __attrs_post_init__(self) -> None:
        _check_experiment(self)
        check_strategy_names(
            self.agent, self.customer, self.termination, self.evaluator, self.executor
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
        return build(data, base_dir, "invalid experiment config")

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
        return unstructure(self)

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
        executor: str | Mapping[str, object] | None = None,
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
            executor: ``--executor``; the file's options stay if it names the same.

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
            (data, "executor", override_executor(self.executor, executor)),
            (turns, "enabled", multi_turn),
            (turns, "max_turns", max_turns),
            (turns, "auto_approve_tools", auto_approve),
            (turns, "persona_override", persona),
            (supervisor, "model", supervisor_model),
            (supervisor, "temperature", supervisor_temperature),
        ):
            if value is not None:
                target[key] = value
        return build(data, self.base_dir, "invalid experiment config (after overrides)")

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
            items.extend(read_inputs_file(self.resolve_path(self.inputs_file)))
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
    return load_file(Path(path))


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
    return build(data, base_dir, "invalid experiment config")


# ----- reading it -----------------------------------------------------------------

register_structure_overrides(
    ExperimentConfig,
    omit=["base_dir"],
    hooks={
        "agent": _structure_agent,
        "customer": _structure_strategy,
        "evaluator": _structure_strategy,
        "termination": _structure_strategies,
        "executor": _structure_strategy,
    },
)
register_unstructure_overrides(InputItem, hooks={"metadata": _json_copy})
register_unstructure_overrides(
    ExperimentConfig,
    omit=["base_dir"],
    hooks={
        "agent": _unstructure_agent,
        "customer": _unstructure_spec,
        "evaluator": _unstructure_spec,
        "executor": _unstructure_spec,
        "termination": lambda specs: [spec.to_data() for spec in specs],
    },
)


def build(data: object, base_dir: Path | None, head: str) -> ExperimentConfig:
    """An experiment config from a file's top-level data.

    Args:
        data: the parsed file.
        base_dir: the project root; the current directory if ``None``.
        head: the start of every error message.

    Raises:
        ConfigError: ``head: key.path: what is wrong`` (a line per problem).
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{head}: the top level must be a mapping of keys to values; got {_show(data)}"
        )
    config = structure_file(data, ExperimentConfig, head=head)
    try:
        return attrs.evolve(
            config, base_dir=base_dir if base_dir is not None else Path.cwd()
        )
    except (ConfigError, TypeError, ValueError) as exc:
        raise explain_file_error(head, exc) from exc


def unstructure(config: ExperimentConfig) -> dict[str, JsonValue]:
    """``config`` as plain data that :func:`build` reads back (``base_dir`` aside)."""
    data: dict[str, JsonValue] = converter().unstructure(config)
    return data


def _project_root(path: Path) -> Path:
    folder = path.absolute().parent
    return folder.parent if folder.name == "configs" else folder


def load_file(file: Path) -> ExperimentConfig:
    """What :func:`~clientsim.experiments.config.load_experiment_config` does.

    Raises:
        ConfigError: an unsupported suffix, a missing or invalid file, a wrong value.
    """
    suffix = file.suffix.lower()
    if suffix not in CONFIG_SUFFIXES:
        raise ConfigError(
            f"cannot load experiment config {file}: unsupported file type "
            f"{suffix or '(no suffix)'}; use {', '.join(CONFIG_SUFFIXES)}"
        )
    data = parse_text(
        read_text(file, "experiment config"), suffix, f"experiment config {file}"
    )
    return build(data, _project_root(file), f"invalid experiment config {file}")
