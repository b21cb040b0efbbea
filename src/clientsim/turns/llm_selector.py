"""``llm_selector``: a chat model picks who speaks next.

The model reads the members' names, roles and descriptions and the transcript, and
answers in a structured shape (schema title ``next_speaker``): one of the members'
names (never the last speaker's) and a one-sentence reason. The member it picks is
asked; if that member passes, the others are asked in the group's order after the
last speaker. At temperature 0 and with the policy's seed, for models that take them.

With the offline model (the default) the choice is deterministic: the member the last
message addresses, else the one whose role and description share the most words with
it, ties going to the first in the group's order after the last speaker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from clientsim._validators import check_int
from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.models import DEFAULT_TIMEOUTS, Message, Timeouts, TokenUsage
from clientsim.turns._order import after, first_taker, last_speaker
from clientsim.turns.base import MemberInfo, TurnContext, TurnPolicy


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.llm import StructuredCall


__all__ = ["SELECTOR_TITLE", "LLMSelector", "selector_prompt"]

SELECTOR_TITLE: Final = "next_speaker"
"""The title of the answer's JSON schema (the offline model answers by it)."""

_SYSTEM: Final = """\
You run a group discussion: you choose who speaks next. Choose the member whose \
role and knowledge best fit what was just said, or whom the last message addresses; \
never the one who has just spoken.
Candidates (name | role | description):
{candidates}"""


def selector_prompt(
    candidates: Sequence[MemberInfo], transcript: Sequence[Message]
) -> tuple[str, str]:
    """The system and user texts the model is shown: the candidates one a line as
    ``- name | role | description``, then the transcript, each message as
    ``label: content``, and the last message on its own."""
    lines = "\n".join(
        f"- {member.name} | {member.role} | {member.description}"
        for member in candidates
    )
    shown = "\n".join(
        f"{message.speaker.label if message.speaker else message.sender.value}: "
        f"{message.content}"
        for message in transcript
    )
    last = transcript[-1] if transcript else None
    tail = (
        ""
        if last is None
        else "\n\nLast message, from "
        f"{last.speaker.name if last.speaker else last.sender.value}:\n{last.content}"
    )
    return _SYSTEM.format(candidates=lines), f"Transcript:\n{shown}{tail}"


class LLMSelector(TurnPolicy):
    """A chat model picks the next speaker (see the module docs).

    Example:
        >>> LLMSelector()
        LLMSelector(model='offline', seed=0)

    Args:
        model: a LangChain chat model with structured output, or a spec such as
            ``"offline"`` or ``"openai:gpt-4o-mini"``.
        seed: the model's seed, for models that take one (the group runner passes
            its own).
        timeouts: ``timeouts.model_call`` bounds each call of the model.

    Attributes:
        token_usage: what the selector's calls have spent (a group runner counts
            it with the judges').
    """

    def __init__(
        self,
        model: str | BaseChatModel = "offline",
        *,
        seed: int = 0,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        if not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts; got {timeouts!r}")
        self.model = model
        self.seed = check_int("seed", seed)
        self.timeouts = timeouts
        self.token_usage = TokenUsage()
        self._call: StructuredCall | None = None

    def __repr__(self) -> str:
        return f"LLMSelector(model={self.model!r}, seed={self.seed})"

    def _structured(self, names: Sequence[str]) -> StructuredCall:
        from clientsim.llm import StructuredCall  # noqa: PLC0415
        from clientsim.llm.calls import judge_call  # noqa: PLC0415

        schema = _schema(names)
        call = self._call
        if call is None:
            call = judge_call(
                self.model, schema, seed=self.seed, timeout=self.timeouts.model_call
            )
        elif call.schema != schema:  # the same model, asked about other names
            call = StructuredCall(call.model, schema, timeout=self.timeouts.model_call)
        self._call = call
        return call

    async def choose(self, context: TurnContext) -> str:
        """The name the model picks for this turn.

        Raises:
            ModelError: the model failed or did not answer in time.
            InvalidModelOutputError: it named no candidate.
        """
        from clientsim.llm import Turn  # noqa: PLC0415

        transcript = context.transcript
        order = after(context.members, last_speaker(transcript))
        last = last_speaker(transcript)
        by_name = {member.name: member for member in context.members}
        candidates = [by_name[name] for name in order if name != last]
        names = [member.name for member in candidates]
        if len(names) == 1:
            return names[0]
        system, user = selector_prompt(candidates, transcript.messages)
        answer, usage = await self._structured(names)(
            [Turn("system", system), Turn("user", user)]
        )
        self.token_usage = self.token_usage + usage
        chosen = answer.get("speaker")
        if chosen not in names:
            raise InvalidModelOutputError(
                f"the speaker selector answered {chosen!r}, which is none of the "
                f"candidates {names}"
            )
        return str(chosen)

    async def take_turn(self, context: TurnContext) -> Message | None:
        chosen = await self.choose(context)
        message = await context.ask(chosen)
        if message is not None:
            return message
        others = after(context.members, last_speaker(context.transcript))
        return await first_taker(context, [n for n in others if n != chosen])


def _schema(names: Sequence[str]) -> dict[str, Any]:
    return {
        "title": SELECTOR_TITLE,
        "description": "Who speaks next in the group discussion, and why.",
        "type": "object",
        "properties": {
            "speaker": {
                "type": "string",
                "enum": list(names),
                "description": "The name of the member who speaks next.",
            },
            "reason": {"type": "string", "description": "One sentence: why."},
        },
        "required": ["speaker", "reason"],
    }
