"""What the offline model understands of written criteria: keyword and negation rules.

The criteria judge (:mod:`clientsim.evaluation.criteria`) shows its model the criteria
and the transcript in the fixed layout this module writes (:func:`criteria_prompt`,
:func:`transcript_block`); the offline model reads them back (:func:`answer`) and
judges with :func:`judge_offline`. No network, no LangChain, no randomness: the same
criteria and messages always give the same verdicts.

A criterion is read as *subject* + optional *negation* + *predicate*:

- the subject is the first of ``agent``/``assistant``/``bot``/``support``/
  ``representative`` (the agent), ``customer``/``user``/``client``/``caller`` (the
  customer) or ``conversation``/``anyone``/``someone`` (either side); none: the agent;
- a negation before the predicate (``not``, ``n't``, ``never``, ``no``, ``without``,
  ``avoids``, ``refrains from``, ``fails to``; an odd number of them) flips the verdict:
  "the agent does not promise a refund" passes when no agent message promises one;
- the predicate is one of :data:`HEURISTICS`; anything else cannot be judged offline,
  and its verdict says so (``passed=False``, reason ``"cannot judge offline: ..."``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Protocol

from clientsim.models.criteria import CriterionVerdict


__all__ = [
    "CANNOT_JUDGE",
    "CRITERIA_TITLE",
    "HEURISTICS",
    "PAIRWISE_TITLE",
    "answer",
    "criteria_prompt",
    "judge_offline",
    "parse_criteria",
    "parse_transcript",
    "transcript_block",
]

CRITERIA_TITLE: Final = "CriteriaJudgement"
"""The structured-output schema's title of the criteria judge."""
PAIRWISE_TITLE: Final = "PairwiseJudgement"
"""The structured-output schema's title of the pairwise judge."""
CANNOT_JUDGE: Final = "cannot judge offline"
"""How the reason of a criterion the offline rules do not understand begins."""

HEURISTICS: Final = (
    (
        "apologises",
        "apologi[sz]es, says sorry, expresses regret",
        "sorry, apolog-, regret",
    ),
    (
        "greets",
        "greets, says hello, welcomes",
        "hi, hello, hey, good morning..., welcome",
    ),
    ("thanks", "thanks, expresses gratitude", "thank-, appreciate, grateful"),
    (
        "says goodbye",
        "says goodbye, signs off, closes politely",
        "bye, goodbye, have a nice/great/good ..., take care",
    ),
    (
        "escalates",
        "escalates, transfers, hands over, connects ... to a human/specialist",
        "transfer-, escalat-, hand you over, connect you, specialist, supervisor",
    ),
    ("asks a question", "asks a question, asks questions", "a message with '?'"),
    (
        "asks for X",
        "asks for / asks about / requests / inquires about X",
        "a question (or 'please provide', 'could you', ...) that mentions X",
    ),
    (
        "offers X",
        (
            "promises, offers, issues, processes, grants, gives, provides, approves, "
            "confirms, guarantees, sends, refunds X"
        ),
        "a message that mentions X in a clause without a negation",
    ),
    (
        "resolves",
        "resolves, solves, fixes (the issue)",
        "resolved, fixed, sorted, all set, has been issued/processed/reset/sent...",
    ),
    (
        "mentions X",
        "mentions, says, refers to, uses the word, includes, talks about X",
        "a message that mentions X (a quoted phrase: that phrase)",
    ),
)
"""The predicates the offline judge understands: ``(name, how a criterion says it,
what a message must contain)``. X is matched by its content words (all in one
message, each by its first letters, so "refund" matches "refunded"), or exactly when
the criterion quotes it."""

_AGENT, _CUSTOMER, _ANY = "agent", "customer", "any"
_SUBJECTS: Final = re.compile(
    r"\b(?:(?P<agent>agent|assistant|bot|support|representative|rep)"
    r"|(?P<customer>customer|user|client|caller)"
    r"|(?P<any>conversation|anyone|someone|either side|transcript))\b"
)
_NEGATION: Final = re.compile(
    r"n't\b|\b(?:not|never|no|without|avoids?|avoiding|refrains? from|fails? to)\b"
)
_MESSAGE_NEGATION: Final = re.compile(
    r"n't\b|\b(?:not|no|never|cannot|unable|can ?not|won't|nor)\b"
)
_QUESTION_LIKE: Final = re.compile(
    r"\?|\b(?:please (?:provide|share|send|confirm|tell|give)|could you|can you|"
    r"would you|may i (?:have|ask)|let me know|what is|what's)\b"
)
_QUOTED: Final = re.compile(r'"([^"]+)"|“([^”]+)”|(?:^|\s)\'([^\']+)\'')
_STOPWORDS: Final = frozenset(
    [
        "a",
        "an",
        "the",
        "their",
        "his",
        "her",
        "its",
        "your",
        "my",
        "our",
        "this",
        "that",
        "these",
        "those",
        "any",
        "some",
        "of",
        "for",
        "to",
        "about",
        "with",
        "and",
        "or",
        "by",
        "from",
        "on",
    ]
)
_OBJECT_END: Final = re.compile(
    r"\s+(?:before|after|when|whenever|if|unless|until|while|during|within|at least|"
    r"at any point|at the end|in the (?:first|last|end)|ever|again|to the customer|"
    r"to the user|from the customer|from the user)\b.*$"
)
_SYNONYMS: Final[Mapping[str, tuple[str, ...]]] = {
    "number": ("number", "#", "no.", "id"),
    "email": ("email", "e-mail"),
    "refund": ("refund", "money back", "reimburs"),
}


