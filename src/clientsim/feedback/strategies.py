"""The four built-in feedback strategies of seed 000.

Each judges offline by default with the deterministic heuristic of
:mod:`clientsim.feedback.base`; given ``model=`` (a spec such as ``"offline"`` or a
LangChain chat model) a chat model judges instead, through structured output, with a
system prompt built from the client's profile. ``token_usage`` sums what the model
calls cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from clientsim._validators import check_number
from clientsim.errors import ConfigError
from clientsim.feedback._judge import (
    REASON,
    Analysis,
    JudgeBase,
    answer_bool,
    answer_score,
    answer_text,
    schema,
)
from clientsim.feedback.base import check_unit, quoted, threshold
from clientsim.models.client import ClientFeedback, ClientProfile


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "BUILTINS",
    "DEFAULT_RUBRIC",
    "AdversarialFeedback",
    "BinaryFeedback",
    "CriteriaCheckFeedback",
    "ScoredFeedback",
]

DEFAULT_RUBRIC: Final[Mapping[str, float]] = {
    "correctness": 0.5,
    "completeness": 0.3,
    "clarity": 0.2,
}
"""The rubric :class:`ScoredFeedback` uses unless given one: dimension -> weight."""


class BinaryFeedback(JudgeBase):
    """Accept or reject, with a reason.

    Offline, the client accepts when the mean coverage of the criteria reaches the
    threshold for its strictness (and it is not being picky). No criteria are listed
    as unmet: the signal is the verdict and its reason.

    Args:
        client_id: the id put on the feedback (default: the reviewing profile's).
        model: ``None`` to judge offline, or a model spec / chat model to judge with.
        seed: mixed into every review's seed.

    Raises:
        ConfigError: an argument is out of range.

    Example:
        >>> strategy = BinaryFeedback(client_id="c1")
        >>> strategy.model is None
        True
    """

    name = "binary"

    def _offline(self, analysis: Analysis, client_id: str) -> ClientFeedback:
        mean = analysis.mean
        if mean < analysis.needed:
            reason = (
                f"Rejected: the deliverable does not cover enough of what I asked for "
                f"(coverage {mean:.2f}, I need {analysis.needed:.2f}); weakest point: "
                f"{analysis.weakest!r}."
            )
            return ClientFeedback(accepted=False, reason=reason, client_id=client_id)
        if analysis.picky:
            reason = (
                f"Rejected: it looks complete on paper, but I am not convinced by "
                f"{analysis.weakest!r}."
            )
            return ClientFeedback(accepted=False, reason=reason, client_id=client_id)
        reason = (
            f"Accepted: the deliverable covers what I asked for (coverage {mean:.2f})."
        )
        return ClientFeedback(accepted=True, reason=reason, client_id=client_id)

    def _instructions(self) -> str:
        return "Decide whether you accept the deliverable, and say why."

    def _schema(self, criteria: Sequence[str]) -> dict[str, Any]:  # noqa: ARG002
        return schema(
            "BinaryReview",
            "Whether the client accepts the deliverable, and why.",
            {"accepted": {"type": "boolean"}, "reason": REASON},
        )

    def _from_answer(
        self,
        answer: Mapping[str, Any],
        criteria: Sequence[str],  # noqa: ARG002
        profile: ClientProfile,  # noqa: ARG002
        client_id: str,
    ) -> ClientFeedback:
        return ClientFeedback(
            accepted=answer_bool(answer, "accepted"),
            reason=answer_text(answer, "reason"),
            client_id=client_id,
        )


def _rubric(value: object) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(
            "rubric must be a non-empty mapping of dimension name to weight, e.g. "
            f"{dict(DEFAULT_RUBRIC)!r}; got {value!r}"
        )
    rubric: dict[str, float] = {}
    for name, weight in value.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(
                f"rubric dimension names must be non-blank strings; got {name!r}"
            )
        rubric[name] = check_number(f"rubric weight of {name!r}", weight, low=0)
    if not sum(rubric.values()) > 0:
        raise ConfigError(f"rubric weights must not all be 0; got {rubric!r}")
    return rubric


class ScoredFeedback(JudgeBase):
    """Scores on a weighted rubric; accepted when the weighted score clears the bar.

    Offline, ``correctness`` is the mean coverage of the criteria, ``completeness``
    the share of criteria met at the client's threshold, ``clarity`` how well the
    deliverable's length fits the number of criteria; any other dimension scores the
    mean coverage. Each score gets a small seeded jitter (at most 0.05). The client
    accepts when the weighted mean reaches the threshold for its strictness (and it is
    not being picky); the criteria below the threshold are listed as unmet. With a
    model, the model gives the scores and the same rule decides.

    Args:
        rubric: dimension name -> weight (default :data:`DEFAULT_RUBRIC`).
        client_id: the id put on the feedback (default: the reviewing profile's).
        model: ``None`` to judge offline, or a model spec / chat model to judge with.
        seed: mixed into every review's seed.

    Raises:
        ConfigError: the rubric is empty, has a negative weight or all zero weights.

    Example:
        >>> ScoredFeedback(rubric={"correctness": 2, "style": 1}).rubric
        {'correctness': 2.0, 'style': 1.0}
    """

    name = "scored"

    def __init__(
        self,
        rubric: Mapping[str, float] | None = None,
        *,
        client_id: str | None = None,
        model: str | BaseChatModel | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(client_id=client_id, model=model, seed=seed)
        self.rubric = _rubric(DEFAULT_RUBRIC if rubric is None else rubric)

    def _overall(self, scores: Mapping[str, float]) -> float:
        total = sum(self.rubric.values())
        return (
            sum(scores[name] * weight for name, weight in self.rubric.items()) / total
        )

    def _verdict(
        self,
        scores: dict[str, float],
        needed: float,
        unmet: tuple[str, ...],
        client_id: str,
        *,
        picky: bool = False,
        note: str = "",
    ) -> ClientFeedback:
        overall = self._overall(scores)
        shown = ", ".join(f"{name} {score:.2f}" for name, score in scores.items())
        accepted = overall >= needed and not picky
        if accepted:
            head = f"Accepted: overall {overall:.2f} ({shown})."
        elif overall >= needed:
            head = f"Rejected: overall {overall:.2f} ({shown}), but it does not feel finished."
        else:
            head = f"Rejected: overall {overall:.2f} is below my bar of {needed:.2f} ({shown})."
        reason = f"{head} {note}".strip()
        return ClientFeedback(
            accepted=accepted,
            reason=reason,
            scores=scores,
            unmet_criteria=() if accepted else unmet,
            client_id=client_id,
        )

    def _offline(self, analysis: Analysis, client_id: str) -> ClientFeedback:
        met = sum(v >= analysis.needed for v in analysis.coverages)
        length = len(analysis.words)
        target = 6 * len(analysis.criteria)
        base = {
            "correctness": analysis.mean,
            "completeness": met / len(analysis.criteria),
            "clarity": min(1.0, length / target),
        }
        scores: dict[str, float] = {}
        for name in self.rubric:
            jitter = analysis.rng.uniform(-0.05, 0.05)
            score = base.get(name, analysis.mean) + jitter
            scores[name] = round(min(1.0, max(0.0, score)), 3)
        unmet = analysis.unmet or ((analysis.weakest,) if analysis.picky else ())
        return self._verdict(
            scores, analysis.needed, unmet, client_id, picky=analysis.picky
        )

    def _instructions(self) -> str:
        dimensions = ", ".join(self.rubric)
        return (
            f"Score the deliverable from 0.0 to 1.0 on each of: {dimensions}. List the "
            "acceptance criteria it does not meet, word for word."
        )

    def _schema(self, criteria: Sequence[str]) -> dict[str, Any]:  # noqa: ARG002
        properties: dict[str, Any] = {
            name: {
                "type": "number",
                "minimum": 0.0,
                "maximum": 1.0,
                "description": f"The {name} score, 0.0 (bad) to 1.0 (excellent).",
            }
            for name in self.rubric
        }
        properties["unmet_criteria"] = {
            "type": "array",
            "items": {"type": "string"},
            "description": "The acceptance criteria not met, word for word.",
        }
        properties["reason"] = REASON
        return schema(
            "ScoredReview", "The client's scores on each rubric dimension.", properties
        )

    def _from_answer(
        self,
        answer: Mapping[str, Any],
        criteria: Sequence[str],
        profile: ClientProfile,
        client_id: str,
    ) -> ClientFeedback:
        scores = {name: answer_score(answer, name) for name in self.rubric}
        listed = answer.get("unmet_criteria") or []
        unmet = tuple(c for c in criteria if isinstance(listed, list) and c in listed)
        return self._verdict(
            scores,
            threshold(profile.strictness_level),
            unmet,
            client_id,
            note=answer_text(answer, "reason"),
        )


class CriteriaCheckFeedback(JudgeBase):
    """Per-criterion pass/fail; accepted only when every criterion is met.

    Offline, a criterion is met when its coverage reaches the threshold for the
    client's strictness. A picky client (more often the stricter it is) also fails the
    weakest criterion of work that would otherwise pass. The failed criteria are listed
    in ``unmet_criteria``. With a model, the model answers one true/false per
    criterion.

    Args:
        client_id: the id put on the feedback (default: the reviewing profile's).
        model: ``None`` to judge offline, or a model spec / chat model to judge with.
        seed: mixed into every review's seed.

    Example:
        >>> CriteriaCheckFeedback().name
        'criteria_check'
    """

    name = "criteria_check"

    @staticmethod
    def _verdict(
        criteria: Sequence[str], unmet: tuple[str, ...], client_id: str, note: str
    ) -> ClientFeedback:
        met = len(criteria) - len(unmet)
        if unmet:
            reason = (
                f"Rejected: {met} of {len(criteria)} criteria met; not met: "
                f"{quoted(unmet)}. {note}"
            )
        else:
            reason = f"Accepted: all {len(criteria)} criteria met. {note}"
        return ClientFeedback(
            accepted=not unmet,
            reason=reason.strip(),
            unmet_criteria=unmet,
            client_id=client_id,
        )

    def _offline(self, analysis: Analysis, client_id: str) -> ClientFeedback:
        unmet = analysis.unmet
        note = ""
        if not unmet and analysis.picky:
            unmet = (analysis.weakest,)
            note = "It is there on paper, but not done to my standard."
        return self._verdict(analysis.criteria, unmet, client_id, note)

    def _instructions(self) -> str:
        return (
            "For each acceptance criterion, answer true if the deliverable meets it "
            "and false if not."
        )

    def _schema(self, criteria: Sequence[str]) -> dict[str, Any]:
        properties: dict[str, Any] = {
            f"criterion_{n}": {
                "type": "boolean",
                "description": f"Met: {criterion}",
            }
            for n, criterion in enumerate(criteria, 1)
        }
        properties["reason"] = REASON
        return schema(
            "CriteriaCheckReview",
            "Whether the deliverable meets each acceptance criterion.",
            properties,
        )

    def _from_answer(
        self,
        answer: Mapping[str, Any],
        criteria: Sequence[str],
        profile: ClientProfile,  # noqa: ARG002
        client_id: str,
    ) -> ClientFeedback:
        unmet = tuple(
            c
            for n, c in enumerate(criteria, 1)
            if not answer_bool(answer, f"criterion_{n}")
        )
        return self._verdict(criteria, unmet, client_id, answer_text(answer, "reason"))


_VAGUE: Final = (
    "This isn't really what I had in mind.",
    "Something feels off; have another go.",
    "Not quite there yet.",
    "I can't put my finger on it, but it doesn't work for me.",
)
_INVENTED: Final = (
    "It should also come with benchmarks showing it is fast enough.",
    "It should also handle the edge cases nobody wrote down.",
    "I expected documentation for {domain} newcomers as well.",
    "It should be ready for a security review too.",
    "It should follow our house style, which goes without saying.",
)


class AdversarialFeedback(JudgeBase):
    """A deliberately strict and ambiguous client, for stress tests.

    Offline it judges like :class:`CriteriaCheckFeedback` with a bar 0.1 higher (at most
    0.95), and then, at seeded rates:

    * when criteria fail, with probability ``ambiguity`` it rejects with a vague reason
      and lists nothing as unmet;
    * when every criterion is met, with probability ``ambiguity * (0.5 + strictness)``
      it invents an expectation nobody stated and rejects for it (the invented
      expectation is the one unmet criterion); a picky client rejects the weakest
      criterion as well.

    With a model, the model is told to be demanding and may name an extra expectation.

    Args:
        ambiguity: 0.0-1.0, how often it is vague or invents expectations.
        client_id: the id put on the feedback (default: the reviewing profile's).
        model: ``None`` to judge offline, or a model spec / chat model to judge with.
        seed: mixed into every review's seed.

    Raises:
        ConfigError: ``ambiguity`` is not a number from 0.0 to 1.0.

    Example:
        >>> AdversarialFeedback(ambiguity=0.5).ambiguity
        0.5
    """

    name = "adversarial"

    def __init__(
        self,
        *,
        ambiguity: float = 0.3,
        client_id: str | None = None,
        model: str | BaseChatModel | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(client_id=client_id, model=model, seed=seed)
        self.ambiguity = check_unit("ambiguity", ambiguity)

    def _needed(self, strictness: float) -> float:
        return min(0.95, threshold(strictness) + 0.1)

    def _offline(self, analysis: Analysis, client_id: str) -> ClientFeedback:
        rng = analysis.rng
        vague_draw, invent_draw = rng.random(), rng.random()
        vague, invented = rng.choice(_VAGUE), rng.choice(_INVENTED)
        strictness = analysis.strictness
        unmet = analysis.unmet
        if unmet:
            if vague_draw < self.ambiguity:
                return ClientFeedback(accepted=False, reason=vague, client_id=client_id)
            reason = f"Rejected: not met: {quoted(unmet)}."
            return ClientFeedback(
                accepted=False, reason=reason, unmet_criteria=unmet, client_id=client_id
            )
        if invent_draw < self.ambiguity * (0.5 + strictness):
            expectation = invented.format(domain=analysis.domain)
            return ClientFeedback(
                accepted=False,
                reason=f"Rejected: {expectation}",
                unmet_criteria=(expectation,),
                client_id=client_id,
            )
        if analysis.picky:
            return ClientFeedback(
                accepted=False,
                reason=f"Rejected: {analysis.weakest!r} is not convincing.",
                unmet_criteria=(analysis.weakest,),
                client_id=client_id,
            )
        return ClientFeedback(
            accepted=True, reason="Accepted, for now.", client_id=client_id
        )

    def _instructions(self) -> str:
        return (
            "You are a demanding, hard-to-please client. Accept only work that meets "
            "every criterion without doubt. You may name one extra expectation you "
            "did not write down (leave it empty if none); your reason may be terse."
        )

    def _schema(self, criteria: Sequence[str]) -> dict[str, Any]:  # noqa: ARG002
        return schema(
            "AdversarialReview",
            "Whether a demanding client accepts the deliverable.",
            {
                "accepted": {"type": "boolean"},
                "reason": REASON,
                "extra_expectation": {
                    "type": "string",
                    "description": "An expectation you did not write down, or empty.",
                },
            },
        )

    def _from_answer(
        self,
        answer: Mapping[str, Any],
        criteria: Sequence[str],  # noqa: ARG002
        profile: ClientProfile,  # noqa: ARG002
        client_id: str,
    ) -> ClientFeedback:
        accepted = answer_bool(answer, "accepted")
        extra = answer_text(answer, "extra_expectation")
        return ClientFeedback(
            accepted=accepted,
            reason=answer_text(answer, "reason"),
            unmet_criteria=(extra,) if extra and not accepted else (),
            client_id=client_id,
        )


BUILTINS: Final[dict[str, type[JudgeBase]]] = {
    "binary": BinaryFeedback,
    "scored": ScoredFeedback,
    "criteria_check": CriteriaCheckFeedback,
    "adversarial": AdversarialFeedback,
}
"""The seed's feedback strategy names and their classes."""
