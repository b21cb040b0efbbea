"""The value of an intervention test (A/B/n with an optional control group).

Pure data: assignment, the run and the analysis live in :mod:`clientsim.interventions`.
An :class:`Intervention` loads from a mapping or a YAML/JSON file shaped like the
seed's example (:func:`load_intervention`); every error names the key at fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from clientsim._validators import a_text
from clientsim.config.files import parse_text, read_text
from clientsim.errors import ClientSimError, ConfigError, InvalidTypeError
from clientsim.models.frozen import FrozenDict, freeze_mapping
from clientsim.models.survey import FieldSpec, Question, Variant


__all__ = [
    "CONTROL",
    "Intervention",
    "MetricConfig",
    "intervention_to_dict",
    "load_intervention",
]

CONTROL: Final = "control"
"""The name of a control group that shows nothing."""

MetricConfig = str | Mapping[str, Any]
"""A success metric: a name (``"purchase_intent"``, ``"field:rating"``,
``"question:nps"``) or a mapping with ``strategy`` plus options."""

_name: Final = a_text(non_empty=True)
_text: Final = a_text()
_KEYS: Final = (
    "name",
    "type",
    "description",
    "variants",
    "control",
    "target_segments",
    "success_metrics",
    "mode",
    "questions",
    "fields",
    "allocation",
)


def _items(value: object, what: str) -> tuple[object, ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidTypeError(f"{what} must be a list; got {type(value).__name__}")
    return tuple(value)


def _build(cls: type[Any], item: object, where: str) -> Any:
    if isinstance(item, cls):
        return item
    if not isinstance(item, Mapping):
        raise InvalidTypeError(
            f"{where} must be a mapping (a {cls.__name__}); got {type(item).__name__}"
        )
    try:
        return cls(**{str(k): v for k, v in item.items()})
    except ClientSimError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    except TypeError as exc:
        allowed = ", ".join(a.name for a in attrs.fields(cls))
        raise ConfigError(f"{where}: {exc}; allowed keys: {allowed}") from exc


def _variants(value: object) -> tuple[Variant, ...]:
    return tuple(
        _build(Variant, item, f"variants[{i}]")
        for i, item in enumerate(_items(value, "variants"))
    )


def _control(value: object) -> Variant | None:
    if value is None or value is False:
        return None
    if value is True:
        return Variant(name=CONTROL)
    if isinstance(value, str):
        return Variant(name=value or CONTROL)
    built: Variant = _build(Variant, value, "control")
    return built


def _questions(value: object) -> tuple[Question, ...]:
    return tuple(
        _build(Question, item, f"questions[{i}]")
        for i, item in enumerate(_items(value, "questions"))
    )


def _fields(value: object) -> tuple[FieldSpec, ...]:
    return tuple(
        _build(FieldSpec, item, f"fields[{i}]")
        for i, item in enumerate(_items(value, "fields"))
    )


def _strings(value: object, what: str) -> tuple[str, ...]:
    items = _items(value, what)
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise InvalidTypeError(f"{what} must be non-empty strings; got {item!r}")
    return tuple(str(item) for item in items)


def _segments(value: object) -> tuple[str, ...]:
    return _strings(value, "target_segments")


def _metrics(value: object) -> tuple[MetricConfig, ...]:
    chosen: list[MetricConfig] = []
    for item in _items(value, "success_metrics"):
        if isinstance(item, str) and item.strip():
            chosen.append(item)
        elif isinstance(item, Mapping) and isinstance(item.get("strategy"), str):
            chosen.append(freeze_mapping(item, "success_metrics"))
        else:
            raise InvalidTypeError(
                "success_metrics items must be metric names or mappings with a "
                f"'strategy' key; got {item!r}"
            )
    if not chosen:
        raise ConfigError("success_metrics must name at least one metric")
    return tuple(chosen)


def _mode(value: object) -> str | Mapping[str, Any]:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, Mapping) and isinstance(value.get("strategy"), str):
        return freeze_mapping(value, "mode")
    raise InvalidTypeError(
        "mode must be a communication mode name (survey, focus_group, interview, "
        f"sequence) or a mapping with a 'strategy' key; got {value!r}"
    )


def _allocation(value: object) -> Mapping[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidTypeError(
            f"allocation must map arm names to weights; got {type(value).__name__}"
        )
    weights: dict[str, float] = {}
    for arm, weight in value.items():
        if (
            not isinstance(weight, int | float)
            or isinstance(weight, bool)
            or weight <= 0
        ):
            raise InvalidTypeError(
                f"allocation[{arm!r}] must be a positive number; got {weight!r}"
            )
        weights[str(arm)] = float(weight)
    return FrozenDict(weights)


@attrs.frozen(kw_only=True)
class Intervention:
    """An A/B/n test: the arms, who is in it, what counts as success, how it is run.

    Attributes:
        name: its name.
        type: what kind of intervention (``marketing_intervention``, ``product_feature``,
            ``policy_change``, ``communication_flow``, or any label).
        description: free text.
        variants: the arms that show something (at least one).
        control: the control arm (``"control"``: a group that is shown nothing), or
            ``None`` for no control group (the first variant is then the baseline).
        target_segments: only personas of these segments take part (empty: all).
        success_metrics: the metrics to compare, by name or config (see
            :data:`clientsim.factory.metrics`).
        mode: the communication mode that runs each arm: a name or a config for
            :func:`clientsim.factory.build_population_mode`.
        questions: the questions asked after the variant (metrics add the ones they
            need when missing, e.g. ``purchase_intent``).
        fields: fields extracted from each transcript after it ends.
        allocation: arm name -> weight (equal when ``None``).

    Example:
        >>> test = Intervention(name="Subject line", control="control",
        ...                     variants=[{"name": "short", "content": "Sale!"}])
        >>> test.arm_names
        ('control', 'short')
    """

    name: str = attrs.field(validator=_name)
    type: str = attrs.field(default="marketing_intervention", validator=_name)
    description: str = attrs.field(default="", validator=_text)
    variants: tuple[Variant, ...] = attrs.field(factory=tuple, converter=_variants)
    control: Variant | None = attrs.field(default=None, converter=_control)
    target_segments: tuple[str, ...] = attrs.field(default=(), converter=_segments)
    success_metrics: tuple[MetricConfig, ...] = attrs.field(
        default=("response_rate",), converter=_metrics
    )
    mode: str | Mapping[str, Any] = attrs.field(default="survey", converter=_mode)
    questions: tuple[Question, ...] = attrs.field(default=(), converter=_questions)
    fields: tuple[FieldSpec, ...] = attrs.field(default=(), converter=_fields)
    allocation: Mapping[str, float] | None = attrs.field(
        default=None, converter=_allocation
    )

    def __attrs_post_init__(self) -> None:
        if not self.variants:
            raise ConfigError(f"intervention {self.name!r}: variants must not be empty")
        if len(self.arms) < 2:
            raise ConfigError(
                f"intervention {self.name!r}: needs at least two arms (two variants, "
                "or a variant and a control)"
            )
        names = [arm.name for arm in self.arms]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ConfigError(
                f"intervention {self.name!r}: arm names must be distinct; repeated: "
                f"{repeated}"
            )
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ConfigError(
                f"intervention {self.name!r}: question ids must be distinct; got {ids}"
            )
        if self.allocation is not None and set(self.allocation) != set(names):
            raise ConfigError(
                f"intervention {self.name!r}: allocation must give a weight to every "
                f"arm ({', '.join(names)}); got {', '.join(self.allocation)}"
            )

    @property
    def arms(self) -> tuple[Variant, ...]:
        """Every arm, the control first."""
        head = (self.control,) if self.control is not None else ()
        return head + self.variants

    @property
    def arm_names(self) -> tuple[str, ...]:
        """The arms' names, the control first."""
        return tuple(arm.name for arm in self.arms)

    @property
    def baseline(self) -> str:
        """The arm the others are compared with: the control, else the first variant."""
        return self.arms[0].name

    @property
    def metrics(self) -> tuple[MetricConfig, ...]:
        """The success metrics (an alias of ``success_metrics``)."""
        return self.success_metrics


