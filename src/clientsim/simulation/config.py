"""``ClientSimulationConfig``: seed 000's six configuration parts (plus intake).

Example:
    >>> config = ClientSimulationConfig.from_dict(
    ...     {"pool": {"size": 3}, "feedback": {"strategy": "scored"}}
    ... )
    >>> config.feedback.strategy
    'scored'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from clientsim._validators import an_int, or_none, seconds
from clientsim.clients.pool import ClientPoolConfig
from clientsim.config import (
    WrongType,
    check_text_data,
    from_dict,
    parse_text,
    read_text,
    register_structure_overrides,
    to_dict,
)
from clientsim.config.converter import OMIT_IF_DEFAULT
from clientsim.errors import ConfigError


__all__ = [
    "ClientSimulationConfig",
    "ContinuousModeConfig",
    "FeedbackConfig",
    "IntakeConfig",
    "ReportConfig",
    "RequirementGeneratorConfig",
    "SimulationRunnerConfig",
]


def _name(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{attribute.name} must name a strategy (a non-empty string); got {value!r}"
        )


def _options(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigError(
            f"{attribute.name} must be a mapping of option names to values; got "
            f"{value!r}"
        )


def _stage_configs(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, str | Mapping) or not isinstance(value, Sequence):
        raise ConfigError(
            f"{attribute.name} must be a list of review stage configs; got {value!r}"
        )
    for index, item in enumerate(value):
        name = item.get("strategy") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(
                f"{attribute.name}[{index}] must be a mapping with a 'strategy' key "
                "naming a review stage (such as stakeholder_panel) plus its options; "
                f"got {item!r}"
            )


_optional_rounds: Final = or_none(an_int(low=1))  # None: until stopped


def _executor(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None or (isinstance(value, str) and value.strip()):
        return
    if isinstance(value, Mapping) and isinstance(value.get("strategy"), str):
        return
    raise ConfigError(
        f"{attribute.name} must name an executor ('local', 'ray', a plugin's) or be a "
        f"mapping with a 'strategy' key plus its options; got {value!r}"
    )


def _executor_value(value: object, _: object = None) -> object:
    """An executor entry as a file gives it: a name or a mapping (read as is)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise WrongType(value, "an executor name or a mapping with a 'strategy' key")


def _project(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{attribute.name} must be a non-blank project name; got {value!r}"
        )


@attrs.frozen(kw_only=True)
class RequirementGeneratorConfig:
    """Which requirement generator, with its options.

    Attributes:
        strategy: ``template``, ``llm``, ``dataset`` or ``procedural`` (``hybrid``
            is built by hand, as the seed says).
        options: keyword options for the generator's ``from_config``.
    """

    strategy: str = attrs.field(default="template", validator=_name)
    options: Mapping[str, Any] = attrs.field(factory=dict, validator=_options)


@attrs.frozen(kw_only=True)
class FeedbackConfig:
    """Which feedback strategy clients review with.

    Attributes:
        strategy: ``binary``, ``scored``, ``criteria_check`` or ``adversarial``.
        rubric: scoring dimensions and weights (for ``scored``).
        options: more keyword options for the strategy's ``from_config``.
    """

    strategy: str = attrs.field(default="criteria_check", validator=_name)
    rubric: Mapping[str, float] | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict, validator=_options)


@attrs.frozen(kw_only=True)
class ReportConfig:
    """Which report style (``summary``, ``detailed``, ``json_export``,
    ``metrics_only``)."""

    strategy: str = attrs.field(default="summary", validator=_name)


@attrs.frozen(kw_only=True)
class IntakeConfig:
    """How requests become tasks (beyond the seed's six parts: its ``IntakeConfig``).

    Attributes:
        strategy: ``direct`` or ``agent``.
        model: the intake agent's model (``agent``; without one it degrades to
            direct with a warning).
        default_project: the project tasks are filed into.
    """

    strategy: str = attrs.field(default="direct", validator=_name)
    model: str | None = None
    default_project: str = attrs.field(default="default", validator=_project)


