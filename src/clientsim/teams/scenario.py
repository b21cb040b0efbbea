"""What a team discusses (:class:`TeamScenario`) and a team file (:class:`TeamConfig`).

A team file is YAML, TOML or JSON::

    scenario:
      title: Launch decision
      brief: Version 2 of the mobile app is feature-complete but has open crash bugs.
      decision: Do we launch v2 on March 1?
      parameters: {launch_date: March 1, budget: 250000}
    team: [CEO, Product Manager, Engineering Lead, Designer, Simulation Analyst]
    turn_policy: round_robin
    max_turns: 14
    seed: 7
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from clientsim._validators import a_text, an_int, typed
from clientsim.config import (
    WrongType,
    parse_text,
    read_text,
    register_structure_overrides,
    structure_file,
)
from clientsim.config.converter import OMIT_IF_DEFAULT
from clientsim.errors import ConfigError, InvalidTypeError
from clientsim.models.frozen import FrozenDict, freeze, freeze_mapping
from clientsim.models.intent import Outcome


__all__ = ["TeamConfig", "TeamScenario", "as_team_config", "load_team_config"]

_ScenarioValue = str | int | float | bool


def _parameters(value: Mapping[str, object]) -> FrozenDict[str, _ScenarioValue]:
    frozen = freeze_mapping(value, "parameters")
    for key, item in frozen.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidTypeError(
                f"scenario parameter names must be non-empty strings; got {key!r}"
            )
        if not isinstance(item, str | int | float | bool):
            raise InvalidTypeError(
                f"scenario parameter {key!r} must be a string, number or boolean; "
                f"got {type(item).__name__}"
            )
    return frozen


def _outcomes(value: Sequence[Outcome]) -> tuple[Outcome, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, Outcome):
            raise InvalidTypeError(f"outcomes must be Outcome values; got {item!r}")
    return items


@attrs.frozen(kw_only=True)
class TeamScenario:
    """What the team meets about.

    Attributes:
        title: a short name, e.g. ``"Launch decision"``.
        brief: the situation, in a few sentences.
        decision: the question the team must answer, if there is one.
        parameters: the scenario's named values (dates, budgets, counts); a what-if
            may change them (``scenario.budget=100000``).
        opening: the first message of the discussion; by default one is written
            from the title, brief, decision and parameters.
        outcomes: the outcomes the discussion may reach (``launch``, ``delay``);
            an outcome evaluator decides among them after every message.

    Example:
        >>> scenario = TeamScenario(title="Pricing", brief="Our churn doubled.",
        ...                         decision="Do we cut prices?",
        ...                         parameters={"churn": "4%"})
        >>> print(scenario.text())
        Pricing: Our churn doubled.
        Decision to make: Do we cut prices?
        Facts: churn = 4%
    """

    title: str = attrs.field(validator=a_text(non_empty=True))
    brief: str = attrs.field(default="", validator=a_text())
    decision: str = attrs.field(default="", validator=a_text())
    parameters: FrozenDict[str, _ScenarioValue] = attrs.field(
        factory=FrozenDict, converter=_parameters
    )
    opening: str | None = attrs.field(default=None, validator=typed(str, optional=True))
    outcomes: tuple[Outcome, ...] = attrs.field(default=(), converter=_outcomes)

    def text(self) -> str:
        """The scenario as every member is told it."""
        lines = [f"{self.title}: {self.brief}".rstrip(": ").strip()]
        if self.decision:
            lines.append(f"Decision to make: {self.decision}")
        if self.parameters:
            facts = "; ".join(
                f"{key} = {value}" for key, value in self.parameters.items()
            )
            lines.append(f"Facts: {facts}")
        return "\n".join(lines)

    def opening_message(self) -> str:
        """The discussion's first message: :attr:`opening`, or one written from the
        scenario."""
        if self.opening:
            return self.opening
        ask = self.decision or "What should we do?"
        facts = ""
        if self.parameters:
            facts = (
                " Facts: "
                + "; ".join(
                    f"{key} = {value}" for key, value in self.parameters.items()
                )
                + "."
            )
        brief = f" {self.brief}" if self.brief else ""
        return f"Thanks for joining. Topic: {self.title}.{brief}{facts} {ask}"

    def with_parameter(self, name: str, value: _ScenarioValue) -> TeamScenario:
        """A copy with parameter ``name`` set to ``value``; ``title``, ``brief`` and
        ``decision`` are set the same way."""
        if name in ("title", "brief", "decision"):
            if not isinstance(value, str):
                raise InvalidTypeError(
                    f"scenario.{name} must be a string; got {value!r}"
                )
            changes: dict[str, Any] = {name: value}
            return attrs.evolve(self, **changes)
        return attrs.evolve(self, parameters={**self.parameters, name: value})


def _spec(value: object, _: object = None) -> str | FrozenDict[str, Any]:
    """A strategy or role entry: a name, or a mapping of plain data."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        frozen: FrozenDict[str, Any] = freeze(value)
        return frozen
    raise WrongType(value, "a name or a mapping")


