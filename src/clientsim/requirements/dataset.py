"""Requirements sampled from a curated corpus (shipped) or the user's JSONL/CSV file."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Final

import anyio.to_thread
import attrs

from clientsim.config.files import parse_text
from clientsim.errors import ClientSimError, ConfigError
from clientsim.models.client import TaskRequirement
from clientsim.requirements.base import check_count, check_options, emitted, rng_for


__all__ = ["FIELDS", "DatasetGenerator", "load_requirements", "parse_requirements"]

FIELDS: Final = (
    "title",
    "description",
    "task_type",
    "priority",
    "complexity",
    "acceptance_criteria",
    "domain",
    "requirement_id",
)
"""The fields a corpus row may have (``title`` and ``description`` are required)."""

_REQUIRED: Final = ("title", "description")
BUILTIN_NAME: Final = "clientsim/requirements/data/requirements.jsonl"


def _row(where: str, data: Mapping[str, Any]) -> TaskRequirement:
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown field {unknown[0]!r}; allowed: {', '.join(FIELDS)}"
        )
    for name in _REQUIRED:
        if not data.get(name):
            raise ConfigError(f"{where}: missing {name!r}")
    try:
        return TaskRequirement(**{k: v for k, v in data.items() if v not in (None, "")})
    except ClientSimError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    except TypeError as exc:  # e.g. a number where a list of strings belongs
        raise ConfigError(f"{where}: {exc}") from exc


def _jsonl(name: str, text: str) -> list[TaskRequirement]:
    rows: list[TaskRequirement] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        data = parse_text(line, ".json", where)  # a key twice is refused too
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a JSON object; got {data!r}")
        criteria = data.get("acceptance_criteria", [])
        if not isinstance(criteria, list) or not all(
            isinstance(c, str) for c in criteria
        ):
            raise ConfigError(
                f"{where}: acceptance_criteria must be a list of strings; got {criteria!r}"
            )
        rows.append(_row(where, data))
    return rows


def _csv(name: str, text: str) -> list[TaskRequirement]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [column for column in header if column not in FIELDS]
    if unknown:
        raise ConfigError(
            f"{name} line 1: unknown column {unknown[0]!r}; allowed: {', '.join(FIELDS)}"
        )
    rows: list[TaskRequirement] = []
    for record in reader:
        where = f"{name} line {reader.line_num}"
        if None in record:
            raise ConfigError(f"{where}: more values than the header has columns")
        data: dict[str, Any] = {k: (v or "").strip() for k, v in record.items()}
        if data.get("complexity"):
            try:
                data["complexity"] = int(data["complexity"])
            except ValueError:
                raise ConfigError(
                    f"{where}: complexity must be an integer from 1 to 5; "
                    f"got {data['complexity']!r}"
                ) from None
        data["acceptance_criteria"] = [
            c.strip()
            for c in data.get("acceptance_criteria", "").split(";")
            if c.strip()
        ]
        rows.append(_row(where, data))
    return rows


def parse_requirements(
    name: str, text: str, *, kind: str
) -> tuple[TaskRequirement, ...]:
    """Parse corpus text; ``kind`` is ``"jsonl"`` or ``"csv"``.

    Args:
        name: what to call the source in error messages (e.g. a file name).
        text: the content.
        kind: ``"jsonl"`` (one JSON object per line) or ``"csv"`` (a header row with
            the columns of :data:`FIELDS`, criteria separated by ``;``).

    Raises:
        ConfigError: a row is invalid (naming ``name`` and the line), or the corpus
            is empty.
    """
    if kind == "jsonl":
        rows = _jsonl(name, text)
    elif kind == "csv":
        rows = _csv(name, text)
    else:
        raise ConfigError(f"unknown corpus kind {kind!r}; allowed: 'csv', 'jsonl'")
    if not rows:
        raise ConfigError(f"{name}: holds no requirements")
    seen: set[str] = set()
    for row in rows:
        if row.requirement_id and row.requirement_id in seen:
            raise ConfigError(
                f"{name}: requirement_id {row.requirement_id!r} is used twice; ids "
                "must be unique (or left out)"
            )
        seen.add(row.requirement_id)
    return tuple(rows)


def load_requirements(
    path: str | os.PathLike[str] | None = None,
) -> tuple[TaskRequirement, ...]:
    """Read a corpus (blocking I/O): a ``.jsonl`` or ``.csv`` file, or the shipped one.

    Raises:
        ConfigError: the file is missing, has an unknown suffix, or a row is invalid.
    """
    if path is None:
        data = resources.files("clientsim.requirements") / "data" / "requirements.jsonl"
        return parse_requirements(BUILTIN_NAME, data.read_text("utf-8"), kind="jsonl")
    file = Path(path)
    kind = file.suffix.lower().lstrip(".")
    if kind not in {"jsonl", "csv"}:
        raise ConfigError(
            f"requirements file {str(file)!r} must end in .jsonl or .csv; got {file.suffix!r}"
        )
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read requirements file {str(file)!r}: {exc}"
        ) from exc
    return parse_requirements(str(file), text, kind=kind)


@attrs.define
class DatasetGenerator:
    """Requirements sampled from a curated corpus.

    With no ``path`` the corpus shipped with clientsim is used (over 100 requirements
    across every task type and the domains backend, frontend, data, infra, security,
    mobile and docs). Sampling is seeded and without replacement: a call returns
    distinct rows until the corpus is exhausted, then starts a new shuffled pass
    (later passes get ids suffixed ``#2``, ``#3`` ... so ids stay unique).

    Args:
        path: a ``.jsonl`` file (one JSON object per line with the keys of
            :data:`FIELDS`) or a ``.csv`` file (a header row of those columns,
            acceptance criteria separated by ``;``).

    Raises:
        ConfigError: (on first use) the file is unreadable or a row is invalid; the
            message names the file and the line.

    Example:
        >>> import anyio
        >>> from clientsim import DatasetGenerator
        >>> gen = DatasetGenerator()
        >>> reqs = anyio.run(lambda: gen.generate(5, seed=3))
        >>> len({r.title for r in reqs})
        5
    """

    name: ClassVar[str] = "dataset"

    path: Path | None = attrs.field(
        default=None, converter=attrs.converters.optional(Path)
    )
    _corpus: tuple[TaskRequirement, ...] | None = attrs.field(
        default=None, init=False, repr=False, eq=False
    )

    @classmethod
    def from_config(cls, **options: Any) -> DatasetGenerator:
        """Build from plain values: ``path`` (optional).

        Raises:
            ConfigError: an option is unknown.
        """
        check_options(cls.name, options, ("path",))
        return cls(options.get("path"))

    async def load(self) -> tuple[TaskRequirement, ...]:
        """The whole corpus (read once, in a worker thread, then cached).

        Raises:
            ConfigError: the file is unreadable or a row is invalid.
        """
        if self._corpus is None:
            self._corpus = await anyio.to_thread.run_sync(load_requirements, self.path)
        return self._corpus

    async def generate(
        self, count: int, *, seed: int = 0
    ) -> tuple[TaskRequirement, ...]:
        """Sample ``count`` requirements.

        Raises:
            ConfigError: ``count`` is below 1, or the corpus is invalid.
        """
        check_count(count, seed)
        corpus = await self.load()
        rng = rng_for(self.name, seed)
        result: list[TaskRequirement] = []
        passes = 0
        while len(result) < count:
            passes += 1
            order = list(range(len(corpus)))
            rng.shuffle(order)
            for index in order[: count - len(result)]:
                row = corpus[index]
                base = row.requirement_id or f"dataset-{index + 1}"
                ident = base if passes == 1 else f"{base}#{passes}"
                result.append(attrs.evolve(row, requirement_id=ident, depends_on=()))
        return emitted(self.name, tuple(result))
