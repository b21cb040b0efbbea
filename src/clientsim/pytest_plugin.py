"""clientsim's pytest plugin (registered through the ``pytest11`` entry point).

It gives tests of agents:

- the fixtures ``clientsim_offline_model`` (an offline chat model, seeded from the
  marker), ``simulate`` (runs simulated customers against the agent under test),
  ``start_team`` (starts a team session, seeded from the marker) and
  ``clientsim_cassette`` (records a test's model and agent calls on its first run;
  afterwards replays the simulated side and calls the agent live, so a changed
  agent fails the test; ``--clientsim-record`` re-records);
- the marker ``@pytest.mark.clientsim(runs=..., seed=..., threshold=...)``
  (and ``replay=...``, ``on_miss=...`` for the cassette, ``executor=...`` for where
  the ``simulate`` and ``run_study`` fixtures run their conversations, which
  ``--clientsim-executor ray`` sets for a whole suite);
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

import inspect
import re
from collections.abc import Coroutine, Generator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from clientsim._fixtures import RunStudy, StartTeam, check_executor_option


if TYPE_CHECKING:
    from clientsim.assertions import (
        SimulatedRun,
        SimulationRuns,
        assert_no_outcome,
        assert_outcome_rate,
        assert_pass_hat_k,
        assert_tool_called,
        assert_tool_not_called,
        assert_trajectory,
        describe_run,
        outcome_rate,
        pass_hat_k,
    )
    from clientsim.experiments.cassette import Cassette
    from clientsim.llm.offline import OfflineChatModel
    from clientsim.models import Timeouts
    from clientsim.registry import StrategyConfig


__all__ = [
    "ClientsimCassette",
    "ClientsimSettings",
    "RunStudy",
    "Simulate",
    "SimulatedRun",
    "SimulationRuns",
    "StartTeam",
    "assert_no_outcome",
    "assert_outcome_rate",
    "assert_pass_hat_k",
    "assert_tool_called",
    "assert_tool_not_called",
    "assert_trajectory",
    "describe_run",
    "outcome_rate",
    "pass_hat_k",
]

MARKER: Final = "clientsim"
RECORD_OPTION: Final = "--clientsim-record"
REPLAY_OPTION: Final = "--clientsim-replay"
ON_MISS_OPTION: Final = "--clientsim-on-miss"
EXECUTOR_OPTION: Final = "--clientsim-executor"
_MARKER_KEYS: Final = (
    *("runs", "seed", "threshold", "timeouts"),
    *("replay", "on_miss", "executor"),
)
_ASSERTIONS: Final = frozenset(
    {
        "SimulatedRun",
        "SimulationRuns",
        "assert_criteria",
        "assert_no_outcome",
        "assert_outcome_rate",
        "assert_pass_hat_k",
        "assert_tool_called",
        "assert_tool_not_called",
        "assert_trajectory",
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
    """Add ``--clientsim-record``, ``--clientsim-replay``, ``--clientsim-on-miss`` and
    ``--clientsim-executor``."""
    group = parser.getgroup("clientsim")
    group.addoption(
        RECORD_OPTION,
        action="store_true",
        default=False,
        help="re-record the cassettes of tests that use the clientsim_cassette fixture",
    )
    group.addoption(
        REPLAY_OPTION,
        choices=("simulator", "all"),
        default=None,
        help="what a cassette replays, for tests whose clientsim marker does not say: "
        "'simulator' (default: the simulated side; the agent is called live) or "
        "'all' (the agent's replies too)",
    )
    group.addoption(
        ON_MISS_OPTION,
        choices=("fail", "live"),
        default=None,
        help="what a replay does when the agent answers otherwise than recorded, for "
        "tests whose clientsim marker does not say: 'fail' (default) or 'live' (call "
        "the simulated side live from there and re-record the cassette)",
    )
    group.addoption(
        EXECUTOR_OPTION,
        metavar="NAME",
        default=None,
        help="where the simulate and run_study fixtures run conversations, for tests "
        "whose clientsim marker does not say: 'local' (default), 'ray' (RAY_ADDRESS "
        "or a local cluster) or a plugin's executor",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``clientsim`` marker (so ``--strict-markers`` accepts it) and
    check ``--clientsim-executor`` (an unknown name stops pytest, naming the known)."""
    check_executor_option(EXECUTOR_OPTION, config.getoption(EXECUTOR_OPTION, None))
    config.addinivalue_line(
        "markers",
        "clientsim(runs=1, seed=0, threshold=None, timeouts=None, replay='simulator', "
        "on_miss='fail'): runs per persona and intent, the run seed, the default "
        "threshold of clientsim's assertion helpers, the simulate fixture's "
        "clientsim.Timeouts (or a mapping of model_call, turn and conversation "
        "seconds), what the clientsim_cassette fixture replays and does when the "
        "agent answers otherwise than recorded, and the executor the simulate and "
        "run_study fixtures run on ('local', 'ray', {'strategy': 'ray', ...})",
    )