def _optional_spec(
    value: object, _: object = None
) -> str | FrozenDict[str, Any] | None:
    return None if value is None else _spec(value)


def _specs(value: object, _: object = None) -> tuple[str | FrozenDict[str, Any], ...]:
    if isinstance(value, str | Mapping):
        return (_spec(value),)
    if not isinstance(value, list | tuple):
        raise WrongType(value, "a list of names or mappings")
    return tuple(_spec(item) for item in value)


_DEFAULT_TEAM: Final = (
    "CEO",
    "Product Manager",
    "Engineering Lead",
    "Designer",
    "Sales",
    "Support",
    "Simulation Analyst",
)
"""The seed's seven roles: the team when none is named."""


@attrs.frozen(kw_only=True)
class TeamConfig:
    """A team file: the scenario, the team and how the session runs.

    Attributes:
        scenario: what the team discusses.
        team: role names (``"CEO"``) or role mappings (``{role: CEO, goal: ...}``, or
            a whole new role with ``name``); the seed's seven roles by default. The
            Simulation Analyst, when present, analyses instead of speaking.
        model: the model spec every member uses unless its role names another.
        seed: the session's seed: the same seed gives the same transcript.
        turn_policy: who speaks next (a name or ``{strategy: ..., ...}``).
        max_turns: the session ends after this many turns.
        memory_window: how many recent messages each member keeps verbatim.
        analyst_every: the analyst writes an analysis every this many turns
            (``0``: only on demand).
        outcome_evaluator: decides the scenario's outcomes (``"llm"`` by default
            when the scenario has outcomes).
        termination: termination strategies, as an experiment file gives them.
        executor: where :func:`~clientsim.teams.run_sessions` runs a batch of
            sessions (``local`` by default, ``ray``, or ``{strategy: ray, workers:
            2}``); one session always runs in this process.
    """

    scenario: TeamScenario
    team: tuple[str | FrozenDict[str, Any], ...] = attrs.field(
        default=_DEFAULT_TEAM, converter=_specs
    )
    model: str = attrs.field(default="offline", validator=a_text(non_empty=True))
    seed: int = attrs.field(default=0, validator=an_int())
    turn_policy: str | FrozenDict[str, Any] = attrs.field(
        default="round_robin", converter=_spec
    )
    max_turns: int = attrs.field(default=20, validator=an_int(low=1))
    memory_window: int = attrs.field(default=12, validator=an_int(low=1))
    analyst_every: int = attrs.field(default=1, validator=an_int(low=0))
    outcome_evaluator: str | FrozenDict[str, Any] | None = attrs.field(
        default=None, converter=_optional_spec
    )
    termination: tuple[str | FrozenDict[str, Any], ...] = attrs.field(
        default=(), converter=_specs
    )
    executor: str | FrozenDict[str, Any] | None = attrs.field(
        default=None,
        converter=_optional_spec,
        metadata={OMIT_IF_DEFAULT: True},  # a session's record stays as it was
    )


register_structure_overrides(
    TeamConfig,
    hooks={
        "team": _specs,
        "turn_policy": _spec,
        "outcome_evaluator": _optional_spec,
        "termination": _specs,
        "executor": _optional_spec,
    },
)


def load_team_config(source: str | Path | Mapping[str, Any]) -> TeamConfig:
    """Read a team file (YAML, TOML or JSON), or build one from a mapping.

    Raises:
        ConfigError: the file cannot be read or parsed, or a key is wrong; the
            message names the key, what it got and what is allowed.
    """
    if isinstance(source, Mapping):
        return structure_file(dict(source), TeamConfig, head="invalid team config")
    if not isinstance(source, str | Path):
        raise ConfigError(
            f"a team config is a file path or a mapping; got {type(source).__name__}"
        )
    path = Path(source)
    what = f"team config {path}"
    data = parse_text(read_text(path, what), path.suffix.lower(), what)
    if not isinstance(data, Mapping):
        raise ConfigError(f"{what} must hold a mapping at its top level")
    return structure_file(dict(data), TeamConfig, head=f"invalid {what}")


def as_team_config(
    scenario: TeamScenario | TeamConfig | str | Path | Mapping[str, Any],
) -> TeamConfig:
    """A team config from a scenario, a config, a team file path or its mapping.

    Raises:
        ConfigError: none of these, or a file or mapping that is not a team config.
    """
    if isinstance(scenario, TeamConfig):
        return scenario
    if isinstance(scenario, TeamScenario):
        return TeamConfig(scenario=scenario)
    if isinstance(scenario, str | Path | Mapping):
        return load_team_config(scenario)
    raise ConfigError(
        "scenario must be a TeamScenario, a TeamConfig, a team file path or its "
        f"mapping; got {type(scenario).__name__}"
    )
