"""The offline model's notes on a team discussion: memory summaries and session analyses.

Pure Python, deterministic, extractive: every line it writes is a sentence somebody
said, with their name. It reads the prompts of :mod:`clientsim.teams.memory` (schema
title ``memory_summary``) and :mod:`clientsim.teams.analyst` (``session_analysis``),
whose messages are lines ``"Name (Role): text"`` under fixed section headers.

A sentence *matters* when it carries a decision (``agreed``, ``decision``, ``let's go
with``, ``we'll``, ``proposal``...), a number or a date, a commitment (``I'll``, ``by
Friday``, ``deadline``...) or a risk (``risk``, ``concern``, ``worried``, ``delay``,
``bug``, ``churn``...); decisions weigh most, then numbers and commitments, then risks,
and a sentence about money, dates or scope (``budget``, ``250k``, ``launch``...) a
little more.

- A memory summary keeps the sentences that matter from the summary so far and the
  messages leaving the window, each as ``"- Name (Role): sentence"``, at most
  :data:`SUMMARY_ITEMS` of them and :data:`SUMMARY_CHARS` characters (the lightest,
  then the oldest, go first); its facts are the folded sentences with a decision, a
  number or a commitment, as ``"Name: sentence"``.
- A session analysis lists the decisions (decision sentences, and proposals a majority
  of the members backed), the questions nobody has answered yet (a question naming a
  member with ``@Name`` or ``"Name, ..."`` is answered once that member speaks; one
  naming nobody once another member replies on its subject), the risks, each member's
  latest stance, and a confidence that rises with the share of members backing the
  latest proposal (conditional support, with *if*/*but*/*as long as*, counts half).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from typing import Any, Final

import attrs

from clientsim.llm.turns import Turn
from clientsim.models.team import role_key


__all__ = ["SUMMARY_CHARS", "SUMMARY_ITEMS", "analyse", "answer", "summarise"]

SUMMARY_ITEMS: Final = 14
"""The most sentences an offline memory summary keeps."""
SUMMARY_CHARS: Final = 1800
"""The longest an offline memory summary grows, in characters."""
_SENTENCE_CHARS: Final = 220
_FACT_CHARS: Final = 140
_LISTED: Final = 8
"""The most decisions, open questions or risks an offline analysis lists (the latest)."""

# The section headers of the prompts (clientsim.teams.memory and .analyst write them).
_SUMMARY_HEADER: Final = "Summary so far:"
_FACTS_HEADER: Final = "Facts so far:"
_MESSAGES_HEADER: Final = "Messages leaving the window:"
_MEMBERS_HEADER: Final = "Members:"
_TRANSCRIPT_HEADER: Final = "Transcript:"
_EMPTY: Final = frozenset({"(nothing yet)", "(none)", "(nothing said yet)"})

_MONTHS: Final = (
    "january|february|march|april|may|june|july|august|september|october|november|"
    "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DAYS: Final = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w'])(?:{pattern})(?![\w'])", re.IGNORECASE)


DECISION: Final = _words(
    r"we agree[ds]?|agreed|decid\w*|decision\w*|let'?s go with|we'?ll|we will|"
    r"propos\w*|approv\w*|settled|go ahead|sign(?:ed)? off|final"
)
DECIDED: Final = _words(
    r"we agree[ds]?|decision|decided|let'?s go with|we'?ll|we will|it'?s settled|"
    r"we'?re going with|we go with"
)
"""What makes a sentence a decision in an analysis (broader :data:`DECISION` only
weighs sentences for a summary)."""
NUMBER: Final = re.compile(
    rf"\d|(?<![\w'])(?:{_MONTHS}|{_DAYS}|q[1-4]|tomorrow|next (?:week|month|quarter)|"
    r"end of (?:the )?(?:week|month|quarter|year))(?![\w'])",
    re.IGNORECASE,
)
COMMITMENT: Final = _words(
    r"i'?ll|i will|i can have|i commit|we commit|commit(?:ted|ment)|promise[ds]?|"
    r"deliver\w*|deadline\w*|owns?|on it|by (?:eod|tonight|then)"
)
RISK: Final = _words(
    r"risk\w*|concern\w*|worr\w*|delay\w*|slip\w*|bugs?|buggy|churn\w*|block\w*|"
    r"outage\w*|danger\w*|overrun\w*|burn ?out|tight|late|behind|debt|security|legal|"
    r"complian\w*|not ready|unstable|problem\w*|issue\w*"
)
STAKES: Final = re.compile(
    r"[$€£%]|\d\s*(?:k|m|bn)\b|(?<![\w'])(?:budget\w*|cost\w*|pric\w*|revenue|"
    r"launch\w*|release\w*|deadline\w*|date|scope|hire\w*|headcount|target\w*|"
    r"contract\w*|million\w*)(?![\w'])",
    re.IGNORECASE,
)
"""What a decision or a number is about when it matters most: money, dates, scope."""
AGREE: Final = re.compile(
    r"(?<![\w'])(?:agreed|i agree|we agree|sounds good|works for me|fine by me|i'?m in|"
    r"on board|i support|i back|i'?m for|let'?s go with|let'?s do it|makes sense|"
    r"count me in)(?![\w'])|\+1|^(?:yes|yep|yeah|sure)\W*$",
    re.IGNORECASE,
)
"""Agreement: a bare "Yes." counts, "Yes, I'll send the mockups" (an answer) does not."""
DISAGREE: Final = _words(
    r"disagree|i object|oppose|(?:i'?m|i am|we'?re|we are) against|don'?t agree|"
    r"do not agree|can'?t support|cannot support|not convinced|not on board|no way|"
    r"too risky|i'?m not sure"
)
CONDITIONAL: Final = _words(r"if|as long as|provided|unless|but|only when")
PROPOSAL: Final = re.compile(
    r"^\s*(?:proposal|my proposal(?: is)?|i propose|i suggest|suggestion)\s*[:,-]?\s*",
    re.IGNORECASE,
)
STANCE: Final = _words(
    r"i think|i'?d|i would|we should|we need|should|must|my concern|concerned|"
    r"i'?m worried|i prefer|i recommend|i want|priority|i can'?t|we can'?t|i'?ll|"
    r"we'?ll|let'?s"
)
_SPLIT: Final = re.compile(r"(?<=[.!?])\s+")
_LABEL: Final = re.compile(r"^(?P<label>[^\s:][^:\n]{0,80}?): (?P<text>.*)$")
_ROLE_IN_LABEL: Final = re.compile(r"^(?P<name>.*?) \((?P<role>[^()]*)\)$")
_MENTION: Final = re.compile(r"@([\w][\w.-]*)")
_STOP: Final = frozenset(
    re.findall(
        r"\S+",
        "about after again also been before being could does doing done from have here "
        "into just like make more most much need only other over same should some such "
        "than that their them then there these they this those through very want were "
        "what when where which while will with would your you're yours",
    )
)


@attrs.frozen
class Said:
    """One message of the prompt: who said it, the text and its sentences."""

    label: str
    name: str
    text: str
    parts: tuple[str, ...] = attrs.field(init=False)

    @parts.default
    def _parts(self) -> tuple[str, ...]:
        return tuple(sentences(self.text))

    @property
    def answers(self) -> bool:
        """Whether it says something besides questions."""
        return not all(part.endswith("?") for part in self.parts)


def sentences(text: str) -> list[str]:
    """``text``'s sentences, stripped, in order."""
    return [part.strip() for part in _SPLIT.split(text.strip()) if part.strip()]


