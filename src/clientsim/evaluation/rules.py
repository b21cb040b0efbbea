"""Rule-based outcome evaluation: regular expressions per outcome name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import attrs

from clientsim._coerce import role_of
from clientsim.errors import ConfigError
from clientsim.models import Conversation, Outcome, Outcomes, ParticipantRole


__all__ = ["OutcomeRule", "RuleBasedOutcomeEvaluator"]


def _compile(
    patterns: Sequence[str], *, case_sensitive: bool, name: str
) -> re.Pattern[str]:
    flags = 0 if case_sensitive else re.IGNORECASE
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), flags)
    except re.error as exc:
        raise ConfigError(
            f"outcome rule {name!r} has an invalid regular expression: {exc}"
        ) from exc


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class OutcomeRule:
    """``outcome`` is reached when a message (from ``sender``, if set) matches a pattern.

    Patterns are regular expressions searched case-insensitively; plain words work.
    """

    outcome: str
    patterns: tuple[str, ...] = attrs.field(converter=_strings)
    sender: ParticipantRole | None = None
    case_sensitive: bool = False
    regex: re.Pattern[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.patterns or not all(
            isinstance(p, str) and p for p in self.patterns
        ):
            raise ConfigError(
                f"outcome rule {self.outcome!r} needs at least one non-empty pattern; "
                f"got {self.patterns!r}"
            )
        regex = _compile(
            self.patterns, case_sensitive=self.case_sensitive, name=self.outcome
        )
        object.__setattr__(self, "regex", regex)


RuleSpec = str | Sequence[str] | Mapping[str, object]


def _rule(name: str, spec: RuleSpec) -> OutcomeRule:
    if isinstance(spec, str):
        return OutcomeRule(name, (spec,))
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"patterns", "sender", "case_sensitive"}
        if unknown:
            raise ConfigError(
                f"outcome rule {name!r}: unknown key(s) {sorted(unknown)}; allowed: "
                "'patterns', 'sender', 'case_sensitive'"
            )
        patterns = spec.get("patterns", ())
        if isinstance(patterns, str):
            patterns = (patterns,)
        if not isinstance(patterns, Sequence):
            raise ConfigError(
                f"outcome rule {name!r}: patterns must be a list of strings"
            )
        sender = spec.get("sender")
        return OutcomeRule(
            name,
            tuple(str(p) for p in patterns),
            role_of(sender) if sender is not None else None,
            bool(spec.get("case_sensitive", False)),
        )
    return OutcomeRule(name, tuple(spec))


class RuleBasedOutcomeEvaluator:
    """Reaches an outcome when a message matches that outcome's patterns.

    Only the newest message is examined each time (the runner evaluates after every
    message), so evaluation costs the same at message 5 and message 500. Rules are
    tried in order; the first that matches wins.

    Example:
        >>> evaluator = RuleBasedOutcomeEvaluator({
        ...     "resolved": {"patterns": [r"\\bworked\\b", "fixed"], "sender": "customer"},
        ...     "escalated": {"patterns": ["escalat"], "sender": "agent"},
        ... })

    Args:
        rules: outcome name to patterns (a string, a list, or a mapping with
            ``patterns`` and optional ``sender`` and ``case_sensitive``), or a sequence of
            :class:`OutcomeRule`.

    Raises:
        ConfigError: a pattern is not a valid regular expression; at evaluation, a rule
            names an outcome the run does not define.
    """

    def __init__(self, rules: Mapping[str, RuleSpec] | Sequence[OutcomeRule]) -> None:
        if isinstance(rules, Mapping):
            self.rules = tuple(_rule(str(name), spec) for name, spec in rules.items())
        else:
            self.rules = tuple(rules)
        if not self.rules:
            raise ConfigError("a rule-based outcome evaluator needs at least one rule")
        self._checked: Outcomes | None = None

    @classmethod
    def from_config(cls, *, rules: Mapping[str, RuleSpec]) -> RuleBasedOutcomeEvaluator:
        """Build from config values."""
        return cls(rules)

    def _check(self, outcomes: Outcomes) -> None:
        if self._checked is outcomes:
            return
        for rule in self.rules:
            if rule.outcome not in outcomes:
                raise ConfigError(
                    f"outcome rule names {rule.outcome!r}, which is not an outcome of this "
                    f"run; outcomes: {', '.join(map(repr, outcomes.names)) or '(none)'}"
                )
        self._checked = outcomes

    async def evaluate(
        self, conversation: Conversation, outcomes: Outcomes
    ) -> Outcome | None:
        self._check(outcomes)
        message = conversation.last_message
        if message is None:
            return None
        for rule in self.rules:
            if rule.sender is not None and rule.sender is not message.sender:
                continue
            if rule.regex.search(message.content):
                return outcomes.get_outcome_by_name(rule.outcome)
        return None
