"""The runner of one persona's customer journey (sequence mode).

It walks the touchpoints in simulated time: each one's messages are stamped at the
journey's start plus the touchpoint's day offset (never by sleeping), the persona
reacts, its :class:`~clientsim.population.state.PersonaState` moves, the touchpoint's
questions are asked, and the triggers are checked; the state goes on to the next
touchpoint. The persona is played by a chat model whose system prompt starts with
:data:`~clientsim.models.persona.STUDY_PERSONA_MARKER`, then the persona's prompt and
the state (the clock, the levels, what it remembers). Each touchpoint starts a fresh
exchange: what came before reaches the persona through its memory notes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from clientsim.config.values import to_dict
from clientsim.errors import ConfigError
from clientsim.llm.turns import Turn
from clientsim.models import (
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    Message,
    ParticipantRole,
    TokenUsage,
    TokenUsageReport,
)
from clientsim.models.group import Speaker
from clientsim.models.persona import STUDY_PERSONA_MARKER, Persona
from clientsim.models.survey import Answer, Question, Touchpoint
from clientsim.population import _reaction
from clientsim.population import questions as _asking
from clientsim.population.state import PersonaState
from clientsim.population.triggers import (
    PRECONDITION_SCHEMA,
    PRECONDITION_TITLE,
    Trigger,
)
from clientsim.runners.base import Runner


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.llm.calls import StructuredCall
    from clientsim.models import Timeouts


__all__ = ["JOURNEY_KEY", "SYSTEM_SPEAKER", "JourneyRunner", "persona_prompt"]

JOURNEY_KEY: Final = "journey"
"""Where a journey keeps its final state, answers and events in ``result.data``."""
SYSTEM_SPEAKER: Final = Speaker("system", "intervention")
"""The speaker of the system-side messages that record where a trigger fired (the
persona never sees them)."""
STEP: Final = timedelta(minutes=1)
"""Simulated time between two messages of one touchpoint."""

_JOURNEY_INSTRUCTIONS: Final = """\
Over the coming days and weeks a company contacts you by email, text message, push \
notification or call. React to each message as this person would, in one to three \
short sentences in your own style. Say plainly when you want to buy, want to hear \
more, or want them to stop contacting you. Never say that you are simulated or an AI."""
_JUDGE_PROMPT: Final = """\
You judge one statement about a persona in a customer journey, from what they said.
Statement: {statement}
Answer whether the statement holds now, after the latest touchpoint, with a \
one-sentence reason."""


def persona_prompt(persona: Persona, state: PersonaState) -> str:
    """The persona's system prompt at one point of its journey."""
    return (
        f"{STUDY_PERSONA_MARKER}\n{persona.prompt()}\n\n{_JOURNEY_INSTRUCTIONS}\n\n"
        f"{state.summary()}"
    )


