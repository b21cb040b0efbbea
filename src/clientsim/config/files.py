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
import tomllib
from pathlib import Path
from typing import Final

from clientsim.errors import ConfigError


__all__ = ["CONFIG_SUFFIXES", "MAX_VALUES", "parse_text", "read_text"]

CONFIG_SUFFIXES: Final = (".yaml", ".yml", ".toml", ".json")
"""The suffixes of the config files clientsim reads."""

MAX_VALUES: Final = 1_000_000
"""The most values a YAML file may expand to through its aliases."""


def parse_text(text: str, suffix: str, what: str) -> object:
    """Parse YAML (``.yaml``/``.yml``), TOML (``.toml``) or, for any other suffix, JSON.

    Args:
        text: the file's text.
        suffix: the file's suffix, lowercase, with its dot.
        what: how messages name the text, e.g. ``"experiment config x.yaml"``.

    Raises:
        ConfigError: the text is not valid; the message gives the line and column
            where the parser says.
    """
    if suffix in {".yaml", ".yml"}:
        return _parse_yaml(text, what)
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except (tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
            raise ConfigError(f"{what} is not valid TOML: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc}") from exc


def _parse_yaml(text: str, what: str) -> object:
    try:
        import yaml  # noqa: PLC0415 - only needed to read YAML
    except ImportError as exc:  # pragma: no cover - pyyaml is a dependency
        raise ConfigError(f"cannot read {what}: install pyyaml to read YAML") from exc
    try:
        data = yaml.safe_load(text)
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
        RecursionError,
    ) as exc:
        raise ConfigError(f"{what} is not valid YAML: {exc}") from exc
    _check_expansion(data, what)
    return data


def _check_expansion(data: object, what: str) -> None:
    """Refuse YAML whose aliases expand it past :data:`MAX_VALUES` values (a "billion
    laughs" file) or make it contain itself; counted per distinct node, so the check
    costs what the file holds, not what it expands to."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: object) -> int:
        if not isinstance(node, list | dict):
            return 1
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in open_nodes:
            raise ConfigError(f"{what} refers to itself through a YAML alias")
        open_nodes.add(key)
        children = node.values() if isinstance(node, dict) else node
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

    try:
        size(data)
    except RecursionError as exc:
        raise ConfigError(f"{what} is nested too deeply") from exc


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