class _Rule:
    """One predicate: how a criterion says it and what a message must contain."""

    def __init__(
        self,
        name: str,
        criterion: str,
        cue: str | None = None,
        *,
        takes_object: bool = False,
        question: bool = False,
        affirmative: bool = False,
    ) -> None:
        self.name = name
        self.criterion = re.compile(criterion)
        self.cue = re.compile(cue) if cue else None
        self.takes_object = takes_object
        self.question = question
        self.affirmative = affirmative


_RULES: Final = (
    _Rule(
        "asks a question",
        r"\b(?:asks?|asking|asked) (?:a |any |one or more )?(?:clarifying |follow-up |"
        r"follow up )?questions?\b",
        r"\?",
    ),
    _Rule(
        "apologises",
        r"\bapologi[sz]\w*|\bsays? sorry\b|\bexpress\w* (?:regret|sympathy)",
        r"\bsorry\b|\bapolog|\bregret",
    ),
    _Rule(
        "greets",
        r"\bgreet\w*|\bsays? (?:hello|hi)\b|\bwelcom\w*",
        r"\b(?:hi|hello|hey|good (?:morning|afternoon|evening)|welcome)\b",
    ),
    _Rule(
        "thanks",
        r"\bthank\w*|\bexpress\w* gratitude",
        r"\bthank|\bappreciat|\bgrateful\b",
    ),
    _Rule(
        "says goodbye",
        r"\bsays? (?:goodbye|bye)\b|\bbids? farewell|\bsigns? off|\bcloses? "
        r"(?:politely|the conversation)|\bends? the conversation politely",
        r"\b(?:good)?bye\b|\bhave a (?:nice|great|good|lovely)\b|\btake care\b",
    ),
    _Rule(
        "escalates",
        r"\bescalat\w*|\btransfer\w*|\bhands? (?:over|off)|\bconnects? .*\b(?:human|"
        r"person|specialist|supervisor|manager)",
        r"\btransfer|\bescalat|\bhand you (?:over|off)|\bconnect you\b|\bspecialist\b|"
        r"\bsupervisor\b|\bhuman agent\b",
    ),
    _Rule(
        "asks for",
        r"\b(?:asks?|asking|asked|requests?|requesting|requested|inquires?|enquires?)"
        r"(?: (?:the (?:customer|user)|them|him|her))?(?: (?:for|about|after))?\s+"
        r"(?P<object>.+)",
        takes_object=True,
        question=True,
    ),
    _Rule(
        "resolves",
        r"\b(?:resolv\w*|solv\w*|fix\w*)\b",
        r"\b(?:resolved|fixed|sorted|taken care of|all set|has been (?:issued|"
        r"processed|reset|sent|refunded|cancell?ed|updated|shipped))\b",
        affirmative=True,
    ),
    _Rule(
        "offers",
        r"\b(?P<verb>promis\w*|offer\w*|issu\w*|process\w*|grant\w*|giv\w*|provid\w*|"
        r"approv\w*|confirm\w*|guarantee\w*|send\w*|sent|refund\w*)\b\s*(?P<object>.*)",
        takes_object=True,
        affirmative=True,
    ),
    _Rule(
        "mentions",
        r"\b(?:mentions?|mentioned|says?|said|refers? to|uses? the (?:word|phrase)|"
        r"includes?|talks? about|brings? up|tells? (?:the (?:customer|user) |them )?"
        r"about)\b\s*(?P<object>.+)",
        takes_object=True,
    ),
)


