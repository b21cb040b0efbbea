"""How the offline customer words its intent, and the facts it gives when asked.

Pure Python, deterministic. :func:`paraphrase` turns an intent as users write it
("I forgot my password", "reset my password", "refund for order 123", "Where is my
package?", "The customer wants to cancel their plan") into a sentence a customer would
say, by the rules below (also in the docs, under the offline model). The first rule
that fits the intent's first sentence applies; later sentences get the same rules.

1. A question (it ends with ``?`` or starts with a question word such as *where* or
   *how*, or with an auxiliary followed by a subject, as in *can you*, *is my*) stays a
   question: ``"where is my package"`` -> ``"Where is my package?"``; *how to* /
   *what to* become *How do I* / *What should I*.
2. A description of the customer in the third person (*the customer*, *the user*,
   *the client*, or a bare third-person verb such as *wants*) shifts to the first
   person: ``"The customer wants to cancel their plan"`` -> ``"I want to cancel my
   plan."``
3. A first-person statement (starting with *I*, *I'm*, *my*, *we*, *our*, ...) or one
   about *it*/*this*/*there* stays a statement: ``"I forgot my password"`` -> ``"I
   forgot my password."`` (*my*/*our* with no verb after it is a noun phrase: rule 4).
4. A noun phrase (it starts with an article or a known noun, or with a word that is
   both noun and verb, such as *refund*, followed by a preposition) becomes a wish:
   ``"refund for order 123"`` -> ``"I'd like a refund for order 123."``
5. Anything else is read as a verb phrase and becomes a need: ``"reset my
   password"`` -> ``"I need to reset my password."``

Everywhere: *their*/*them*/*they* become *my*/*me*/*I*, a lone *i* becomes *I*, the
first letter is a capital, and the sentence ends with one ``.`` or ``?``.
"""

from __future__ import annotations

import functools
import random
import re
import zlib
from typing import Final

import attrs


def word_set(text: str) -> frozenset[str]:
    """The words of ``text``, split at whitespace."""
    return frozenset(text.split())


_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+(?=[A-Za-z])")
_WORD: Final = re.compile(r"[A-Za-z']+")
_WH: Final = frozenset(
    {"what", "where", "when", "why", "how", "who", "whom", "whose", "which"}
)
_AUX: Final = word_set(
    "can could would will is are am was were do does did should shall may might "
    "have has isn't aren't can't won't doesn't didn't"
)
_IMPERATIVE: Final = word_set("have do get will")
"""Auxiliaries that also open an imperative ("have it delivered"): a question only
when a subject follows."""
_SUBJECTS: Final = word_set(
    "you i we it they he she my your our their the this that there someone anyone "
    "a an his her me"
)
_FIRST_PERSON: Final = word_set(
    "i i'm im i've i'd i'll my we we're we've we'd our me mine"
)
_STATEMENT_SUBJECTS: Final = word_set(
    "it it's its this that there there's nothing everything"
)
_THIRD_SUBJECT: Final = re.compile(
    r"^(?:the |a |this |our )?(?:customer|user|client|caller|buyer|shopper|person|"
    r"he|she|they)(?:'s)?\s+(?=\S)",
    re.IGNORECASE,
)
_THIRD_VERBS: Final = {
    "has": "have",
    "is": "am",
    "was": "was",
    "does": "do",
    "doesn't": "don't",
    "isn't": "am not",
    "wasn't": "wasn't",
    "hasn't": "haven't",
    "can't": "can't",
    "cannot": "cannot",
    "can": "can",
    "could": "could",
    "would": "would",
    "will": "will",
    "won't": "won't",
    "should": "should",
    "did": "did",
    "didn't": "didn't",
    "forgot": "forgot",
    "lost": "lost",
    "got": "got",
    "had": "had",
}
_PRONOUNS: Final = {
    "their": "my",
    "theirs": "mine",
    "them": "me",
    "themselves": "myself",
    "they": "I",
    "they're": "I'm",
    "they've": "I've",
    "they'd": "I'd",
    "they'll": "I'll",
    "his": "my",
    "i": "I",
    "i'm": "I'm",
    "im": "I'm",
    "i've": "I've",
    "i'd": "I'd",
    "i'll": "I'll",
}
_DETERMINERS: Final = word_set(
    "a an the some any another more my our your this that these those one two three "
    "all no"
)
_NOUNS: Final = word_set(
    "password account invoice bill billing subscription delivery shipping status "
    "problem issue question information info details receipt money discount coupon "
    "replacement refund refunds help assistance support advice access tracking "
    "confirmation copy quote estimate warranty information invoice reimbursement "
    "credit compensation feedback appointment reservation booking"
)
_VERB_NOUNS: Final = word_set(
    "refund return exchange change update upgrade downgrade order access transfer "
    "reset report help support book charge credit repair replace"
)
_PREPOSITIONS: Final = word_set("for of on with about from regarding in at")
_UNCOUNTABLE: Final = word_set(
    "help information info advice assistance support access money feedback "
    "clarification news billing shipping delivery tracking compensation "
    "reimbursement credit confirmation"
)
_A_BEFORE_U: Final = ("use", "uni", "usu", "uti", "usb", "eu", "one")
_AN_BEFORE_H: Final = ("hour", "honest", "honor", "honour", "heir")
_VERB_FINITE: Final = re.compile(
    r"\b(?:is|are|was|were|has|have|had|keeps?|got|gets|won't|can't|cannot|"
    r"isn't|wasn't|hasn't|haven't|didn't|doesn't|don't|never|still|shows|says|"
    r"\w+ed|\w+n't)\b",
    re.IGNORECASE,
)


