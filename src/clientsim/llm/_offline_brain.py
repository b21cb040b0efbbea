"""The offline model's dialogue logic: pure Python, deterministic, no LangChain.

It plays a support customer or a support agent well enough for a believable chat, and
answers the judges' structured questions from cue words in the transcript. Which part it
plays comes from the system prompt: ``"You are the customer"`` or ``"You are the
agent"`` (what :class:`~clientsim.participants.LLMParticipant` writes).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from clientsim.llm._offline_customer import END_MARKER, customer
from clientsim.llm._offline_phrasing import stable_rng
from clientsim.llm.turns import Turn
from clientsim.models.persona import STUDY_MODERATOR_MARKER, STUDY_PERSONA_MARKER


__all__ = ["END_MARKER", "judge", "respond", "stable_rng"]

_TEAM: Final = re.compile(r"\bin a team discussion\b", re.IGNORECASE)
"""What a team member's system prompt says (see :mod:`clientsim.llm._offline_team`)."""
_ROLE: Final = re.compile(
    r"\byou are (?:role-playing |playing )?(?:the |a )?(customer|agent)\b",
    re.IGNORECASE,
)


@attrs.frozen
class Topic:
    """One entry of the agent's small built-in FAQ."""

    name: str
    cues: tuple[str, ...]
    question: str
    answer: str
    fallback: str


FAQ: Final = (
    Topic(
        name="password",
        cues=("password", "log in", "login", "sign in", "locked out", "can't access"),
        question="Sorry to hear that. Which email address is on the account?",
        answer=(
            "Thanks. I've sent a password reset link to that address. Open it, choose "
            "a new password, and sign in again. Did that work?"
        ),
        fallback=(
            "Let's try another way: clear your browser's cookies for our site, then use "
            "'Forgot password' on the sign-in page. Does that get you in?"
        ),
    ),
    Topic(
        name="two_factor",
        cues=("two-factor", "2fa", "two factor", "authenticator", "verification code"),
        question="Happy to help with that. Do you want to use an authenticator app or SMS?",
        answer=(
            "Go to Settings > Security > Two-factor authentication, choose your method "
            "and scan the QR code or enter the SMS code. Is it set up now?"
        ),
        fallback=(
            "If the code is rejected, check that your phone's clock is set automatically, "
            "then scan the code again. Does it work now?"
        ),
    ),
    Topic(
        name="cancel",
        cues=("cancel", "unsubscribe", "close my account", "end my subscription"),
        question="I can help with that. May I ask why you'd like to cancel?",
        answer=(
            "I've cancelled your subscription; it stays active until the end of this "
            "billing period and you won't be charged again. Anything else I can do?"
        ),
        fallback=(
            "You can also cancel under Account > Subscription > Cancel plan. I've "
            "confirmed the cancellation on our side. Is that all sorted?"
        ),
    ),
    Topic(
        name="refund",
        cues=("refund", "money back", "charged twice", "double charge", "overcharged"),
        question="I'm sorry about that. Could you give me the order number?",
        answer=(
            "Thanks, I found it and issued a refund to your original payment method. It "
            "should arrive within 5-7 business days. Does that help?"
        ),
        fallback=(
            "I've added a note to speed the refund up and emailed you a confirmation. "
            "Is there anything else about it?"
        ),
    ),
    Topic(
        name="billing",
        cues=("bill", "invoice", "charge", "payment", "card"),
        question="Let me check. Which invoice or charge do you mean?",
        answer=(
            "That charge is your annual renewal. I've emailed you the invoice with the "
            "breakdown. Does that answer your question?"
        ),
        fallback=(
            "You can see every charge under Account > Billing history, with a PDF for "
            "each. Does that clear it up?"
        ),
    ),
    Topic(
        name="delivery",
        cues=("order", "delivery", "package", "shipping", "tracking", "arrived"),
        question="Sorry for the wait. What's your order number?",
        answer=(
            "Your package left our warehouse yesterday; the tracking link is in your "
            "email and it should arrive within two days. Does that help?"
        ),
        fallback=(
            "I've asked the carrier to prioritise it and sent you an updated tracking "
            "link. Is that okay?"
        ),
    ),
)

