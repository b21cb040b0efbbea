"""The values of populations (seed 002): a persona, the fragments that shape it.

Pure data: sampling, segments and fragment libraries live in
:mod:`clientsim.population`. Any simulated participant can take a :class:`Persona`
(``LLMParticipant(persona=...)`` reads :meth:`Persona.prompt`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from clientsim._validators import a_text, texts, typed
from clientsim.errors import InvalidTypeError
from clientsim.models.frozen import FrozenDict, freeze_mapping


__all__ = [
    "STUDY_MODERATOR_MARKER",
    "STUDY_PERSONA_MARKER",
    "Fragment",
    "Persona",
    "persona_id",
]

STUDY_PERSONA_MARKER: Final = "You are taking part in a study as the person below."
"""The first line of a study participant's system prompt: a persona answering a
survey, an interviewer or a moderator, or a customer journey. The offline model
plays such a prompt as that persona."""
STUDY_MODERATOR_MARKER: Final = "You are the moderator of this study's discussion."
"""The first line of a simulated moderator's or interviewer's system prompt."""

_text: Final = a_text()
_name: Final = a_text(non_empty=True)
_SLUG: Final = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


def persona_id(text: str) -> str:
    """A slug for ids and keys: lowercase words joined by ``_``.

    Example:
        >>> persona_id("Health Conscious")
        'health_conscious'
    """
    return "_".join(re.findall(r"[a-z0-9]+", text.lower()))


def _slug(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise InvalidTypeError(
            f"{attribute.name} must be a slug of lowercase letters, digits, '_' and "
            f"'-' starting with a letter or digit; got {value!r}"
        )


def _demographics(value: object) -> FrozenDict[str, str]:
    frozen = freeze_mapping(value, "demographics")
    for key, item in frozen.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise InvalidTypeError(
                "demographics must map dimension names to text values "
                f"(e.g. {{'age_band': '25-34'}}); got {key!r}: {item!r}"
            )
    return frozen


def _leanings(value: object) -> FrozenDict[str, float]:
    frozen = freeze_mapping(value, "leanings")
    for topic, weight in frozen.items():
        if not isinstance(topic, str) or not isinstance(weight, int | float):
            raise InvalidTypeError(
                f"leanings must map topics to numbers in [-1, 1]; got {topic!r}: {weight!r}"
            )
        if not -1.0 <= float(weight) <= 1.0:
            raise InvalidTypeError(
                f"leaning {topic!r} must be in [-1, 1]; got {weight!r}"
            )
    return frozen


@attrs.frozen(kw_only=True)
class Fragment:
    """A personality fragment: a trait bundle that can be applied to any persona.

    Attributes:
        name: its key (``health_conscious``).
        description: one sentence in the second person, added to the persona's prompt
            (``"You read labels and care about what is in your food."``).
        traits: short trait words it adds (``"reads labels"``).
        leanings: how it tilts reactions, as ``{topic: weight}`` with weights in
            [-1, 1] (``{"price": 0.8}``: price matters a lot). Simulated participants
            (the offline model among them) read these through the prompt.

    Example:
        >>> Fragment(name="price_sensitive", description="You compare prices.").name
        'price_sensitive'
    """

    name: str = attrs.field(validator=_slug)
    description: str = attrs.field(validator=_name)
    traits: tuple[str, ...] = attrs.field(default=(), converter=texts)
    leanings: Mapping[str, float] = attrs.field(factory=FrozenDict, converter=_leanings)


def _fragments(value: object) -> tuple[Fragment, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidTypeError(f"fragments must be a list of Fragment; got {value!r}")
    items = tuple(Fragment(**f) if isinstance(f, Mapping) else f for f in value)
    for item in items:
        if not isinstance(item, Fragment):
            raise InvalidTypeError(f"fragments must be Fragment values; got {item!r}")
    return items


@attrs.frozen(kw_only=True)
class Persona:
    """One simulated person of a population.

    Attributes:
        id: unique within its population (a slug: ``usa-0042``).
        name: a display name.
        demographics: dimension -> value, e.g. ``{"age_band": "25-34", "gender":
            "female", "income_band": "$50,000-$74,999", "region": "South"}``.
        background: a paragraph about the person (sampled, or enriched by a model).
        message_style: how they write (``"short, informal, lowercase"``).
        traits: trait words.
        fragments: the personality fragments applied to them, in order.
        segment: the population segment they belong to, if any.

    Example:
        >>> p = Persona(id="p1", name="Maria", demographics={"age_band": "25-34"},
        ...             background="A nurse in Ohio.")
        >>> "25-34" in p.prompt()
        True
    """

    id: str = attrs.field(validator=_slug)
    name: str = attrs.field(validator=_name)
    demographics: Mapping[str, str] = attrs.field(
        factory=FrozenDict, converter=_demographics
    )
    background: str = attrs.field(default="", validator=_text)
    message_style: str = attrs.field(default="", validator=_text)
    traits: tuple[str, ...] = attrs.field(default=(), converter=texts)
    fragments: tuple[Fragment, ...] = attrs.field(
        default=(),
        converter=_fragments,
    )
    segment: str | None = attrs.field(default=None, validator=typed(str, optional=True))

    @property
    def fragment_names(self) -> tuple[str, ...]:
        """The names of the applied fragments, in order."""
        return tuple(fragment.name for fragment in self.fragments)

    @property
    def leanings(self) -> dict[str, float]:
        """Every fragment's leanings summed per topic, clipped to [-1, 1]."""
        totals: dict[str, float] = {}
        for fragment in self.fragments:
            for topic, weight in fragment.leanings.items():
                totals[topic] = totals.get(topic, 0.0) + float(weight)
        return {topic: max(-1.0, min(1.0, w)) for topic, w in sorted(totals.items())}

    def with_fragments(self, *fragments: Fragment) -> Persona:
        """This persona with more fragments (one already applied is not repeated)."""
        have = set(self.fragment_names)
        extra = tuple(f for f in fragments if f.name not in have)
        traits = self.traits + tuple(
            t for f in extra for t in f.traits if t not in self.traits
        )
        return attrs.evolve(self, fragments=self.fragments + extra, traits=traits)

    def prompt(self) -> str:
        """Who this persona is, as the text a simulated participant is told.

        Sections are line-oriented (``Name:``, ``Demographics:``, ``Background:``,
        ``Style:``, ``Traits:``, ``Fragments:``, ``Leanings:``) so that both a real
        model and the offline model read them.
        """
        lines = [f"Name: {self.name}"]
        if self.segment:
            lines.append(f"Segment: {self.segment}")
        if self.demographics:
            shown = "; ".join(f"{k}: {v}" for k, v in self.demographics.items())
            lines.append(f"Demographics: {shown}")
        if self.background:
            lines.append(f"Background: {self.background}")
        if self.message_style:
            lines.append(f"Style: {self.message_style}")
        if self.traits:
            lines.append(f"Traits: {', '.join(self.traits)}")
        if self.fragments:
            lines.append(f"Fragments: {', '.join(self.fragment_names)}")
            lines.extend(f"- {fragment.description}" for fragment in self.fragments)
        leanings = self.leanings
        if leanings:
            shown = ", ".join(f"{k}={v:+.2f}" for k, v in leanings.items())
            lines.append(f"Leanings: {shown}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.prompt()
