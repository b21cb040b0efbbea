"""The parts of an experiment file below the top level (seed 003): how clientsim calls
your agent (``runner``), replayed arguments (``replay_args``), multi-turn settings and
the supervisor (``multi_turn``), and clientsim's own inputs, personas, simulated agent
and outcomes.

Each is a frozen attrs value checked at construction; :class:`~clientsim.experiments.
config.ExperimentConfig` holds them and is what a file loads into.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import attrs

from clientsim.experiments._config_checks import (
    _BOOL,
    _DOT_PATH,
    _FUNCTION_NAME,
    _JSON_OBJECT,
    _MODULE_PATH,
    _OUTCOME_NAME,
    _PERSONA_ID,
    _PYTHON_PATH,
    _STR_LIST,
    _as_float,
    _as_json_object,
    _as_python_path,
    _as_tuple,
    _check_patterns,
    _check_target,
    _choice,
    _FieldError,
    _instance,
    _int_in,
    _matches,
    _number_in,
    _optional,
    _text,
)
from clientsim.models import Timeouts


__all__ = [
    "AgentConfig",
    "InputItem",
    "JsonValue",
    "MultiTurnConfig",
    "OutcomeConfig",
    "PersonaConfig",
    "ReplayArgsConfig",
    "RunnerConfig",
    "SupervisorConfig",
    "SupervisorMetadata",
]

JsonValue: TypeAlias = (
    "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
)
"""Plain JSON data: what an input's ``metadata`` may hold and what ``to_dict`` gives."""


@attrs.frozen(kw_only=True)
class RunnerConfig:
    """How clientsim calls your agent's code (seed 003, ``runner``).

    Give ``target`` (recommended) or ``module_path`` with ``function_name``; when both
    are given they must agree.

    Attributes:
        target: ``"module:function"``, ``"module:Class.method"`` (zero-argument
            constructor) or ``"module:instance.method"``.
        module_path: dotted module path, used with ``function_name``.
        function_name: the function (or ``Class.method``) in ``module_path``.
        working_directory: relative to the project root.
        python_path: extra ``PYTHONPATH`` entries (a single string is one entry).
        timeout_seconds: per-run limit, 10 to 3600 (``Timeouts.conversation``).
        turn_timeout_seconds: the longest one turn (the customer writing a message,
            a simulated agent answering) may take, 1 to 3600 (``Timeouts.turn``).
        model_timeout_seconds: the longest one model call may take, 1 to 3600
            (``Timeouts.model_call``).
        max_retries: retries of transient errors, 0 to 10.

    Raises:
        ConfigError: a value is out of range, or the target cannot be resolved.

    Example:
        >>> RunnerConfig(module_path="examples.simple_agent", function_name="run").resolved_target
        'examples.simple_agent:run'
    """

    target: str | None = attrs.field(default=None, validator=_check_target)
    module_path: str | None = attrs.field(default=None, validator=_MODULE_PATH)
    function_name: str | None = attrs.field(default=None, validator=_FUNCTION_NAME)
    working_directory: str = attrs.field(default=".", validator=_text(non_empty=True))
    python_path: tuple[str, ...] | None = attrs.field(
        default=None,
        converter=_as_python_path,
        validator=_PYTHON_PATH,
    )
    timeout_seconds: int = attrs.field(default=120, validator=_int_in(10, 3600))
    turn_timeout_seconds: int = attrs.field(default=300, validator=_int_in(1, 3600))
    model_timeout_seconds: int = attrs.field(default=120, validator=_int_in(1, 3600))
    max_retries: int = attrs.field(default=3, validator=_int_in(0, 10))

    def __attrs_post_init__(self) -> None:
        _ = self.resolved_target

    @property
    def timeouts(self) -> Timeouts:
        """The run's :class:`~clientsim.models.Timeouts` from the three timeout keys."""
        return Timeouts(
            model_call=self.model_timeout_seconds,
            turn=self.turn_timeout_seconds,
            conversation=self.timeout_seconds,
        )

    @property
    def resolved_target(self) -> str | None:
        """``target``, or ``"module_path:function_name"``; ``None`` if neither is set.

        Raises:
            ConfigError: only one of ``module_path`` and ``function_name`` is given,
                or ``target`` disagrees with them.
        """
        if (self.module_path is None) != (self.function_name is None):
            missing = "function_name" if self.function_name is None else "module_path"
            raise _FieldError(
                missing,
                "module_path and function_name go together: give both, or give "
                f"target alone (module_path={self.module_path!r}, "
                f"function_name={self.function_name!r})",
            )
        combined = (
            f"{self.module_path}:{self.function_name}"
            if self.module_path is not None
            else None
        )
        if self.target is not None and combined is not None and self.target != combined:
            raise _FieldError(
                "target",
                f"target {self.target!r} disagrees with module_path:function_name "
                f"{combined!r}; give target alone, or make them agree",
            )
        return self.target if self.target is not None else combined