class JourneyRunner(Runner):
    """Runs one persona's journey; single-use, like every runner.

    ``model`` plays the persona; ``judge`` answers model-judged preconditions and,
    with ``judge_reactions``, reads each reply's effect on the state. Both are
    per-conversation models (``job.models.model(...)``).
    """

    def __init__(
        self,
        persona: Persona,
        touchpoints: Sequence[Touchpoint],
        *,
        model: BaseChatModel,
        judge: BaseChatModel,
        questions: Mapping[str, Question],
        final_questions: Sequence[str] = (),
        triggers: Sequence[Trigger] = (),
        start: datetime,
        seed: int = 0,
        judge_reactions: bool = False,
        timeouts: Timeouts,
    ) -> None:
        self.persona = persona
        self.touchpoints = tuple(touchpoints)
        self.model = model
        self.judge = judge
        self.questions = dict(questions)
        self.final_questions = tuple(final_questions)
        self.triggers = tuple(triggers)
        self.start = start
        self.seed = seed
        self.judge_reactions = judge_reactions
        self.timeouts = timeouts
        self.state = PersonaState(clock=start)
        self.answers: dict[str, Answer] = {}
        self.events: list[dict[str, Any]] = []
        self._conversation = Conversation(())
        self._exchange: list[Turn] = []
        self._fired: set[str] = set()
        self._calls: dict[str, StructuredCall] = {}
        self._persona_usage = TokenUsage()
        self._judge_usage = TokenUsage()
        self._started = False
        self._source = "customer"  # who is being asked: the persona or a judge
        self._complete = False
        self._start_monotonic = 0.0

    # ----- the Runner contract ---------------------------------------------------------

    @property
    def conversation(self) -> Conversation:
        return self._conversation

    @property
    def is_complete(self) -> bool:
        return self._complete

    def get_progress(self) -> dict[str, Any]:
        delivered = sum(1 for e in self.events if e.get("type") == "touchpoint")
        return {
            "message_count": len(self._conversation.messages),
            "max_messages": None,
            "is_complete": self._complete,
            "outcome": None,
            "elapsed_seconds": (
                time.monotonic() - self._start_monotonic if self._started else 0.0
            ),
            "touchpoints_done": delivered,
            "touchpoints": len(self.touchpoints),
            "simulated_time": self.state.clock.isoformat(),
        }

    async def run(self) -> ConversationResult:
        if self._started:
            raise ConfigError(
                "this JourneyRunner has already run; runners are single-use"
            )
        self._started = True
        self._start_monotonic = time.monotonic()
        began = time.perf_counter()
        error: ErrorRecord | None = None
        try:
            for touchpoint in self.touchpoints:
                await self._touchpoint(touchpoint)
            if self.final_questions and not self.state.opted_out:
                await self._ask_all(self.final_questions, self.state.clock)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed unit is recorded, not raised
            error = ErrorRecord.from_exception(self._source, exc)
        self._complete = True
        messages = len(self._conversation.messages)
        if error is not None:
            ending = Ending(
                reason="error", detail=error.message, message_count=messages
            )
        else:
            days = self.touchpoints[-1].day if self.touchpoints else 0
            ending = Ending(
                reason="journey_complete",
                detail=f"{len(self.touchpoints)} touchpoints over {days:g} days"
                + (" (the persona opted out)" if self.state.opted_out else ""),
                message_count=messages,
            )
        return ConversationResult(
            self._conversation,
            time.perf_counter() - began,
            ending=ending,
            error=error,
            token_usage=TokenUsageReport(
                customer=self._persona_usage, judge=self._judge_usage
            ),
            data={JOURNEY_KEY: self.data()},
        )

    def data(self) -> dict[str, Any]:
        """The journey's final state, answers and events, as plain data."""
        return {
            "state": self.state.to_dict(),
            "answers": {qid: to_dict(a) for qid, a in self.answers.items()},
            "events": list(self.events),
        }

    # ----- one touchpoint --------------------------------------------------------------

    async def _touchpoint(self, touchpoint: Touchpoint) -> None:
        scheduled = self.start + timedelta(days=touchpoint.day)
        event: dict[str, Any] = {
            "type": "touchpoint",
            "day": touchpoint.day,
            "name": touchpoint.label,
            "channel": touchpoint.channel,
        }
        if self.state.opted_out:  # they asked for no more: nothing is sent
            self.state = self.state.at(max(scheduled, self.state.clock))
            event.update(delivered=False, state=self.state.levels())
            self.events.append(event)
            return
        at = self._next_time(scheduled)
        self.state = _reaction.delivered(self.state.at(at))
        self._exchange = []
        shown = _shown(touchpoint.content, _arrival(touchpoint))
        self._say(touchpoint.content, ParticipantRole.AGENT, at)
        reply = await self._reply(shown)
        self.state = await self._react(reply)
        self.state = self.state.remember(
            f"day {touchpoint.day:g}, {touchpoint.channel or 'message'}: they wrote "
            f'"{_cut(touchpoint.content)}"; you replied "{_cut(reply)}"'
        )
        asked = await self._ask_all(touchpoint.questions, self.state.clock)
        event.update(
            delivered=True,
            at=at.isoformat(),
            reply=reply,
            answers={qid: to_dict(a)["value"] for qid, a in asked.items()},
            state=self.state.levels(),
        )
        self.events.append(event)
        await self._check_triggers(touchpoint)

    async def _check_triggers(self, touchpoint: Touchpoint) -> None:
        for trigger in self.triggers:
            if trigger.once and trigger.name in self._fired:
                continue
            holds, reason = await self._holds(trigger, touchpoint)
            if not holds:
                continue
            self._fired.add(trigger.name)
            at = self._next_time(self.state.clock)
            self._say(
                f"[intervention] {trigger.name} fired after {touchpoint.label} (day "
                f"{touchpoint.day:g}): {reason}",
                ParticipantRole.AGENT,
                at,
                speaker=SYSTEM_SPEAKER,
            )
            event: dict[str, Any] = {
                "type": "intervention",
                "trigger": trigger.name,
                "touchpoint": touchpoint.label,
                "day": touchpoint.day,
                "reason": reason,
                "effect": "message" if trigger.sends_message else "state",
                "at": at.isoformat(),
            }
            self.events.append(event)
            if isinstance(trigger.effect, str):
                self._say(trigger.effect, ParticipantRole.AGENT, self._next_time(at))
                reply = await self._reply(
                    _shown(trigger.effect, "Then you received this message")
                )
                self.state = await self._react(reply)
                self.state = self.state.remember(
                    f'then they wrote "{_cut(trigger.effect)}"; you replied '
                    f'"{_cut(reply)}"'
                )
            else:
                self.state = trigger.changed(self.state.at(at))
            event["state"] = self.state.levels()  # after its effect

    async def _holds(
        self, trigger: Trigger, touchpoint: Touchpoint
    ) -> tuple[bool, str]:
        if not trigger.judged:
            holds = await trigger.holds(self.state, self.persona, self._conversation)
            return holds, f"{trigger.statement} held"
        call = self._call(PRECONDITION_TITLE, PRECONDITION_SCHEMA, judge=True)
        turns = [
            Turn("system", _JUDGE_PROMPT.format(statement=trigger.statement)),
            Turn("user", self._judge_view(touchpoint)),
        ]
        answer, _ = await self._judged(call, turns)
        reason = answer.get("reason")
        return answer.get("holds") is True, (
            reason if isinstance(reason, str) and reason else trigger.statement
        )

    def _judge_view(self, touchpoint: Touchpoint) -> str:
        """What a precondition judge reads: who, where they stand, what was said
        before and in the latest touchpoint."""
        lines = [f"Persona: {self.persona.name}", self.state.summary(), ""]
        latest: list[str] = []
        for turn in self._exchange:
            who = "Persona" if turn.role == "assistant" else "Sender"
            latest.append(f"{who}: {turn.content}")
        lines.append(f"Latest touchpoint ({touchpoint.label}, day {touchpoint.day:g}):")
        lines.extend(latest)
        return "\n".join(lines)

    def _call(
        self, key: str, schema: Mapping[str, Any], *, judge: bool
    ) -> StructuredCall:
        """One structured call per schema and runner (bound once, reused)."""
        call = self._calls.get(key)
        if call is None:
            from clientsim.llm.calls import StructuredCall, tuned  # noqa: PLC0415

            model = tuned(self.judge, self.seed) if judge else self.model
            call = self._calls[key] = StructuredCall(
                model, schema, timeout=self.timeouts.model_call
            )
        return call

    async def _judged(
        self, call: StructuredCall, turns: list[Turn]
    ) -> tuple[dict[str, Any], TokenUsage]:
        self._source = "evaluator"
        answer, usage = await call(turns)
        self._source = "customer"
        self._judge_usage = self._judge_usage + usage
        return answer, usage

    # ----- talking to the persona ------------------------------------------------------

    def _next_time(self, scheduled: datetime) -> datetime:
        last = self._conversation.last_message
        if last is None:
            return scheduled
        return max(scheduled, last.timestamp + STEP)

    def _say(
        self,
        text: str,
        sender: ParticipantRole,
        at: datetime,
        *,
        speaker: Speaker | None = None,
    ) -> None:
        message = Message(text, at, sender, speaker=speaker)
        self._conversation = self._conversation.with_message(message)

    async def _reply(self, shown: str) -> str:
        from clientsim.llm.calls import complete  # noqa: PLC0415

        self._exchange.append(Turn("user", shown))
        turns = [
            Turn("system", persona_prompt(self.persona, self.state)),
            *self._exchange,
        ]
        completion = await complete(self.model, turns, timeout=self.timeouts.model_call)
        self._persona_usage = self._persona_usage + completion.usage
        text = completion.text.strip() or "..."
        self._exchange.append(Turn("assistant", text))
        self._say(text, ParticipantRole.CUSTOMER, self._next_time(self.state.clock))
        return text

    async def _react(self, reply: str) -> PersonaState:
        if not self.judge_reactions:
            return _reaction.after_reply(self.state, reply)
        call = self._call(
            _reaction.REACTION_TITLE, _reaction.REACTION_SCHEMA, judge=True
        )
        turns = [
            Turn("system", "Read how this reply moves the persona's state."),
            *self._exchange,
        ]
        answer, _ = await self._judged(call, turns)
        return _reaction.after_judgement(self.state, answer)

    async def _ask_all(
        self, question_ids: Sequence[str], at: datetime
    ) -> dict[str, Answer]:
        asked: dict[str, Answer] = {}
        for index, qid in enumerate(question_ids, start=1):
            answer = await self._ask(self.questions[qid], at, index, len(question_ids))
            asked[qid] = self.answers[qid] = answer
        return asked

    async def _ask(
        self, question: Question, at: datetime, index: int, total: int
    ) -> Answer:
        shown = _asking.shuffled_options(question, self.seed)
        text = _asking.question_text(question, shown, index, total)
        self._say(text, ParticipantRole.AGENT, self._next_time(at))
        if question.type == "free_text":
            reply = await self._reply(text)
            return Answer(question_id=question.id, value=reply, text=reply)

        self._exchange.append(Turn("user", text))
        call = self._call(
            f"question {question.id}",
            _asking.answer_schema(question, shown),
            judge=False,
        )
        turns = [
            Turn("system", persona_prompt(self.persona, self.state)),
            *self._exchange,
        ]
        data, usage = await call(turns)
        self._persona_usage = self._persona_usage + usage
        answer = _asking.read_answer(question, shown, data)
        said = answer.text or str(answer.value)
        self._exchange.append(Turn("assistant", said))
        self._say(said, ParticipantRole.CUSTOMER, self._next_time(at))
        return answer


def _shown(content: str, when: str) -> str:
    """What the persona reads: when and how it came, the content between ``---``
    lines (the form the survey mode shows content in), a request for a reaction."""
    return f"{when}:\n---\n{content.strip()}\n---\nWhat is your reaction?"


def _arrival(touchpoint: Touchpoint) -> str:
    how = f" by {touchpoint.channel}" if touchpoint.channel else ""
    return f"On day {touchpoint.day:g} of your journey you received this message{how}"


def _cut(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return (
        flat
        if len(flat) <= limit
        else flat[: limit - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"
    )
