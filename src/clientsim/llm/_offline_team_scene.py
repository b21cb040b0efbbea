"""What the offline model's team member reads before it speaks: who it is, the
scenario's decision, dates and amounts, the team, and the discussion so far (the data
of :mod:`clientsim.llm._offline_team`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import attrs

from clientsim.llm._offline_team_roles import ALIASES, GENERIC, PROFILES, Profile
from clientsim.llm.turns import Turn


__all__ = ["WORD", "Said", "Scene", "profile_key", "read_scene"]

_ME: Final = re.compile(
    r"^You are (?:(?P<name>[^,\n]+?), )?the (?P<role>[^\n]+?) of the team", re.MULTILINE
)
_SCENARIO: Final = re.compile(
    # the scenario may run over several lines, up to the prompt's next section
    r"^The scenario the team is discussing: (.+?)"
    r"(?=\n(?:Your |What you |Who else |You may |Write )|\Z)",
    re.MULTILINE | re.DOTALL,
)
_CARES: Final = re.compile(r"^What you weigh in a decision: (.+)$", re.MULTILINE)
_REMEMBERED: Final = re.compile(r"What you remember of the (\d+) earlier messages")
_TEAM_BLOCK: Final = re.compile(
    r"^Who else is in the team:\n((?:- .*\n?)+)", re.MULTILINE
)
_MEMBER: Final = re.compile(r"^- (?P<name>[^:(\n]+?)(?: \((?P<role>[^)\n]+)\))?(?::|$)")
_LABEL: Final = re.compile(
    r"^(?P<name>[^:()\n]{1,40}?)(?: \((?P<role>[^)\n]{1,40})\))?: (?P<text>.*)$",
    re.DOTALL,
)
_DECISION: Final = (
    re.compile(
        r"\b(?:decide|deciding|decision on) (?:whether|if) (?:to |we should |we )?"
        r"(?P<d>[^.?!;\n]+)",
        re.IGNORECASE,
    ),
    re.compile(r"\bwhether (?:to|we should|we) (?P<d>[^.?!;\n]+)", re.IGNORECASE),
    re.compile(
        r"\b(?:should|shall|can|do|will) (?:we|the team) (?P<d>[^.?!;\n]+)\?",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:plan|proposal|decision) (?:is )?to (?P<d>[^.?!;\n]+)", re.IGNORECASE
    ),
    # a question that is itself the action: "Launch the app on March 1?"
    re.compile(
        r"^(?!(?:should|shall|can|could|do|does|did|will|would|is|are|was|were|what|"
        r"how|why|when|who|which|where|today|we|i|the|a|an|our)\b)"
        r"(?P<d>[a-z]+ [^.?!;\n]+)\?",
        re.IGNORECASE,
    ),
)
_SUBJECT: Final = re.compile(
    r"\b(?:decide|decision|vote|agree) (?:on|about) "
    r"(?P<n>(?:the|a|an|our) [^.?!;,\n]+)",
    re.IGNORECASE,
)
_MONTHS: Final = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:tember)?|Sept|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE: Final = re.compile(
    rf"\b{_MONTHS}\.? \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?\b|\b\d{{1,2}} {_MONTHS}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\bQ[1-4](?: \d{4})?\b"
)
_MONEY: Final = re.compile(
    r"[$€£]\s?\d[\d,]*(?:\.\d+)?\s?(?:[kKmM]\b|million|thousand)?"
    r"|\b\d[\d,]*(?:\.\d+)? ?(?:USD|EUR|GBP|dollars|euros)\b"
)
_TRIM: Final = re.compile(
    r",| (?:with|within|given|using|at a cost|for a budget|on a budget|so that|because)"
    r" (?=a |an |the |\$|\d|our |its |\w+ budget)| for (?=[$€£]\s?\d)",
    re.IGNORECASE,
)
WORD: Final = re.compile(r"[a-z][a-z'-]+")
_IRREGULAR: Final = {"be": "being", "go": "going", "do": "doing", "see": "seeing"}
_DOUBLED: Final = frozenset(
    [
        "cut",
        "ship",
        "stop",
        "plan",
        "drop",
        "run",
        "set",
        "get",
        "put",
        "hit",
        "begin",
        "commit",
        "scrap",
        "swap",
    ]
)


@attrs.frozen
class Said:
    """One message of someone else, as the member read it."""

    name: str
    role: str
    text: str


@attrs.frozen
class Scene:
    """Everything the member knows when it speaks."""

    name: str
    role: str
    profile: Profile
    analyst: bool
    cares: tuple[str, ...]
    plan: str
    we: str
    date: str
    money: str
    team: tuple[tuple[str, str], ...]
    history: tuple[Said, ...]
    others: tuple[Said, ...]
    mine: tuple[str, ...]
    progress: int

    def fill(self, text: str, care: str = "") -> str:
        filled = text.format(
            plan=self.plan,
            date=self.date,
            money=self.money,
            care=care or (self.cares[0] if self.cares else "the details"),
        )
        return filled[:1].upper() + filled[1:]


def read_scene(system: str, dialogue: Sequence[Turn]) -> Scene:
    found = _ME.search(system)
    role = found.group("role").strip() if found else "team member"
    name = (found.group("name") or role).strip() if found else "Member"
    cares_line = _CARES.search(system)
    cares = tuple(
        c.strip()
        for c in (cares_line.group(1).split(",") if cares_line else ())
        if c.strip()
    )
    key = profile_key(role)
    scenario_line = _SCENARIO.search(system)
    scenario = " ".join(scenario_line.group(1).split()) if scenario_line else ""
    spoken = [turn for turn in dialogue if turn.role in {"user", "assistant"}]
    history = tuple(
        _said(turn.content) if turn.role == "user" else Said(name, role, turn.content)
        for turn in spoken
    )
    others = tuple(
        said for said, turn in zip(history, spoken, strict=True) if turn.role == "user"
    )
    if not scenario and others:
        scenario = others[0].text
    plan, we = _decision(scenario)
    dates = _DATE.findall(scenario)
    money = _MONEY.findall(scenario)
    remembered = _REMEMBERED.search(system)
    return Scene(
        name=name,
        role=role,
        profile=PROFILES.get(key, GENERIC),
        analyst=key == "simulation_analyst",
        cares=cares,
        plan=plan,
        we=we,
        date=dates[0] if dates else "the target date",
        money=money[0].strip() if money else "the budget",
        team=_team(system),
        history=history,
        others=others,
        mine=tuple(turn.content for turn in dialogue if turn.role == "assistant"),
        progress=len(dialogue) + (int(remembered.group(1)) if remembered else 0),
    )


def profile_key(role: str) -> str:
    lowered = role.lower()
    words = set(WORD.findall(lowered))
    for key, cues in ALIASES:
        for cue in cues:
            if " " in cue and cue in lowered:
                return key
            if any(word.startswith(cue) for word in words):
                return key
    return ""


def _team(system: str) -> tuple[tuple[str, str], ...]:
    block = _TEAM_BLOCK.search(system)
    if block is None:
        return ()
    members = []
    for line in block.group(1).splitlines():
        found = _MEMBER.match(line)
        if found:
            members.append(
                (found.group("name").strip(), (found.group("role") or "").strip())
            )
    return tuple(members)


def _said(content: str) -> Said:
    found = _LABEL.match(content.strip())
    if found is None:
        return Said("", "", content.strip())
    name = found.group("name").strip()
    return Said(
        name, (found.group("role") or name).strip(), found.group("text").strip()
    )


def _decision(scenario: str) -> tuple[str, str]:
    """``("launching the app on March 1", "launch the app on March 1")`` from the
    scenario, or a neutral phrase when it names no decision."""
    for pattern in _DECISION:
        found = pattern.search(scenario)
        if found:
            action = " ".join(found.group("d").split())
            action = _TRIM.split(action, maxsplit=1)[0].rstrip(" ,:")
            action = re.sub(r"^(?:we|us)\s+", "", action, flags=re.IGNORECASE)
            words = action.split(" ", 1)
            if words[0]:
                verb = words[0].lower()
                rest = f" {words[1]}" if len(words) > 1 else ""
                return _gerund(verb) + rest, verb + rest
    found = _SUBJECT.search(scenario)
    if found:
        subject = " ".join(found.group("n").split())
        subject = _TRIM.split(subject, maxsplit=1)[0].rstrip(" ,:")
        subject = subject[:1].lower() + subject[1:]
        return subject, f"go ahead with {subject}"
    return "this proposal", "go ahead with this proposal"


def _gerund(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb in _DOUBLED:
        return verb + verb[-1] + "ing"
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
        return verb[:-1] + "ing"
    return verb + "ing"
