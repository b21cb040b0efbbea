"""Population specs: who a population holds, from Python or from a file.

The seed's example loads as it is::

    {
      "name": "US Healthcare Consumers",
      "demographic_base": "usa_demographics",
      "size": 200,
      "segments": [
        {"name": "young_professionals", "size": 50,
         "particularities": "25-35 years old, high income, tech-savvy",
         "fragments": ["health_conscious", "time_constrained"]},
        {"name": "families", "size": 75,
         "particularities": "married with children, middle income",
         "fragments": ["loving_parent", "budget_conscious"]}
      ]
    }

The part of ``size`` beyond the segments is the general segment (``general``):
sampled from the template with no constraint.

Example:
    >>> spec = load_population_spec({"name": "Shoppers", "size": 10,
    ...     "segments": [{"name": "parents", "size": 4,
    ...                   "particularities": "married with children"}]})
    >>> [(s.name, s.size) for s in spec.all_segments()]
    [('parents', 4), ('general', 6)]
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import attrs

from clientsim._validators import shown
from clientsim.config.explain import structure_file
from clientsim.config.files import CONFIG_SUFFIXES, parse_text, read_text
from clientsim.errors import ConfigError
from clientsim.models.frozen import FrozenDict


__all__ = ["GENERAL_SEGMENT", "PopulationSpec", "SegmentSpec", "load_population_spec"]

GENERAL_SEGMENT: Final = "general"
"""The segment holding the part of a population's size beyond its segments."""
_SPEC_KEYS: Final = ("name", "demographic_base", "size", "segments", "seed")
_SEGMENT_KEYS: Final = ("name", "size", "particularities", "fragments", "demographics")


def _slug(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    from clientsim.models.persona import persona_id  # noqa: PLC0415

    if not isinstance(value, str) or not value or persona_id(value) != value:
        raise ConfigError(
            f"segment {attribute.name} must be lowercase words joined by '_' "
            f"(e.g. 'young_professionals'); got {shown(value)}"
        )


def _size(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"{attribute.name} must be a whole number of personas, 0 or more; got "
            f"{shown(value)}"
        )


def _choices(value: object) -> FrozenDict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ConfigError(
            "demographics must map dimensions to a value or a list of values "
            f"(e.g. {{'gender': 'female'}}); got {shown(value)}"
        )
    out: dict[str, tuple[str, ...]] = {}
    for key, item in value.items():
        items = (item,) if isinstance(item, str) else item
        if (
            not isinstance(key, str)
            or not isinstance(items, list | tuple)
            or not items
            or not all(isinstance(v, str) for v in items)
        ):
            raise ConfigError(
                f"demographics.{key}: expected a value or a non-empty list of values "
                f"of that dimension; got {shown(item)}"
            )
        out[key] = tuple(items)
    return FrozenDict(out)


def _names(value: object) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(
        isinstance(v, str) for v in items
    ):
        raise ConfigError(
            f"fragments must be a list of fragment names; got {shown(value)}"
        )
    return tuple(items)


@attrs.frozen(kw_only=True)
class SegmentSpec:
    """One segment of a population.

    Attributes:
        name: its key (``young_professionals``).
        size: how many personas it holds.
        particularities: who they are, in words the sampler reads: age ranges
            (``25-35 years old``, ``over 60``), income words (``low``, ``middle``,
            ``high income``), household words (``married``, ``with children``,
            ``single``, ``living alone``), any keyword of the template's tables, and
            fragment names (``tech-savvy``); any other phrase becomes a trait.
        fragments: names of fragments every persona of the segment takes.
        demographics: dimension -> the values allowed (``{"region": ["West"]}``).
    """

    name: str = attrs.field(validator=_slug)
    size: int = attrs.field(validator=_size)
    particularities: str = attrs.field(
        default="", validator=attrs.validators.instance_of(str)
    )
    fragments: tuple[str, ...] = attrs.field(default=(), converter=_names)
    demographics: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=FrozenDict, converter=_choices
    )


def _segments(value: object) -> tuple[SegmentSpec, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple):
        raise ConfigError(f"segments must be a list of segments; got {shown(value)}")
    items = tuple(SegmentSpec(**s) if isinstance(s, Mapping) else s for s in value)
    for item in items:
        if not isinstance(item, SegmentSpec):
            raise ConfigError(
                f"segments must hold SegmentSpec values; got {shown(item)}"
            )
    return items