def weight(sentence: str) -> int:
    """How much a sentence matters: decision 3, number or date 2, commitment 2, risk 1,
    and 1 more when it is about money, dates or scope (:data:`STAKES`); 0: small talk."""
    score = (
        3 * bool(DECISION.search(sentence))
        + 2 * bool(NUMBER.search(sentence))
        + 2 * bool(COMMITMENT.search(sentence))
        + bool(RISK.search(sentence))
    )
    return score + bool(score and STAKES.search(sentence))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _sections(text: str, headers: Sequence[str]) -> dict[str, str]:
    """The text under each header (a line of its own) up to the next header."""
    found: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() in headers:
            if current is not None:
                found[current] = "\n".join(lines).strip()
            current, lines = line.strip(), []
        elif current is not None:
            lines.append(line)
    if current is not None:
        found[current] = "\n".join(lines).strip()
    return found


def _user_text(turns: Sequence[Turn]) -> str:
    return "\n".join(turn.content for turn in turns if turn.role == "user")


def _said(line: str, labels: Sequence[tuple[str, str]] = ()) -> Said | None:
    """A transcript line as a :class:`Said`: a known ``(label, name)`` prefix first,
    else any ``"Label: "`` prefix (its name: the label without ``" (Role)"``)."""
    line = line.strip()
    if not line or line in _EMPTY:
        return None
    for label, name in labels:
        if line.startswith(f"{label}: "):
            return Said(label, name, line[len(label) + 2 :].strip())
    match = _LABEL.match(line)
    if match is None:
        return Said("", "", line)
    label = match["label"].strip()
    role = _ROLE_IN_LABEL.match(label)
    return Said(label, role["name"] if role else label, match["text"].strip())


