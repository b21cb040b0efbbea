"""The offline model's customer: what it says next, read from the conversation so far.

The model is called with the whole history each time, so the customer's state is a
function of that history: whether it has stated its request, what the agent's messages
were (:func:`classify` sorts each into a :class:`Kind`), and what it already said. From
that it answers the agent's last message:

- a resolution ("your refund has been issued"): thanks and goodbye, never the request again;
- a question: the facts of its intent (order number, email, name, date, amount, ...;
  those the intent names, else invented from the seed and kept for the conversation),
  never thanks;
- an attempt ("try this... did that work?"): a seeded roll, success (thanks, goodbye) or
  failure (it still doesn't work; an impatient persona then asks for a human);
- a refusal: once, asks for another option or someone else; then closes;
- a transfer: waits; a second transfer closes, and so does a hand-off (an escalated
  case, or someone who will email or call later);
- nonsense: asks once to clarify, then restates its request once, then closes;
- a goodbye: says goodbye.

Every closing message says goodbye (so :class:`~clientsim.termination.ClosingPhrases`
sees it) and ends with ``[END]`` (so the participant passes from then on).
"""

from __future__ import annotations

import enum
import functools
import random
import re
from collections.abc import Sequence
from typing import Final

from clientsim.llm._offline_phrasing import (
    Facts,
    Phrased,
    facts,
    has,
    paraphrase,
    word_set,
)
from clientsim.llm.turns import Turn


END_MARKER: Final = "[END]"

_GOAL: Final = re.compile(r"your goal[^:\n]*:\s*(.+)", re.IGNORECASE)
_PERSONA: Final = re.compile(r"who (?:you are|the customer is):\s*(.+)", re.IGNORECASE)
_PLACEHOLDER: Final = "(The chat has not started yet"
_IMPATIENT: Final = (
    "impatient",
    "angry",
    "frustrated",
    "rude",
    "in a hurry",
    "annoyed",
)
_MAX_MESSAGES: Final = 12
"""The customer gives up after this many messages of its own."""


class Kind(enum.Enum):
    """What an agent's message does, as the offline customer reads it."""

    CLOSING = "closing"
    HANDOFF = "handoff"
    TRANSFER = "transfer"
    RESOLUTION = "resolution"
    REFUSAL = "refusal"
    ATTEMPT = "attempt"
    ANYTHING_ELSE = "anything_else"
    QUESTION = "question"
    WAIT = "wait"
    NONSENSE = "nonsense"
    STATEMENT = "statement"


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns), re.IGNORECASE)