@attrs.frozen(kw_only=True)
class PopulationSpec:
    """A population: its name, template, size and segments.

    Attributes:
        name: a display name.
        demographic_base: the template's name or alias (``usa``,
            ``usa_demographics``, ``eu``, ``uk``, a plugin's) or a template file.
        size: how many personas in all; ``None``: the sum of the segments' sizes.
            The part beyond the segments is the general segment.
        segments: the segments, in order.
        seed: the seed :func:`~clientsim.population.generate.generate_population`
            uses when it is given none.
    """

    name: str = attrs.field(validator=attrs.validators.instance_of(str))
    demographic_base: str = attrs.field(
        default="usa", validator=attrs.validators.instance_of(str)
    )
    size: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_size)
    )
    segments: tuple[SegmentSpec, ...] = attrs.field(default=(), converter=_segments)
    seed: int | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.instance_of(int)),
    )

    def __attrs_post_init__(self) -> None:
        names = [segment.name for segment in self.segments]
        for name in names:
            if names.count(name) > 1:
                raise ConfigError(f"segments: segment {name!r} is named twice")
        taken = sum(segment.size for segment in self.segments)
        if self.size is not None and taken > self.size:
            raise ConfigError(
                f"size: the segments hold {taken} personas, more than the "
                f"population's size {self.size}; raise size or shrink the segments"
            )
        if self.total == 0:
            raise ConfigError("size: a population needs at least one persona")
        if self.total > taken and GENERAL_SEGMENT in names:
            raise ConfigError(
                f"segments: {GENERAL_SEGMENT!r} names the segment holding the part of "
                "size beyond the segments; rename your segment or make the sizes add up"
            )

    @property
    def total(self) -> int:
        """How many personas the population holds."""
        taken = sum(segment.size for segment in self.segments)
        return taken if self.size is None else self.size

    def all_segments(self) -> tuple[SegmentSpec, ...]:
        """The segments, then the general one if ``size`` leaves room for it."""
        rest = self.total - sum(segment.size for segment in self.segments)
        if rest <= 0:
            return self.segments
        return (*self.segments, SegmentSpec(name=GENERAL_SEGMENT, size=rest))


def load_population_spec(
    source: str | os.PathLike[str] | Mapping[str, object] | PopulationSpec,
) -> PopulationSpec:
    """A population spec from a mapping or a YAML, TOML or JSON file.

    A file may hold the spec itself or a mapping whose ``population`` key holds it;
    a ``demographic_base`` that is a relative file path is read from the spec
    file's folder.

    Raises:
        ConfigError: the file is missing or invalid, or a key is wrong; the message
            names the key (``segments[1].size: ...``).
    """
    if isinstance(source, PopulationSpec):
        return source
    if isinstance(source, Mapping):
        return _structure(source, "invalid population spec", None)
    if not isinstance(source, str | os.PathLike):
        raise ConfigError(
            f"a population spec is a mapping or a file path; got {shown(source)}"
        )
    file = Path(source)
    suffix = file.suffix.lower()
    if suffix not in CONFIG_SUFFIXES:
        raise ConfigError(
            f"cannot read population spec {file}: its suffix must be one of "
            f"{', '.join(CONFIG_SUFFIXES)}"
        )
    what = f"population spec {file}"
    data = parse_text(read_text(file, "population spec"), suffix, what)
    if isinstance(data, Mapping) and "population" in data:
        data = data["population"]
    if not isinstance(data, Mapping):
        raise ConfigError(f"invalid {what}: expected a mapping; got {shown(data)}")
    return _structure(data, f"invalid {what}", file.parent)


def _structure(
    data: Mapping[str, object], head: str, folder: Path | None
) -> PopulationSpec:
    unknown = sorted(str(key) for key in data if key not in _SPEC_KEYS)
    if unknown:
        raise ConfigError(
            f"{head}: {unknown[0]}: unknown key; allowed: {', '.join(_SPEC_KEYS)}"
        )
    fields = dict(data)
    segments = fields.get("segments", ())
    if isinstance(segments, list | tuple):
        fields["segments"] = [
            _segment(item, head, i) for i, item in enumerate(segments)
        ]
    base = fields.get("demographic_base")
    if (
        folder is not None
        and isinstance(base, str)
        and base.lower().endswith(CONFIG_SUFFIXES)
        and not Path(base).is_absolute()
    ):
        fields["demographic_base"] = str(folder / base)
    return structure_file(fields, PopulationSpec, head=head)


def _segment(item: object, head: str, index: int) -> object:
    if not isinstance(item, Mapping):
        return item
    unknown = sorted(str(key) for key in item if key not in _SEGMENT_KEYS)
    if unknown:
        raise ConfigError(
            f"{head}: segments[{index}].{unknown[0]}: unknown key; allowed: "
            f"{', '.join(_SEGMENT_KEYS)}"
        )
    fields = dict(item)
    demographics = fields.get("demographics")
    if isinstance(demographics, Mapping):
        fields["demographics"] = {
            k: [v] if isinstance(v, str) else v for k, v in demographics.items()
        }
    if isinstance(fields.get("fragments"), str):
        fields["fragments"] = [fields["fragments"]]
    return fields