# -- memory summaries ------------------------------------------------------------------


def summarise(summary: str, messages: Sequence[Said]) -> tuple[str, tuple[str, ...]]:
    """The new summary and the facts, from the summary so far and the folded messages."""
    items: list[tuple[str, int]] = []
    for line in summary.splitlines():
        text = line.strip().removeprefix("- ").strip()
        said = _said(text)
        if said is not None:  # weighed by what was said, not by who said it
            items.append((text, weight(said.text)))
    facts: list[str] = []
    for said in messages:
        for sentence in said.parts:
            score = weight(sentence)
            if not score or len(sentence.split()) < 3:
                continue
            who = said.label or said.name
            text = _short(sentence, _SENTENCE_CHARS)
            items.append((f"{who}: {text}" if who else text, score))
            if not sentence.endswith("?") and (
                DECISION.search(sentence)
                or NUMBER.search(sentence)
                or COMMITMENT.search(sentence)
            ):
                fact = _short(sentence, _FACT_CHARS)
                facts.append(f"{said.name}: {fact}" if said.name else fact)
    return _bounded(items), tuple(dict.fromkeys(facts))


def _bounded(items: Sequence[tuple[str, int]]) -> str:
    """The items, deduplicated (a repeat moves last), within the bounds."""
    unique: dict[str, tuple[str, int]] = {}
    for text, score in items:
        key = _key(text)
        unique.pop(key, None)
        unique[key] = (text, score)
    kept = list(unique.values())

    def size() -> int:
        return sum(len(text) + 3 for text, _ in kept)

    while kept and (len(kept) > SUMMARY_ITEMS or size() > SUMMARY_CHARS):
        lightest = min(range(len(kept)), key=lambda i: (kept[i][1], i))
        del kept[lightest]
    return "\n".join(f"- {text}" for text, _ in kept)


def _memory_answer(turns: Sequence[Turn]) -> dict[str, Any]:
    parts = _sections(
        _user_text(turns), (_SUMMARY_HEADER, _FACTS_HEADER, _MESSAGES_HEADER)
    )
    messages = [
        said
        for line in parts.get(_MESSAGES_HEADER, "").splitlines()
        if (said := _said(line)) is not None
    ]
    summary, facts = summarise(parts.get(_SUMMARY_HEADER, ""), messages)
    return {"summary": summary, "facts": list(facts)}


# -- session analyses ------------------------------------------------------------------


