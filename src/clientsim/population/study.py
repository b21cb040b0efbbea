"""A study file: a population, a communication mode, questions, fields to extract and,
optionally, an intervention, in one YAML, TOML or JSON file.

``clientsim population run study.yaml`` runs it; :func:`load_study` reads it and
:func:`~clientsim.population.control.begin` runs it from Python with checkpoints.
The four templates of seed 002 (``clientsim init --template market_survey``,
``focus_group``, ``ab_intervention``, ``customer_journey``) are study files.

Example:
    >>> study = load_study({
    ...     "name": "Bottle survey",
    ...     "population": {"name": "Adults", "demographic_base": "usa", "size": 20},
    ...     "questions": [{"id": "interest", "text": "How interested are you?",
    ...                    "type": "scale"}],
    ... })
    >>> study.mode, len(study.questions)
    ('survey', 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from clientsim._validators import a_text, an_int, typed
from clientsim.config import (
    WrongType,
    parse_text,
    read_text,
    register_structure_overrides,
    structure_file,
)
from clientsim.errors import ConfigError, InvalidTypeError
from clientsim.models.frozen import FrozenDict, freeze, freeze_mapping
from clientsim.models.survey import FieldSpec, Question


__all__ = ["StudyConfig", "load_study"]

_name: Final = a_text(non_empty=True)


def _spec(value: object, _: object = None) -> str | FrozenDict[str, Any]:
    """A strategy name or a mapping with ``strategy``."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, Mapping):
        return freeze_mapping(value, "mode")
    raise WrongType(value, "a mode name (e.g. 'survey') or a mapping with 'strategy'")


def _executor(value: object, _: object = None) -> str | FrozenDict[str, Any]:
    """Where the units run: a registered executor's name, or a mapping with
    ``strategy`` and its options (checked now, so a typo fails before any unit)."""
    if value is None:
        return "local"
    if not (isinstance(value, str) and value.strip()) and not isinstance(
        value, Mapping
    ):
        raise WrongType(
            value,
            "an executor name (local, ray, a plugin's) or a mapping with 'strategy'",
        )
    from clientsim.factory import executors  # noqa: PLC0415 - loads plugins when used

    executors.check(value)
    return value if isinstance(value, str) else freeze_mapping(value, "executor")


def _source(value: object, _: object = None) -> str | FrozenDict[str, Any]:
    """A file path or an inline mapping."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, Mapping):
        return freeze_mapping(value, "value")
    raise WrongType(value, "a file path or a mapping")


def _optional_source(
    value: object, _: object = None
) -> str | FrozenDict[str, Any] | None:
    return None if value is None else _source(value)


def _questions(value: object, _: object = None) -> tuple[Question, ...]:
    return tuple(
        _item(item, Question, "questions") for item in _list(value, "questions")
    )


def _fields(value: object, _: object = None) -> tuple[FieldSpec, ...]:
    return tuple(_item(item, FieldSpec, "fields") for item in _list(value, "fields"))


def _list(value: object, key: str) -> list[object]:
    if value is None:
        return []
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise WrongType(value, f"a list of {key}")
    return list(value)


def _item(item: object, cls: type[Any], key: str) -> Any:
    if isinstance(item, cls):
        return item
    if not isinstance(item, Mapping):
        raise InvalidTypeError(f"each of {key} must be a mapping; got {item!r}")
    try:
        return cls(**{k: freeze(v) if k != "options" else v for k, v in item.items()})
    except TypeError as exc:
        allowed = ", ".join(a.name for a in attrs.fields(cls))
        raise ConfigError(f"{key}: {exc}; allowed keys: {allowed}") from exc


@attrs.frozen(kw_only=True)
class StudyConfig:
    """A study file; see the module docstring.

    Attributes:
        name: the study's name.
        population: a population (``name``, ``demographic_base``, ``size``,
            ``segments``, as seed 002 shows) or the path of a population file,
            relative to the study file.
        mode: how the study talks to the personas: ``survey`` (default),
            ``interview``, ``focus_group``, ``sequence``, a plugin's, or a mapping
            ``{strategy: focus_group, topic: ..., rounds: 2}``.
        questions: the questions, each ``{id, text, type, options}``.
        fields: fields to extract from each transcript, each ``{name, type, hint}``.
        intervention: an A/B/n intervention (``name``, ``variants``, ``control``,
            ``target_segments``, ``success_metrics``), or its file's path.
        model: the model spec every simulated part uses.
        seed: the study's seed: the same seed gives the same results.
        parallel_runs: how many units run at once.
        checkpoint_every: an automatic checkpoint after every this many stored
            units (``0``: only on demand).
        executor: where the units run: ``local`` (default, this process), ``ray``
            (``{strategy: ray, address: ..., workers: 2}``) or a plugin's.
        base_dir: where relative paths are read from (the study file's folder).
    """

    name: str = attrs.field(validator=_name)
    population: str | FrozenDict[str, Any] = attrs.field(converter=_source)
    mode: str | FrozenDict[str, Any] = attrs.field(default="survey", converter=_spec)
    questions: tuple[Question, ...] = attrs.field(default=(), converter=_questions)
    fields: tuple[FieldSpec, ...] = attrs.field(default=(), converter=_fields)
    intervention: str | FrozenDict[str, Any] | None = attrs.field(
        default=None, converter=_optional_source
    )
    model: str = attrs.field(default="offline", validator=_name)
    seed: int = attrs.field(default=0, validator=an_int())
    parallel_runs: int = attrs.field(default=8, validator=an_int(low=1, high=10_000))
    checkpoint_every: int = attrs.field(default=50, validator=an_int(low=0))
    executor: str | FrozenDict[str, Any] = attrs.field(
        default="local", converter=_executor
    )
    base_dir: str = attrs.field(default=".", validator=typed(str))

    @property
    def mode_name(self) -> str:
        """The mode's registered name."""
        if isinstance(self.mode, str):
            return self.mode
        return str(self.mode.get("strategy", ""))

    def path(self, relative: str) -> Path:
        """``relative`` read from :attr:`base_dir`."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else Path(self.base_dir) / candidate


register_structure_overrides(
    StudyConfig,
    hooks={
        "population": _source,
        "mode": _spec,
        "questions": _questions,
        "fields": _fields,
        "intervention": _optional_source,
        "executor": _executor,
    },
)


def load_study(source: str | Path | Mapping[str, Any]) -> StudyConfig:
    """Read a study file (YAML, TOML or JSON), or build a study from a mapping.

    Raises:
        ConfigError: the file cannot be read or parsed, or a key is wrong; the
            message names the key, what it got and what is allowed.
    """
    if isinstance(source, Mapping):
        return structure_file(dict(source), StudyConfig, head="invalid study")
    if not isinstance(source, str | Path):
        raise ConfigError(
            f"a study is a file path or a mapping; got {type(source).__name__}"
        )
    path = Path(source)
    what = f"study file {path}"
    data = parse_text(read_text(path, what), path.suffix.lower(), what)
    if not isinstance(data, Mapping):
        raise ConfigError(f"{what} must hold a mapping at its top level")
    data = {"base_dir": str(path.parent), **data}
    return structure_file(dict(data), StudyConfig, head=f"invalid {what}")