def load_intervention(source: Mapping[str, Any] | str | Path) -> Intervention:
    """An :class:`Intervention` from a mapping, or from a YAML/JSON/TOML file.

    The seed's example loads as is (``name``, ``type``, ``variants`` with ``name``,
    ``content``, ``timing``, ``channel``, ``target_segments``, ``success_metrics``,
    which may also be called ``metrics``).

    Raises:
        ConfigError: the file cannot be read or parsed, a key is unknown, or a value
            does not fit; the message names the key.

    Example:
        >>> load_intervention({"name": "x", "variants": [{"name": "a"}, {"name": "b"}],
        ...                    "success_metrics": ["open_rate"]}).arm_names
        ('a', 'b')
    """
    what = "intervention"
    if isinstance(source, str | Path):
        path = Path(source)
        what = f"intervention {path.name}"
        data = parse_text(
            read_text(path, "intervention file"), path.suffix.lower(), what
        )
    else:
        data = source
    if not isinstance(data, Mapping):
        raise ConfigError(f"{what} must be a mapping; got {type(data).__name__}")
    if "metrics" in data:  # the short name of success_metrics
        if "success_metrics" in data:
            raise ConfigError(
                f"{what}: give 'success_metrics' or its short name 'metrics', not both"
            )
        data = {
            ("success_metrics" if k == "metrics" else k): v for k, v in data.items()
        }
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise ConfigError(
            f"{what}: unknown key {unknown[0]!r}; allowed keys: {', '.join(_KEYS)}"
        )
    if "name" not in data:
        raise ConfigError(f"{what}: missing key 'name'")
    if "variants" not in data:
        raise ConfigError(f"{what}: missing key 'variants'")
    values = {str(k): v for k, v in data.items()}
    try:
        return Intervention(**values)
    except ClientSimError as exc:
        raise ConfigError(f"{what}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what}: {exc}") from exc


