"""The library of personality fragments: trait bundles any persona can take.

clientsim ships twenty (``clientsim/population/data/fragments.yaml``:
``health_conscious``, ``tech_savvy``, ``price_sensitive``, ...). Plugins add more
through the ``clientsim_register_fragments`` hook, code through
:func:`register_fragment`, and a user's own live in YAML, TOML or JSON files
(:func:`load_fragments`).

Example:
    >>> "tech_savvy" in fragments()
    True
    >>> get_fragment("price_sensitive").leanings["price"]
    0.9
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Final

from clientsim._validators import shown
from clientsim.config.explain import structure_file
from clientsim.config.files import CONFIG_SUFFIXES, parse_text, read_text
from clientsim.errors import ConfigError
from clientsim.models.persona import Fragment


__all__ = [
    "builtin_fragments",
    "fragments",
    "get_fragment",
    "load_fragments",
    "parse_fragments",
    "register_fragment",
]

_KEYS: Final = ("name", "description", "traits", "leanings")


def parse_fragments(data: object, what: str) -> tuple[Fragment, ...]:
    """Fragments from plain data: a list of fragment mappings, or a mapping with a
    ``fragments`` key holding one, or a mapping of ``name: {fields}``.

    Raises:
        ConfigError: naming ``what`` and the entry (``[2].leanings``) that is wrong.
    """
    if isinstance(data, Mapping):
        if "fragments" in data:
            data = data["fragments"]
        else:
            data = [
                {"name": key, **value} if isinstance(value, Mapping) else value
                for key, value in data.items()
            ]
    if isinstance(data, str | bytes) or not isinstance(data, Sequence):
        raise ConfigError(
            f"{what}: expected a list of fragments (name, description, traits, "
            f"leanings); got {shown(data)}"
        )
    found: dict[str, Fragment] = {}
    for index, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise ConfigError(
                f"{what}: [{index}]: expected a mapping with {', '.join(_KEYS)}; got "
                f"{shown(item)}"
            )
        unknown = sorted(str(key) for key in item if key not in _KEYS)
        if unknown:
            raise ConfigError(
                f"{what}: [{index}].{unknown[0]}: unknown key; allowed: {', '.join(_KEYS)}"
            )
        fragment = structure_file(
            dict(item), Fragment, head=f"invalid {what}", path=f"[{index}]"
        )
        if fragment.name in found:
            raise ConfigError(f"{what}: [{index}]: fragment {fragment.name!r} twice")
        found[fragment.name] = fragment
    return tuple(found.values())


@functools.cache
def builtin_fragments() -> tuple[Fragment, ...]:
    """The fragments clientsim ships, in their file's order (read once)."""
    file = resources.files("clientsim.population") / "data" / "fragments.yaml"
    what = "clientsim's built-in fragments (population/data/fragments.yaml)"
    return parse_fragments(
        parse_text(file.read_text(encoding="utf-8"), ".yaml", what), what
    )


def load_fragments(
    path: str | os.PathLike[str], *, register: bool = False
) -> dict[str, Fragment]:
    """A user's fragments file (YAML, TOML or JSON) as ``{name: Fragment}``.

    Args:
        path: the file: a list of fragments, or a mapping whose ``fragments`` key
            holds one.
        register: also register each (:func:`register_fragment`), so that a
            population spec can name them.

    Raises:
        ConfigError: the file is missing or invalid (the message names the file and
            the entry).
        DuplicateStrategyError: ``register`` and a name is taken.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    what = f"fragments file {file}"
    if suffix not in CONFIG_SUFFIXES:
        raise ConfigError(
            f"cannot read {what}: its suffix must be one of {', '.join(CONFIG_SUFFIXES)}"
        )
    loaded = parse_fragments(
        parse_text(read_text(file, "fragments file"), suffix, what), what
    )
    if register:
        for fragment in loaded:
            register_fragment(fragment)
    return {fragment.name: fragment for fragment in loaded}


def register_fragment(fragment: Fragment) -> Fragment:
    """Add ``fragment`` to the library under its name, for this process.

    Raises:
        DuplicateStrategyError: a fragment of that name is registered.
    """
    from clientsim import factory  # noqa: PLC0415

    if not isinstance(fragment, Fragment):
        raise ConfigError(
            f"register_fragment() takes a Fragment; got {shown(fragment)}"
        )
    factory.fragments.register(fragment.name, functools.partial(_same, fragment))
    return fragment


def _same(fragment: Fragment) -> Fragment:
    return fragment


def fragments() -> dict[str, Fragment]:
    """Every registered fragment by name: the shipped ones, then plugins' and
    registered ones (sorted by name)."""
    from clientsim import factory  # noqa: PLC0415

    registry = factory.fragments
    return {name: registry.get(name)() for name in registry.names()}


def get_fragment(name: str | Fragment) -> Fragment:
    """The fragment called ``name`` (``"tech-savvy"`` and ``"Tech Savvy"`` find
    ``tech_savvy``); a :class:`Fragment` is returned as it is.

    Raises:
        UnknownStrategyError: no such fragment; the message lists the names there are.
    """
    if isinstance(name, Fragment):
        return name
    from clientsim import factory  # noqa: PLC0415
    from clientsim.models.persona import persona_id  # noqa: PLC0415

    key = persona_id(name) if isinstance(name, str) else name
    return factory.fragments.get(key if key in factory.fragments else name)()