_THANKS: Final = (
    "worked",
    "thank",
    "great",
    "perfect",
    "that helps",
    "fixed",
    "sorted",
    "all set",
)
_FAILED: Final = ("didn't work", "doesn't work", "still", "not working", "no luck")
_HUMAN: Final = ("human", "real person", "supervisor", "manager", "escalate")
_ESCALATED: Final = ("escalat", "specialist", "supervisor", "transfer")
_CLOSING: Final = ("have a great day", "have a nice day", "goodbye", "bye")


def _has(text: str, cues: Sequence[str]) -> bool:
    lowered = text.lower()
    return any(cue in lowered for cue in cues)


def _role(system: str) -> str | None:
    match = _ROLE.search(system)
    return match.group(1).lower() if match else None


def respond(turns: Sequence[Turn], seed: int) -> str:
    """The next message of whoever the system prompt says the model is."""
    system = "\n".join(t.content for t in turns if t.role == "system")
    dialogue = [t for t in turns if t.role != "system"]
    rng = stable_rng(seed, *(t.content for t in turns))
    if _TEAM.search(system):
        from clientsim.llm._offline_team import member  # noqa: PLC0415

        return member(system, dialogue, rng, seed)
    if STUDY_PERSONA_MARKER in system:
        from clientsim.llm._offline_persona import reply  # noqa: PLC0415

        return reply(system, dialogue, rng, seed)
    if STUDY_MODERATOR_MARKER in system:
        from clientsim.llm._offline_moderator import reply as moderate  # noqa: PLC0415

        return moderate(system, dialogue, rng, seed)
    if _role(system) == "customer":
        return customer(system, dialogue, rng, seed)
    return _agent(dialogue, rng)


def _topic_of(text: str) -> Topic | None:
    lowered = text.lower()
    best: tuple[int, Topic] | None = None
    for topic in FAQ:
        score = sum(cue in lowered for cue in topic.cues)
        if score and (best is None or score > best[0]):
            best = (score, topic)
    return best[1] if best else None


def _agent(dialogue: Sequence[Turn], rng: random.Random) -> str:
    mine = [t.content for t in dialogue if t.role == "assistant"]
    theirs = [t.content for t in dialogue if t.role == "user"]
    last = theirs[-1] if theirs else ""
    if not theirs:
        return "Hi, thanks for contacting support! How can I help you today?"
    if _has(last, _HUMAN):
        return (
            "I understand. I'm escalating your case to a specialist, who will contact "
            f"you within 24 hours. {END_MARKER}"
        )
    if _has(last, _THANKS) and not _has(last, _FAILED):
        if _has(last, _CLOSING):
            return (
                rng.choice(
                    ("You're welcome! Have a great day.", "Glad I could help. Goodbye!")
                )
                + f" {END_MARKER}"
            )
        return "Glad I could help! Is there anything else I can do for you?"
    topic = _topic_of(" ".join(theirs))
    if topic is None:
        if any(m.endswith("?") for m in mine[-1:]) and len(mine) >= 2:
            return (
                "I'm not able to solve this one in chat, so I'm escalating it to a "
                f"specialist who will email you shortly. {END_MARKER}"
            )
        return rng.choice(
            (
                "Thanks for reaching out! Could you tell me a bit more about the problem?",
                "I'd be glad to help. What exactly is going wrong?",
            )
        )
    if topic.question not in mine:
        return topic.question
    if topic.answer not in mine:
        return topic.answer
    if _has(last, _FAILED) and topic.fallback not in mine:
        return topic.fallback
    if _has(last, _FAILED):
        return (
            "I'm sorry that didn't help. I'm escalating your case to a specialist, who "
            f"will contact you within 24 hours. {END_MARKER}"
        )
    return "Is there anything else I can help you with?"


