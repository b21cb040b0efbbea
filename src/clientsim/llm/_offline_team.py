"""The offline model as a member of a team discussion: deterministic, in role.

The member reads from its system prompt (as :class:`clientsim.teams.RoleParticipant`
writes it) who it is, its role, what it weighs in a decision, the scenario (the
decision, its dates and amounts) and the team; from the dialogue, what the others said
last and by whom (their messages arrive as ``"Name (Role): text"``). It answers from
its role's point of view (:mod:`clientsim.llm._offline_team_roles`), reacts to the last
speaker by name, sometimes addresses a colleague (``"@Dana"``, ``"Dana, ..."``), raises
risks (``"Risk: ..."``) and questions, and converges as the discussion grows long:
positions (``"I support launching on March 1 if ..."``), proposals (``"Proposal:
..."``) and agreement (``"Agreed. ..."``), which an analyst can pick out.

It never repeats one of its own earlier messages and never echoes another's.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Final, TypeVar

from clientsim.llm._offline_team_roles import (
    AGREE,
    DISAGREE,
    GENERIC,
    NEUTRAL,
    PROFILES,
    TOPICS,
    Profile,
)
from clientsim.llm._offline_team_scene import (
    WORD,
    Said,
    Scene,
    profile_key,
    read_scene,
)
from clientsim.llm.turns import Turn


__all__ = ["member"]

T = TypeVar("T")


_PROPOSAL: Final = re.compile(r"\bProposal: (?P<p>[^\n]+)")
_CONDITION: Final = re.compile(r"\b(?:only )?if (?P<c>[^.;?!\n]+)", re.IGNORECASE)
_SENTENCES: Final = re.compile(r"(?<=[.!?])\s+")
_FIRST_PERSON: Final = re.compile(r"^I\b")
_LATE: Final = 30
"""From this many messages on, members agree and commit."""
_CONVERGING: Final = 18
"""From this many messages on, members state positions and proposals."""
_OPENING: Final = 8
"""Before this many messages, members make their points."""


def member(system: str, dialogue: Sequence[Turn], rng: random.Random, seed: int) -> str:
    """The member's next message in the discussion (deterministic for its input)."""
    del seed  # the rng is already seeded by the seed and the whole input
    scene = read_scene(system, dialogue)
    text = _analyst(scene, rng) if scene.analyst else _speak(scene, rng)
    return _fresh(text, scene)


# ------------------------------------------------------------------ speaking


def _speak(scene: Scene, rng: random.Random) -> str:
    profile = scene.profile
    care = _pick(scene.cares, rng) if scene.cares else ""
    last = scene.others[-1] if scene.others else None
    if not scene.mine and scene.progress < _CONVERGING:
        opening = _fresh_choice(profile.openings, scene, rng, care)
        reaction = _reaction(scene, last, rng) + " " if last and last.name else ""
        return reaction + opening
    parts: list[str] = []
    addressed = last is not None and _addresses(last.text, scene)
    if last is not None and last.name:
        if addressed:
            answer = _fresh_choice(profile.answers, scene, rng, care, capital=False)
            parts.append(f"{last.name}, {answer}")
        else:
            parts.append(_reaction(scene, last, rng))
    progress = scene.progress
    if progress >= _LATE:
        parts.extend(_late(scene, rng, care))
    elif progress >= _CONVERGING:
        parts.extend(_converging(scene, rng, care))
    else:
        parts.extend(_discussing(scene, rng, care, early=progress < _OPENING))
    return " ".join(part for part in parts if part)


def _discussing(
    scene: Scene, rng: random.Random, care: str, *, early: bool
) -> list[str]:
    profile = scene.profile
    point = _fresh_choice(profile.points, scene, rng, care)
    roll = rng.random()
    if early or roll < 0.35:
        return [point]
    if roll < 0.65:
        return [point, _fresh_choice(profile.risks, scene, rng, care)]
    return [point, _question(scene, rng, care)]


def _converging(scene: Scene, rng: random.Random, care: str) -> list[str]:
    profile = scene.profile
    condition = _fresh_choice(profile.conditions, scene, rng, care, capital=False)
    heard = _conditions(scene)
    recent = _last_proposal(scene, within=len(scene.team) + 1) is not None
    if profile.proposer and heard and not recent and rng.random() < 0.6:
        return [_proposal(scene, heard, rng, condition)]
    if profile.stance < 0 and scene.progress < _CONVERGING + 6:
        position = (
            f"I can't support {scene.plan} as it stands; I'd support it if {condition}."
        )
    elif profile.stance > 0 and rng.random() < 0.4:
        position = f"I support {scene.plan}, and I'd like to decide today."
    else:
        position = f"I support {scene.plan} if {condition}."
    extra = rng.random()
    if extra < 0.35:
        return [position, _fresh_choice(profile.risks, scene, rng, care)]
    if extra < 0.6:
        return [position, _question(scene, rng, care)]
    return [position]


