"""Stakeholder panels: a team reviewing one deliverable, as a stage of seed 000's
review pipeline.

Each member reads the task's requirement and deliverable from its role's point of
view (its goals and what it cares about) and answers ``pass`` or ``fail`` with a
reason and its concerns, in one structured model call (schema title
``stakeholder_review``); the members review concurrently, each call bounded by
``timeouts.model_call``. The panel combines their verdicts by a stated rule:

- ``unanimous``: it passes when every member passes;
- ``majority``: it passes when more members pass than fail (a tie fails);
- ``decider``: the named member's verdict wins; the others are recorded.

The stage's reason names the rule and the split (``"2 of 3 passed (majority)"``)
and the failing members' reasons; its ``metadata`` holds each member's verdict. A
member whose model fails or answers out of shape fails the review loudly (the error
propagates, naming the member): a broken reviewer never passes a deliverable.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from clientsim._runtime import task_group
from clientsim._validators import check_int
from clientsim.errors import ConfigError, InvalidModelOutputError, ModelError
from clientsim.models import DEFAULT_TIMEOUTS, Timeouts, TokenUsage
from clientsim.models.client import ReviewStageResult, ReviewVerdict, Task
from clientsim.models.team import RoleTemplate, role_key


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.llm import StructuredCall, Turn


__all__ = [
    "RULES",
    "MemberVerdict",
    "PanelRule",
    "StakeholderPanel",
    "review_system_prompt",
    "review_user_prompt",
]

PanelRule = Literal["unanimous", "majority", "decider"]

RULES: Final[tuple[PanelRule, ...]] = ("unanimous", "majority", "decider")
"""The rules a panel combines its members' verdicts by."""

REVIEW_TITLE: Final = "stakeholder_review"

_SCHEMA: Final[dict[str, Any]] = {
    "title": REVIEW_TITLE,
    "description": "One stakeholder's verdict on a deliverable.",
    "type": "object",
    "properties": {
        "verdict": {
            "type": "string",
            "enum": ["pass", "fail"],
            "description": "pass: acceptable from your role's point of view.",
        },
        "reason": {"type": "string", "description": "One sentence: why."},
        "concerns": {
            "type": "array",
            "items": {"type": "string"},
            "description": "What is missing or wrong, one item each; empty if none.",
        },
    },
    "required": ["verdict", "reason", "concerns"],
}

_INSTRUCTIONS: Final = (
    "Review the deliverable against the requirement from your role's point of view. "
    'Answer "pass" only when it meets every acceptance criterion and does not '
    'neglect what you care about; otherwise answer "fail". Give a one-sentence '
    "reason and list your concerns (none when you have none), each naming the "
    "acceptance criterion or the thing you care about that is missing."
)


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items) or "- (nothing in particular)"


def review_system_prompt(role: RoleTemplate) -> str:
    """The system prompt of a panel member: who it is and what it weighs."""
    lines = [
        (
            f"You are the {role.name} on a stakeholder panel: a team reviewing one "
            "deliverable before it is accepted."
        ),
        f"Role: {role.name}",
    ]
    if role.persona:
        lines.append(f"Who you are: {role.persona}")
    if role.description:
        lines.append(f"What the role does: {role.description}")
    lines += ["Your goals:", _bullets(role.goals)]
    if role.expertise:
        lines.append("Your expertise: " + ", ".join(role.expertise))
    lines += ["What you care about:", _bullets(role.cares_about)]
    if role.prompt:
        lines.append(role.prompt)
    lines.append(_INSTRUCTIONS)
    return "\n".join(lines)


def review_user_prompt(task: Task) -> str:
    """The user message of a panel member's review: requirement, criteria, deliverable."""
    requirement = task.requirement
    criteria = "\n".join(
        f"{n}. {c}" for n, c in enumerate(requirement.acceptance_criteria, 1)
    )
    return (
        f"Requirement: {requirement.title}\n{requirement.description}\n"
        f"Acceptance criteria:\n{criteria or '(none given)'}\n\n"
        f"Deliverable (attempt {task.rework_count + 1}):\n{task.deliverable}"
    )


@attrs.frozen(kw_only=True)
class MemberVerdict:
    """One panel member's verdict.

    Attributes:
        role: the member's role name.
        verdict: ``PASS`` or ``FAIL``.
        reason: why, in the member's words.
        concerns: what it found missing or wrong.
    """

    role: str
    verdict: ReviewVerdict
    reason: str
    concerns: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """``True`` for a ``PASS``."""
        return self.verdict is ReviewVerdict.PASS

    def to_data(self) -> dict[str, Any]:
        """The verdict as JSON-like data (as kept in the stage metadata)."""
        return {
            "role": self.role,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "concerns": list(self.concerns),
        }


def _member(value: object, index: int) -> RoleTemplate:
    if isinstance(value, RoleTemplate):
        return value
    if isinstance(value, str):
        from clientsim.factory import build_role  # noqa: PLC0415 - the registry

        return build_role(value)
    if isinstance(value, Mapping):  # a role written out in a config file
        from clientsim.models import from_dict  # noqa: PLC0415

        try:
            return from_dict(value, RoleTemplate)
        except ConfigError as exc:
            raise ConfigError(f"team[{index}]: {exc}") from exc
    raise ConfigError(
        f"team[{index}] must be a role name (e.g. 'CEO'), a RoleTemplate or a "
        f"mapping of a role's fields (name, cares_about, ...); got {value!r}"
    )


