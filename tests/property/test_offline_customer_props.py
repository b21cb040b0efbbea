"""The offline customer stays coherent over generated intents and scripted agents.

Each example is an intent (a verb phrase, a first-person statement, a question, a noun
phrase or a third-person description, with order numbers, emails and amounts) and a
script of agent replies (resolution, question, refusal, transfer, nonsense). The
customer is the library's own: an ``LLMParticipant`` on the offline model, given the
customer prompt the library builds; it opens the chat, then answers each scripted
reply until it ends its side. Checked:

1. after a resolution the customer never states its request again, and ends;
2. no thanks (nor "that fixed it") in reply to a question, and the reply carries a fact;
3. the customer's opening says the intent by the written rule set (docs: the offline
   model), and every message it writes is a well-formed sentence.

The checker below knows nothing of how the customer phrases things: it knows the form
of each intent because the strategy built it, and checks the rules on the output.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim import (
    Conversation,
    Intent,
    LLMParticipant,
    Message,
    OfflineChatModel,
    ParticipantRole,
)


CUSTOMER, AGENT = ParticipantRole.CUSTOMER, ParticipantRole.AGENT
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# ----- intents -----------------------------------------------------------------------

numbers = st.integers(min_value=100, max_value=999_999).map(str)
emails = st.builds(
    "{}.{}@{}.com".format,
    st.sampled_from(["ana", "li", "omar", "kim", "jo"]),
    st.sampled_from(["ruiz", "chen", "haddad", "berg"]),
    st.sampled_from(["example", "mail", "shop"]),
)
amounts = st.integers(min_value=5, max_value=900).map("${}".format)
VERB_PHRASES = (
    "reset my password",
    "cancel my subscription",
    "track order {n}",
    "change my email to {e}",
    "update the address on order {n}",
    "return the shoes from order {n}",
    "close my account",
    "upgrade my plan",
    "find out where order {n} is",
    "get a refund for order {n}",
    "get my money back for the {a} charge",
)
STATEMENTS = (
    "I forgot my password",
    "I was charged twice for order {n}",
    "I can't log in to {e}",
    "I'm locked out of my account",
    "my package never arrived",
    "I want a refund for order {n}",
    "I need to change my email to {e}",
    "i was billed {a} by mistake",
    "we never received order {n}",
)
QUESTIONS = (
    "where is my order {n}",
    "Where is my package?",
    "how do I change my email to {e}",
    "can you cancel order {n}?",
    "why was I charged {a}?",
    "what is the status of order {n}",
    "how to reset my password",
    "is order {n} on its way",
)
NOUN_PHRASES = (
    "refund for order {n}",
    "a refund for order {n}",
    "password reset for {e}",
    "help with billing",
    "an update on order {n}",
    "information about shipping",
    "replacement for a broken charger",
    "invoice for order {n}",
)
THIRD_PERSON = (
    "the customer wants to cancel their subscription",
    "Customer needs a refund for order {n}",
    "The user is locked out of their account",
    "wants to change their email to {e}",
)
FORMS = {
    "verb": VERB_PHRASES,
    "statement": STATEMENTS,
    "question": QUESTIONS,
    "noun": NOUN_PHRASES,
    "third": THIRD_PERSON,
}


@st.composite
def intents(draw):
    form = draw(st.sampled_from(sorted(FORMS)))
    template = draw(st.sampled_from(FORMS[form]))
    text = template.format(n=draw(numbers), e=draw(emails), a=draw(amounts))
    if draw(st.booleans()):
        text = text[0].upper() + text[1:]
    if not text.endswith("?"):
        text += draw(st.sampled_from(["", "", "."]))
    return form, text


# ----- scripted agents ---------------------------------------------------------------

REPLIES = {
    "resolution": (
        "Your refund has been issued.",
        "Done! I've reset your password.",
        "All set - your subscription is cancelled.",
        "I've updated your email address; you're all set.",
        "Your order has been shipped and will arrive tomorrow.",
    ),
    "question": (
        "What's your order number?",
        "Could you tell me the email address on the account?",
        "When did this happen?",
        "What's the name on the account?",
        "How much were you charged?",
        "Which card did you pay with?",
        "Can you give me a phone number to reach you?",
    ),
    "refusal": (
        "I'm sorry, we can't do that.",
        "Unfortunately that's not possible.",
        "I'm afraid I'm unable to help with that.",
    ),
    "transfer": (
        "Let me transfer you to a colleague.",
        "I'm connecting you to a specialist now.",
        "One of our specialists will contact you within 24 hours.",
    ),
    "nonsense": (
        "Banana window seventeen purple.",
        "asdf qwerty zxcv",
        "Lorem ipsum dolor sit amet.",
    ),
}
scripts = st.lists(
    st.tuples(st.sampled_from(sorted(REPLIES)), st.integers(0, 6)),
    min_size=1,
    max_size=6,
)


def drive(intent: str, script, seed: int) -> list[tuple[str | None, str | None]]:
    """The customer's opening, then (category, reply) per scripted agent message; a
    reply of ``None`` means the customer passed (it had ended its side)."""

    async def talk():
        customer = LLMParticipant(
            CUSTOMER,
            OfflineChatModel(seed=seed),
            intent=Intent(CUSTOMER, intent),
            seed=seed,
        )
        conversation = Conversation(messages=())
        opening = await customer.get_next_message(conversation)
        assert opening is not None
        conversation = conversation.with_message(opening)
        said = [(None, opening.content)]
        for category, index in script:
            options = REPLIES[category]
            agent = Message(options[index % len(options)], AT, AGENT)
            conversation = conversation.with_message(agent)
            reply = await customer.get_next_message(conversation)
            said.append((category, reply.content if reply else None))
            if reply is not None:
                conversation = conversation.with_message(reply)
        return said

    return anyio.run(talk)


# ----- the checker -------------------------------------------------------------------

THANKS = ("thank", "fixed it", "that worked", "perfect")
FACTS = re.compile(r"\d|@|\b[A-Z][a-z]+ [A-Z][a-z]+\b")
CLOSING = ("bye", "goodbye")
NUMBERS_AND_EMAILS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\$?\d+")
GREETING = re.compile(r"^(?:hi|hello|hey)[!.,]?\s+", re.IGNORECASE)
QUESTION_WORDS = ("where", "what", "how", "why", "when", "who", "which", "can", "is")


def sentence_problems(text: str) -> list[str]:
    """The well-formedness rules every customer message must keep."""
    problems = []
    body = GREETING.sub("", text.strip())
    if not body[:1].isupper():
        problems.append("does not start with a capital letter")
    if not body.endswith((".", "?", "!")):
        problems.append("does not end with . ? or !")
    if re.search(r"(?<![\w@.'])i(?![\w@.'-])|(?<![\w@.])i'(?:m|ve|d|ll)\b", body):
        problems.append("a lowercase pronoun 'i'")
    if re.search(r"[?!.],|[?!,]\.(?!\w)|,\?|\?\?|\s[,.?!]|\s{2}", body):
        problems.append("broken punctuation")
    if re.search(
        r"\bneed to (?:i|I|we|my|where|what|how|why|when|can|is|a|an|the)\b", body
    ):
        problems.append("'need to' followed by a non-verb")
    if re.search(r"\b(?:I'd like|need to|help to|help with) (?!I\b)[A-Z][a-z]", body):
        problems.append("a capital letter inside the sentence")
    if re.search(r"\bhelp me (?:i|I|where|what|how|why|when|refund)\b", body):
        problems.append("'help me' followed by a clause")
    if re.search(r"\ba [aeioAEIO]\w", body) or re.search(
        r"\ban [b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z]\w", body
    ):
        problems.append("a/an does not agree with the next word")
    return problems


def _words(text: str) -> str:
    return (
        " ".join(re.findall(r"[\w@.$'-]+", text.lower())).replace(". ", " ").strip(".")
    )


def paraphrase_problems(form: str, intent: str, opening: str) -> list[str]:
    """The opening must say the intent by the rules of its form."""
    problems = [f"opening: {p}" for p in sentence_problems(opening)]
    if re.search(r"\b(?:their|them|the customer|the user)\b", opening, re.IGNORECASE):
        problems.append("opening speaks of the customer in the third person")
    said = _words(opening)
    core = _words(intent.rstrip(".?!"))
    problems += [
        f"opening drops {fact!r}"
        for fact in NUMBERS_AND_EMAILS.findall(intent)
        if fact not in opening
    ]
    if form == "statement":
        # A first-person statement stays a statement, in the customer's own words.
        if core not in said:
            problems.append("a statement not kept as said")
        if re.search(
            r"\b(?:need to|would like|I'd like) " + re.escape(core.split()[0]), said
        ):
            problems.append("a statement turned into a request")
    elif form == "question":
        last = re.escape(intent.rstrip("?. ").split()[-1])
        if not re.search(last + r"\?", opening):
            problems.append("a question not kept a question")
    elif form == "verb":
        if f"need to {core}" not in said and f"like to {core}" not in said:
            problems.append("a verb phrase not said as 'I need to ...'")
    elif form == "noun":
        phrase = re.sub(r"^(?:a|an|the) ", "", core)
        if not re.search(
            r"\b(?:i'd like|i would like|i need)\b(?: a| an| the)? "
            + re.escape(phrase),
            said,
        ):
            problems.append("a noun phrase not said as 'I'd like ...'")
    elif form == "third" and not re.search(r"\bi(?:'m| am| want| need| have)\b", said):
        problems.append("a third-person intent not shifted to the first person")
    return problems


def problems(form: str, intent: str, said) -> dict[str, list[str]]:
    """Violations by property: 'resolution', 'question', 'grammar'."""
    found: dict[str, list[str]] = {"resolution": [], "question": [], "grammar": []}
    (_, opening), *replies = said
    found["grammar"] += paraphrase_problems(form, intent, opening)
    request_words = set(_words(intent).split()) - {"i", "my", "a", "the", "to", "for"}
    resolved = False
    for category, reply in replies:
        if reply is None:
            continue
        found["grammar"] += [f"{reply!r}: {p}" for p in sentence_problems(reply)]
        lowered = reply.lower()
        if resolved:
            found["resolution"].append(f"spoke again after closing: {reply!r}")
        if category == "resolution":
            overlap = request_words & set(_words(reply).split())
            if len(overlap) >= max(2, len(request_words) // 2) or "help me" in lowered:
                found["resolution"].append(f"request repeated: {reply!r}")
            if not any(word in lowered for word in CLOSING):
                found["resolution"].append(f"did not close: {reply!r}")
            resolved = True
        if category == "question":
            if any(word in lowered for word in THANKS):
                found["question"].append(f"thanks in reply to a question: {reply!r}")
            elif not (FACTS.search(reply) or any(w in lowered for w in CLOSING)):
                found["question"].append(f"no fact in reply to a question: {reply!r}")
    return found


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(intent=intents(), script=scripts, seed=st.integers(0, 2**31 - 1))
def test_the_offline_customer_is_coherent(intent, script, seed):
    form, text = intent
    found = problems(form, text, drive(text, script, seed))
    assert found == {"resolution": [], "question": [], "grammar": []}
