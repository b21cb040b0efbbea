"""The offline model's stakeholder reviews (schema title ``stakeholder_review``).

It reads the prompt a :class:`~clientsim.teams.StakeholderPanel` member is given: the
role (``Role: ...``), what the role cares about (the ``- item`` lines under ``What you
care about:``), the requirement's acceptance criteria (the numbered lines under
``Acceptance criteria:``) and the deliverable (everything after ``Deliverable``). An
item counts as covered when at least 60% of its content words (compared by their
first five letters) appear in the deliverable. The member fails the deliverable when
an acceptance criterion or something it cares about is not covered, with a concern
naming each one; so roles that care about different things can disagree on the same
deliverable. The same prompt always gives the same answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Final

from clientsim.llm.turns import Turn


__all__ = ["answer", "covered"]

_WORD: Final = re.compile(r"[a-z0-9]+")
_STOP: Final = frozenset(
    _WORD.findall(
        "a an and are as at be by each every for from has have in into is it its of "
        "on or so that the their this to was we were when which while will with you "
        "your all any can must should not no our per than then these those also only"
    )
)
_NEEDED: Final = 0.6
_ROLE: Final = re.compile(r"^Role:\s*(.+?)\s*$", re.MULTILINE)
_CRITERION: Final = re.compile(r"^\d+\.\s+(.+?)\s*$")


def _stems(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    return [w[:5] for w in words if w not in _STOP]


def covered(item: str, deliverable: str) -> bool:
    """Whether ``deliverable`` covers ``item``: at least 60% of the item's content
    words (by their first five letters) appear in it.

    Example:
        >>> covered("Each notification is sent exactly once", "Notifications are "
        ...         "now sent exactly once.")
        True
        >>> covered("time to market", "We took our time.")
        False
    """
    wanted = list(dict.fromkeys(_stems(item)))
    if not wanted:
        return True
    have = set(_stems(deliverable))
    hits = sum(stem in have for stem in wanted)
    return hits >= math.ceil(_NEEDED * len(wanted) - 1e-9)


def _bullets_after(text: str, header: str) -> list[str]:
    lines = text.splitlines()
    try:
        start = lines.index(header) + 1
    except ValueError:
        return []
    items: list[str] = []
    for line in lines[start:]:
        if not line.startswith("- "):
            break
        item = line[2:].strip()
        if item and item != "(nothing in particular)":
            items.append(item)
    return items


def _criteria(text: str) -> list[str]:
    lines = text.splitlines()
    try:
        start = lines.index("Acceptance criteria:") + 1
    except ValueError:
        return []
    found: list[str] = []
    for line in lines[start:]:
        match = _CRITERION.match(line)
        if match is None:
            break
        found.append(match.group(1))
    return found


def _deliverable(text: str) -> str:
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Deliverable"):
            return "\n".join(lines[index + 1 :])
    return ""


def _listed(items: Sequence[str]) -> str:
    quoted = [f"'{item}'" for item in items]
    if len(quoted) < 3:  # "a" or "a and b"
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f" and {quoted[-1]}"


def answer(name: str, turns: Sequence[Turn], seed: int) -> dict[str, Any]:  # noqa: ARG001 - same rules for every seed
    """A stakeholder's verdict on the deliverable in ``turns`` (see the module
    docstring)."""
    system = "\n".join(t.content for t in turns if t.role == "system")
    user = next((t.content for t in reversed(turns) if t.role == "user"), "")
    match = _ROLE.search(system)
    role = match.group(1) if match else "stakeholder"
    cares = _bullets_after(system, "What you care about:")
    criteria = _criteria(user)
    deliverable = _deliverable(user)
    unmet = [c for c in criteria if not covered(c, deliverable)]
    ignored = [c for c in cares if not covered(c, deliverable)]
    concerns = [f"acceptance criterion not met: {c}" for c in unmet]
    concerns += [f"does not address {c}, which the {role} cares about" for c in ignored]
    if not concerns:
        met = (
            f"it meets all {len(criteria)} acceptance criteria"
            if len(criteria) > 1
            else "it meets the acceptance criterion" * len(criteria)
        )
        about = f"covers {_listed(cares)}" if cares else ""
        joined = " and ".join(part for part in (met, about) if part)
        return {
            "verdict": "pass",
            "reason": f"As the {role}, I accept it: {joined or 'nothing is missing'}.",
            "concerns": [],
        }
    missing: list[str] = []
    if unmet:
        missing.append(f"it misses {len(unmet)} of {len(criteria)} acceptance criteria")
    if ignored:
        missing.append(f"it says nothing about {_listed(ignored)}")
    return {
        "verdict": "fail",
        "reason": f"As the {role}, I cannot accept it: {' and '.join(missing)}.",
        "concerns": concerns,
    }
