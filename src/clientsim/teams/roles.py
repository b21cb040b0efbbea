"""Role templates: the seven built-in roles, the registry's roles, and teams of them.

The built-in templates (CEO, Product Manager, Engineering Lead, Designer, Sales,
Support, Simulation Analyst) ship as package data (``teams/data/roles.yaml``) and
register through the ``role`` registry (:data:`clientsim.factory.roles`), where plugins
and programs add theirs. A team is a tuple of templates, built from a list of role
names, templates and mappings, or read from a YAML, TOML or JSON file.

Example:
    >>> [role.name for role in builtin_roles()][:3]
    ['CEO', 'Product Manager', 'Engineering Lead']
    >>> get_role("product-manager").cares_about[:2]
    ('scope', 'timeline')
    >>> [role.name for role in load_team(["CEO", {"role": "Designer", "persona": "Dana"}])]
    ['CEO', 'Designer']
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

import attrs

from clientsim import factory
from clientsim._validators import did_you_mean, shown
from clientsim.config import (
    CONFIG_SUFFIXES,
    parse_text,
    read_text,
    structure_file,
    to_dict,
)
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.models.team import RoleTemplate, role_key


__all__ = [
    "RoleLike",
    "builtin_roles",
    "get_role",
    "load_roles",
    "load_team",
    "register_role",
    "roles",
]

RoleLike = str | RoleTemplate | Mapping[str, object]
"""One entry of a team: a role's name (key or title), a template, or a mapping of
template fields, optionally with ``role:`` naming a registered role it extends."""

_FIELDS: Final = tuple(field.name for field in attrs.fields(RoleTemplate))
_ENTRY_KEYS: Final = ("role", *_FIELDS)
_ENTRY_WORDS: Final = (
    "a role name (key or title), a RoleTemplate, or a mapping of role fields "
    "(with 'role' naming a registered role it extends, or 'name' for a new role)"
)


@cache
def builtin_roles() -> tuple[RoleTemplate, ...]:
    """The seven templates clientsim ships, in their file's order (read once)."""
    source = resources.files("clientsim.teams") / "data" / "roles.yaml"
    what = "clientsim's built-in roles (teams/data/roles.yaml)"
    data = parse_text(source.read_text(encoding="utf-8"), ".yaml", what)
    if not isinstance(data, list):  # pragma: no cover - the shipped file is a list
        raise ConfigError(f"{what}: expected a list of roles")
    return tuple(
        structure_file(item, RoleTemplate, head=f"invalid {what}", path=f"[{index}]")
        for index, item in enumerate(data)
    )


def roles() -> tuple[RoleTemplate, ...]:
    """Every registered role template: the built-ins in their order, then the others
    (registered by plugins or :func:`register_role`) by key.

    Example:
        >>> len(roles()) >= 7
        True
    """
    builtin = [role.key for role in builtin_roles()]
    names = factory.roles.names()
    ordered = [key for key in builtin if key in names]
    ordered += [key for key in names if key not in builtin]
    return tuple(_built(key) for key in ordered)


def _built(key: str) -> RoleTemplate:
    role = factory.roles.build(key)
    if not isinstance(role, RoleTemplate):
        raise ConfigError(
            f"the role factory registered as {key!r} returned {type(role).__name__}; "
            "a role factory takes no argument and returns a RoleTemplate"
        )
    return role