def _team(team: object) -> tuple[RoleTemplate, ...]:
    if isinstance(team, str) or not isinstance(team, Sequence):
        raise ConfigError(
            "team must be a list of role names or RoleTemplate values, e.g. "
            f"['CEO', 'Designer']; got {team!r}"
        )
    members = tuple(_member(value, index) for index, value in enumerate(team))
    if not members:
        raise ConfigError("a stakeholder panel needs at least one member; got []")
    keys = [member.key for member in members]
    twice = sorted({m.name for m in members if keys.count(m.key) > 1})
    if twice:
        raise ConfigError(
            f"every member of a stakeholder panel must have its own role; "
            f"{twice!r} appear more than once"
        )
    return members


def _seed_of(seed: int, role: RoleTemplate) -> int:
    """A member's seed, from the panel's seed and the member's role only."""
    return zlib.crc32(role.key.encode("utf-8"), seed & 0xFFFFFFFF)


def _read(role: str, answer: Mapping[str, Any]) -> MemberVerdict:
    verdict, reason, concerns = (
        answer.get("verdict"),
        answer.get("reason"),
        answer.get("concerns"),
    )
    if verdict not in ("pass", "fail") or not isinstance(reason, str):
        raise InvalidModelOutputError(
            f"the {role}'s stakeholder review needs a verdict 'pass' or 'fail' and a "
            f"string reason; got {dict(answer)!r}"
        )
    concerns = [] if concerns is None else concerns
    if not isinstance(concerns, list) or not all(isinstance(c, str) for c in concerns):
        raise InvalidModelOutputError(
            f"the {role}'s stakeholder review needs concerns as a list of strings; "
            f"got {concerns!r}"
        )
    return MemberVerdict(
        role=role,
        verdict=ReviewVerdict(verdict),
        reason=reason.strip(),
        concerns=tuple(c.strip() for c in concerns if c.strip()),
    )


def _said(verdict: MemberVerdict) -> str:
    text = f"{verdict.role}: {verdict.reason.rstrip('.')}."
    if verdict.concerns:
        text += " Concerns: " + "; ".join(verdict.concerns) + "."
    return text


