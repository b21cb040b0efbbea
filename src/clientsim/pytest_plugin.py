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

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest


if TYPE_CHECKING:
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
    from clientsim.models import Timeouts


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
_MARKER_KEYS: Final = ("runs", "seed", "threshold", "timeouts")
_ASSERTIONS: Final = frozenset(
    {
        "SimulatedRun",
        "SimulationRuns",
        "assert_criteria",
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
        "clientsim(runs=1, seed=0, threshold=None, timeouts=None): runs per persona "
        "and intent, the run seed, the default threshold of clientsim's assertion "
        "helpers, and the simulate fixture's clientsim.Timeouts (or a mapping of "
        "model_call, turn and conversation seconds)",
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
        """
        from clientsim.errors import CassetteMissError  # noqa: PLC0415
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
                **{"timeouts": self.settings.timeouts, **options},
            )
        except CassetteMissError as exc:
            raise CassetteMissError(f"{exc}; re-record with {RECORD_OPTION}") from None
