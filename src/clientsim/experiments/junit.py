"""A run's conversations as a JUnit XML report, for CI systems that read one.

``clientsim run --junit-xml PATH`` writes it; :func:`write_junit_xml` is the same
from Python. One ``<testcase>`` per conversation of the grid:

- ``classname``: the experiment's ``name``; ``name``: the grid cell
  (``<input id>/<persona id>/<iteration>``) and the input, e.g.
  ``refund/terse/0: I want my money back``;
- a conversation that passed (as the pass rate counts it, see
  :func:`~clientsim.experiments.output.is_passed`) has no child element;
- one that ran to its end without passing carries a ``<failure>``, and one that
  failed, timed out or ended on an error carries an ``<error>``; both hold the
  conversation's seed, its outcome and ending, and its transcript (each message cut
  to :data:`MESSAGE_CHARS` characters, the last :data:`TRANSCRIPT_MESSAGES`
  messages kept).

Text that XML 1.0 cannot hold (control characters, lone surrogates from a
misbehaving agent) and carriage returns (a parser would read them as line feeds)
are written as ``\\uXXXX`` escapes, so the file always parses and shows what was said.
The file is written beside its target and then renamed into place: a reader sees
the old file or the new one, never half of one.

Example:
    >>> import tempfile
    >>> import xml.etree.ElementTree as ET
    >>> from pathlib import Path
    >>> from clientsim.models import ConversationRecord, GridCell, RunStatus
    >>> cell = GridCell(input_id="refund", persona_id="terse", iteration=0)
    >>> record = ConversationRecord(run_id="r", cell=cell, seed=7,
    ...     status=RunStatus.DONE, input="I want my money back")
    >>> path = Path(tempfile.mkdtemp()) / "junit.xml"
    >>> _ = write_junit_xml([record], path, suite="smoke", pass_outcomes=["resolved"])
    >>> case = ET.parse(path).getroot().find("testsuite/testcase")
    >>> case.get("classname"), case.get("name")
    ('smoke', 'refund/terse/0: I want my money back')
    >>> case.find("failure").get("message")
    'no pass outcome (outcome: none; wanted one of resolved); seed 7'
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Final

from clientsim.analysis.summary import error_of, is_passed, outcome_of
from clientsim.experiments.output import _atomic_write
from clientsim.models import ConversationRecord, RunStatus


__all__ = ["MESSAGE_CHARS", "TRANSCRIPT_MESSAGES", "write_junit_xml"]

MESSAGE_CHARS: Final = 500
"""The longest a transcript message is shown in a failure (longer ones are cut)."""
TRANSCRIPT_MESSAGES: Final = 40
"""How many of a conversation's last messages a failure shows."""
NAME_CHARS: Final = 80
"""The longest the input shown in a test case's name may be."""

# Every character XML 1.0 keeps as it is; anything else is written as an escape
# (a carriage return too: a parser would turn it into a line feed).
_NOT_XML: Final = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    r"""``text`` with every character XML 1.0 cannot hold written as ``\uXXXX``.

    Example:
        >>> _xml_safe("bell\x07 and \ud800")
        'bell\\u0007 and \\ud800'
    """
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _latest(records: Iterable[ConversationRecord]) -> list[ConversationRecord]:
    """One record per grid cell (the last stored), in the order cells first came."""
    by_key: dict[str, ConversationRecord] = {}
    for record in records:
        by_key[record.key] = record
    return list(by_key.values())


def _transcript(record: ConversationRecord) -> str:
    if record.result is None or not record.result.conversation.messages:
        return "(no messages)"
    messages = record.result.conversation.messages
    lines: list[str] = []
    if len(messages) > TRANSCRIPT_MESSAGES:
        lines.append(f"... {len(messages) - TRANSCRIPT_MESSAGES} earlier message(s)")
    lines.extend(
        f"{message.sender.value}: {_cut(message.content, MESSAGE_CHARS)}"
        for message in messages[-TRANSCRIPT_MESSAGES:]
    )
    return "\n".join(lines)


def _details(record: ConversationRecord) -> str:
    result = record.result
    ending = result.ending if result is not None else None
    lines = [
        f"seed: {record.seed}",
        f"status: {record.status.value}",
        f"outcome: {outcome_of(record) or 'none'}",
    ]
    if ending is not None:
        lines.append(f"ending: {ending.reason} ({ending.detail})")
    error = error_of(record)
    if error is not None:
        lines.append(
            f"error: {error.side} {error.source}: {error.type}: {error.message}"
        )
    lines += ["", "transcript:", _transcript(record)]
    return "\n".join(lines)


def _case(
    record: ConversationRecord, suite: str, pass_outcomes: Collection[str]
) -> tuple[ET.Element, str | None]:
    """The ``<testcase>`` of ``record`` and what it counts as (``None``: a pass)."""
    name = record.key
    if record.input:
        name = f"{name}: {_cut(' '.join(record.input.split()), NAME_CHARS)}"
    case = ET.Element(
        "testcase",
        {
            "classname": _xml_safe(suite),
            "name": _xml_safe(name),
            "time": f"{max(0.0, record.duration_seconds):.3f}",
        },
    )
    if is_passed(record, pass_outcomes):
        return case, None
    error = error_of(record)
    if record.status is not RunStatus.DONE or error is not None:
        kind = "error"
        message = (
            f"{error.type}: {error.message}"
            if error is not None
            else f"the conversation {record.status.value}"
        )
        what = error.type if error is not None else record.status.value
    else:
        kind = "failure"
        wanted = ", ".join(sorted(pass_outcomes))
        message = f"no pass outcome (outcome: {outcome_of(record) or 'none'}"
        message += f"; wanted one of {wanted})" if wanted else ")"
        what = "NoPassOutcome"
    child = ET.SubElement(
        case,
        kind,
        {
            "message": _xml_safe(_cut(f"{message}; seed {record.seed}", 1000)),
            "type": _xml_safe(what),
        },
    )
    child.text = _xml_safe(_details(record))
    return case, kind


def write_junit_xml(
    records: Iterable[ConversationRecord],
    path: str | Path,
    *,
    suite: str,
    pass_outcomes: Collection[str] = (),
) -> Path:
    """Write ``records`` as a JUnit XML report to ``path`` (atomically).

    Args:
        records: the run's conversations (the last record of each grid cell counts).
        path: the file to write; its folder must exist.
        suite: the test suite's name and every test case's ``classname`` (the
            experiment's name).
        pass_outcomes: the outcomes that count as a pass, as for the pass rate;
            empty: a conversation passes if it finished without an error.

    Returns:
        The file written.

    Raises:
        OSError: the file cannot be written.
    """
    target = Path(path)
    cases = [_case(record, suite, pass_outcomes) for record in _latest(records)]
    kinds = [kind for _, kind in cases]
    attributes = {
        "name": _xml_safe(suite),
        "tests": str(len(cases)),
        "failures": str(kinds.count("failure")),
        "errors": str(kinds.count("error")),
        "skipped": "0",
        "time": f"{sum(float(case.get('time', 0)) for case, _ in cases):.3f}",
    }
    root = ET.Element("testsuites", attributes)
    suite_element = ET.SubElement(root, "testsuite", attributes)
    suite_element.extend(case for case, _ in cases)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    _atomic_write(target, ['<?xml version="1.0" encoding="utf-8"?>\n', text, "\n"])
    return target
