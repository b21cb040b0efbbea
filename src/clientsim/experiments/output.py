"""An experiment's output folder: its layout, summary, traces and observations.

Seed 003 fixes the layout::

    <output_directory>/exp_<YYYYmmdd_HHMMSS>/
        summary.json                 aggregate metrics       (save_aggregated_metrics)
        metadata.json                the experiment's config (save_aggregated_metrics)
        artifacts/traces.jsonl       one conversation a line (save_traces)
        artifacts/observations.jsonl the observation stream  (save_traces)
        logs/                        always present; the runner logs to logs/run.log

Everything here is synchronous file I/O; async callers run it through
``anyio.to_thread.run_sync``.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import attrs

from clientsim.analysis.summary import NONE_KEY, is_passed, summarize
from clientsim.errors import ConfigError
from clientsim.experiments._traces import (
    observation_lines,
    record_from_trace,
    trace_line,
)
from clientsim.models import to_dict
from clientsim.models.records import ConversationRecord
from clientsim.models.timestamps import as_utc


__all__ = [
    "ARTIFACTS_DIR",
    "LOGS_DIR",
    "METADATA_FILE",
    "NONE_KEY",
    "OBSERVATIONS_FILE",
    "SUMMARY_FILE",
    "TRACES_FILE",
    "ExperimentWriter",
    "LoadedExperiment",
    "check_run_id",
    "is_passed",
    "load_experiment",
    "make_subfolders",
    "new_experiment_dir",
    "observation_lines",
    "record_from_trace",
    "summarize",
    "trace_line",
    "write_json_file",
]

SUMMARY_FILE: Final = "summary.json"
METADATA_FILE: Final = "metadata.json"
ARTIFACTS_DIR: Final = "artifacts"
LOGS_DIR: Final = "logs"
TRACES_FILE: Final = f"{ARTIFACTS_DIR}/traces.jsonl"
OBSERVATIONS_FILE: Final = f"{ARTIFACTS_DIR}/observations.jsonl"

_MAX_SAME_SECOND: Final = 10_000


# -- the folder --------------------------------------------------------------------


def new_experiment_dir(output_directory: Path, *, now: datetime | None = None) -> Path:
    """Create a fresh experiment folder ``exp_<YYYYmmdd_HHMMSS>`` with its subfolders.

    The timestamp is in UTC, so names sort by start time whatever the machine's time
    zone. ``output_directory`` is created if needed. If the name is taken (two runs
    started in the same second), ``_2``, ``_3``, ... is appended; creation is atomic,
    so two processes never get the same folder.

    Args:
        output_directory: where experiments go (seed 003's ``output_directory``).
        now: the start time; default the current time. A naive datetime is read
            as local time, like every timestamp in clientsim; the name is in UTC.

    Returns:
        The new folder, containing empty ``artifacts/`` and ``logs/`` folders.

    Raises:
        ConfigError: ``output_directory`` exists but is not a directory.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> new_experiment_dir(root, now=datetime(2025, 1, 17, 14, 30, 22, tzinfo=UTC)).name
        'exp_20250117_143022'
    """
    output_directory = Path(output_directory)
    if output_directory.exists() and not output_directory.is_dir():
        raise ConfigError(
            f"output_directory {str(output_directory)!r} is a file; expected a "
            "directory (or a path that does not exist yet)"
        )
    try:
        output_directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create output_directory {str(output_directory)!r}: "
            f"{exc.strerror or exc}; set output_directory (or --output-dir) to a "
            "folder you can write to"
        ) from exc
    moment = datetime.now(UTC) if now is None else as_utc(now)
    base = f"exp_{moment:%Y%m%d_%H%M%S}"
    for number in range(1, _MAX_SAME_SECOND + 1):
        candidate = output_directory / (base if number == 1 else f"{base}_{number}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise ConfigError(
                f"cannot create an experiment folder in {str(output_directory)!r}: "
                f"{exc.strerror or exc}; set output_directory (or --output-dir) to a "
                "folder you can write to"
            ) from exc
        make_subfolders(candidate)
        return candidate
    raise ConfigError(  # pragma: no cover - ten thousand runs in one second
        f"cannot create an experiment folder in {str(output_directory)!r}: "
        f"{base} and {_MAX_SAME_SECOND - 1} numbered variants already exist"
    )


_RUN_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_run_id(value: object, source: str) -> str:
    """``value`` if it can name a run folder inside an output directory: one path
    part of letters, digits, ``.``, ``_`` and ``-`` (not starting with ``.``), such
    as ``exp_20250117_143022``. Checked wherever a run id is read (``--resume``, the
    run store), so no id can lead a run's files outside the output directory.

    Raises:
        ConfigError: ``source`` (e.g. ``"--resume"``) gave anything else.
    """
    if isinstance(value, str) and _RUN_ID.fullmatch(value):
        return value
    raise ConfigError(
        f"{source}: {value!r} is not a run id; a run id is an experiment folder's "
        "name, such as exp_20250117_143022 (letters, digits, '.', '_' and '-', no "
        "path)"
    )


def make_subfolders(directory: Path) -> None:
    """Make ``artifacts/`` and ``logs/`` in an experiment folder, if missing.

    Raises:
        ConfigError: one of them is a file, or cannot be made; the message says
            which and what to do.
    """
    for name in (ARTIFACTS_DIR, LOGS_DIR):
        folder = directory / name
        if folder.exists() and not folder.is_dir():
            raise ConfigError(
                f"{str(folder)!r} is a file where the experiment folder keeps its "
                f"{name}/ folder; move the file away and run again"
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create {str(folder)!r}: {exc.strerror or exc}; the "
                "experiment folder must be a folder you can write to"
            ) from exc


# -- writing -----------------------------------------------------------------------


def _json_default(value: object) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if attrs.has(type(value)):
        return to_dict(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(
        f"cannot write a {type(value).__name__} as JSON; use dicts, lists, strings, "
        "numbers, booleans, None, datetimes, paths or attrs values"
    )


def _dumps(value: object, *, indent: int | None = None) -> str:
    try:
        return json.dumps(
            value, ensure_ascii=False, indent=indent, default=_json_default
        )
    except TypeError as exc:
        raise ConfigError(str(exc)) from exc


def _create_beside(path: Path) -> tuple[int, Path]:
    """A new, empty temporary file beside ``path``, open for writing.

    Created with mode 0666 so the process's umask decides its permissions, as for
    any file the user's programs write (``tempfile.mkstemp`` would make it 0600).
    """
    for _ in range(100):
        temporary = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:  # pragma: no cover - 64 random bits taken
            continue
    raise FileExistsError(  # pragma: no cover
        f"cannot create a temporary file beside {path}"
    )


def _atomic_write(path: Path, chunks: Iterable[str]) -> None:
    """Write ``chunks`` to a temporary file beside ``path``, then swap it in."""
    descriptor, temporary = _create_beside(path)
    try:
        # A lone surrogate (from a misbehaving agent) cannot be encoded: write it as
        # the JSON escape it stands for instead of losing the whole file.
        with os.fdopen(
            descriptor, "w", encoding="utf-8", errors="backslashreplace", newline="\n"
        ) as file:
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise


@attrs.define
class ExperimentWriter:
    """Writes an experiment folder's files, honouring seed 003's two switches.

    ``summary.json`` and ``metadata.json`` are written only with
    ``save_aggregated_metrics``; ``artifacts/traces.jsonl`` and
    ``artifacts/observations.jsonl`` only with ``save_traces``. Every file is
    replaced atomically (written beside its target, then renamed), so a reader or a
    crash never sees half a file. Files are UTF-8 with non-ASCII text kept as is.
    Creating the writer makes the folder, ``artifacts/`` and ``logs/`` if missing.

    The methods do blocking file I/O: from async code call them through
    ``anyio.to_thread.run_sync``.

    Args:
        directory: the experiment folder (see :func:`new_experiment_dir`).
        save_traces: write the traces and observations.
        save_aggregated_metrics: write the summary and metadata.

    Example:
        >>> import tempfile
        >>> folder = new_experiment_dir(Path(tempfile.mkdtemp()))
        >>> writer = ExperimentWriter(folder, save_traces=False,
        ...                           save_aggregated_metrics=True)
        >>> writer.write_summary(summarize([])).name
        'summary.json'
        >>> writer.write_records([]) is None
        True
    """

    directory: Path = attrs.field(converter=Path)
    save_traces: bool = attrs.field(kw_only=True)
    save_aggregated_metrics: bool = attrs.field(kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise ConfigError(
                f"experiment directory {str(self.directory)!r} is a file; expected a "
                "directory"
            )
        make_subfolders(self.directory)

    def write_metadata(self, data: Mapping[str, Any]) -> Path | None:
        """Write ``metadata.json`` (indented), replacing any earlier version.

        Call it when the run starts and again when it ends (with its finish time and
        status). The report reads ``name``, ``description``, ``run_id``, ``status``,
        ``started_at``, ``finished_at`` and ``pass_outcomes`` if present.

        Returns:
            The file written, or ``None`` without ``save_aggregated_metrics``.

        Raises:
            ConfigError: ``data`` is not a mapping or holds a value that cannot be
                written as JSON.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"write_metadata takes a mapping; got {type(data).__name__}"
            )
        if not self.save_aggregated_metrics:
            return None
        return self._write_json(METADATA_FILE, dict(data))

    def write_summary(self, summary: Mapping[str, Any]) -> Path | None:
        """Write ``summary.json`` (indented), replacing any earlier version.

        Returns:
            The file written, or ``None`` without ``save_aggregated_metrics``.

        Raises:
            ConfigError: ``summary`` is not a mapping or is not JSON-able.
        """
        if not isinstance(summary, Mapping):
            raise ConfigError(
                f"write_summary takes a mapping; got {type(summary).__name__}"
            )
        if not self.save_aggregated_metrics:
            return None
        return self._write_json(SUMMARY_FILE, dict(summary))

    def write_records(self, records: Iterable[ConversationRecord]) -> Path | None:
        """Rewrite ``traces.jsonl`` and ``observations.jsonl`` from ``records``.

        Both files are replaced completely (and atomically) by the given records, one
        JSON object a line; pass every record of the run each time.

        Returns:
            The traces file, or ``None`` without ``save_traces``.

        Raises:
            ConfigError: ``records`` holds something other than
                ``ConversationRecord`` objects.
        """
        records = list(records)
        for record in records:
            if not isinstance(record, ConversationRecord):
                raise ConfigError(
                    "write_records takes ConversationRecord objects; "
                    f"got {type(record).__name__}"
                )
        if not self.save_traces:
            return None
        traces = self.directory / TRACES_FILE
        _atomic_write(traces, (_dumps(trace_line(record)) + "\n" for record in records))
        _atomic_write(
            self.directory / OBSERVATIONS_FILE,
            (
                _dumps(line) + "\n"
                for record in records
                for line in observation_lines(record)
            ),
        )
        return traces

    def _write_json(self, name: str, data: dict[str, Any]) -> Path:
        return write_json_file(self.directory / name, data)