_DONE_VERBS: Final = (
    r"issued|processed|cancell?ed|refunded|fixed|resolved|updated|changed|unlocked|"
    r"restored|credited|applied|removed|added|corrected|replaced|reversed|waived|"
    r"closed|booked|scheduled|approved|reactivated|shipped|dispatched|confirmed|"
    r"submitted|completed|delivered|arranged"
)
_CLOSING: Final = _rx(
    r"\b(?:good ?bye|bye)\b",
    r"\bhave a (?:great|nice|good|lovely|wonderful) (?:day|evening|weekend|one)\b",
    r"\btake care\b",
)
_TRANSFER: Final = _rx(
    r"\btransfer(?:r?ing|r?ed)? you\b|\btransfer\b|\bescalat\w*",
    r"\bspecialist\b|\bcolleague\b|\bconnect(?:ing)? you\b|\bput you through\b",
    r"\bhand(?:ing)? (?:you|this|it|your case) over\b|\b(?:human|live) agent\b",
    r"\bsupervisor\b|\bmanager\b|\banother (?:agent|team|department)\b",
)
_LATER: Final = _rx(
    r"\b(?:will|'ll) (?:contact|email|e-mail|call|get back to|reach out to|"
    r"follow up with|be in touch)\b",
    r"\bwithin \d+ (?:hours?|days?|business days)\b|\bescalat\w*",
)
_RESOLUTION: Final = _rx(
    rf"\b(?:has|have) (?:now |just )?been (?:{_DONE_VERBS}|reset|sent)\b",
    rf"\b(?:i|we)(?:'ve| have) (?:just |now |already )?(?:{_DONE_VERBS}|reset (?:your|the))\b",
    r"\bissued (?:a|the|your) (?:full )?refund\b",
    r"\b(?:is|are) (?:now )?(?:done|fixed|resolved|sorted|cancell?ed|complete|"
    r"on (?:its|their|the) way|out for delivery|active again|unlocked|restored)\b",
    r"\byou(?:'re| are) all set\b|\ball (?:set|done|sorted)\b|\btaken care of\b",
    r"\b(?:will|should) (?:arrive|reach you|be delivered|appear on)\b",
)
_REFUSAL: Final = _rx(
    r"\b(?:i|we)(?: am|'m| are|'re)? (?:not able|unable)\b",
    r"\b(?:i|we) (?:can't|cannot|can not|won't be able)\b",
    r"\b(?:i|we) (?:don't|do not) (?:offer|do|allow|support|provide|give)\b",
    r"\bnot (?:possible|eligible|allowed|permitted)\b|\bunfortunately\b",
    r"\bagainst (?:our |the )?polic|\b(?:i'm|we're|i am|we are) afraid\b",
    r"\bno longer (?:offer|support|available)\b|\bnothing (?:i|we) can do\b",
)
_ATTEMPT: Final = _rx(
    r"\b(?:did|does|do|has) (?:that|this|it) (?:work|help|fix|solve|get you in|"
    r"clear it up|answer|sort)",
    r"\bis (?:it|that|everything) (?:set up|working|okay|ok|all sorted|sorted|fixed|"
    r"better)\b",
    r"\bdoes it work now\b|\btry (?:again|that|it|this)\b|\blet me know if\b",
)
_ANYTHING_ELSE: Final = _rx(
    r"\banything else\b|\bsomething else\b|\bany other (?:questions?|issues?)\b",
    r"\belse (?:i|we) can (?:help|do)\b",
)
_ASKS: Final = _rx(
    r"\b(?:please|kindly) (?:provide|send|share|confirm|tell|give|enter|verify)\b",
    r"^(?:provide|send|share|confirm|tell me|give me|enter|verify)\b",
    r"\b(?:i|we)(?:'ll| will) need (?:your|the)\b",
)
_WAIT: Final = _rx(
    r"\b(?:one|just a|give me a) (?:moment|second|sec|minute)\b",
    r"\blet me (?:check|look|see|find|pull)\b|\bplease (?:hold|wait|bear)\b",
    r"\bbear with me\b|\blooking into\b|\bchecking (?:on|that|now)\b",
)
_COMMON: Final = word_set(
    "i you your we our it is are was the a an to for of and or in on with that this "
    "can will have has please thanks thank sorry hi hello help order account yes no "
    "ok okay sure what how when where why which who do does did be been my me us not "
    "let there here would could should may at by from as so if but just any all now "
    "i'm i'll you're it's we're don't can't"
)
_WORDS: Final = re.compile(r"[a-z']+")


@functools.lru_cache(maxsize=4096)
def classify(text: str) -> Kind:  # noqa: PLR0911 - one return per kind, in order
    """What the agent's message ``text`` does; the first kind that fits, in this order."""
    words = _WORDS.findall(text.lower())
    if not words or not any(word in _COMMON for word in words):
        return Kind.NONSENSE
    if _CLOSING.search(text):
        return Kind.CLOSING
    if _TRANSFER.search(text):
        return Kind.HANDOFF if _LATER.search(text) else Kind.TRANSFER
    if _RESOLUTION.search(text):
        return Kind.RESOLUTION
    if _REFUSAL.search(text):
        return Kind.REFUSAL
    if _ATTEMPT.search(text):
        return Kind.ATTEMPT
    if _ANYTHING_ELSE.search(text):
        return Kind.ANYTHING_ELSE
    if "?" in text or _ASKS.search(text):
        return Kind.QUESTION
    if _WAIT.search(text):
        return Kind.WAIT
    return Kind.STATEMENT