@attrs.frozen(kw_only=True)
class SimulationRunnerConfig:
    """How a batch run goes.

    Attributes:
        rounds: how many rounds.
        requirements_per_round: requirements drafted per round.
        max_concurrent: requirements in flight at once.
        task_timeout_seconds: longest wait for one task to finish.
        review_timeout_seconds: longest wait for one client review.
        seed: makes the run reproducible.
    """

    rounds: int = attrs.field(default=1, validator=an_int(1, 10_000))
    requirements_per_round: int = attrs.field(default=5, validator=an_int(1, 10_000))
    max_concurrent: int = attrs.field(default=5, validator=an_int(1, 10_000))
    task_timeout_seconds: float = attrs.field(default=300.0, validator=seconds())
    review_timeout_seconds: float = attrs.field(default=120.0, validator=seconds())
    seed: int = attrs.field(default=0, validator=an_int(0, 2**63 - 1))


@attrs.frozen(kw_only=True)
class ContinuousModeConfig:
    """Always-on simulation.

    Attributes:
        interval_seconds: time between generation rounds.
        max_concurrent: requirements in flight at once.
        max_rounds: stop after this many rounds (``None``: until cancelled).
    """

    interval_seconds: float = attrs.field(default=60.0, validator=seconds())
    max_concurrent: int = attrs.field(default=5, validator=an_int(1, 10_000))
    max_rounds: int | None = attrs.field(default=None, validator=_optional_rounds)


@attrs.frozen(kw_only=True)
class ClientSimulationConfig:
    """Everything a client simulation needs (seed 000's ``ClientSimulationConfig``).

    Attributes:
        pool: pool size and AI/human/hybrid ratios.
        generators: requirement generator strategy and settings.
        feedback: feedback strategy and scoring rubric.
        report: report style.
        runner: rounds, concurrency and timeouts.
        continuous: interval and concurrency of continuous mode.
        intake: the intake strategy (beyond the seed's six parts).
        review_stages: more stages of the review pipeline, run before the client's
            own review, e.g. ``[{strategy: stakeholder_panel, team: [CEO, Designer],
            rule: majority}]`` (each a mapping with ``strategy`` naming a registered
            review stage, plus its options).
        executor: where :func:`~clientsim.simulation.run_simulations` runs the
            replicates: ``local`` (the default) or ``ray``, or ``{strategy: ray,
            workers: 2}``; a single run is always in this process.
    """

    pool: ClientPoolConfig = attrs.field(factory=ClientPoolConfig)
    generators: RequirementGeneratorConfig = attrs.field(
        factory=RequirementGeneratorConfig
    )
    feedback: FeedbackConfig = attrs.field(factory=FeedbackConfig)
    report: ReportConfig = attrs.field(factory=ReportConfig)
    runner: SimulationRunnerConfig = attrs.field(factory=SimulationRunnerConfig)
    continuous: ContinuousModeConfig = attrs.field(factory=ContinuousModeConfig)
    intake: IntakeConfig = attrs.field(factory=IntakeConfig)
    review_stages: tuple[Mapping[str, Any], ...] = attrs.field(
        default=(),
        validator=_stage_configs,
        metadata={OMIT_IF_DEFAULT: True},  # configs without stages dump as before
    )
    executor: str | Mapping[str, Any] | None = attrs.field(
        default=None, validator=_executor, metadata={OMIT_IF_DEFAULT: True}
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ClientSimulationConfig:
        """Build from plain data (as YAML, TOML or JSON give it).

        Raises:
            ConfigError: an unknown key, a wrong type or a value out of range, or
                a string that is not text (a lone surrogate); the message names the
                key and what is allowed.
        """
        check_text_data(data, "invalid client simulation config")
        return from_dict(data, cls)

    @classmethod
    def from_file(cls, path: str | Path) -> ClientSimulationConfig:
        """Load a ``.yaml``/``.yml``, ``.toml`` or ``.json`` file.

        Raises:
            ConfigError: the file is missing or unreadable, not valid YAML/TOML/JSON,
                or its content does not fit (see :meth:`from_dict`).
        """
        file = Path(path)
        text = read_text(file, "client simulation config")
        what = f"client simulation config {str(file)!r}"
        data = parse_text(text, file.suffix.lower(), what)
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{what} must hold a mapping of the six parts (pool, generators, "
                f"feedback, report, runner, continuous); got {type(data).__name__}"
            )
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{what}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """Plain data that :meth:`from_dict` reads back to an equal config."""
        return to_dict(self)


register_structure_overrides(
    ClientSimulationConfig, hooks={"executor": _executor_value}
)