def write_json_file(path: Path, data: Mapping[str, Any]) -> Path:
    """Write ``data`` to ``path`` as indented JSON, atomically; nothing else is made
    (an experiment folder's subfolders need not be in order)."""
    _atomic_write(path, (_dumps(dict(data), indent=2) + "\n",))
    return path


# -- reading -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LoadedExperiment:
    """An experiment folder as read back from disk.

    Attributes:
        directory: the folder.
        summary: ``summary.json``, or ``None`` if it was not written.
        metadata: ``metadata.json``, or ``None`` if it was not written.
        traces: the lines of ``artifacts/traces.jsonl`` (empty if not written).
        has_traces: whether ``traces.jsonl`` exists (it may exist and be empty).
    """

    directory: Path
    summary: dict[str, Any] | None
    metadata: dict[str, Any] | None
    traces: list[dict[str, Any]]
    has_traces: bool = False


def _read_object(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ConfigError(f"{str(path)!r} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{str(path)!r} must hold a JSON object; got {type(data).__name__}"
        )
    return data


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> ConfigError:
    return ConfigError(
        f"{str(path)!r} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
        f"offset {exc.start}); clientsim writes UTF-8, so the file was changed or "
        "damaged: restore it, or resume the run to write it again"
    )


def _read_lines(path: Path) -> list[dict[str, Any]]:
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    try:
        whole = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from exc
    lines: list[dict[str, Any]] = []
    for number, text in enumerate(whole.split("\n"), start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{str(path)!r} line {number} is not valid JSON: {exc}"
            ) from exc
        if not isinstance(data, dict):
            raise ConfigError(
                f"{str(path)!r} line {number} must be a JSON object; "
                f"got {type(data).__name__}"
            )
        lines.append(data)
    return lines


def load_experiment(directory: Path) -> LoadedExperiment:
    """Read an experiment folder written by :class:`ExperimentWriter`.

    Args:
        directory: the ``exp_...`` folder.

    Returns:
        Its summary, metadata and traces; the files that were not written are
        ``None`` (or no traces).

    Raises:
        ConfigError: the folder does not exist, holds none of ``summary.json``,
            ``metadata.json`` and ``artifacts/traces.jsonl`` (the message lists the
            ``exp_*`` folders inside, if it is an output directory), or a file is not
            valid JSON.

    Example:
        >>> import tempfile
        >>> folder = new_experiment_dir(Path(tempfile.mkdtemp()))
        >>> ExperimentWriter(folder, save_traces=True, save_aggregated_metrics=True
        ...                  ).write_records([]) is not None
        True
        >>> load_experiment(folder).traces
        []
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(
            f"experiment folder {str(directory)!r} does not exist or is not a "
            "directory; expected a folder such as experiments/exp_20250117_143022"
        )
    traces_path = directory / TRACES_FILE
    has_traces = traces_path.is_file()
    summary = _read_object(directory / SUMMARY_FILE)
    metadata = _read_object(directory / METADATA_FILE)
    if summary is None and metadata is None and not has_traces:
        runs = sorted(path.name for path in directory.glob("exp_*") if path.is_dir())
        hint = (
            f"; it holds the experiment folders {', '.join(runs)} - pass one of them"
            if runs
            else ""
        )
        raise ConfigError(
            f"{str(directory)!r} is not an experiment folder: expected {SUMMARY_FILE}, "
            f"{METADATA_FILE} or {TRACES_FILE} inside{hint}"
        )
    return LoadedExperiment(
        directory=directory,
        summary=summary,
        metadata=metadata,
        traces=_read_lines(traces_path) if has_traces else [],
        has_traces=has_traces,
    )