def customer(  # noqa: C901, PLR0911, PLR0912 - one branch per kind of agent message
    system: str, dialogue: Sequence[Turn], rng: random.Random, seed: int
) -> str:
    """The customer's next message; a closing one ends with ``[END]``."""
    goal = _GOAL.search(system)
    intent = goal.group(1).strip() if goal else "get some help with my account"
    persona_match = _PERSONA.search(system)
    persona = persona_match.group(1).strip() if persona_match else ""
    phrased = paraphrase(intent)
    known = facts(intent, persona, seed)
    impatient = has(system, _IMPATIENT)
    mine = [t.content for t in dialogue if t.role == "assistant"]
    theirs = [
        t.content
        for t in dialogue
        if t.role == "user" and not t.content.startswith(_PLACEHOLDER)
    ]
    request = _request(phrased)
    if not theirs:
        if _stated(intent, phrased, mine):
            return "Could you help me with that, please?"
        return rng.choice(("Hi! ", "Hello. ", "")) + request
    last = theirs[-1]
    kind = classify(last)
    kinds = [classify(text) for text in theirs]
    if kind is Kind.CLOSING:
        return _end(
            rng.choice(("No, that's all. Bye!", "That's everything, thanks. Bye!"))
        )
    if kind is Kind.HANDOFF:
        return _end(
            rng.choice(
                (
                    "Okay, thank you. I'll wait to hear from them. Bye!",
                    "Fine, thanks. Goodbye.",
                )
            )
        )
    if kind is Kind.TRANSFER:
        if kinds.count(Kind.TRANSFER) + kinds.count(Kind.HANDOFF) >= 2:
            return _end("Okay, I'll wait to hear from them. Goodbye.")
        return rng.choice(("Okay, I'll wait.", "Sure, I'll hold."))
    if kind is Kind.RESOLUTION:
        if _ANYTHING_ELSE.search(last):
            return _end("No, that's all, it worked out. Thank you so much! Bye!")
        return _end(
            rng.choice(
                (
                    "Great, that worked. Thank you so much! Bye!",
                    "Perfect, that's worked out. Thanks, bye!",
                )
            )
        )
    looping = kind is not Kind.NONSENSE and theirs.count(last) >= 3
    if len(mine) >= _MAX_MESSAGES or looping:
        return _end("We're going round in circles. I'll try again later. Goodbye.")
    if kind is Kind.REFUSAL:
        if kinds.count(Kind.REFUSAL) >= 2:
            return _end("Okay, I understand. Goodbye.")
        if impatient:
            return "That's not good enough. Can I talk to a manager, please?"
        return "I see. Is there another option, or someone else I could talk to?"
    if not _stated(intent, phrased, mine):
        fact = _fact_asked(last, known) if kind is Kind.QUESTION else None
        return f"{phrased.text} {fact}" if fact else request
    if kind is Kind.QUESTION:
        return _answer(last, phrased, known)
    if kind is Kind.ANYTHING_ELSE:
        return "Yes, my problem isn't solved yet. " + phrased.text
    if kind is Kind.WAIT:
        if kinds.count(Kind.WAIT) >= 3:
            return _end("I can't wait any longer. I'll try again later. Goodbye.")
        return rng.choice(("Sure, take your time.", "Okay, I'll wait."))
    if kind is Kind.NONSENSE:
        if _CLARIFY not in mine:
            return _CLARIFY
        if not any(m.startswith(_RESTATE) for m in mine):
            return f"{_RESTATE} {phrased.text}"
        return _end(
            "I don't think we're getting anywhere. I'll try again later. Goodbye."
        )
    if kind is Kind.STATEMENT and phrased.question and len(last.split()) >= 4:
        return _end("Okay, that answers my question. Thank you so much! Bye!")
    if kind is Kind.STATEMENT and len(last.split()) < 8:
        if sum(m.startswith(_NUDGE) for m in mine) >= 2:
            return _end(
                "I don't think we're getting anywhere. I'll try again later. Goodbye."
            )
        return f"{_NUDGE} {phrased.text}"
    return _after_attempt(last, mine, rng, impatient=impatient)


_CLARIFY: Final = "Sorry, I don't understand. Could you clarify?"
_RESTATE: Final = "Let me put it another way."
_NUDGE: Final = "Okay, but I still need help."
_FAILURES: Final = (
    "I tried that, but it still doesn't work.",
    "Hmm, no luck, it's still not working.",
    "Not really, I'm still confused about it.",
    (
        "This still doesn't work and I'm running out of patience. "
        "Can I talk to a human, please?"
    ),
)
"""What the customer says when an attempt failed (the offline agent reads "still")."""


def _after_attempt(
    last: str, mine: Sequence[str], rng: random.Random, *, impatient: bool
) -> str:
    failures = sum(m in _FAILURES for m in mine)
    if rng.random() < (0.5 if impatient else 0.75) - 0.2 * failures:
        return _end(
            rng.choice(
                (
                    "That worked, thank you so much! Bye!",
                    "Perfect, that fixed it. Thanks, bye!",
                )
            )
        )
    if failures >= 1 and impatient:
        return _FAILURES[3]
    if failures >= 3:
        return _end("It still doesn't work, so I'll try again later. Goodbye.")
    if has(last, ("answer", "clear", "explain", "make sense")):
        return _FAILURES[2]
    return rng.choice(_FAILURES[:2])


def _end(text: str) -> str:
    return f"{text} {END_MARKER}"


def _request(phrased: Phrased) -> str:
    return (
        phrased.text
        if phrased.question
        else f"{phrased.text} Can you help me with that?"
    )


