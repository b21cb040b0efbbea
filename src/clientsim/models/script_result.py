"""A scripted conversation's result: the conversation and the script's verdict."""

from __future__ import annotations

from typing import Literal

import attrs

from clientsim.models.conversation import ConversationResult
from clientsim.models.criteria import CriteriaVerdict


__all__ = ["ScriptResult", "Verdict"]

Verdict = Literal["passed", "failed", "error"]
"""How a script ended: every step passed, a step failed, or a step could not run."""


@attrs.frozen(kw_only=True)
class ScriptResult(ConversationResult):
    """A scripted conversation and its verdict.

    A :class:`~clientsim.models.ConversationResult` (so every output takes it), whose
    outcome is ``"passed"`` or ``"failed"`` (none after an error) and whose ending's
    reason is ``"script_passed"``, ``"script_failed"`` or ``"error"``.

    Attributes:
        verdict: ``"passed"``, ``"failed"`` or ``"error"`` (a step could not run: the
            agent did not answer, a check raised something else than an
            ``AssertionError``, ...; :attr:`error` says what).
        reason: why, e.g. the failed check's message or the judge's failed criteria.
        step: the index of the step that decided the verdict (``None``: the script
            ran to its end).
        judge_verdicts: the verdict of each ``judge()`` step that ran, in order
            (``criteria`` holds all their criteria together, for the criteria
            assertions, traces and stores).
        seed: the conversation's seed (the simulated customer's).
    """

    verdict: Verdict = "error"
    reason: str = ""
    step: int | None = None
    judge_verdicts: tuple[CriteriaVerdict, ...] = ()
    seed: int = 0

    @property
    def passed(self) -> bool:
        """``True`` if the verdict is ``"passed"``."""
        return self.verdict == "passed"

    def describe(self, *, max_chars: int = 200) -> str:
        """The verdict, its reason and the transcript, one message a line."""
        where = "" if self.step is None else f" at step {self.step}"
        lines = [f"{self.verdict}{where} (seed {self.seed}): {self.reason}"]
        for index, message in enumerate(self.conversation.messages):
            text = " ".join(message.content.split())
            if len(text) > max_chars:
                text = text[: max_chars - 3] + "..."
            lines.append(f"  [{index}] {message.sender.value}: {text}")
        return "\n".join(lines)