def get_role(name: str) -> RoleTemplate:
    """The registered role called ``name``: its key or its title, in any case
    (``"ceo"``, ``"CEO"``, ``"Product Manager"``, ``"product-manager"``).

    Raises:
        UnknownStrategyError: no role is called that; the message lists those there are.
        ConfigError: ``name`` is not a non-empty string.

    Example:
        >>> get_role("Engineering Lead").key
        'engineering_lead'
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"a role name must be a non-empty string; got {shown(name)}")
    names = factory.roles.names()
    for key in (name, role_key(name)):
        if key in names:
            return _built(key)
    wanted = role_key(name)
    known = roles()
    for role in known:
        if role.key == wanted:
            return role
    error = UnknownStrategyError("role", name, names)
    titles = {role.key: role.name for role in known}
    close = difflib.get_close_matches(wanted, list(titles), n=1)
    hint = f"; did you mean {titles[close[0]]!r}?" if close else ""
    listed = ", ".join(
        repr(role.name) + (f" ({role.key})" if role.key != role.name else "")
        for role in known
    )
    error.args = (f"unknown role {name!r}; known roles: {listed}{hint}",)
    raise error


def register_role(role: RoleTemplate, *, key: str | None = None) -> None:
    """Add ``role`` to the ``role`` registry under ``key`` (its :attr:`~RoleTemplate.key`
    by default), so that :func:`get_role`, :func:`load_team` and team files find it
    by name.

    Raises:
        DuplicateStrategyError: a role is already registered under that key.
        ConfigError: ``role`` is not a RoleTemplate, or the key is not a lowercase slug.
    """
    if not isinstance(role, RoleTemplate):
        raise ConfigError(f"register_role takes a RoleTemplate; got {shown(role)}")
    factory.roles.register(role.key if key is None else key, _constant(role))


def _constant(role: RoleTemplate) -> Callable[[], RoleTemplate]:
    def make() -> RoleTemplate:
        return role

    return make


def load_roles(
    path: str | os.PathLike[str], *, register: bool = False
) -> tuple[RoleTemplate, ...]:
    """The role templates of a YAML, TOML or JSON file.

    The file holds a list of roles, or a mapping whose ``roles`` key holds it (TOML:
    ``[[roles]]`` tables). Each role is a mapping of :class:`RoleTemplate` fields
    (``name`` required), or one with ``role:`` naming a registered role whose fields
    it overrides.

    Args:
        path: the file.
        register: also add each role to the registry (:func:`register_role`), so
            that teams and team files can name it.

    Raises:
        ConfigError: the file is missing or invalid; the message names the entry and
            key, what it got and what is allowed.
    """
    file = Path(path)
    head = f"invalid roles file {file}"
    data = _read(file, "roles file")
    if isinstance(data, Mapping):
        extra = sorted(set(map(str, data)) - {"roles"})
        if extra:
            raise ConfigError(
                f"{head}: unknown key {extra[0]!r} at the top level; a roles file "
                "holds a list of roles, or a mapping with just 'roles'"
                f"{did_you_mean(extra[0], ['roles'])}"
            )
        data = data.get("roles")
    if not isinstance(data, list):
        raise ConfigError(
            f"{head}: expected a list of roles (or 'roles': a list); got {shown(data)}"
        )
    found = tuple(
        _entry(item, head, f"roles[{index}]", allow_names=False)
        for index, item in enumerate(data)
    )
    if register:
        for role in found:
            register_role(role)
    return found


def load_team(
    source: Sequence[RoleLike] | str | os.PathLike[str],
) -> tuple[RoleTemplate, ...]:
    """A team's role templates, from a list or from a file.

    Args:
        source: a list whose items are role names (key or title, any case),
            :class:`RoleTemplate` values, or mappings of template fields; a mapping
            with ``role:`` extends that registered role (``{"role": "CEO",
            "persona": "Avery, founder"}`` overrides the persona). Or the path of a
            YAML, TOML or JSON file holding such a list, or a mapping whose ``team``
            key holds it (other top-level keys, such as a scenario's, are left to
            whoever else reads the file). A ``str`` is a path only when it ends in
            a config suffix (``.yaml``, ``.yml``, ``.toml``, ``.json``).

    Raises:
        ConfigError: an entry is not a role (the message names the entry and what is
            allowed), or the file is missing or invalid.

    Example:
        >>> team = load_team(
        ...     ["ceo", "Engineering Lead", {"role": "sales", "goals": ["close Acme"]}]
        ... )
        >>> [(role.name, role.goals) for role in team][2]
        ('Sales', ('close Acme',))
    """
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and source.lower().endswith(CONFIG_SUFFIXES)
    ):
        file = Path(source)
        data = _read(file, "team file")
        if isinstance(data, Mapping):
            if "team" not in data:
                raise ConfigError(
                    f"invalid team file {file}: no 'team' key; a team file holds a "
                    "list of roles, or a mapping whose 'team' key holds it"
                )
            data = data["team"]
        return _team(data, f"invalid team file {file}", "team")
    if isinstance(source, str):
        raise ConfigError(
            f"a team is a list of roles or the path of a team file "
            f"({', '.join(CONFIG_SUFFIXES)}); got the string {source!r}; for a team "
            f"of one, write [{source!r}]"
        )
    return _team(source, "invalid team", "team")


def _read(file: Path, what: str) -> object:
    suffix = file.suffix.lower()
    if suffix not in CONFIG_SUFFIXES:
        raise ConfigError(
            f"cannot read {what} {file}: its suffix must be one of "
            f"{', '.join(CONFIG_SUFFIXES)}"
        )
    return parse_text(read_text(file, what), suffix, f"{what} {file}")


def _team(data: object, head: str, path: str) -> tuple[RoleTemplate, ...]:
    if isinstance(data, str | bytes | Mapping) or not isinstance(data, Sequence):
        raise ConfigError(
            f"{head}: {path}: expected a list of roles; got {shown(data)}"
        )
    if not data:
        raise ConfigError(f"{head}: {path}: a team needs at least one role")
    return tuple(
        _entry(item, head, f"{path}[{index}]", allow_names=True)
        for index, item in enumerate(data)
    )


def _entry(value: object, head: str, path: str, *, allow_names: bool) -> RoleTemplate:
    """One role of a team or roles file (``path`` is where it is, ``team[2]``)."""
    if isinstance(value, RoleTemplate):
        return value
    if isinstance(value, str) and allow_names:
        return _named(value, head, path)
    if not isinstance(value, Mapping):
        expected = (
            _ENTRY_WORDS
            if allow_names
            else "a mapping of role fields (with 'name', or 'role' to extend one)"
        )
        raise ConfigError(f"{head}: {path}: expected {expected}; got {shown(value)}")
    unknown = sorted(str(key) for key in value if key not in _ENTRY_KEYS)
    if unknown:
        raise ConfigError(
            f"{head}: {path}.{unknown[0]}: unknown key; allowed keys in {path}: "
            f"{', '.join(_ENTRY_KEYS)}{did_you_mean(unknown[0], _ENTRY_KEYS)}"
        )
    fields = {str(key): item for key, item in value.items() if key != "role"}
    if "role" in value:
        base_name = value["role"]
        if not isinstance(base_name, str):
            raise ConfigError(
                f"{head}: {path}.role: expected the name of a registered role; got "
                f"{shown(base_name)}"
            )
        base = _named(base_name, head, f"{path}.role")
        fields = {
            **{k: v for k, v in to_dict(base).items() if v is not None},
            **fields,
        }
    elif "name" not in fields:
        raise ConfigError(
            f"{head}: {path}: give 'name' (a new role) or 'role' (a registered role "
            "to extend)"
        )
    role = structure_file(fields, RoleTemplate, head=head, path=path)
    if not role.key:
        raise ConfigError(
            f"{head}: {path}.name: a role's name needs a letter or a digit; got "
            f"{role.name!r}"
        )
    return role


def _named(name: str, head: str, path: str) -> RoleTemplate:
    try:
        return get_role(name)
    except ConfigError as exc:
        raise ConfigError(f"{head}: {path}: {exc}") from exc