def stable_rng(seed: int, *parts: str) -> random.Random:
    """A generator seeded from ``seed`` and the text of ``parts``, the same in every process."""
    digest = zlib.crc32("\x1f".join(parts).encode("utf-8"), seed & 0xFFFFFFFF)
    return random.Random(digest)


def has(text: str, cues: tuple[str, ...]) -> bool:
    """Whether the lowercased ``text`` holds any of ``cues``."""
    lowered = text.lower()
    return any(cue in lowered for cue in cues)


@attrs.frozen
class Phrased:
    """An intent as the customer says it."""

    text: str
    question: bool


@functools.lru_cache(maxsize=1024)
def paraphrase(intent: str) -> Phrased:
    """The intent as a customer's sentence (or sentences), by the module's rules."""
    cleaned = " ".join(intent.split())
    sentences = [s for s in _SENTENCE_END.split(cleaned) if s.strip(" .!?,;:")]
    if not sentences:
        return Phrased("I need some help with my account.", question=False)
    said = [_sentence(sentence) for sentence in sentences]
    return Phrased(" ".join(text for text, _ in said), question=said[0][1])


def _sentence(raw: str) -> tuple[str, bool]:  # noqa: PLR0911 - one return per rule
    asked = raw.rstrip().endswith("?")
    body = raw.strip().rstrip(" .!?,;:").strip()
    body = re.sub(r"^(?:please|pls|kindly)\s+", "", body, flags=re.IGNORECASE)
    words = body.split()
    first = words[0].lower() if words else ""
    second = words[1].lower() if len(words) > 1 else ""
    if first in _WH and second == "to" and len(words) > 2:
        rest = _shift(" ".join(words[2:]))
        lead = "How do I" if first == "how" else f"{first.capitalize()} should I"
        return f"{lead} {rest}?", True
    aux_question = first in _AUX and (second in _SUBJECTS or first not in _IMPERATIVE)
    if asked or first in _WH or aux_question:
        return _finish(_shift(body), "?"), True
    third = _THIRD_SUBJECT.match(body)
    if third or first in {"wants", "needs", "would", "is", "has", "tries", "keeps"}:
        rest = body[third.end() :] if third else body
        return _finish("I " + _first_person_verb(_shift(rest)), "."), False
    if first in _STATEMENT_SUBJECTS:
        return _finish(_shift(body), "."), False
    if first in _FIRST_PERSON:
        if first in {"my", "our"} and not _VERB_FINITE.search(" ".join(words[1:])):
            return _finish("I'd like " + _shift(_lower_first(body)), "."), False
        return _finish(_shift(body), "."), False
    if first == "to" and len(words) > 1:
        words, first = words[1:], second
    if _is_noun_phrase(first, second, len(words)):
        phrase = _shift(_lower_first(" ".join(words)))
        return _finish("I'd like " + _article(phrase) + phrase, "."), False
    if first == "help" and second == "me" and len(words) > 2:
        rest = _lower_first(" ".join(words[2:]))
        return _finish("I need help to " + _shift(rest), "."), False
    return _finish("I need to " + _shift(_lower_first(" ".join(words))), "."), False


def _is_noun_phrase(first: str, second: str, length: int) -> bool:
    if first in _DETERMINERS or first in _NOUNS or first[:1].isdigit():
        return first not in _VERB_NOUNS or second in _PREPOSITIONS or length == 1
    if first in _VERB_NOUNS:
        return second in _PREPOSITIONS or second in _NOUNS or length == 1
    return False


def _first_person_verb(text: str) -> str:
    words = text.split(" ", 1)
    verb, rest = words[0], (words[1] if len(words) > 1 else "")
    lowered = verb.lower()
    if lowered in _THIRD_VERBS:
        mine = _THIRD_VERBS[lowered]
    elif lowered.endswith("ies") and len(lowered) > 4:
        mine = lowered[:-3] + "y"
    elif lowered.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        mine = lowered[:-2]
    elif lowered.endswith("s") and not lowered.endswith("ss"):
        mine = lowered[:-1]
    else:
        mine = lowered
    if mine == "am" and rest.startswith("not "):
        mine, rest = "am not", rest[4:]
    return f"{mine} {rest}".strip()