def _late(scene: Scene, rng: random.Random, care: str) -> list[str]:
    profile = scene.profile
    proposal = _last_proposal(scene)
    commitment = _fresh_choice(profile.commitments, scene, rng, care)
    if proposal is None:
        heard = _conditions(scene)
        condition = _fresh_choice(profile.conditions, scene, rng, care, capital=False)
        if profile.proposer or rng.random() < 0.3:
            return [_proposal(scene, heard, rng, condition)]
        return [f"I support {scene.plan} if {condition}.", commitment]
    who, _ = proposal
    roll = rng.random()
    if roll < 0.5:
        return ["Agreed.", commitment]
    if roll < 0.75:
        return [f"Agreed with {who}'s proposal.", commitment]
    return [
        "Agreed, with one open question:",
        _question(scene, rng, care),
        commitment,
    ]


def _proposal(scene: Scene, heard: Sequence[str], rng: random.Random, own: str) -> str:
    chosen = list(dict.fromkeys([*heard[-2:], own]))[-3:]
    rng.shuffle(chosen)
    conditions = (
        ", ".join(chosen[:-1]) + f" and {chosen[-1]}" if len(chosen) > 1 else chosen[0]
    )
    budget = f" within {scene.money}" if scene.money != "the budget" else ""
    return (
        f"Proposal: we {scene.we}{budget}, provided {conditions}. Can everyone live "
        "with that?"
    )


def _conditions(scene: Scene) -> list[str]:
    """The conditions others have put on their support, oldest first."""
    found: list[str] = []
    for said in scene.others:
        for sentence in _SENTENCES.split(said.text):
            if "support" in sentence.lower():
                found.extend(_clauses(sentence, said.name, found))
    return found


def _clauses(sentence: str, name: str, known: Sequence[str]) -> list[str]:
    found: list[str] = []
    for match in _CONDITION.finditer(sentence):
        clause = match.group("c").strip().rstrip(",")
        if name:
            clause = _FIRST_PERSON.sub(name, clause)
        if 3 <= len(clause.split()) <= 16 and clause not in (*known, *found):
            found.append(clause)
    return found


def _last_proposal(scene: Scene, within: int | None = None) -> tuple[str, str] | None:
    """Who made the latest proposal (``"my"`` if the member did) and its text, among
    the last ``within`` messages (all if ``None``)."""
    history = scene.history if within is None else scene.history[-within:]
    for said in reversed(history):
        found = _PROPOSAL.search(said.text)
        if found:
            who = "my" if said.name == scene.name else (said.name or "the")
            return who, found.group("p")
    return None


def _reaction(scene: Scene, last: Said, rng: random.Random) -> str:
    text = last.text.lower()
    key = profile_key(last.role)
    their = PROFILES.get(key, GENERIC)
    topic = _topic(last.text, their)
    mine = set(WORD.findall(" ".join(scene.cares).lower()))
    overlap = bool(mine & set(WORD.findall(text)))
    outside = (
        last.name not in {name for name, _ in scene.team} and last.role == last.name
    )
    pool: Sequence[str]
    if key == "simulation_analyst" or outside:
        pool = NEUTRAL
    elif scene.progress >= _CONVERGING and (
        "proposal:" in text or _last_proposal(scene) is not None
    ):
        pool = AGREE if overlap or "agreed" in text else NEUTRAL
    elif overlap or (their.stance == scene.profile.stance and their.stance != 0):
        pool = AGREE
    elif their.stance * scene.profile.stance < 0:
        pool = DISAGREE
    else:
        pool = (AGREE, DISAGREE, NEUTRAL)[rng.randrange(3)]
    return rng.choice(pool).format(name=last.name, topic=topic)


def _topic(text: str, profile: Profile) -> str:
    lowered = text.lower()
    for key_profile in (profile, *PROFILES.values()):
        for word in TOPICS.get(key_profile.key, ()):
            if word.lower() in lowered:
                return word
    return "that"


def _question(scene: Scene, rng: random.Random, care: str) -> str:
    target_key, question = _pick(scene.profile.questions, rng)
    target = _colleague(scene, target_key, rng)
    asked = scene.fill(question, care)
    asked = asked[:1].lower() + asked[1:]
    if target is None:
        return f"Open question: {asked[:1].upper()}{asked[1:]}"
    if rng.random() < 0.5:
        return f"@{target} {asked[:1].upper()}{asked[1:]}"
    return f"{target}, {asked}"


