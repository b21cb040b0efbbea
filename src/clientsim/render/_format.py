"""Reading and formatting the values renderers show, shared by every renderer.

The files of an experiment folder are a user's to edit, so the readers never trust a
shape: a missing or mistyped value reads as empty (a mapping), ``None`` (a number) or
``0`` (a count), and formats as ``"-"``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final


if TYPE_CHECKING:
    from clientsim.experiments.output import LoadedExperiment
    from clientsim.models import Message

__all__ = [
    "RUN_FACTS",
    "as_count",
    "as_mapping",
    "as_number",
    "cut",
    "escape",
    "fmt_cost",
    "fmt_number",
    "fmt_percent",
    "pass_outcomes_of",
    "shown_calls",
    "unfinished_note",
]


RUN_FACTS: Final = (
    ("description", "Description"),
    ("run_id", "Run id"),
    ("status", "Status"),
    ("started_at", "Started"),
    ("finished_at", "Finished"),
)
"""The facts of a run every report shows first: metadata key and label."""


def unfinished_note(metadata: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """What a report says about a run that did not finish, or ``None`` if it did.

    An interrupted run (Ctrl-C) wrote what finished and ``"status": "interrupted"``;
    a run still marked ``"running"`` is running or its process was killed before it
    wrote its results (they are in the store). Either is finished by a resume.

    Returns:
        The sentence to show and the command that finishes the run (``None`` when
        the metadata holds no run id).
    """
    status = metadata.get("status")
    run_id = metadata.get("run_id")
    command = (
        f"clientsim run <experiment file> --resume {run_id}"
        if isinstance(run_id, str) and run_id
        else None
    )
    if status == "interrupted":
        stored = as_count(metadata.get("stored"))
        total = metadata.get("grid_size")
        of = f" of {as_count(total)}" if as_number(total) is not None else ""
        sentence = (
            f"This run was interrupted: {stored}{of} conversations finished and are "
            "shown here."
        )
        return sentence, command
    if status == "running":
        sentence = (
            "This run has not finished: it is still running, or its process ended "
            "before writing its results (what finished is in the store)."
        )
        return sentence, command
    return None


def escape(value: object) -> str:
    """``value`` as text, escaped for HTML element content and quoted attributes."""
    return html.escape(str(value), quote=True)


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def as_mapping(value: object) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_number(value: object) -> float | None:
    """``value`` if it is an int or a float (not a bool), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def as_count(value: object) -> int:
    """``value`` as an int; ``0`` if it is not a number."""
    found = as_number(value)
    return int(found) if found is not None else 0


def fmt_number(value: object, digits: int = 2) -> str:
    """A number with thousands separators (``digits`` decimals unless whole)."""
    found = as_number(value)
    if found is None:
        return "-"
    if isinstance(found, int) or found.is_integer():
        return f"{int(found):,}"
    return f"{found:,.{digits}f}"


def fmt_percent(value: object) -> str:
    """A fraction as a percentage with one decimal: ``0.5`` -> ``"50.0%"``."""
    found = as_number(value)
    return "-" if found is None else f"{found * 100:.1f}%"


def fmt_cost(value: object) -> str:
    """US dollars; fractions of a cent keep two significant digits visible."""
    found = as_number(value)
    if found is None:
        return "-"
    if found == 0:
        return "$0.00"
    return f"${found:,.4f}" if found >= 0.01 else f"${found:.6f}"


def pass_outcomes_of(loaded: LoadedExperiment) -> list[str]:
    """The outcomes that count as a pass, from the summary, metadata or config."""
    metadata = as_mapping(loaded.metadata)
    for source in (
        as_mapping(as_mapping(loaded.summary).get("pass_rate")).get("pass_outcomes"),
        metadata.get("pass_outcomes"),
        as_mapping(metadata.get("config")).get("pass_outcomes"),
    ):
        if isinstance(source, list) and all(isinstance(name, str) for name in source):
            return source
    return []


_RESULT_CHARS: Final = 80


def shown_calls(message: Message) -> list[str]:
    """A message's tool calls, one line each: ``name(arguments) -> result``, the
    result trimmed (not escaped: the caller escapes)."""
    lines = []
    for call in message.tool_calls:
        line = call.describe()
        if call.result is not None:
            result = " ".join(call.result.split())
            if len(result) > _RESULT_CHARS:
                result = result[: _RESULT_CHARS - 3] + "..."
            line += f" -> {result}"
        lines.append(line)
    return lines