@attrs.frozen(kw_only=True)
class ReplayArgsConfig:
    """Replay of recorded call arguments (seed 003, ``replay_args``).

    Attributes:
        enabled: replay recorded arguments instead of building them.
        recording_file: JSONL file of recorded ``{"args", "kwargs"}`` lines.
        override_param_path: dot path in the recorded kwargs that receives each input.

    Example:
        >>> ReplayArgsConfig(enabled=True).override_param_path
        'data.content'
    """

    enabled: bool = attrs.field(default=False, validator=_BOOL)
    recording_file: str = attrs.field(
        default="recordings/args_recording.jsonl", validator=_text(non_empty=True)
    )
    override_param_path: str = attrs.field(default="data.content", validator=_DOT_PATH)


@attrs.frozen(kw_only=True)
class SupervisorMetadata:
    """The mock supervisor's script (seed 003, ``multi_turn.supervisor.metadata``).

    Attributes:
        scripted_questions: user messages played back in order.
        mock_decision: what to do when the script runs out.
        mock_reason: the termination reason recorded for scripted runs.
        mock_closing: the final user message.

    Example:
        >>> SupervisorMetadata(scripted_questions=["Hours?"]).scripted_questions
        ('Hours?',)
    """

    scripted_questions: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_STR_LIST
    )
    mock_decision: Literal["terminate", "continue"] = attrs.field(
        default="terminate", validator=_choice("terminate", "continue")
    )
    mock_reason: str = attrs.field(default="script_complete", validator=_text())
    mock_closing: str = attrs.field(
        default="Thanks for the help. I have no further questions.", validator=_text()
    )


@attrs.frozen(kw_only=True)
class SupervisorConfig:
    """The multi-turn supervisor (seed 003, ``multi_turn.supervisor``).

    Attributes:
        provider: ``"openai"`` (an LLM decides and writes follow-ups) or ``"mock"``
            (scripted playback from ``metadata``).
        model: model name or clientsim model spec.
        system_prompt: custom supervisor prompt; ``None`` for the built-in one.
        temperature: sampling temperature, 0 to 2; ``None`` for the model's default
            (set by the CLI's ``--supervisor-temperature``).
        metadata: the mock provider's script.

    Example:
        >>> SupervisorConfig(model="gpt-4o").model_spec
        'openai:gpt-4o'
    """

    provider: Literal["openai", "mock"] = attrs.field(
        default="openai", validator=_choice("openai", "mock")
    )
    model: str = attrs.field(default="gpt-4o-mini", validator=_text(non_empty=True))
    system_prompt: str | None = attrs.field(default=None, validator=_optional(_text()))
    temperature: float | None = attrs.field(
        default=None, converter=_as_float, validator=_optional(_number_in(0, 2))
    )
    metadata: SupervisorMetadata = attrs.field(
        factory=SupervisorMetadata,
        validator=_instance(SupervisorMetadata, "a mapping of supervisor metadata"),
    )

    @property
    def model_spec(self) -> str:
        """``model`` as a clientsim model spec: bare names are OpenAI models."""
        if ":" in self.model or self.model == "offline":
            return self.model
        return f"openai:{self.model}"