def _variant_dict(variant: Variant) -> dict[str, Any]:
    data: dict[str, Any] = {"name": variant.name}
    for key in ("content", "timing", "channel", "prompt"):
        value = getattr(variant, key)
        if value:
            data[key] = value
    if variant.sequence:
        data["sequence"] = [
            {
                k: v
                for k, v in (
                    ("day", p.day),
                    ("content", p.content),
                    ("channel", p.channel),
                    ("name", p.name),
                    ("questions", list(p.questions)),
                )
                if v not in (None, "", [])
            }
            for p in variant.sequence
        ]
    if isinstance(variant.agent, str):
        data["agent"] = variant.agent
    return data


def _plain(value: object) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def intervention_to_dict(intervention: Intervention) -> dict[str, Any]:
    """Plain data that :func:`load_intervention` reads back (a variant's ``agent``
    is kept only when it is a name)."""
    data: dict[str, Any] = {
        "name": intervention.name,
        "type": intervention.type,
        "variants": [_variant_dict(v) for v in intervention.variants],
        "success_metrics": _plain(intervention.success_metrics),
        "mode": _plain(intervention.mode),
    }
    if intervention.description:
        data["description"] = intervention.description
    if intervention.control is not None:
        data["control"] = _variant_dict(intervention.control)
    if intervention.target_segments:
        data["target_segments"] = list(intervention.target_segments)
    if intervention.questions:
        data["questions"] = [
            {
                "id": q.id,
                "text": q.text,
                "type": q.type,
                "options": list(q.options),
                "low": q.low,
                "high": q.high,
            }
            for q in intervention.questions
        ]
    if intervention.fields:
        data["fields"] = [
            {"name": f.name, "type": f.type, "hint": f.hint, "options": list(f.options)}
            for f in intervention.fields
        ]
    if intervention.allocation is not None:
        data["allocation"] = dict(intervention.allocation)
    return data