def _colleague(scene: Scene, role_key: str, rng: random.Random) -> str | None:
    others = [(n, r) for n, r in scene.team if n != scene.name]
    if not others:
        others = list(dict.fromkeys((s.name, s.role) for s in scene.others if s.name))
        others = [(n, r) for n, r in others if n != scene.name]
    if not others:
        return None
    for name, role in others:
        if role_key and profile_key(role or name) == role_key:
            return name
    if scene.others and scene.others[-1].name and scene.others[-1].name != scene.name:
        return scene.others[-1].name
    return rng.choice(others)[0]


def _addresses(text: str, scene: Scene) -> bool:
    """Whether ``text`` asks the member something: ``@Name`` (or ``@Role``), or a
    sentence that opens with ``"Name, ..."`` and asks a question."""
    lowered = text.lower()
    for who in {scene.name.lower(), scene.role.lower()}:
        if f"@{who}" in lowered:
            return True
        opens = rf"(?:^|[.!?:]\s+){re.escape(who)}(?:,\s[^.!?]*)?\?"
        if re.search(opens, lowered):
            return True
    return False


# ------------------------------------------------------------------ the analyst


def _analyst(scene: Scene, rng: random.Random) -> str:
    if not scene.others or not any(s.name for s in scene.others):
        return (
            f"I'll keep the record: decisions, risks, open questions and where each of "
            f"you stands on {scene.plan}."
        )
    latest: dict[str, Said] = {}
    for said in scene.others:
        if said.name:
            latest.pop(said.name, None)
            latest[said.name] = said
    recent = list(latest.values())[-3:]
    parts = [_position_of(said) for said in recent]
    summary = "Where we stand: " + "; ".join(parts) + "."
    risks = [s for s in scene.others if "risk" in s.text.lower()]
    proposal = _last_proposal(scene)
    since = max(
        (i for i, s in enumerate(scene.others) if "Proposal:" in s.text), default=0
    )
    agreed = len({s.name for s in scene.others[since:] if "agreed" in s.text.lower()})
    lines = [summary]
    if proposal is not None and agreed:
        lines.append(
            f"Decision taking shape: {proposal[1].split('. ')[0].rstrip('.')}, "
            f"agreed by {agreed} member{'s' if agreed != 1 else ''} so far."
        )
    elif risks:
        lines.append(
            f"Risks on the table: {len(risks)}, the latest from {risks[-1].name}."
        )
    questions = [s for s in scene.others if "?" in s.text]
    if questions and rng.random() < 0.6:
        lines.append(f"Open question from {questions[-1].name} still to answer.")
    return " ".join(lines)


def _position_of(said: Said) -> str:
    text = said.text.lower()
    if "agreed" in text:
        stance = "agrees"
    elif "proposal:" in text:
        stance = "has made a proposal"
    elif "can't support" in text or "won't" in text:
        stance = "is against it as it stands"
    elif "support" in text and " if " in text:
        stance = "supports it with conditions"
    elif "support" in text:
        stance = "supports it"
    elif "risk" in text:
        stance = "is raising risks"
    else:
        stance = "is still weighing it"
    topic = _topic(said.text, PROFILES.get(profile_key(said.role), GENERIC))
    about = f" (on {topic})" if topic != "that" else ""
    return f"{said.name} {stance}{about}"


# ------------------------------------------------------------------ variety


def _pick(options: Sequence[T], rng: random.Random) -> T:
    return options[rng.randrange(len(options))]


def _fresh_choice(
    options: Sequence[str],
    scene: Scene,
    rng: random.Random,
    care: str,
    *,
    capital: bool = True,
) -> str:
    """One of ``options``, filled in, that the member has not said yet if it can."""
    order = list(options)
    rng.shuffle(order)
    filled = [scene.fill(option, care) for option in order]
    if not capital:
        filled = [
            text[:1].lower() + text[1:] if not text[:2].isupper() else text
            for text in filled
        ]
    said = " ".join(scene.mine)
    for text in filled:
        if text not in said:
            return text
    return filled[0]


def _fresh(text: str, scene: Scene) -> str:
    """``text``, or a variant of it if the member said exactly this before."""
    if text not in scene.mine:
        return text
    for addition in (*scene.profile.commitments, *scene.profile.points):
        variant = f"{text} {scene.fill(addition)}"
        if variant not in scene.mine:
            return variant
    return f"{text} ({len(scene.mine) + 1})"  # pragma: no cover - pools exhausted