def _shift(text: str) -> str:
    """Third-person pronouns to first person, and a lone ``i`` to ``I``."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        return _PRONOUNS.get(word.lower(), word) if word.lower() != "his" else "my"

    text = re.sub(
        r"\b(?:the )?(?:customer|user|client)'s\b", "my", text, flags=re.IGNORECASE
    )
    return _WORD.sub(swap, text)


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    if first.isupper() and len(first) > 1:  # an acronym: leave it
        return text
    return text[:1].lower() + text[1:]


def _article(phrase: str) -> str:
    word = phrase.split(" ", 1)[0].lower()
    if word in _DETERMINERS or word[:1].isdigit() or word in _UNCOUNTABLE:
        return ""
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return ""
    vowel = word[:1] in "aeio" or (word[:1] == "u" and not word.startswith(_A_BEFORE_U))
    return "an " if vowel or word.startswith(_AN_BEFORE_H) else "a "


def _finish(text: str, stop: str) -> str:
    text = text.strip().rstrip(" .!?,;:")
    return text[:1].upper() + text[1:] + stop


# ----- facts -------------------------------------------------------------------------

_FIRST_NAMES: Final = (
    "Jordan",
    "Alex",
    "Sam",
    "Taylor",
    "Morgan",
    "Riley",
    "Casey",
    "Jamie",
    "Robin",
    "Avery",
)
_LAST_NAMES: Final = (
    "Lee",
    "Patel",
    "Garcia",
    "Novak",
    "Okafor",
    "Smith",
    "Berg",
    "Rossi",
    "Kim",
    "Silva",
)
_MONTHS: Final = ("March", "April", "May", "June", "September", "October")
_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MONEY: Final = re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d{2})?")
_NUMBER: Final = re.compile(r"#?\b([A-Za-z]{0,3}-?\d{3,}[A-Za-z0-9-]*)\b")
_DATE: Final = re.compile(
    r"\b(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{1,2}"
    r"|(?:last |on )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|yesterday|last week|last month)\b",
    re.IGNORECASE,
)
_PERSONA_NAME: Final = re.compile(
    r"^\s*([A-Z][a-z]+)(?:\s+([A-Z][a-z]+))?\s*(?:,|\bis\b|-)"
)


@attrs.frozen(kw_only=True)
class Facts:
    """What the customer knows about its case: taken from the intent, or invented."""

    order: str
    email: str
    name: str
    date: str
    amount: str
    card: str
    phone: str
    reason: str


@functools.lru_cache(maxsize=1024)
def facts(intent: str, persona: str, seed: int) -> Facts:
    """The customer's facts: those the intent or persona names, the rest from ``seed``."""
    rng = stable_rng(seed, "facts", intent, persona)
    named = _PERSONA_NAME.match(persona)
    first = named.group(1) if named else rng.choice(_FIRST_NAMES)
    last = named.group(2) if named and named.group(2) else rng.choice(_LAST_NAMES)
    email = _EMAIL.search(intent)
    text = _EMAIL.sub(" ", intent)
    money = _MONEY.search(text)
    text = _MONEY.sub(" ", text)
    date = _DATE.search(text)
    number = _NUMBER.search(text)
    month, day = rng.choice(_MONTHS), rng.randint(2, 27)
    return Facts(
        order=number.group(1) if number else str(rng.randint(10000, 99999)),
        email=email.group(0) if email else f"{first}.{last}@example.com".lower(),
        name=f"{first} {last}",
        date=date.group(0) if date else f"{month} {day}",
        amount=money.group(0)
        if money
        else f"${rng.randint(12, 240)}.{rng.choice(('00', '49', '99'))}",
        card=str(rng.randint(1000, 9999)),
        phone=f"555-01{rng.randint(10, 99)}",
        reason=_reason(intent),
    )


def _reason(intent: str) -> str:
    because = re.search(r"\b(?:because|since)\s+(.+)", intent, re.IGNORECASE)
    if because:
        return _finish(_shift(because.group(1)), ".")
    for cues, reason in _REASONS:
        if has(intent, cues):
            return reason
    return "It just isn't working for me, and I need it sorted."


_REASONS: Final = (
    (
        ("cancel", "unsubscribe", "close my account"),
        "It's too expensive for me at the moment.",
    ),
    (("refund", "money back", "return"), "The item arrived damaged."),
    (
        ("charged twice", "double charge", "overcharged"),
        "I was charged twice for the same order.",
    ),
    (
        ("password", "log in", "login", "sign in", "locked"),
        "I can't get into my account.",
    ),
    (("deliver", "package", "order", "shipping"), "It hasn't arrived yet."),
)