class StakeholderPanel:
    """A review stage in which a team of roles reviews the deliverable.

    Example:
        >>> from clientsim.models.team import RoleTemplate
        >>> ceo = RoleTemplate(name="CEO", cares_about=("cost",))
        >>> designer = RoleTemplate(name="Designer", cares_about=("accessibility",))
        >>> panel = StakeholderPanel([ceo, designer], rule="decider", decider="CEO")
        >>> panel.name, panel.member_names
        ('stakeholders', ('CEO', 'Designer'))

    Args:
        team: the members: role names the ``role`` registry knows (``"CEO"``,
            ``"Product Manager"``), :class:`~clientsim.models.team.RoleTemplate`
            values, or mappings of a role's fields (``{"name": "Legal",
            "cares_about": ["liability"]}``); one member per role.
        model: the model members review with (a spec such as ``"offline"`` or a
            LangChain chat model); a role's own ``model`` wins for that member.
        rule: ``"unanimous"``, ``"majority"`` (a tie fails) or ``"decider"``.
        decider: the member whose verdict wins under ``rule="decider"`` (its role
            name or key).
        name: the stage's name in the pipeline.
        seed: the members' seeds derive from it and their role (for models that
            take a seed).
        timeouts: ``timeouts.model_call`` bounds each member's call.

    Raises:
        ConfigError: an empty or repeated team, an unknown rule, a decider that is
            missing, not a member, or given with another rule, a blank name.
        UnknownStrategyError: a role name the registry does not know.
    """

    def __init__(
        self,
        team: Sequence[str | RoleTemplate | Mapping[str, Any]],
        *,
        model: str | BaseChatModel = "offline",
        rule: PanelRule = "majority",
        decider: str | None = None,
        name: str = "stakeholders",
        seed: int = 0,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        from clientsim.llm import check_model  # noqa: PLC0415

        self.members = _team(team)
        if rule not in RULES:
            raise ConfigError(
                f"rule must be one of {', '.join(map(repr, RULES))}; got {rule!r}"
            )
        self.rule: PanelRule = rule
        self.decider = self._decider(decider)
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"name must be a non-blank string; got {name!r}")
        if not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts; got {timeouts!r}")
        check_model(model)
        self.name = name
        self.model = model
        self.seed = check_int("seed", seed)
        self.timeouts = timeouts
        self.token_usage = TokenUsage()
        self._calls: dict[str, StructuredCall] = {}

    @classmethod
    def from_config(
        cls,
        *,
        team: Sequence[str | RoleTemplate | Mapping[str, Any]],
        model: str | BaseChatModel = "offline",
        rule: PanelRule = "majority",
        decider: str | None = None,
        name: str = "stakeholders",
        seed: int = 0,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> StakeholderPanel:
        """Build from config values (``{strategy: stakeholder_panel, team: [...]}``)."""
        return cls(
            team,
            model=model,
            rule=rule,
            decider=decider,
            name=name,
            seed=seed,
            timeouts=timeouts,
        )

    def _decider(self, decider: str | None) -> str | None:
        names = list(self.member_names)
        if self.rule != "decider":
            if decider is not None:
                raise ConfigError(
                    f"decider is for rule='decider' only; got decider={decider!r} "
                    f"with rule={self.rule!r}"
                )
            return None
        if decider is None:
            raise ConfigError(
                f"rule='decider' needs decider=<a member>, one of {names!r}"
            )
        if isinstance(decider, str):
            for member in self.members:
                if role_key(decider) == member.key:  # "Designer" or "designer"
                    return member.name
        raise ConfigError(
            f"decider must be a member of the panel, one of {names!r}; got {decider!r}"
        )

    @property
    def member_names(self) -> tuple[str, ...]:
        """The members' role names, in order."""
        return tuple(member.name for member in self.members)

    def __repr__(self) -> str:
        decider = f", decider={self.decider!r}" if self.decider else ""
        return (
            f"StakeholderPanel({list(self.member_names)!r}, rule={self.rule!r}"
            f"{decider}, name={self.name!r})"
        )

    def _call(self, role: RoleTemplate) -> StructuredCall:
        call = self._calls.get(role.key)
        if call is None:
            from clientsim.llm.calls import judge_call  # noqa: PLC0415

            call = self._calls[role.key] = judge_call(
                role.model or self.model,
                _SCHEMA,
                seed=_seed_of(self.seed, role),
                timeout=self.timeouts.model_call,
            )
        return call

    async def _ask(self, role: RoleTemplate, task: Task) -> MemberVerdict:
        from clientsim.llm import Turn  # noqa: PLC0415

        turns: list[Turn] = [
            Turn("system", review_system_prompt(role)),
            Turn("user", review_user_prompt(task)),
        ]
        try:
            answer, usage = await self._call(role)(turns)
            self.token_usage = self.token_usage + usage
            return _read(role.name, answer)
        except InvalidModelOutputError as exc:
            raise InvalidModelOutputError(
                f"stakeholder panel {self.name!r}: the {role.name}'s review could not "
                f"be read: {exc}"
            ) from exc
        except ModelError as exc:
            raise ModelError(
                f"stakeholder panel {self.name!r}: the {role.name}'s review failed: "
                f"{exc}"
            ) from exc

    async def verdicts(self, task: Task) -> tuple[MemberVerdict, ...]:
        """Every member's verdict on ``task.deliverable``, in the team's order.

        Raises:
            ModelError: a member's model failed or did not answer within
                ``timeouts.model_call`` (the message names the member).
            InvalidModelOutputError: a member answered out of shape.
        """
        found: dict[str, MemberVerdict] = {}

        async def one(role: RoleTemplate) -> None:
            found[role.key] = await self._ask(role, task)

        async with task_group() as group:
            for role in self.members:
                group.start_soon(one, role)
        return tuple(found[role.key] for role in self.members)

    def combine(self, verdicts: Sequence[MemberVerdict]) -> ReviewStageResult:
        """The stage result of ``verdicts`` under the panel's rule."""
        passed = sum(v.passed for v in verdicts)
        total = len(verdicts)
        failed = total - passed
        split = f"{passed} of {total} passed ({self.rule})"
        if self.rule == "unanimous":
            ok = failed == 0
        elif self.rule == "majority":
            ok = passed > failed
            if passed == failed:
                split += ": a tie fails"
        else:
            decisive = next(v for v in verdicts if v.role == self.decider)
            ok = decisive.passed
            split += f": the {self.decider} {decisive.verdict.value}ed it"
        others = [v for v in verdicts if not v.passed]
        if self.decider is not None:  # the decider's word first
            others.sort(key=lambda v: v.role != self.decider)
        reason = split
        if others and not ok:  # what the failing members said, for the rework
            reason += ". " + " ".join(_said(v) for v in others)
        elif others:
            reason += ". Dissent: " + " ".join(_said(v) for v in others)
        metadata: dict[str, Any] = {
            "rule": self.rule,
            "passed": passed,
            "failed": failed,
            "members": [v.to_data() for v in verdicts],
        }
        if self.decider is not None:
            metadata["decider"] = self.decider
        return ReviewStageResult(
            stage=self.name,
            verdict=ReviewVerdict.PASS if ok else ReviewVerdict.FAIL,
            reason=reason,
            metadata=metadata,
        )

    async def review(self, task: Task) -> ReviewStageResult:
        """The panel's combined verdict on ``task.deliverable`` (FAIL if there is
        none; no member is asked then).

        Raises:
            ModelError: a member's review failed (see :meth:`verdicts`).
        """
        if task.deliverable is None:
            return ReviewStageResult(
                stage=self.name, verdict=ReviewVerdict.FAIL, reason="no deliverable"
            )
        return self.combine(await self.verdicts(task))