@attrs.frozen(kw_only=True)
class MultiTurnConfig:
    """Multi-turn conversations driven by a supervisor (seed 003, ``multi_turn``).

    Attributes:
        enabled: extend each input into a conversation.
        max_turns: safety cap on turns (a user message and an agent reply), 2 to 50.
        auto_approve_tools: approve the agent's tool calls automatically.
        persona_override: run every conversation with this persona id.
        supervisor: the supervisor's settings.

    Example:
        >>> MultiTurnConfig(enabled=True, max_turns=12).supervisor.provider
        'openai'
    """

    enabled: bool = attrs.field(default=False, validator=_BOOL)
    max_turns: int = attrs.field(default=8, validator=_int_in(2, 50))
    auto_approve_tools: bool = attrs.field(default=True, validator=_BOOL)
    persona_override: str | None = attrs.field(
        default=None,
        validator=_optional(
            _matches(
                _PERSONA_ID, "a persona id (lowercase letters, digits, '_' and '-')"
            )
        ),
    )
    supervisor: SupervisorConfig = attrs.field(
        factory=SupervisorConfig,
        validator=_instance(SupervisorConfig, "a mapping of supervisor settings"),
    )


@attrs.frozen(kw_only=True)
class InputItem:
    """One input: the first thing the simulated customer says. In a file, a bare
    string is an input with that ``content``.

    Attributes:
        id: a stable id; inputs without one get their position (``"0"``, ``"1"``...).
        content: the message text.
        intent: what the simulated customer wants, in free text.
        metadata: any JSON data, passed along to the run's records.

    Example:
        >>> InputItem(content="Where is my order?", intent="Track order 1234").id is None
        True
    """

    id: str | None = attrs.field(
        default=None, validator=_optional(_text(non_empty=True))
    )
    content: str = attrs.field(validator=_text(non_empty=True))
    intent: str | None = attrs.field(default=None, validator=_optional(_text()))
    metadata: dict[str, JsonValue] = attrs.field(
        factory=dict, converter=_as_json_object, validator=_JSON_OBJECT, hash=False
    )


@attrs.frozen(kw_only=True)
class PersonaConfig:
    """A simulated customer's persona (clientsim's own key ``personas``).

    Attributes:
        id: a slug of lowercase letters, digits, ``_`` and ``-``.
        description: who the customer is and how they talk.
        name: a display name.

    Example:
        >>> PersonaConfig(id="expert_user", description="Knows the product well").id
        'expert_user'
    """

    id: str = attrs.field(
        validator=_matches(
            _PERSONA_ID, "a slug of lowercase letters, digits, '_' and '-'"
        )
    )
    description: str = attrs.field(default="", validator=_text())
    name: str | None = attrs.field(default=None, validator=_optional(_text()))


@attrs.frozen(kw_only=True)
class AgentConfig:
    """A simulated agent (clientsim's own key ``agent``): clientsim's own LLM agent,
    used instead of ``runner.target`` to rehearse before the real code exists.

    Attributes:
        model: model spec; ``None`` uses the experiment's ``model``.
        system_prompt: the agent's instructions.

    Example:
        >>> AgentConfig(system_prompt="You are a helpful support agent.").model is None
        True
    """

    model: str | None = attrs.field(
        default=None, validator=_optional(_text(non_empty=True))
    )
    system_prompt: str = attrs.field(validator=_text(non_empty=True))


@attrs.frozen(kw_only=True)
class OutcomeConfig:
    """A labelled way a run can end (clientsim's own key ``outcomes``).

    Attributes:
        name: a lowercase slug, as :class:`clientsim.models.Outcome` requires.
        description: what the outcome means (LLM judges read it).
        patterns: regular expressions; a message matching one signals the outcome.
        sender: whose messages ``patterns`` look at; ``None`` for both.

    Example:
        >>> OutcomeConfig(name="resolved", patterns=[r"\\bresolved\\b"]).patterns
        ('\\\\bresolved\\\\b',)
    """

    name: str = attrs.field(
        validator=_matches(
            _OUTCOME_NAME,
            "a lowercase slug (letters a-z, digits, single '_' or '-' between them)",
        )
    )
    description: str = attrs.field(default="", validator=_text())
    patterns: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_check_patterns
    )
    sender: Literal["agent", "customer"] | None = attrs.field(
        default=None, validator=_optional(_choice("agent", "customer"))
    )
