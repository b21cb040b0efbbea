"""Reading config files: YAML, TOML or JSON text into plain data, errors with the line.

Example:
    >>> parse_text("iterations: 3", ".yaml", "my config")
    {'iterations': 3}
    >>> parse_text('{"iterations": }', ".json", "my config")
    Traceback (most recent call last):
    ...
    clientsim.errors.ConfigError: my config is not valid JSON at line 1, column 16: Expecting value
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Hashable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from clientsim._validators import lone_surrogate
from clientsim.errors import ConfigError


if TYPE_CHECKING:
    import yaml


__all__ = [
    "CONFIG_SUFFIXES",
    "MAX_VALUES",
    "check_text_data",
    "lone_surrogate",
    "parse_text",
    "read_text",
]

CONFIG_SUFFIXES: Final = (".yaml", ".yml", ".toml", ".json")
"""The suffixes of the config files clientsim reads."""

MAX_VALUES: Final = 1_000_000
"""The most values a YAML file may expand to through its aliases."""


def parse_text(text: str, suffix: str, what: str) -> object:
    """Parse YAML (``.yaml``/``.yml``), TOML (``.toml``) or, for any other suffix, JSON.

    A key twice in one mapping is an error in all three (never "the last one wins"),
    and YAML aliases may not expand the file past :data:`MAX_VALUES` values.

    Args:
        text: the file's text.
        suffix: the file's suffix, lowercase, with its dot.
        what: how messages name the text, e.g. ``"experiment config x.yaml"``.

    Raises:
        ConfigError: the text is not valid; the message gives the line and column
            where the parser says.
    """
    if suffix in {".yaml", ".yml"}:
        data = _parse_yaml(text, what)
    elif suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
            raise ConfigError(f"{what} is not valid TOML: {exc}") from exc
    else:
        data = _parse_json(text, what)
    check_text_data(data, what)
    return data


# ------------------------------------------------------------------------- text


def check_text_data(data: object, what: str, path: str = "") -> None:
    """Refuse a lone surrogate (see :func:`lone_surrogate`) in any key or string of
    the plain data ``data``, as a config file or ``from_dict`` gives it.

    Values (conversations, records) may hold such strings, from an agent that sent
    them; a configuration may not, since every conversation would fail on it.

    Args:
        data: the data.
        what: the start of the message, e.g. ``"invalid experiment config x.yaml"``.
        path: the key path of ``data`` itself, or ``""``.

    Raises:
        ConfigError: ``<what>: <key path> holds a lone surrogate ...``.
    """
    done: set[int] = set()  # aliases share containers: each is looked at once
    pending: list[tuple[str, object]] = [(path, data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            problem = lone_surrogate(value)
            if problem is not None:
                raise ConfigError(f"{what}: {path or 'the value'} {problem}")
            continue
        if not isinstance(value, Mapping | list | tuple) or id(value) in done:
            continue
        done.add(id(value))
        if not isinstance(value, Mapping):
            pending.extend((f"{path}[{at}]", item) for at, item in enumerate(value))
            continue
        for key, item in value.items():
            problem = lone_surrogate(key) if isinstance(key, str) else None
            if problem is not None:
                raise ConfigError(f"{what}: the key {key!r} {problem}")
            pending.append((f"{path}.{key}" if path else str(key), item))


# ------------------------------------------------------------------------- JSON


class _DuplicateKey(Exception):  # noqa: N818 - caught below, never seen outside
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return mapping


def _parse_json(text: str, what: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except _DuplicateKey as exc:
        line = _json_repeat_line(text)
        where = f" (again at line {line})" if line is not None else ""
        raise ConfigError(
            f"{what} has the key {exc.key!r} twice in one object{where}; a key may "
            "appear once per object: remove or rename one"
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc}") from exc


_SPACE: Final = re.compile(r"[ \t\n\r]*")


def _json_repeat_line(text: str) -> int | None:
    """The line of the first key repeated within one object of the (valid) JSON
    ``text``; only called once a repeat is known, so the fast path stays fast."""
    try:
        _JsonWalk(text).value(0)
    except _DuplicateKey as found:
        return int(found.key)
    except (RecursionError, ValueError, IndexError, StopIteration):
        return None
    return None


class _JsonWalk:
    """Walks valid JSON text, raising :class:`_DuplicateKey` with the line (as its
    key) of the first key an object repeats."""

    def __init__(self, text: str) -> None:
        self.text = text
        # The decoder's own scanner: a value at a position, and where it ends.
        self.scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]

    def skip(self, at: int) -> int:
        match = _SPACE.match(self.text, at)
        return match.end() if match else at

    def value(self, at: int) -> int:
        """Walk the value at ``at``; where it ends."""
        at = self.skip(at)
        opening = self.text[at : at + 1]
        if opening == "{":
            return self.members(at + 1, "}", keyed=True)
        if opening == "[":
            return self.members(at + 1, "]", keyed=False)
        return int(self.scan(self.text, at)[1])

    def members(self, at: int, closing: str, *, keyed: bool) -> int:
        seen: set[str] = set()
        at = self.skip(at)
        if self.text[at : at + 1] == closing:
            return at + 1
        while True:
            if keyed:
                key, after = self.scan(self.text, at)
                if key in seen:
                    raise _DuplicateKey(str(self.text.count("\n", 0, at) + 1))
                seen.add(key)
                at = self.skip(after) + 1  # the colon
            at = self.skip(self.value(at))
            if self.text[at] != ",":
                return at + 1
            at = self.skip(at + 1)


# ------------------------------------------------------------------------- YAML


def _parse_yaml(text: str, what: str) -> object:
    try:
        import yaml  # noqa: PLC0415 - only needed to read YAML
    except ImportError as exc:  # pragma: no cover - pyyaml is a dependency
        raise ConfigError(f"cannot read {what}: install pyyaml to read YAML") from exc
    try:
        return _load_yaml(text, what)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{what} is not valid YAML{where}: {exc.problem or exc.context}"
        ) from exc
    except (
        yaml.YAMLError,
        ValueError,
        TypeError,
        OverflowError,
    ) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{what} is not valid YAML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{what} is nested too deeply") from exc


def _load_yaml(text: str, what: str) -> object:
    loader = _loader_class()(text)  # reads the first characters: it may raise
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        # Measured on the parsed nodes, before anything is built: an alias is one
        # shared node, so this costs what the file holds, not what it expands to.
        _check_expansion(node, what)
        return loader.construct_document(node)
    finally:
        loader.dispose()


@cache
def _loader_class() -> type[yaml.SafeLoader]:
    """PyYAML's safe loader, refusing a key twice in one mapping."""
    import yaml  # noqa: PLC0415

    merge = "tag:yaml.org,2002:merge"

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(
            self, node: yaml.MappingNode, deep: bool = False
        ) -> dict[Hashable, Any]:
            # Keys written out in this mapping, not those a merge (<<) brings in:
            # a merged key that the mapping then sets again is YAML's way to override.
            first: dict[object, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == merge:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    earlier = first.setdefault(key, key_node)
                except TypeError:
                    continue  # an unhashable key: the constructor says so below
                if earlier is not key_node:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"the key {key!r} appears twice in one mapping (first at line "
                        f"{earlier.start_mark.line + 1}); a key may appear once per "
                        "mapping: remove or rename one",
                        key_node.start_mark,
                    )
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def _check_expansion(root: yaml.Node, what: str) -> None:
    """Refuse YAML whose aliases expand it past :data:`MAX_VALUES` values (a "billion
    laughs" file) or make it contain itself; counted per distinct node, so the check
    costs what the file holds, not what it expands to. A merge (``<<``) counts the
    whole mapping it merges, an upper bound of what it adds."""
    import yaml  # noqa: PLC0415

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        if isinstance(node, yaml.ScalarNode):
            return 1
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in open_nodes:
            raise ConfigError(f"{what} refers to itself through a YAML alias")
        open_nodes.add(key)
        children: list[yaml.Node] = (
            [child for pair in node.value for child in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_VALUES:
                raise ConfigError(
                    f"{what} expands to more than {MAX_VALUES:,} values through YAML "
                    "aliases; write the values out, or use fewer aliases"
                )
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root)


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of ``path``.

    Args:
        path: the file.
        what: how messages name it, e.g. ``"experiment config"``.

    Raises:
        ConfigError: ``<what> <path> does not exist``, or it cannot be read.
    """
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from exc