class ClientsimSettings:
    """What the ``clientsim`` marker set for a test.

    Example:
        >>> ClientsimSettings.from_marker(None)
        ClientsimSettings(runs=1, seed=0, threshold=None, timeouts=None)

    Args:
        runs: repetitions of each persona and intent.
        seed: the run seed.
        threshold: the default threshold of the assertion helpers.
        timeouts: the ``simulate`` fixture's :class:`~clientsim.models.Timeouts`
            (``None``: the defaults).
    """

    def __init__(
        self,
        *,
        runs: int = 1,
        seed: int = 0,
        threshold: float | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.runs = runs
        self.seed = seed
        self.threshold = threshold
        self.timeouts = timeouts

    def __repr__(self) -> str:
        return (
            f"ClientsimSettings(runs={self.runs}, seed={self.seed}, "
            f"threshold={self.threshold}, timeouts={self.timeouts!r})"
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
            timeouts=_timeouts(marker.kwargs.get("timeouts")),
        )


def _timeouts(value: object) -> Timeouts | None:
    """The marker's ``timeouts``: a Timeouts, a mapping of its fields, or ``None``."""
    from clientsim.errors import ConfigError  # noqa: PLC0415 - keeps the plugin light
    from clientsim.models import Timeouts  # noqa: PLC0415

    if value is None or isinstance(value, Timeouts):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(
            "@pytest.mark.clientsim timeouts must be a clientsim.Timeouts or a mapping "
            f"of model_call, turn and conversation seconds; got {value!r}"
        )
    fields = ("model_call", "turn", "conversation")
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ConfigError(
            f"@pytest.mark.clientsim timeouts got unknown key(s) {unknown}; "
            f"allowed: {', '.join(fields)}"
        )
    return Timeouts(**value)


def _check_int(name: str, value: object, low: int) -> None:
    from clientsim._validators import check_int  # noqa: PLC0415 - keeps the plugin light

    check_int(f"@pytest.mark.clientsim {name}", value, low=low)


class ClientsimCassette:
    """The ``clientsim_cassette`` fixture's value: where and how the test's cassette is.

    ``simulate`` opens it for each call. It records when ``--clientsim-record`` is
    given or the file does not exist yet, and replays otherwise: by default the
    simulated side (``replay="simulator"``: the customer's, the judges' and the
    supervisor's model calls) while the agent is called live, failing the test where
    the agent answers otherwise than recorded (``on_miss="fail"``).

    Example:
        >>> cassette = ClientsimCassette(Path("cassettes/test_x.sqlite"), mode="replay")
        >>> cassette.replay, cassette.on_miss
        ('simulator', 'fail')

    Args:
        path: the cassette file.
        mode: ``"record"`` or ``"replay"``.
        replay: ``"simulator"`` or ``"all"``; see
            :class:`~clientsim.experiments.cassette.Cassette`.
        on_miss: ``"fail"`` or ``"live"``; see
            :class:`~clientsim.experiments.cassette.Cassette`.
    """

    def __init__(
        self,
        path: Path,
        *,
        mode: str,
        replay: str = "simulator",
        on_miss: str = "fail",
    ) -> None:
        self.path = path
        self.mode = mode
        self.replay = replay
        self.on_miss = on_miss

    def __repr__(self) -> str:
        return (
            f"ClientsimCassette({str(self.path)!r}, mode={self.mode!r}, "
            f"replay={self.replay!r}, on_miss={self.on_miss!r})"
        )

    @property
    def recording(self) -> bool:
        """Whether this run records (else it replays)."""
        return self.mode == "record"

    def open(self) -> Cassette:
        """A new (not yet opened) :class:`~clientsim.experiments.cassette.Cassette`.

        Raises:
            ConfigError: a bad mode, replay or on_miss.
        """
        from clientsim.experiments.cassette import Cassette  # noqa: PLC0415

        return Cassette(
            self.path,
            mode="record" if self.recording else "replay",
            replay=self.replay,  # type: ignore[arg-type]  # checked by Cassette
            on_miss=self.on_miss,  # type: ignore[arg-type]
        )


_CASSETTE_CHOICES: Final = {"replay": ("simulator", "all"), "on_miss": ("fail", "live")}


def _cassette_choice(request: pytest.FixtureRequest, key: str, option: str) -> str:
    """The marker's ``key``, else the command line's ``option``, else the default.

    Raises:
        ConfigError: the marker gives a value that is not allowed.
    """
    allowed = _CASSETTE_CHOICES[key]
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None and key in marker.kwargs:
        value = marker.kwargs[key]
        if value not in allowed:
            from clientsim.errors import ConfigError  # noqa: PLC0415

            raise ConfigError(
                f"@pytest.mark.clientsim {key} must be one of "
                f"{', '.join(map(repr, allowed))}; got {value!r}"
            )
        return str(value)
    chosen = request.config.getoption(option)
    return allowed[0] if chosen is None else str(chosen)


def _executor(request: pytest.FixtureRequest) -> StrategyConfig | None:
    """The marker's ``executor``, else ``--clientsim-executor``, else ``None`` (local)."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None and "executor" in marker.kwargs:
        chosen: StrategyConfig | None = marker.kwargs["executor"]
        return chosen
    return request.config.getoption(EXECUTOR_OPTION)  # type: ignore[no-any-return]


def _settings(request: pytest.FixtureRequest) -> ClientsimSettings:
    return ClientsimSettings.from_marker(request.node.get_closest_marker(MARKER))


@pytest.fixture(name="clientsim_offline_model")
def _clientsim_offline_model(request: pytest.FixtureRequest) -> OfflineChatModel:
    """An offline chat model (no network), seeded from the ``clientsim`` marker's seed."""
    from clientsim.llm.offline import OfflineChatModel  # noqa: PLC0415

    return OfflineChatModel(seed=_settings(request).seed)


@pytest.fixture(name="clientsim_cassette")
def _clientsim_cassette(request: pytest.FixtureRequest) -> ClientsimCassette:
    """The test's cassette, ``<test dir>/cassettes/<test name>.sqlite``.

    Its replay mode is the marker's ``replay`` and ``on_miss``, else
    ``--clientsim-replay`` and ``--clientsim-on-miss``, else ``"simulator"`` and
    ``"fail"``.
    """
    name = _UNSAFE.sub("_", request.node.name).strip("_") or "test"
    path = Path(request.node.path).parent / "cassettes" / f"{name}.sqlite"
    record = bool(request.config.getoption(RECORD_OPTION)) or not path.exists()
    if record and path.exists():
        path.unlink()  # re-record from scratch
    return ClientsimCassette(
        path,
        mode="record" if record else "replay",
        replay=_cassette_choice(request, "replay", REPLAY_OPTION),
        on_miss=_cassette_choice(request, "on_miss", ON_MISS_OPTION),
    )


@pytest.fixture(name="start_team")
def _start_team(request: pytest.FixtureRequest) -> StartTeam:
    """``await start_team(scenario, team=[...])``; see :class:`StartTeam`."""
    return StartTeam(seed=_settings(request).seed)


@pytest.fixture(name="run_study")
def _run_study(request: pytest.FixtureRequest) -> RunStudy:
    """``await run_study("study.yaml")``; see :class:`RunStudy`."""
    return RunStudy(seed=_settings(request).seed, executor=_executor(request))


@pytest.fixture(name="simulate")
def _simulate(request: pytest.FixtureRequest) -> Simulate:
    """``await simulate(agent, personas=..., intents=..., ...)``; see :class:`Simulate`."""
    cassette = (
        request.getfixturevalue("clientsim_cassette")
        if "clientsim_cassette" in request.fixturenames
        else None
    )
    return _TrackedSimulate(
        settings=_settings(request), cassette=cassette, executor=_executor(request)
    )


class Simulate:
    """The ``simulate`` fixture: :func:`clientsim.simulate` with the test's settings.

    The ``clientsim`` marker gives the defaults of ``runs`` and ``seed`` and the
    assertion helpers' threshold, and the test's cassette (when the
    ``clientsim_cassette`` fixture is in use) records or replays every model call
    and agent reply. The conversations of a test are the same on every run; within
    one test, each call draws new ones (its grid cells are numbered by call, which
    also keeps their cassette entries apart).

    Example:
        >>> results = await simulate(
        ...     my_agent, personas=["terse"], intents=["refund"], runs=3
        ... )  # doctest: +SKIP

    Args:
        settings: the marker's settings.
        cassette: the test's cassette, or ``None``.
        executor: where the conversations run (the marker's ``executor``, else
            ``--clientsim-executor``; ``None``: in this process), unless a call says.
    """

    def __init__(
        self,
        *,
        settings: ClientsimSettings,
        cassette: ClientsimCassette | None,
        executor: StrategyConfig | None = None,
    ) -> None:
        self.settings = settings
        self.cassette = cassette
        self.executor = executor
        self._calls = 0

    async def __call__(
        self,
        agent: object,
        *,
        intents: Sequence[str],
        runs: int | None = None,
        seed: int | None = None,
        **options: Any,
    ) -> SimulationRuns:
        """Run the conversations; the arguments are :func:`clientsim.simulate`'s.

        ``runs``, ``seed`` and ``timeouts`` default to the marker's (1, 0 and the
        default :class:`~clientsim.models.Timeouts`).

        Raises:
            ConfigError: a bad argument.
            CassetteMissError: a strict replay needed a call the cassette lacks.
            CassetteDivergenceError: the agent answered otherwise than recorded
                (the message names the turn, shows both replies and how to
                re-record).
        """
        __tracebackhide__ = True
        from clientsim.errors import (  # noqa: PLC0415
            CassetteDivergenceError,
            CassetteMissError,
        )
        from clientsim.runners.simulate import simulate  # noqa: PLC0415

        self._calls += 1
        try:
            return await simulate(
                agent,
                intents=intents,
                runs=self.settings.runs if runs is None else runs,
                seed=self.settings.seed if seed is None else seed,
                cassette=self.cassette.open() if self.cassette is not None else None,
                threshold=self.settings.threshold,
                run_id=f"pytest-s{self._calls}",
                **{
                    "timeouts": self.settings.timeouts,
                    "executor": self.executor,
                    **options,
                },
            )
        except CassetteDivergenceError as exc:
            raise CassetteDivergenceError(f"{exc}.\n{_HOW_TO_FIX}") from None
        except CassetteMissError as exc:
            raise CassetteMissError(f"{exc}; re-record with {RECORD_OPTION}") from None


_HOW_TO_FIX: Final = (
    f"If the agent's new replies are right, re-record the test's cassette: run pytest "
    f"with {RECORD_OPTION}, or with {ON_MISS_OPTION}=live to keep the recording up to "
    "the divergence and record the rest (or mark the test "
    "@pytest.mark.clientsim(on_miss='live'))."
)


class _TrackedSimulate(Simulate):
    """The fixture's :class:`Simulate`: it keeps the coroutines it hands out, so that
    a test that never awaited one fails with a hint (see
    :func:`pytest_runtest_call`) instead of passing with a "never awaited" warning."""

    def __init__(
        self,
        *,
        settings: ClientsimSettings,
        cassette: ClientsimCassette | None,
        executor: StrategyConfig | None = None,
    ) -> None:
        super().__init__(settings=settings, cassette=cassette, executor=executor)
        self._handed_out: list[Coroutine[Any, Any, SimulationRuns]] = []

    def __repr__(self) -> str:
        settings = self.settings
        return (
            f"<simulate fixture: runs={settings.runs} seed={settings.seed} "
            f"threshold={settings.threshold}>"
        )

    def __call__(
        self, agent: object, **options: Any
    ) -> Coroutine[Any, Any, SimulationRuns]:
        call = super().__call__(agent, **options)
        self._handed_out.append(call)
        return call

    def close_unawaited(self) -> int:
        """Close the calls never awaited (so Python does not warn); how many there were."""
        unawaited = [
            call
            for call in self._handed_out
            if inspect.getcoroutinestate(call) == inspect.CORO_CREATED
        ]
        for call in unawaited:
            call.close()
        self._handed_out.clear()
        return len(unawaited)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail a test that called the ``simulate`` fixture but never awaited the call."""
    funcargs: Mapping[str, object] = getattr(item, "funcargs", None) or {}
    simulate = funcargs.get("simulate")
    if not isinstance(simulate, _TrackedSimulate):
        return (yield)
    try:
        result = yield
    except BaseException:
        simulate.close_unawaited()  # the test failed already, with its own error
        raise
    unawaited = simulate.close_unawaited()
    if unawaited:
        is_async = inspect.iscoroutinefunction(getattr(item, "obj", None))
        fix = (
            "write `results = await simulate(...)`"
            if is_async
            else "make the test `async def` and write `results = await simulate(...)`"
        )
        pytest.fail(
            f"{item.name} called the simulate fixture {unawaited} time(s) without "
            f"awaiting it, so no conversation ran: did you forget `await`? {fix}",
            pytrace=False,
        )
    return result
