"""Demographic templates: the published marginal distributions personas are sampled from.

A :class:`DemographicTemplate` holds one table per dimension (``age_band``,
``gender``, ``income_band``, ``region``, ``education``, ``household_type``,
``occupation``), each with its source and year, plus the keywords a segment's
particularities may use to restrict a dimension (``"high income"``) and lists of
common names. clientsim ships ``usa``, ``eu`` and ``uk`` as package data
(``clientsim/population/data/demographics/*.yaml``); plugins add more through the
``clientsim_register_demographics`` hook, and a user's own template is a file of the
same shape (:func:`load_demographic_template`).

Example:
    >>> usa = demographic_template("usa")
    >>> usa.dimension_names[:3]
    ('age_band', 'gender', 'income_band')
    >>> round(sum(usa.marginals()["region"].values()), 6)
    1.0
    >>> demographic_template("usa_demographics").name  # the seed's name is an alias
    'usa'
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Final

import attrs

from clientsim._validators import shown
from clientsim.config.files import CONFIG_SUFFIXES, parse_text, read_text
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.models.frozen import FrozenDict


__all__ = [
    "BUILTIN_TEMPLATES",
    "DemographicTemplate",
    "Dimension",
    "builtin_template",
    "demographic_template",
    "demographic_templates",
    "load_demographic_template",
    "parse_demographic_template",
]

BUILTIN_TEMPLATES: Final = ("usa", "eu", "uk")
"""The templates clientsim ships."""
TOLERANCE: Final = 1e-3
"""How far from 1 a table's probabilities may sum (they are renormalised)."""
_TEMPLATE_KEYS: Final = ("name", "title", "aliases", "dimensions", "names")
_DIMENSION_KEYS: Final = ("source", "distribution", "keywords")


@attrs.frozen(kw_only=True)
class Dimension:
    """One table of a template.

    Attributes:
        name: the dimension (``age_band``).
        source: where the figures come from, with the year.
        distribution: value -> probability, in the table's order (sums to 1).
        keywords: words of a segment's particularities -> the values they allow.
    """

    name: str
    source: str
    distribution: Mapping[str, float]
    keywords: Mapping[str, tuple[str, ...]] = attrs.field(factory=FrozenDict)

    @property
    def values(self) -> tuple[str, ...]:
        """The values, in the table's order."""
        return tuple(self.distribution)


@attrs.frozen(kw_only=True)
class DemographicTemplate:
    """A population's marginal distributions, one :class:`Dimension` per table.

    Attributes:
        name: its key (``usa``).
        title: a display name (``United States``).
        aliases: other names it answers to (``usa_demographics``).
        dimensions: its tables, in order.
        names: given names per gender value (``female``, ``male``) and ``family``
            names, for the personas' display names.
        origin: the file it was read from.
    """

    name: str
    title: str
    dimensions: tuple[Dimension, ...]
    aliases: tuple[str, ...] = ()
    names: Mapping[str, tuple[str, ...]] = attrs.field(factory=FrozenDict)
    origin: str = ""

    @property
    def dimension_names(self) -> tuple[str, ...]:
        """The dimensions' names, in order."""
        return tuple(dimension.name for dimension in self.dimensions)

    def dimension(self, name: str) -> Dimension:
        """The dimension called ``name``.

        Raises:
            ConfigError: no such dimension; the message lists the ones there are.
        """
        for dimension in self.dimensions:
            if dimension.name == name:
                return dimension
        raise ConfigError(
            f"demographic template {self.name!r} has no dimension {name!r}; its "
            f"dimensions: {', '.join(self.dimension_names)}"
        )

    def marginals(self) -> dict[str, dict[str, float]]:
        """Every table as ``{dimension: {value: probability}}``."""
        return {d.name: dict(d.distribution) for d in self.dimensions}

    def sources(self) -> dict[str, str]:
        """Every table's source, as ``{dimension: source}``."""
        return {d.name: d.source for d in self.dimensions}


# -------------------------------------------------------------------- parsing


def parse_demographic_template(data: object, what: str) -> DemographicTemplate:
    """A template from plain data (a parsed template file).

    Args:
        data: the mapping a template file holds.
        what: how messages name it (``"demographic template usa.yaml"``).

    Raises:
        ConfigError: naming the file (``what``) and the table: an unknown key, a
            probability that is not a number in [0, 1], a table whose
            probabilities do not sum to 1, a keyword naming a value not in its table.
    """
    table = _mapping(data, what, "the template")
    _no_unknown(table, _TEMPLATE_KEYS, what, "the template")
    name = table.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"{what}: 'name' must be a non-empty string; got {shown(name)}"
        )
    title = table.get("title", name)
    if not isinstance(title, str):
        raise ConfigError(f"{what}: 'title' must be a string; got {shown(title)}")
    dimensions_data = _mapping(table.get("dimensions"), what, "'dimensions'")
    if not dimensions_data:
        raise ConfigError(f"{what}: 'dimensions' needs at least one table")
    dimensions = tuple(
        _dimension(str(key), value, what) for key, value in dimensions_data.items()
    )
    return DemographicTemplate(
        name=name,
        title=title,
        dimensions=dimensions,
        aliases=_strings(table.get("aliases", ()), what, "aliases"),
        names=FrozenDict(
            {
                str(k): _strings(v, what, f"names.{k}")
                for k, v in _mapping(table.get("names", {}), what, "'names'").items()
            }
        ),
        origin=what,
    )


