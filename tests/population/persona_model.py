"""A chat model for the personas of population tests: a langchain-core chat model
whose reply is a pure function of what it is shown (the persona's name in the system
prompt, the last message it reads), so runs are reproducible and show who said what."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from clientsim.models.persona import STUDY_PERSONA_MARKER


_OPINIONS = (
    "I like it, it sounds useful to me.",
    "Honestly it seems too expensive for what it is.",
    "I'm not sure yet, I'd need to try it first.",
    "It would save me time, so I'm interested.",
)


class PersonaEcho(BaseChatModel):
    """Plays a study persona only (any other system prompt fails the call).

    Replies ``"<Name> here: <opinion> (re: <start of the last message>)"``; the
    opinion is chosen by a hash of the name and the last message; a scale question
    gets a number from 1 to 10 in its reply."""

    seed: int = 0

    @property
    def _llm_type(self) -> str:
        return "persona-echo"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: Any = None,
        run_manager: Any = None,
        **kw: Any,
    ) -> ChatResult:
        system = str(messages[0].content) if messages else ""
        if not system.startswith(STUDY_PERSONA_MARKER):
            raise AssertionError(f"not a study persona's prompt: {system[:80]!r}")
        found = re.search(r"^Name: (.+)$", system, re.MULTILINE)
        name = found.group(1) if found else "someone"
        last = str(messages[-1].content) if len(messages) > 1 else ""
        digest = hashlib.sha256(f"{self.seed}|{name}|{last}".encode()).digest()
        opinion = _OPINIONS[digest[0] % len(_OPINIONS)]
        if "1 to 10" in last or "1-10" in last:
            opinion += f" I'd say {1 + digest[1] % 10}."
        text = f"{name} here: {opinion} (re: {last[:40]})"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