class _TurnLike(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def content(self) -> str: ...


def _normal(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'").lower().strip()


def _candidates(text: str, start: int) -> list[tuple[re.Match[str], _Rule]]:
    """The predicates found from ``start``, the earliest first (then in rule order)."""
    found = []
    for order, rule in enumerate(_RULES):
        match = rule.criterion.search(text, start)
        if match is not None:
            found.append((match.start(), order, match, rule))
    return [(match, rule) for _, _, match, rule in sorted(found, key=lambda f: f[:2])]


def _subject(criterion: str) -> tuple[str, int]:
    """The side the criterion is about (named before its predicate), and where its
    predicate may start."""
    candidates = _candidates(criterion, 0)
    end = candidates[0][0].start() if candidates else len(criterion)
    match = _SUBJECTS.search(criterion, 0, end)
    if match is None:
        return _AGENT, 0
    return match.lastgroup or _AGENT, match.end()


def _object_words(text: str) -> tuple[str, ...] | None:
    """X's content words (or its quoted phrase, as one word); ``None`` if none."""
    quoted = _QUOTED.search(text)
    if quoted is not None:
        phrase = next(group for group in quoted.groups() if group)
        return (phrase.strip().lower(),) if phrase.strip() else None
    text = _OBJECT_END.sub("", text)
    text = re.sub(r"\b\w+'s\b", " ", text)
    words = tuple(
        word
        for word in re.findall(r"[a-z0-9#]+(?:-[a-z0-9]+)*", text)
        if word not in _STOPWORDS
    )
    return words or None


def _has_word(message: str, word: str) -> int:
    """Where ``word`` (or a synonym, or a word it starts) is in ``message``; -1 if not."""
    if " " in word or not word.isalnum():
        return message.find(word)
    best = -1
    for form in _SYNONYMS.get(word, (word,)):
        if " " in form or not form.isalnum():
            position = message.find(form)
        else:
            stem = form if len(form) <= 3 else form[: max(4, len(form) - 2)]
            pattern = rf"\b{re.escape(stem)}" + (r"\b" if len(form) <= 3 else "")
            found = re.search(pattern, message)
            position = found.start() if found else -1
        if position >= 0 and (best < 0 or position < best):
            best = position
    return best


def _clause(message: str, position: int) -> str:
    starts = [m.end() for m in re.finditer(r"[.!?;]|\bbut\b", message[:position])]
    start = starts[-1] if starts else 0
    end_match = re.search(r"[.!?;]|\bbut\b", message[position:])
    end = position + end_match.start() if end_match else len(message)
    return message[start:end]


def _matches(  # noqa: PLR0911 - one early answer per kind of rule
    rule: _Rule, words: tuple[str, ...] | None, message: str
) -> bool:
    if rule.question and not _QUESTION_LIKE.search(message):
        return False
    if words is not None:
        positions = [_has_word(message, word) for word in words]
        if min(positions) < 0:
            return False
        if rule.affirmative:
            return not _MESSAGE_NEGATION.search(_clause(message, min(positions)))
        return True
    if rule.cue is None:  # pragma: no cover - every rule without an object has a cue
        return False
    found = rule.cue.search(message)
    if found is None:
        return False
    return not (
        rule.affirmative and _MESSAGE_NEGATION.search(_clause(message, found.start()))
    )


def _quote(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 3] + "...")


def _cannot(criterion: str) -> CriterionVerdict:
    understood = ", ".join(name for name, _, _ in HEURISTICS)
    return CriterionVerdict(
        criterion,
        passed=False,
        reason=(
            f"{CANNOT_JUDGE}: no offline rule understands {criterion!r} (offline the "
            f"judge understands: {understood}; use a real model for anything else)"
        ),
        messages=(),
    )


def _judge_one(criterion: str, messages: Sequence[tuple[str, str]]) -> CriterionVerdict:
    text = _normal(criterion)
    side, start = _subject(text)
    for found, rule in _candidates(text, start):
        words: tuple[str, ...] | None = None
        negations = len(_NEGATION.findall(text[start : found.start()]))
        if rule.takes_object:
            target = found.group("object") or ""
            verb = found.groupdict().get("verb") or ""
            if verb.startswith("refund"):
                target = "refund"
            if re.match(r"\s*no\b", target):
                negations += 1
                target = re.sub(r"^\s*no\b", "", target)
            words = _object_words(target)
            if words is None:
                continue
        what = rule.name if words is None else f"{rule.name} {' '.join(words)!r}"
        who = "any" if side == _ANY else side
        hits = [
            index
            for index, (role, content) in enumerate(messages)
            if side in (_ANY, role) and _matches(rule, words, _normal(content))
        ]
        negated = negations % 2 == 1
        if hits:
            first = hits[0]
            role, content = messages[first]
            reason = f"message {first} ({role}) {what}: {_quote(content)}"
            return CriterionVerdict(criterion, not negated, reason, tuple(hits[:5]))
        return CriterionVerdict(criterion, negated, f"no {who} message {what}", ())
    return _cannot(criterion)


def judge_offline(
    criteria: Iterable[str], messages: Sequence[tuple[str, str]]
) -> tuple[CriterionVerdict, ...]:
    """Judge ``criteria`` on ``messages`` (``(role, text)`` pairs, ``role`` being
    ``"customer"`` or ``"agent"``) with the rules of :data:`HEURISTICS`.

    Example:
        >>> chat = [("customer", "My order is late"),
        ...         ("agent", "Sorry about that! What is your order number?")]
        >>> [(v.passed, v.messages) for v in judge_offline(
        ...     ["the agent apologises", "the agent asks for the order number",
        ...      "the agent does not promise a refund", "the agent is empathetic"], chat)]
        [(True, (1,)), (True, (1,)), (True, ()), (False, ())]
    """
    return tuple(_judge_one(criterion, messages) for criterion in criteria)


# ----- the prompt layout both sides share ------------------------------------------


def criteria_prompt(criteria: Sequence[str]) -> str:
    """The numbered criteria block of the judge's system prompt."""
    return "Criteria:\n" + "\n".join(
        f"{number}. {criterion}" for number, criterion in enumerate(criteria, start=1)
    )


def transcript_block(messages: Sequence[tuple[str, str]]) -> str:
    """``[index] ROLE: text`` lines; a message's further lines are indented."""
    lines = []
    for index, (role, content) in enumerate(messages):
        body = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        lines.append(f"[{index}] {role.upper()}: {body[0]}")
        lines.extend(f"    {line}" for line in body[1:])
    return "\n".join(lines)


_CRITERION_LINE: Final = re.compile(r"^(\d+)\. (.*)$")
_MESSAGE_LINE: Final = re.compile(r"^\[(\d+)\] (CUSTOMER|AGENT): ?(.*)$")


def parse_criteria(prompt: str) -> list[str]:
    """The criteria of a :func:`criteria_prompt` block inside ``prompt``."""
    _, found, rest = prompt.partition("Criteria:\n")
    if not found:
        return []
    criteria = []
    for line in rest.split("\n"):
        match = _CRITERION_LINE.match(line)
        if match is None:
            break
        criteria.append(match.group(2))
    return criteria


def parse_transcript(block: str) -> list[tuple[str, str]]:
    """The messages of a :func:`transcript_block` (other lines are ignored)."""
    messages: list[tuple[str, str]] = []
    for line in block.split("\n"):
        match = _MESSAGE_LINE.match(line)
        if match is not None:
            messages.append((match.group(2).lower(), match.group(3)))
        elif line.startswith("    ") and messages:
            role, content = messages[-1]
            messages[-1] = (role, f"{content}\n{line[4:]}")
    return messages


def _sections(text: str) -> list[str]:
    """The transcript blocks after each ``Transcript...:`` header line."""
    parts = re.split(r"^Transcript[^\n]*:$", text, flags=re.MULTILINE)
    return parts[1:]


def answer(name: str, turns: Sequence[_TurnLike]) -> dict[str, object] | None:
    """The offline model's structured answer to a criteria or pairwise judge's call
    (``name`` is the schema's title); ``None`` for any other call."""
    if name not in (CRITERIA_TITLE, PAIRWISE_TITLE):
        return None
    system = "\n".join(turn.content for turn in turns if turn.role == "system")
    rest = "\n".join(turn.content for turn in turns if turn.role != "system")
    criteria = parse_criteria(system)
    transcripts = [parse_transcript(section) for section in _sections(rest)]
    if name == CRITERIA_TITLE:
        messages = transcripts[0] if transcripts else []
        return {
            "verdicts": [
                {
                    "criterion": number,
                    "passed": verdict.passed,
                    "reason": verdict.reason,
                    "messages": list(verdict.messages),
                }
                for number, verdict in enumerate(
                    judge_offline(criteria, messages), start=1
                )
            ]
        }
    first, second = [*transcripts, [], []][:2]
    return {"verdicts": compare_offline(criteria, first, second)}


def compare_offline(
    criteria: Sequence[str],
    first: Sequence[tuple[str, str]],
    second: Sequence[tuple[str, str]],
) -> list[dict[str, object]]:
    """Per criterion: ``"first"`` when only the first transcript meets it, ``"second"``
    when only the second does, else ``"tie"`` (symmetric by construction)."""
    answers: list[dict[str, object]] = []
    for number, (one, two) in enumerate(
        zip(
            judge_offline(criteria, first), judge_offline(criteria, second), strict=True
        ),
        start=1,
    ):
        if one.passed == two.passed:
            state = "meet" if one.passed else "miss"
            if one.reason.startswith(CANNOT_JUDGE):
                reason = one.reason
            else:
                reason = f"both transcripts {state} it"
            winner = "tie"
        else:
            winner = "first" if one.passed else "second"
            reason = (
                f"only the {winner} transcript meets it: "
                f"{(one if one.passed else two).reason}"
            )
        answers.append({"criterion": number, "winner": winner, "reason": reason})
    return answers