def _dimension(name: str, data: object, what: str) -> Dimension:
    where = f"table {name!r}"
    table = _mapping(data, what, where)
    _no_unknown(table, _DIMENSION_KEYS, what, where)
    source = table.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(
            f"{what}: {where}: 'source' must name where the figures come from and "
            f"their year; got {shown(source)}"
        )
    raw = _mapping(table.get("distribution"), what, f"{where} 'distribution'")
    if not raw:
        raise ConfigError(f"{what}: {where}: 'distribution' needs at least one value")
    distribution: dict[str, float] = {}
    for value, probability in raw.items():
        if (
            isinstance(probability, bool)
            or not isinstance(probability, int | float)
            or not 0.0 <= float(probability) <= 1.0
        ):
            raise ConfigError(
                f"{what}: {where}: the probability of {str(value)!r} must be a number "
                f"from 0 to 1; got {shown(probability)}"
            )
        distribution[str(value)] = float(probability)
    total = sum(distribution.values())
    if abs(total - 1.0) > TOLERANCE:
        raise ConfigError(
            f"{what}: {where}: the probabilities sum to {total:.4f}; they must sum "
            f"to 1 (within {TOLERANCE})"
        )
    distribution = {value: p / total for value, p in distribution.items()}
    keywords: dict[str, tuple[str, ...]] = {}
    for word, values in _mapping(table.get("keywords", {}), what, where).items():
        allowed = _strings(values, what, f"{where} keyword {word!r}")
        unknown = [v for v in allowed if v not in distribution]
        if unknown or not allowed:
            raise ConfigError(
                f"{what}: {where}: keyword {str(word)!r} names {unknown[0]!r}, which "
                f"is not a value of the table; its values: {', '.join(distribution)}"
                if unknown
                else f"{what}: {where}: keyword {str(word)!r} allows no value"
            )
        keywords[" ".join(str(word).lower().replace("-", " ").split())] = allowed
    return Dimension(
        name=name,
        source=source.strip(),
        distribution=FrozenDict(distribution),
        keywords=FrozenDict(keywords),
    )


def _mapping(value: object, what: str, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{what}: {where} must be a mapping; got {shown(value)}")
    return {str(key): item for key, item in value.items()}


def _no_unknown(
    table: Mapping[str, object], allowed: tuple[str, ...], what: str, where: str
) -> None:
    unknown = sorted(key for key in table if key not in allowed)
    if unknown:
        raise ConfigError(
            f"{what}: {where}: unknown key {unknown[0]!r}; allowed: {', '.join(allowed)}"
        )


def _strings(value: object, what: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, str) for item in value
    ):
        raise ConfigError(
            f"{what}: {where} must be a list of strings; got {shown(value)}"
        )
    return tuple(value)


# -------------------------------------------------------------------- loading


@functools.cache
def builtin_template(name: str) -> DemographicTemplate:
    """One of the templates clientsim ships (read once).

    Raises:
        UnknownStrategyError: ``name`` is not one of :data:`BUILTIN_TEMPLATES`.
    """
    if name not in BUILTIN_TEMPLATES:
        raise UnknownStrategyError("demographic template", name, BUILTIN_TEMPLATES)
    source = resources.files("clientsim.population") / "data" / "demographics"
    file = source / f"{name}.yaml"
    what = f"demographic template {name}.yaml (clientsim's package data)"
    data = parse_text(file.read_text(encoding="utf-8"), ".yaml", what)
    return parse_demographic_template(data, what)


def load_demographic_template(path: str | os.PathLike[str]) -> DemographicTemplate:
    """A user's template file (YAML, TOML or JSON, in the shape of the shipped ones).

    Raises:
        ConfigError: the file is missing, unreadable or invalid; the message names
            the file and the table.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    what = f"demographic template {file}"
    if suffix not in CONFIG_SUFFIXES:
        raise ConfigError(
            f"cannot read {what}: its suffix must be one of {', '.join(CONFIG_SUFFIXES)}"
        )
    data = parse_text(read_text(file, "demographic template"), suffix, what)
    return parse_demographic_template(data, what)


def demographic_templates() -> dict[str, DemographicTemplate]:
    """Every registered template by name: the built-ins and the plugins'."""
    from clientsim import factory  # noqa: PLC0415

    registry = factory.demographic_templates
    return {name: registry.get(name)() for name in registry.names()}


def demographic_template(
    name: str | os.PathLike[str] | DemographicTemplate,
) -> DemographicTemplate:
    """A template by name or alias (``usa``, ``usa_demographics``, ``eu``, ``uk``, a
    plugin's), or from a file path (ending in ``.yaml``, ``.yml``, ``.toml`` or
    ``.json``); a template is returned as it is.

    Raises:
        UnknownStrategyError: no template has that name or alias; the message lists
            the names there are.
        ConfigError: the file is invalid.
    """
    if isinstance(name, DemographicTemplate):
        return name
    if isinstance(name, os.PathLike) or (
        isinstance(name, str) and name.lower().endswith(CONFIG_SUFFIXES)
    ):
        return load_demographic_template(name)
    if not isinstance(name, str):
        raise ConfigError(
            f"a demographic template is a name or a file path; got {shown(name)}"
        )
    from clientsim import factory  # noqa: PLC0415

    registry = factory.demographic_templates
    key = name.strip().lower()
    if key in registry:
        return registry.get(key)()
    for template in demographic_templates().values():
        if key in template.aliases:
            return template
    raise UnknownStrategyError("demographic template", name, registry.names())