@attrs.frozen
class Member:
    """A member as the analyst's prompt lists it."""

    name: str
    role: str = ""

    @property
    def label(self) -> str:
        if not self.role or self.role == self.name:
            return self.name
        return f"{self.name} ({self.role})"

    def called(self, word: str) -> bool:
        """Whether ``word`` (``@ProductManager``, ``Dana``) names this member."""
        key = _key(word).replace(" ", "")
        return bool(key) and key in {
            _key(self.name).replace(" ", ""),
            _key(self.role).replace(" ", ""),
        }


def _members(text: str) -> list[Member]:
    members: list[Member] = []
    for line in text.splitlines():
        try:
            data = json.loads(line.strip().removeprefix("- "))
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            role = data.get("role")
            members.append(Member(data["name"], role if isinstance(role, str) else ""))
    return members


@attrs.frozen
class Proposal:
    """A proposal and who backs it (member name -> 1, or 0.5 for conditional)."""

    index: int
    name: str
    text: str
    backing: dict[str, float]


def _proposals(said: Sequence[Said], voters: Sequence[str]) -> list[Proposal]:
    proposals: list[Proposal] = []
    for index, message in enumerate(said):
        for sentence in message.parts:
            match = PROPOSAL.match(sentence)
            if match is not None and len(sentence) > match.end():
                text = sentence[match.end() :].rstrip(".!")
                backing = {message.name: 1.0} if message.name in voters else {}
                proposals.append(Proposal(index, message.name, text, backing))
                continue
            if proposals and message.name in voters:
                _vote(proposals[-1], message.name, sentence)
    return proposals


def _vote(proposal: Proposal, name: str, sentence: str) -> None:
    if DISAGREE.search(sentence):
        proposal.backing[name] = 0.0
    elif AGREE.search(sentence):
        proposal.backing[name] = 0.5 if CONDITIONAL.search(sentence) else 1.0


def _support(proposal: Proposal) -> float:
    return sum(proposal.backing.values())


def _addressees(sentence: str, members: Sequence[Member]) -> list[str]:
    named = [m.name for m in members for w in _MENTION.findall(sentence) if m.called(w)]
    first = sentence.split(",", 1)[0] if "," in sentence else ""
    if first and len(first.split()) <= 3:
        named += [m.name for m in members if m.called(first)]
    return list(dict.fromkeys(named))


@functools.lru_cache(maxsize=4096)
def _content_words(text: str) -> frozenset[str]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return frozenset(w for w in words if len(w) >= 4) - _STOP


def _open_questions(said: Sequence[Said], members: Sequence[Member]) -> list[str]:
    open_: list[str] = []
    for index, message in enumerate(said):
        later = said[index + 1 :]
        for sentence in message.parts:
            if not sentence.endswith("?"):
                continue
            asked = _addressees(sentence, members)
            if asked:
                answered = any(other.name in asked for other in later)
            else:
                words = _content_words(sentence)
                answered = any(
                    other.name != message.name
                    and other.answers
                    and not words.isdisjoint(_content_words(other.text))
                    for other in later
                )
            if not answered:
                open_.append(f"{message.label or message.name}: {sentence}")
    return open_


def _latest(items: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(items))
    return unique[-_LISTED:]


def _position(
    member: Member, said: Sequence[Said], proposals: Sequence[Proposal]
) -> str | None:
    spoken = [
        (index, sentence)
        for index, message in enumerate(said)
        if message.name == member.name
        for sentence in message.parts
    ]
    if not spoken:
        return None
    stances = [
        (index, s)
        for index, s in spoken
        if PROPOSAL.match(s)
        or AGREE.search(s)
        or DISAGREE.search(s)
        or STANCE.search(s)
    ]
    statements = [(i, s) for i, s in spoken if not s.endswith("?")]
    index, sentence = (stances or statements or spoken)[-1]
    bare = AGREE.search(sentence) and len(sentence.split()) <= 4
    before = [p for p in proposals if p.index < index and p.name != member.name]
    if bare and before:
        return f"Backs {before[-1].name}'s proposal: {before[-1].text}"
    return sentence