# ----- structured answers for judges -------------------------------------------------

_OUTCOME_CUES: Final[Mapping[str, tuple[str, ...]]] = {
    "resolved": (
        "that worked",
        "fixed it",
        "thank you so much",
        "all set",
        "is it set up now",
        "perfect",
    ),
    "escalated": ("escalating", "specialist", "supervisor", "transfer"),
    "abandoned": ("forget it", "never mind", "give up", "i'll go elsewhere"),
    "cancelled": ("cancelled your subscription",),
    "refunded": ("issued a refund",),
}


def _supervise(turns: Sequence[Turn], seed: int) -> dict[str, object]:
    """A multi-turn supervisor's decision: the customer's next message, or the end."""
    system = "\n".join(t.content for t in turns if t.role == "system")
    dialogue = [t for t in turns if t.role != "system"]
    reply = customer(
        system, dialogue, stable_rng(seed, *(t.content for t in turns)), seed
    )
    if END_MARKER in reply:
        return {
            "action": "terminate",
            "reason": "The customer's matter is settled or handed on.",
            "next_message": "",
            "closing": reply.replace(END_MARKER, "").strip(),
        }
    return {
        "action": "continue",
        "reason": "The customer still needs help.",
        "next_message": reply,
        "closing": "",
    }


def judge(
    schema: Mapping[str, object], turns: Sequence[Turn], seed: int
) -> dict[str, object]:
    """A schema-valid answer for a structured-output call.

    Judges that clientsim ships (outcome and goal) get an answer read from cue words in
    the transcript; any other schema gets a deterministic placeholder of the right shape.
    """
    text = "\n".join(t.content for t in turns if t.role != "system")
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        properties = {}
    if {"action", "next_message", "closing"} <= set(properties):
        return _supervise(turns, seed)
    rng = stable_rng(seed, text)
    answer: dict[str, object] = {}
    for key, spec in properties.items():
        answer[key] = _fill(
            str(key), spec if isinstance(spec, Mapping) else {}, text, rng
        )
    return answer


def _fill(
    key: str, spec: Mapping[str, object], text: str, rng: random.Random
) -> object:
    enum = spec.get("enum")
    if isinstance(enum, list) and enum:
        return _pick_outcome([str(e) for e in enum], text)
    kind = spec.get("type")
    if kind == "boolean":
        return _complete(text) if "complete" in key else _goal_reached(text)
    if kind == "integer":
        return int(spec.get("minimum", 0))  # type: ignore[call-overload]
    if kind == "number":
        return float(spec.get("minimum", 0.0))  # type: ignore[arg-type]
    if kind == "array":
        return []
    if kind == "object":
        return {}
    if key in {"reason", "reasoning", "explanation"}:
        return "Judged offline from cue words in the transcript."
    return rng.choice(("ok", "yes", "noted"))


def _pick_outcome(names: Sequence[str], text: str) -> str:
    lowered = text.lower()
    best: tuple[int, int, str] | None = None
    for index, name in enumerate(names):
        cues = (*_OUTCOME_CUES.get(name, ()), name.replace("_", " "))
        hits = [lowered.rfind(cue) for cue in cues]
        position = max(hits)
        if position >= 0 and (best is None or position > best[0]):
            best = (position, -index, name)
    if best is not None:
        return best[2]
    fallbacks = [n for n in names if " " in n or n in {"none", "none_yet", "unknown"}]
    return fallbacks[0] if fallbacks else names[0]


def _complete(text: str) -> bool:
    """Over if one of the last two messages closes the talk or hands it on."""
    last_two = text.lower().splitlines()[-2:]
    return any(_has(line, (*_CLOSING, *_ESCALATED)) for line in last_two)


def _goal_reached(text: str) -> bool:
    customer_lines = [
        line for line in text.lower().splitlines() if line.startswith("customer:")
    ]
    return any(
        _has(line, _THANKS) and not _has(line, _FAILED) for line in customer_lines[-2:]
    )
