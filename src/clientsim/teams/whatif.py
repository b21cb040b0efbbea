"""What-if: the change a fork applies, and the comparison of the original and the branch."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from clientsim.errors import ConfigError
from clientsim.models import Ending, Message, RoleTemplate, SessionAnalysis
from clientsim.models.frozen import FrozenDict, freeze, thaw
from clientsim.models.team import role_key


if TYPE_CHECKING:
    from clientsim.teams.scenario import TeamScenario
    from clientsim.teams.session import TeamSession

__all__ = [
    "ROLE_FIELDS",
    "ComparisonRow",
    "WhatIfChange",
    "WhatIfComparison",
    "compare",
]

ROLE_FIELDS: Final = (
    "goal",
    "goals",
    "prompt",
    "model",
    "persona",
    "style",
    "description",
    "expertise",
    "cares_about",
)
"""The fields of a role a what-if may set (``goal`` replaces the goals with one)."""
_SCENARIO_FIELDS: Final = ("title", "brief", "decision")
_LIST_FIELDS: Final = frozenset({"goals", "expertise", "cares_about"})


def _sets(value: Mapping[str, object]) -> FrozenDict[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"a what-if's sets must map 'target.field' to a value; got {value!r}"
        )
    for key in value:
        if not isinstance(key, str) or "." not in key:
            raise ConfigError(
                f"a what-if sets 'role.field' (e.g. 'CEO.goal') or "
                f"'scenario.<parameter>'; got {key!r}"
            )
    frozen: FrozenDict[str, Any] = freeze(value)
    return frozen


def _names(value: Iterable[object]) -> tuple[Any, ...]:
    if isinstance(value, str | RoleTemplate | Mapping):
        return (value,)
    return tuple(value)


@attrs.frozen(kw_only=True)
class WhatIfChange:
    """What a what-if changes before it replays a session from a turn.

    Attributes:
        sets: ``"<role>.<field>"`` (a member's name or role: ``"CEO.goal"``; fields
            :data:`ROLE_FIELDS`) or ``"scenario.<name>"`` (a parameter, or the
            ``title``, ``brief`` or ``decision``) to the new value.
        add: roles to add (names of registered roles, or :class:`RoleTemplate` s).
        remove: members to remove, by name or role.

    Example:
        >>> change = WhatIfChange.parse(["CEO.goal=Ship in Q3", "scenario.budget=100000"])
        >>> change.describe()
        "CEO.goal = 'Ship in Q3'; scenario.budget = 100000"
        >>> WhatIfChange().is_empty
        True
    """

    sets: FrozenDict[str, Any] = attrs.field(factory=FrozenDict, converter=_sets)
    add: tuple[str | RoleTemplate, ...] = attrs.field(default=(), converter=_names)
    remove: tuple[str, ...] = attrs.field(default=(), converter=_names)

    @property
    def is_empty(self) -> bool:
        """``True`` for no change at all (the fork replays the original exactly)."""
        return not (self.sets or self.add or self.remove)

    @classmethod
    def parse(cls, items: Iterable[str]) -> WhatIfChange:
        """From ``"target.field=value"`` strings, as ``--set`` gives them; a value is
        read as YAML (``100000`` is a number, ``[a, b]`` a list)."""
        import yaml  # noqa: PLC0415

        sets: dict[str, object] = {}
        for item in items:
            key, equals, text = item.partition("=")
            if not equals or not key.strip():
                raise ConfigError(
                    f"a change is 'target.field=value' (e.g. 'CEO.goal=Ship in Q3'); "
                    f"got {item!r}"
                )
            try:
                value = yaml.safe_load(text) if text.strip() else ""
            except yaml.YAMLError:
                value = text
            sets[key.strip()] = text if isinstance(value, Mapping) else value
        return cls(sets=sets)

    @classmethod
    def of(cls, value: object) -> WhatIfChange:
        """A change from what a user may give: ``None`` (no change), a
        :class:`WhatIfChange`, a mapping (``{"CEO.goal": ..., "add_role": ...,
        "remove_role": ...}``), a ``"target.field=value"`` string or a list of them."""
        if value is None:
            return cls()
        if isinstance(value, WhatIfChange):
            return value
        if isinstance(value, str):
            return cls.parse([value])
        if isinstance(value, Mapping):
            data = dict(value)
            add = data.pop("add_role", ())
            remove = data.pop("remove_role", ())
            return cls(sets=data, add=add, remove=remove)
        if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
            return cls.parse(value)
        raise ConfigError(
            "a what-if change is None, a WhatIfChange, a mapping such as "
            "{'CEO.goal': 'Ship in Q3'}, or 'target.field=value' strings; got "
            f"{value!r}"
        )

    def describe(self) -> str:
        """The change in one line (``"no change"`` when empty)."""
        parts = [f"{key} = {value!r}" for key, value in self.sets.items()]
        parts += [f"add {getattr(role, 'name', role)}" for role in self.add]
        parts += [f"remove {name}" for name in self.remove]
        return "; ".join(parts) or "no change"

    def to_data(self) -> dict[str, Any]:
        """The change as JSON data (roles added as values become mappings)."""
        from clientsim.models import to_dict  # noqa: PLC0415

        return {
            "sets": {key: thaw(value) for key, value in self.sets.items()},
            "add": [
                to_dict(role) if isinstance(role, RoleTemplate) else role
                for role in self.add
            ],
            "remove": list(self.remove),
        }

    def apply(
        self,
        scenario: TeamScenario,
        team: Sequence[tuple[str, RoleTemplate]],
        build_role: Any,
    ) -> tuple[TeamScenario, list[tuple[str, RoleTemplate]]]:
        """The scenario and team (``(name, role)`` pairs) with the change made.

        Raises:
            ConfigError: a target names no member, a field is not one of
                :data:`ROLE_FIELDS`, or a value has the wrong type.
        """
        members = list(team)
        for name in self.remove:
            index = _member_index(members, name)
            del members[index]
        for role in self.add:
            template = role if isinstance(role, RoleTemplate) else build_role(role)
            members.append((_unique(template.name, members), template))
        for key, value in self.sets.items():
            target, _, field = key.partition(".")
            if role_key(target) == "scenario":
                scenario = _set_scenario(scenario, field, value)
                continue
            index = _member_index(members, target)
            name, template = members[index]
            members[index] = (name, _set_role(template, field, value, key))
        if not members:
            raise ConfigError("a what-if may not remove every member of the team")
        return scenario, members


def _member_index(members: Sequence[tuple[str, RoleTemplate]], target: str) -> int:
    key = role_key(target)
    for index, (name, template) in enumerate(members):
        if role_key(name) == key or template.key == key:
            return index
    known = ", ".join(name for name, _ in members) or "none"
    raise ConfigError(f"the what-if names {target!r}, who is not in the team ({known})")


def _unique(name: str, members: Sequence[tuple[str, RoleTemplate]]) -> str:
    taken = {existing for existing, _ in members}
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} {number}", number + 1
    return candidate


def _set_scenario(scenario: TeamScenario, field: str, value: object) -> TeamScenario:
    if not field:
        raise ConfigError("a scenario change names a parameter: 'scenario.<name>'")
    if not isinstance(value, str | int | float | bool):
        raise ConfigError(
            f"scenario.{field} must be a string, number or boolean; got {value!r}"
        )
    return scenario.with_parameter(field, value)


def _set_role(
    template: RoleTemplate, field: str, value: object, key: str
) -> RoleTemplate:
    if field not in ROLE_FIELDS:
        raise ConfigError(
            f"{key}: a what-if may set {', '.join(ROLE_FIELDS)} of a role; got {field!r}"
        )
    if field == "goal":
        field, value = "goals", [value]
    if field in _LIST_FIELDS:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(
            isinstance(item, str) for item in value
        ):
            raise ConfigError(
                f"{key} must be a string or a list of strings; got {value!r}"
            )
    elif not isinstance(value, str):
        raise ConfigError(f"{key} must be a string; got {value!r}")
    changes: dict[str, Any] = {field: value}
    return attrs.evolve(template, **changes)


@attrs.frozen
class ComparisonRow:
    """One turn of a what-if comparison: what each branch said at that turn."""

    turn: int
    original: Message | None
    branch: Message | None

    @property
    def same(self) -> bool:
        """``True`` when both branches said the same thing (speaker and content)."""
        a, b = self.original, self.branch
        if a is None or b is None:
            return a is b
        return a.speaker == b.speaker and a.content == b.content


def _line(message: Message | None) -> str:
    if message is None:
        return "(nothing)"
    who = message.speaker.label if message.speaker else message.sender.value
    return f"{who}: {message.content}"


@attrs.frozen(kw_only=True)
class WhatIfComparison:
    """The original session and its what-if branch, side by side from the fork.

    Attributes:
        at_turn: the turn the branch starts to differ from (turns before it were
            replayed from the record, without calling any model).
        change: what the branch changed.
        original_id: the original session's id.
        branch_id: the branch's session id (load it to continue it).
        rows: the turns from ``at_turn`` on, each branch's message side by side.
        original_ending: why the original ended, if it did.
        branch_ending: why the branch ended, if it did.
        original_outcome: the original's outcome name, if one was reached.
        branch_outcome: the branch's outcome name, if one was reached.
        original_analysis: the analyst's last analysis of the original.
        branch_analysis: the analyst's last analysis of the branch.
        model_calls: the model calls the branch made (none for the replayed turns).
        branch: the branch as a live :class:`~clientsim.teams.TeamSession`
            (not part of the value's equality).
    """

    at_turn: int
    change: WhatIfChange
    original_id: str
    branch_id: str
    rows: tuple[ComparisonRow, ...]
    original_ending: Ending | None = None
    branch_ending: Ending | None = None
    original_outcome: str | None = None
    branch_outcome: str | None = None
    original_analysis: SessionAnalysis | None = None
    branch_analysis: SessionAnalysis | None = None
    model_calls: int = 0
    branch: TeamSession | None = attrs.field(
        default=None, eq=False, repr=False, hash=False
    )

    @property
    def first_difference(self) -> int | None:
        """The first turn at which the branches differ, or ``None``."""
        return next((row.turn for row in self.rows if not row.same), None)

    def render(self, width: int = 100) -> str:
        """The comparison as text: the change, then each turn in two columns."""
        column = max(20, (width - 7) // 2)
        lines = [
            f"What if {self.change.describe()} (from turn {self.at_turn})",
            f"original {self.original_id} | branch {self.branch_id}",
        ]
        for row in self.rows:
            left = textwrap.wrap(_line(row.original), column) or [""]
            right = textwrap.wrap(_line(row.branch), column) or [""]
            mark = "=" if row.same else "≠"
            for index in range(max(len(left), len(right))):
                a = left[index] if index < len(left) else ""
                b = right[index] if index < len(right) else ""
                head = f"{row.turn:>3} {mark}" if index == 0 else "     "
                lines.append(f"{head} {a:<{column}} | {b}")
        for label, ending, outcome, analysis in (
            (
                "original",
                self.original_ending,
                self.original_outcome,
                self.original_analysis,
            ),
            ("branch", self.branch_ending, self.branch_outcome, self.branch_analysis),
        ):
            reason = ending.reason if ending else "still open"
            line = f"{label}: ended {reason}; outcome {outcome or 'none'}"
            if analysis is not None:
                line += (
                    f"; {len(analysis.decisions)} decision(s), "
                    f"{len(analysis.risks)} risk(s), confidence {analysis.confidence:.2f}"
                )
            lines.append(line)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from clientsim.render.teams import what_if_html  # noqa: PLC0415

        return what_if_html(self)


def compare(
    original: TeamSession, branch: TeamSession, at_turn: int, change: WhatIfChange
) -> WhatIfComparison:
    """The comparison of ``original`` and its what-if ``branch`` from ``at_turn``."""
    mine, theirs = original.transcript.messages, branch.transcript.messages
    rows = tuple(
        ComparisonRow(
            turn,
            mine[turn] if turn < len(mine) else None,
            theirs[turn] if turn < len(theirs) else None,
        )
        for turn in range(at_turn, max(len(mine), len(theirs)))
    )
    before, after = original.transcript.outcome, branch.transcript.outcome
    return WhatIfComparison(
        at_turn=at_turn,
        change=change,
        original_id=original.session_id,
        branch_id=branch.session_id,
        rows=rows,
        original_ending=original.ending,
        branch_ending=branch.ending,
        original_outcome=before.name if before else None,
        branch_outcome=after.name if after else None,
        original_analysis=original.analyses[-1] if original.analyses else None,
        branch_analysis=branch.analyses[-1] if branch.analyses else None,
        model_calls=branch.token_usage.calls,
        branch=branch,
    )