def analyse(
    members: Sequence[Member], said: Sequence[Said], turn: int
) -> dict[str, Any]:
    """The offline analysis of a transcript (see the module docstring)."""
    voters = [m.name for m in members if role_key(m.role) != "simulation_analyst"]
    proposals = _proposals(said, voters)
    decisions: list[str] = []
    risks: list[str] = []
    for message in said:
        who = message.name or message.label
        for sentence in message.parts:
            if sentence.endswith("?"):
                continue
            if (
                DECIDED.search(sentence)
                and not PROPOSAL.match(sentence)
                and len(sentence.split()) >= 3
            ):
                decisions.append(f"{who}: {sentence}" if who else sentence)
            if RISK.search(sentence):
                risks.append(f"{who}: {sentence}" if who else sentence)
    for proposal in proposals:
        backers = sum(1 for v in proposal.backing.values() if v > 0)
        if voters and backers >= 2 and _support(proposal) * 2 > len(voters):
            decisions.append(
                f"Agreed ({backers} of {len(voters)}): {proposal.text} "
                f"(proposed by {proposal.name})"
            )
    positions = [
        {"member": member.name, "position": position}
        for member in members
        if (position := _position(member, said, proposals)) is not None
    ]
    questions = _open_questions(said, members)
    if proposals and voters:
        share = _support(proposals[-1]) / len(voters)
        confidence = round(min(1.0, 0.3 + 0.7 * share), 2)
    else:
        confidence = 0.2 if said else 0.0
    return {
        "decisions": _latest(decisions),
        "open_questions": _latest(questions),
        "risks": _latest(risks),
        "positions": positions,
        "confidence": confidence,
        "summary": _summary(turn, said, proposals, voters, (questions, risks)),
    }


def _summary(
    turn: int,
    said: Sequence[Said],
    proposals: Sequence[Proposal],
    voters: Sequence[str],
    open_and_risks: tuple[Sequence[str], Sequence[str]],
) -> str:
    questions, risks = open_and_risks
    speakers = len({m.name for m in said if m.name})
    text = (
        f"After turn {turn}: {_count(len(said), 'message')} from "
        f"{_count(speakers, 'speaker')}."
    )
    if proposals:
        latest = proposals[-1]
        backers = sum(1 for v in latest.backing.values() if v > 0)
        text += (
            f" Latest proposal, by {latest.name}: {latest.text}; backed by "
            f"{backers} of {len(voters)} members."
        )
    else:
        text += " No proposal yet."
    questions_left = _count(len(set(questions)), "open question")
    return f"{text} {questions_left}, {_count(len(set(risks)), 'risk')} raised."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _analysis_answer(turns: Sequence[Turn]) -> dict[str, Any]:
    text = _user_text(turns)
    parts = _sections(text, (_MEMBERS_HEADER, _TRANSCRIPT_HEADER))
    members = _members(parts.get(_MEMBERS_HEADER, ""))
    labels = sorted(
        {(m.label, m.name) for m in members} | {(m.name, m.name) for m in members},
        key=lambda pair: -len(pair[0]),
    )
    said = [
        message
        for line in parts.get(_TRANSCRIPT_HEADER, "").splitlines()
        if (message := _said(line, labels)) is not None
    ]
    found = re.search(r"^Turn: (\d+)$", text, re.MULTILINE)
    return analyse(members, said, int(found[1]) if found else 0)


def answer(name: str, turns: Sequence[Turn], seed: int) -> dict[str, Any] | None:  # noqa: ARG001 - deterministic whatever the seed
    """The offline answer to a ``memory_summary`` or ``session_analysis`` call
    (``name`` is the schema's title); ``None`` for any other."""
    if name == "memory_summary":
        return _memory_answer(turns)
    if name == "session_analysis":
        return _analysis_answer(turns)
    return None
