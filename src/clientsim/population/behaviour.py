"""Agent behaviour checks on a population run (seed 002's agent-behaviour validation).

Each stored unit's transcript is read from the persona's side, and four failures of a
simulated persona are counted per run:

- ``role_reversal``: the persona talks like the other side (it offers help, asks the
  questions, thanks the respondent, or says it is an AI);
- ``goal_leak``: it gives away what it was told (its instructions, its prompt, its
  leanings or fragments, that it is simulated);
- ``premature_ending``: the unit ended before every question was answered (an
  error, a timeout, or missing answers);
- ``demographic_contradiction``: it says something its demographics rule out (an age
  outside its age band; a spouse or children its household does not have).

The checks are rules on the text, so they cost nothing, give the same counts every
time, and each finding quotes the message that shows it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Final

import attrs

from clientsim.models import ConversationRecord, ParticipantRole, RunStatus
from clientsim.models.conversation import Message


__all__ = ["CHECKS", "BehaviourFinding", "BehaviourReport", "check_behaviour"]

CHECKS: Final[tuple[str, ...]] = (
    "role_reversal",
    "goal_leak",
    "premature_ending",
    "demographic_contradiction",
)

_REVERSAL: Final = re.compile(
    r"\b(how (?:can|may) i (?:help|assist)|as an ai\b|i(?:'m| am) an? (?:ai|assistant|"
    r"language model)|thank you for (?:participating|taking part|your answers)|"
    r"(?:next|my next) question|let me ask you)",
    re.IGNORECASE,
)
_LEAK: Final = re.compile(
    r"\b(my (?:goal|instructions?|prompt|persona) (?:is|are|says?)|i was (?:told|"
    r"instructed) to|system prompt|i(?:'m| am) (?:a )?simulated|as a persona|"
    r"leanings:|fragments:|taking part in a study as the person)",
    re.IGNORECASE,
)
_AGE: Final = re.compile(
    r"\b(?:i(?:'m| am)|at|aged?)\s+(\d{2})(?:\s*(?:years?|yrs?)(?:\s*old)?)?\b",
    re.IGNORECASE,
)
_BAND: Final = re.compile(r"(\d{2})\s*(?:-|to|\u2013)\s*(\d{2})|(\d{2})\s*\+")
_SPOUSE: Final = re.compile(r"\bmy (?:husband|wife|spouse|partner)\b", re.IGNORECASE)
_CHILDREN: Final = re.compile(
    r"\bmy (?:kids?|children|son|daughter|toddler|baby)\b", re.IGNORECASE
)


@attrs.frozen(kw_only=True)
class BehaviourFinding:
    """One failure found: which unit, which check, and the words that show it."""

    key: str
    persona_id: str
    check: str
    evidence: str


@attrs.frozen(kw_only=True)
class BehaviourReport:
    """The checks' counts over a run.

    Attributes:
        units: units checked.
        counts: per check, how many units failed it (every check is present).
        findings: every failure, with its evidence.
    """

    units: int
    counts: dict[str, int]
    findings: tuple[BehaviourFinding, ...]

    def rate(self, check: str) -> float:
        """The share of units that failed ``check``."""
        return self.counts.get(check, 0) / self.units if self.units else 0.0

    def render(self) -> str:
        """One line per check: count and share, then the first findings."""
        lines = [f"behaviour checks over {self.units} unit(s)"]
        lines.extend(
            f"  {check}: {self.counts[check]} ({self.rate(check):.0%})"
            for check in CHECKS
        )
        lines.extend(
            f"  - {f.key} [{f.check}] {f.evidence[:100]!r}" for f in self.findings[:10]
        )
        return "\n".join(lines)


def _persona_messages(record: ConversationRecord) -> list[Message]:
    if record.result is None:
        return []
    messages = record.result.conversation.messages
    spoken = [m for m in messages if m.speaker is not None]
    if spoken:  # a group: every member but the moderator speaks as a persona
        return [
            m
            for m in spoken
            if "moderator" not in (m.speaker.role or "").lower()  # type: ignore[union-attr]
            and "moderator" not in m.speaker.name.lower()  # type: ignore[union-attr]
        ]
    return [m for m in messages if m.sender is ParticipantRole.CUSTOMER]


def _age_band(demographics: dict[str, Any]) -> tuple[int, int] | None:
    for key, value in demographics.items():
        if "age" not in key.lower():
            continue
        match = _BAND.search(str(value))
        if match is None:
            continue
        if match.group(3):
            return int(match.group(3)), 120
        return int(match.group(1)), int(match.group(2))
    return None


def _household(demographics: dict[str, Any]) -> str:
    return " ".join(
        str(v).lower()
        for k, v in demographics.items()
        if any(word in k.lower() for word in ("household", "marital", "family"))
    )


def _contradiction(text: str, demographics: dict[str, Any]) -> str | None:
    band = _age_band(demographics)
    if band is not None:
        for match in _AGE.finditer(text):
            age = int(match.group(1))
            if not band[0] <= age <= band[1]:
                return match.group(0)
    household = _household(demographics)
    if household:
        alone = any(
            w in household for w in ("single", "one-person", "one person", "alone")
        )
        childless = (
            "without children" in household or "no children" in household or alone
        )
        spouse = _SPOUSE.search(text)
        if alone and spouse is not None:
            return spouse.group(0)
        kids = _CHILDREN.search(text)
        if childless and kids is not None:
            return kids.group(0)
    return None


def check_behaviour(
    records: Iterable[ConversationRecord] | Any,
    *,
    questions: Sequence[str] = (),
) -> BehaviourReport:
    """Run the behaviour checks over a run's stored units.

    Args:
        records: the run's records (or a ``StudyRun``, whose ``records`` are read).
        questions: the question ids every persona should have answered (for
            ``premature_ending``; without them only errors and timeouts count).
    """
    from clientsim.population.engine import record_responses  # noqa: PLC0415

    units = list(getattr(records, "records", records))
    counts: Counter[str] = Counter(dict.fromkeys(CHECKS, 0))
    findings: list[BehaviourFinding] = []

    def found(
        record: ConversationRecord, persona: str, check: str, evidence: str
    ) -> None:
        findings.append(
            BehaviourFinding(
                key=record.key, persona_id=persona, check=check, evidence=evidence
            )
        )

    for record in units:
        responses = record_responses(record)
        persona = responses[0].persona_id if responses else record.cell.persona_id
        failed: set[str] = set()
        messages = _persona_messages(record)
        demographics = dict(responses[0].demographics) if responses else {}
        for message in messages:
            text = message.content
            for check, pattern in (("role_reversal", _REVERSAL), ("goal_leak", _LEAK)):
                match = pattern.search(text)
                if match is not None and check not in failed:
                    failed.add(check)
                    found(record, persona, check, text)
            contradiction = _contradiction(text, demographics)
            if contradiction is not None and "demographic_contradiction" not in failed:
                failed.add("demographic_contradiction")
                found(record, persona, "demographic_contradiction", text)
        missing = [q for r in responses for q in questions if q not in r.answers] or (
            list(questions) if questions and not responses else []
        )
        if record.status is not RunStatus.DONE or missing:
            failed.add("premature_ending")
            why = record.status.value if record.status is not RunStatus.DONE else ""
            found(
                record,
                persona,
                "premature_ending",
                why or f"unanswered: {', '.join(sorted(set(missing)))}",
            )
        counts.update(failed)
    return BehaviourReport(
        units=len(units), counts=dict(counts), findings=tuple(findings)
    )
