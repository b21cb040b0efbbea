"""clientsim's pytest plugin (registered through the ``pytest11`` entry point).

It gives tests of agents:

- the fixtures ``clientsim_offline_model`` (an offline chat model, seeded from the
  marker), ``simulate`` (runs simulated customers against the agent under test) and
  ``clientsim_cassette`` (records a test's model and agent calls on its first run,
  replays them afterwards; ``--clientsim-record`` re-records);
- the marker ``@pytest.mark.clientsim(runs=..., seed=..., threshold=...)``;
- the assertion helpers of :mod:`clientsim.assertions`, re-exported here.

The plugin is import-light: at pytest start-up it imports only the standard library
and pytest. clientsim's runners and LangChain are imported when a fixture is used, and
no third-party plugin is loaded before that.

Example:
    >>> @pytest.mark.clientsim(runs=3, seed=7, threshold=0.9)
    ... async def test_agent(simulate):
    ...     results = await simulate(
    ...         "my_app.agent:reply",
    ...         personas=["terse"],
    ...         intents=["reset my password"],
    ...         outcomes={"resolved": "reset link"},
    ...     )
    ...     assert_outcome_rate(results, "resolved")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.assertions import (
        SimulatedRun,
        SimulationRuns,
        assert_no_outcome,
        assert_outcome_rate,
        assert_pass_hat_k,
        describe_run,
        outcome_rate,
        pass_hat_k,
    )
    from clientsim.experiments.cassette import Cassette
    from clientsim.llm.offline import OfflineChatModel
    from clientsim.participants import Participant
    from clientsim.runners.base import Runner
    from clientsim.runners.batch import ConversationJob


__all__ = [
    "ClientsimCassette",
    "ClientsimSettings",
    "Simulate",
    "SimulatedRun",
    "SimulationRuns",
    "assert_no_outcome",
    "assert_outcome_rate",
    "assert_pass_hat_k",
    "describe_run",
    "outcome_rate",
    "pass_hat_k",
]

MARKER: Final = "clientsim"
RECORD_OPTION: Final = "--clientsim-record"
_MARKER_KEYS: Final = ("runs", "seed", "threshold")
_ASSERTIONS: Final = frozenset(
    {
        "SimulatedRun",
        "SimulationRuns",
        "assert_no_outcome",
        "assert_outcome_rate",
        "assert_pass_hat_k",
        "describe_run",
        "outcome_rate",
        "pass_hat_k",
    }
)
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_.-]+")


def __getattr__(name: str) -> object:
    """Serve the assertion helpers lazily, so loading the plugin stays cheap."""
    if name in _ASSERTIONS:
        import clientsim.assertions  # noqa: PLC0415

        return getattr(clientsim.assertions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--clientsim-record``."""
    group = parser.getgroup("clientsim")
    group.addoption(
        RECORD_OPTION,
        action="store_true",
        default=False,
        help="re-record the cassettes of tests that use the clientsim_cassette fixture",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``clientsim`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers",
        "clientsim(runs=1, seed=0, threshold=None): runs per persona and intent, the "
        "run seed, and the default threshold of clientsim's assertion helpers",
    )


class ClientsimSettings:
    """What the ``clientsim`` marker set for a test.

    Example:
        >>> ClientsimSettings.from_marker(None)
        ClientsimSettings(runs=1, seed=0, threshold=None)

    Args:
        runs: repetitions of each persona and intent.
        seed: the run seed.
        threshold: the default threshold of the assertion helpers.
    """

    def __init__(
        self, *, runs: int = 1, seed: int = 0, threshold: float | None = None
    ) -> None:
        self.runs = runs
        self.seed = seed
        self.threshold = threshold

    def __repr__(self) -> str:
        return (
            f"ClientsimSettings(runs={self.runs}, seed={self.seed}, "
            f"threshold={self.threshold})"
        )

    @classmethod
    def from_marker(cls, marker: pytest.Mark | None) -> ClientsimSettings:
        """Read and check a ``clientsim`` marker (``None``: the defaults).

        Raises:
            ConfigError: an unknown keyword, a positional argument or a bad value.
        """
        from clientsim.errors import ConfigError  # noqa: PLC0415

        if marker is None:
            return cls()
        if marker.args:
            raise ConfigError(
                "@pytest.mark.clientsim takes keyword arguments only "
                f"({', '.join(_MARKER_KEYS)}); got positional {marker.args!r}"
            )
        unknown = sorted(set(marker.kwargs) - set(_MARKER_KEYS))
        if unknown:
            raise ConfigError(
                f"@pytest.mark.clientsim got unknown keyword(s) {unknown}; "
                f"allowed: {', '.join(_MARKER_KEYS)}"
            )
        runs = marker.kwargs.get("runs", 1)
        seed = marker.kwargs.get("seed", 0)
        threshold = marker.kwargs.get("threshold")
        _check_int("runs", runs, 1)
        _check_int("seed", seed, 0)
        if threshold is not None and (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not 0 <= threshold <= 1
        ):
            raise ConfigError(
                "@pytest.mark.clientsim threshold must be a number from 0 to 1; "
                f"got {threshold!r}"
            )
        return cls(
            runs=runs,
            seed=seed,
            threshold=None if threshold is None else float(threshold),
        )


def _check_int(name: str, value: object, low: int) -> None:
    from clientsim._validators import check_int  # noqa: PLC0415 - keeps the plugin light

    check_int(f"@pytest.mark.clientsim {name}", value, low=low)


class ClientsimCassette:
    """The ``clientsim_cassette`` fixture's value: where and how the test's cassette is.

    ``simulate`` opens it for each call. It records when ``--clientsim-record`` is
    given or the file does not exist yet, and replays strictly otherwise.

    Example:
        >>> ClientsimCassette(Path("cassettes/test_x.sqlite"), mode="replay")
        ClientsimCassette('cassettes/test_x.sqlite', mode='replay')

    Args:
        path: the cassette file.
        mode: ``"record"`` or ``"replay"``.
    """

    def __init__(self, path: Path, *, mode: str) -> None:
        self.path = path
        self.mode = mode

    def __repr__(self) -> str:
        return f"ClientsimCassette({str(self.path)!r}, mode={self.mode!r})"

    @property
    def recording(self) -> bool:
        """Whether this run records (else it replays)."""
        return self.mode == "record"

    def open(self) -> Cassette:
        """A new (not yet opened) strict :class:`~clientsim.experiments.cassette.Cassette`."""
        from clientsim.experiments.cassette import Cassette  # noqa: PLC0415

        return Cassette(self.path, mode="record" if self.recording else "replay")


def _settings(request: pytest.FixtureRequest) -> ClientsimSettings:
    return ClientsimSettings.from_marker(request.node.get_closest_marker(MARKER))


@pytest.fixture(name="clientsim_offline_model")
def _clientsim_offline_model(request: pytest.FixtureRequest) -> OfflineChatModel:
    """An offline chat model (no network), seeded from the ``clientsim`` marker's seed."""
    from clientsim.llm.offline import OfflineChatModel  # noqa: PLC0415

    return OfflineChatModel(seed=_settings(request).seed)


@pytest.fixture(name="clientsim_cassette")
def _clientsim_cassette(request: pytest.FixtureRequest) -> ClientsimCassette:
    """The test's cassette, ``<test dir>/cassettes/<test name>.sqlite``."""
    name = _UNSAFE.sub("_", request.node.name).strip("_") or "test"
    path = Path(request.node.path).parent / "cassettes" / f"{name}.sqlite"
    record = bool(request.config.getoption(RECORD_OPTION)) or not path.exists()
    if record and path.exists():
        path.unlink()  # re-record from scratch
    return ClientsimCassette(path, mode="record" if record else "replay")


@pytest.fixture(name="simulate")
def _simulate(request: pytest.FixtureRequest) -> Simulate:
    """``await simulate(agent, personas=..., intents=..., ...)``; see :class:`Simulate`."""
    cassette = (
        request.getfixturevalue("clientsim_cassette")
        if "clientsim_cassette" in request.fixturenames
        else None
    )
    return Simulate(settings=_settings(request), cassette=cassette)


class Simulate:
    """The ``simulate`` fixture: runs simulated customers against an agent.

    One conversation per persona x intent x run, each seeded with
    :func:`clientsim.runners.batch.derive_seed` from the run seed and its cell,
    through :class:`~clientsim.runners.batch.BatchRunner` (so the test's cassette,
    when the ``clientsim_cassette`` fixture is in use, records or replays every model
    call and agent reply). The conversations of a test are the same on every run;
    within one test, each call of ``simulate`` draws new ones (its grid cells are
    numbered by call, which also keeps their cassette entries apart).

    Example:
        >>> results = await simulate(
        ...     my_agent, personas=["terse"], intents=["refund"], runs=3
        ... )  # doctest: +SKIP

    Args:
        settings: the marker's settings.
        cassette: the test's cassette, or ``None``.
    """

    def __init__(
        self, *, settings: ClientsimSettings, cassette: ClientsimCassette | None
    ) -> None:
        self.settings = settings
        self.cassette = cassette
        self._calls = 0

    async def __call__(
        self,
        agent: object,
        *,
        personas: Sequence[str] = ("a typical customer",),
        intents: Sequence[str],
        runs: int | None = None,
        seed: int | None = None,
        outcomes: Mapping[str, object] | None = None,
        max_messages: int = 6,
        customer_model: str | BaseChatModel = "offline",
    ) -> SimulationRuns:
        """Run the conversations and return their results.

        Args:
            agent: the agent under test: a
                :class:`~clientsim.participants.Participant` (Full runner, fully
                simulated; the conversation opens with the intent's text; each
                conversation gets its own copy: an ``LLMParticipant`` is rebuilt on
                the conversation's seeded, recorded model, keeping its role,
                persona, intent, system prompt and double-texting, but not a custom
                typing model; any other participant is deep-copied), a
                :class:`~clientsim.channels.Channel` (Hybrid runner; the customer
                writes the opening message), or a callable / ``"module:function"``
                string (wrapped in a :class:`~clientsim.channels.TargetChannel`).
            personas: the customers' personas.
            intents: what the customers want.
            runs: repetitions of each persona and intent (default: the marker's, 1).
            seed: the run seed (default: the marker's, 0).
            outcomes: outcome name to the patterns that reach it (see
                :class:`~clientsim.evaluation.rules.RuleBasedOutcomeEvaluator`);
                ``None`` reaches no outcome.
            max_messages: the longest a conversation may get.
            customer_model: the customers' chat model (a spec or a model).

        Returns:
            The conversations, each with its persona, intent and seed.

        Raises:
            ConfigError: a bad argument.
            CassetteMissError: a strict replay needed a call the cassette lacks.
        """
        from clientsim.errors import CassetteMissError, ConfigError  # noqa: PLC0415
        from clientsim.models import GridCell  # noqa: PLC0415
        from clientsim.runners.batch import BatchCell, BatchRunner  # noqa: PLC0415

        persona_list = _texts("personas", personas, ConfigError)
        intent_list = _texts("intents", intents, ConfigError)
        repeat = self.settings.runs if runs is None else runs
        run_seed = self.settings.seed if seed is None else seed
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            raise ConfigError(f"runs must be an int >= 1; got {repeat!r}")
        self._calls += 1
        prefix = f"s{self._calls}"
        cells: list[BatchCell] = []
        where: dict[str, tuple[str, str, int]] = {}
        for i, intent in enumerate(intent_list):
            for p, persona in enumerate(persona_list):
                for iteration in range(repeat):
                    cell = GridCell(
                        input_id=f"{prefix}.i{i}",
                        persona_id=f"p{p}",
                        iteration=iteration,
                    )
                    cells.append(
                        BatchCell(cell=cell, input=intent, persona=persona, item=intent)
                    )
                    where[cell.key] = (persona, intent, iteration)
        build = _builder(agent, outcomes, max_messages, customer_model)
        cassette = self.cassette.open() if self.cassette is not None else None
        try:
            batch = await BatchRunner(
                build,
                cells,
                run_id=f"pytest-{prefix}",
                seed=run_seed,
                max_retries=0,
                cassette=cassette,
            ).run()
        finally:
            if cassette is not None:
                await cassette.aclose()
        records = {record.key: record for record in batch.records}
        for record in records.values():
            error = record.error
            if error is not None and error.type.endswith("CassetteMissError"):
                file = "" if self.cassette is None else f" {str(self.cassette.path)!r}"
                raise CassetteMissError(
                    f"conversation {record.key!r} (seed {record.seed}) needed a call "
                    f"the cassette{file} does not hold: {error.message}; re-record "
                    f"with {RECORD_OPTION}"
                )
        return _collect(records, where, run_seed, self.settings.threshold)


def _texts(name: str, value: object, error: type[Exception]) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise error(f"{name} must be a list of strings; got {value!r}")
    texts = list(value)
    if not texts or not all(isinstance(text, str) and text for text in texts):
        raise error(
            f"{name} must be a non-empty list of non-empty strings; got {value!r}"
        )
    return texts


def _collect(
    records: Mapping[str, object],
    where: Mapping[str, tuple[str, str, int]],
    run_seed: int,
    threshold: float | None,
) -> SimulationRuns:
    from clientsim.assertions import SimulatedRun, SimulationRuns  # noqa: PLC0415
    from clientsim.models import (  # noqa: PLC0415
        Conversation,
        ConversationRecord,
        ConversationResult,
    )

    runs: list[SimulatedRun] = []
    for key in where:
        record = records.get(key)
        if not isinstance(record, ConversationRecord):  # pragma: no cover - defensive
            continue
        result = record.result or ConversationResult(
            Conversation(()), error=record.error
        )
        persona, intent, iteration = where[key]
        runs.append(
            SimulatedRun(
                persona=persona,
                intent=intent,
                iteration=iteration,
                seed=record.seed,
                result=result,
            )
        )
    return SimulationRuns(runs=runs, seed=run_seed, threshold=threshold)


def _fresh_agent(agent: Participant, job: ConversationJob) -> Participant:
    """A new agent for one conversation (participants keep per-conversation state).

    An :class:`~clientsim.participants.LLMParticipant` is rebuilt on the
    conversation's model wrapper (seeded, and recorded or replayed by the cassette);
    any other participant is deep-copied.
    """
    from clientsim.participants import LLMParticipant  # noqa: PLC0415

    if isinstance(agent, LLMParticipant):
        return LLMParticipant(
            agent.role,
            job.models.model(agent.model, "agent"),
            persona=agent.persona,
            intent=agent.intent,
            system_prompt=agent.system_prompt,
            seed=job.seed,
            double_texting=agent.double_texting,
        )
    return copy.deepcopy(agent)


def _builder(
    agent: object,
    outcomes: Mapping[str, object] | None,
    max_messages: int,
    customer_model: str | BaseChatModel,
) -> Callable[[ConversationJob], Runner]:
    from clientsim.channels.base import Channel  # noqa: PLC0415
    from clientsim.channels.target import TargetChannel  # noqa: PLC0415
    from clientsim.errors import ConfigError  # noqa: PLC0415
    from clientsim.evaluation.rules import RuleBasedOutcomeEvaluator  # noqa: PLC0415
    from clientsim.models import (  # noqa: PLC0415
        Intent,
        MessageDraft,
        Outcome,
        Outcomes,
        ParticipantRole,
    )
    from clientsim.participants import LLMParticipant, Participant  # noqa: PLC0415
    from clientsim.runners import (  # noqa: PLC0415
        FullSimulationRunner,
        HybridSimulationRunner,
    )

    if outcomes is not None and not isinstance(outcomes, Mapping):
        raise ConfigError(
            "outcomes must be a mapping of outcome name to patterns, e.g. "
            f"{{'resolved': ['fixed', 'solved']}}; got {outcomes!r}"
        )
    rules = dict(outcomes or {})
    evaluator = RuleBasedOutcomeEvaluator(rules) if rules else None  # type: ignore[arg-type]
    legal = Outcomes(
        tuple(Outcome(name, name.replace("_", " ")) for name in rules)
        or (Outcome("completed", "The conversation ran to its end"),)
    )
    channel: Channel | None = None
    if isinstance(agent, Participant):
        participant: Participant | None = agent
    elif isinstance(agent, Channel):
        participant, channel = None, agent
    elif isinstance(agent, str) or callable(agent):
        participant, channel = None, TargetChannel(agent)
    else:
        raise ConfigError(
            "agent must be a Participant, a Channel, a callable or a "
            f"'module:function' string; got {type(agent).__name__}"
        )
    customer_role = ParticipantRole.CUSTOMER

    def build(job: ConversationJob) -> Runner:
        intent = Intent(customer_role, str(job.item))
        customer = LLMParticipant(
            customer_role,
            job.models.model(customer_model, "customer"),
            persona=str(job.persona),
            intent=intent,
            seed=job.seed,
        )
        conversation_id = f"{job.run_id}/{job.cell.key}"
        if participant is not None:
            return FullSimulationRunner(
                customer,
                _fresh_agent(participant, job),
                MessageDraft(str(job.item), customer_role),
                intent,
                legal,
                max_messages=max_messages,
                outcome_evaluator=evaluator,
                conversation_id=conversation_id,
            )
        assert channel is not None  # noqa: S101 - set above when participant is None
        return HybridSimulationRunner(
            customer=customer,
            channel=job.models.channel(channel),
            intent=intent,
            outcomes=legal,
            max_messages=max_messages,
            outcome_evaluator=evaluator,
            conversation_id=conversation_id,
        )

    return build