def _norm(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def _stated(intent: str, phrased: Phrased, mine: Sequence[str]) -> bool:
    said = [_norm(m) for m in mine]
    wanted = (_norm(intent), _norm(phrased.text))
    return any(w and w in s for s in said for w in wanted)


_STATE_REQUEST: Final = (
    "how can i help",
    "how may i help",
    "how can i assist",
    "what can i do for you",
    "what brings you",
    "what do you need",
    "what would you like",
)
_DESCRIBE: Final = (
    "what happened",
    "what's wrong",
    "what is wrong",
    "what seems",
    "what's the problem",
    "what is the problem",
    "what's the issue",
    "what is the issue",
    "what exactly",
    "tell me more",
    "a bit more",
    "a little more",
    "say that again",
    "rephrase",
    "more about",
    "more detail",
    "describe",
    "explain",
    "going on",
    "went wrong",
    "going wrong",
)


def _cues(*cues: str) -> re.Pattern[str]:
    """Any of ``cues`` as whole words (``date`` does not match ``update``)."""
    alternatives = "|".join(re.escape(cue) for cue in cues)
    return re.compile(rf"(?<![a-z])(?:{alternatives})(?![a-z])")


_FACT_CUES: Final = (
    (_cues("email", "e-mail", "mail address", "which account"), "email"),
    (
        _cues(
            "order number",
            "order id",
            "order #",
            "order no",
            "which order",
            "reference",
            "confirmation number",
            "booking number",
            "ticket number",
            "invoice number",
            "receipt number",
        ),
        "order",
    ),
    (_cues("phone", "mobile number", "call you on"), "phone"),
    (_cues("card", "last four", "last 4", "payment method"), "card"),
    (_cues("name", "account holder", "who am i"), "name"),
    (
        _cues(
            "how much",
            "amount",
            "price",
            "total",
            "which charge",
            "what charge",
            "which invoice",
        ),
        "amount",
    ),
    (_cues("when", "date", "what day", "how long ago"), "date"),
    (_cues("why", "reason"), "reason"),
)
_CHOICE: Final = re.compile(
    r"(?:\b(?:use|want|prefer|like|get|choose|by|via|through|with)\s+)?"
    r"((?:an?|the)\s+[\w-]+(?:\s+[\w-]+)?|[\w-]+)\s+or\s+[^?]+\?",
    re.IGNORECASE,
)


_OFFER: Final = _cues(
    "would you like",
    "do you want me",
    "shall i",
    "should i",
    "want me to",
    "may i",
    "can i go ahead",
)
_TRIED: Final = _cues("tried", "try")
_CONFIRM: Final = _cues("confirm", "correct", "right", "is that", "is this", "is it")


def _answer(question: str, phrased: Phrased, known: Facts) -> str:  # noqa: PLR0911
    """A reply to the agent's question: facts, never thanks."""
    asked = question.lower()
    if has(asked, _STATE_REQUEST):
        return _request(phrased)
    for cues, fact in _FACT_CUES:
        if cues.search(asked):
            return _fact(fact, known, asked)
    if has(asked, _DESCRIBE):
        return f"{phrased.text} {known.reason}"
    choice = _CHOICE.search(question)
    if choice:
        option = choice.group(1)
        return option[:1].upper() + option[1:] + ", please."
    if _OFFER.search(asked):
        return "Yes, please."
    if _TRIED.search(asked):
        return "Yes, I already tried that, and it didn't help."
    if _CONFIRM.search(asked):
        return "Yes, that's right."
    return f"I'm not sure. {phrased.text}"


def _fact_asked(question: str, known: Facts) -> str | None:
    """The fact ``question`` asks for, if it asks for one."""
    asked = question.lower()
    for cues, fact in _FACT_CUES:
        if fact != "reason" and cues.search(asked):
            return _fact(fact, known, asked)
    return None


def _fact(fact: str, known: Facts, asked: str) -> str:  # noqa: PLR0911 - one per fact
    when = known.date if known.date[:1].islower() else f"on {known.date}"
    if fact == "email":
        return f"It's {known.email}."
    if fact == "order":
        return (
            f"The order number is {known.order}."
            if "order" in asked
            else f"It's {known.order}."
        )
    if fact == "phone":
        return f"It's {known.phone}."
    if fact == "card":
        return f"It's the card ending in {known.card}."
    if fact == "name":
        return f"It's {known.name}."
    if fact == "amount":
        return f"It was {known.amount}, {when}."
    if fact == "date":
        return f"It was {when}."
    return known.reason
