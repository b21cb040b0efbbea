"""The objects the ``start_team`` and ``run_study`` pytest fixtures give a test (see
:mod:`clientsim.pytest_plugin`): kept apart so the plugin stays small and loads
nothing heavy when pytest starts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from clientsim.models import RoleTemplate
    from clientsim.models.persona import Persona
    from clientsim.population.study import StudyConfig
    from clientsim.registry import StrategyConfig
    from clientsim.teams.scenario import TeamConfig, TeamScenario
    from clientsim.teams.session import TeamSession

__all__ = ["RunStudy", "StartTeam", "check_executor_option"]


def check_executor_option(option: str, chosen: str | None) -> None:
    """Check ``--clientsim-executor`` when pytest starts (``None``: not given).

    Raises:
        pytest.UsageError: an unknown executor (naming the known ones).
    """
    if chosen is None:
        return
    import pytest  # noqa: PLC0415

    from clientsim.errors import ConfigError  # noqa: PLC0415 - only when given
    from clientsim.factory import executors  # noqa: PLC0415

    try:
        executors.check(chosen)
    except ConfigError as exc:
        raise pytest.UsageError(f"{option} {chosen}: {exc}") from None


class StartTeam:
    """The ``start_team`` fixture: :func:`clientsim.teams.start` with the test's seed
    (the ``clientsim`` marker's) and, unless the test gives one, a store of its own in
    memory, so that a test never writes to ``DATABASE_URL``'s store.

    Example:
        >>> session = await start_team(
        ...     "tests/launch.yaml", team=["CEO", "Engineering Lead"]
        ... )  # doctest: +SKIP
        >>> await session.run(until=6)  # doctest: +SKIP

    Args:
        seed: the marker's seed, used unless the call gives one.
    """

    def __init__(self, *, seed: int) -> None:
        self.seed = seed

    async def __call__(
        self,
        scenario: TeamScenario | TeamConfig | str | Path | Mapping[str, Any],
        team: Sequence[str | RoleTemplate | Mapping[str, Any]] | None = None,
        *,
        seed: int | None = None,
        **options: Any,
    ) -> TeamSession:
        """Start the session; ``options`` are :func:`clientsim.teams.start`'s."""
        from clientsim.store import InMemoryStore  # noqa: PLC0415
        from clientsim.teams import start  # noqa: PLC0415

        options.setdefault("store", InMemoryStore())
        return await start(
            scenario, team, self.seed if seed is None else seed, **options
        )


class RunStudy:
    """The ``run_study`` fixture: runs a population study (a study file, a mapping or
    a :class:`~clientsim.population.study.StudyConfig`) to its end and returns its
    results, with the test's seed (the ``clientsim`` marker's) unless the call gives
    one, and a store of its own in memory unless the call gives one.

    Example:
        >>> results = await run_study("tests/survey.yaml")  # doctest: +SKIP
        >>> assert results.aggregate_results["response_rate"] > 0.8  # doctest: +SKIP

    Args:
        seed: the marker's seed, used unless the call gives one.
        executor: where the units run (the marker's ``executor``, else
            ``--clientsim-executor``), unless the call gives one; ``None``: the
            study's own ``executor``.
    """

    def __init__(self, *, seed: int, executor: StrategyConfig | None = None) -> None:
        self.seed = seed
        self.executor = executor

    async def __call__(
        self,
        study: StudyConfig | str | Path | Mapping[str, Any],
        *,
        seed: int | None = None,
        model: str | None = None,
        personas: Sequence[Persona] | None = None,
        **options: Any,
    ) -> Any:
        """Run the study; ``options`` are :func:`clientsim.population.begin`'s
        (``store``, ``run_id``, ``executor``)."""
        import attrs  # noqa: PLC0415

        from clientsim.population.control import begin  # noqa: PLC0415
        from clientsim.population.study import StudyConfig, load_study  # noqa: PLC0415
        from clientsim.store import InMemoryStore  # noqa: PLC0415

        config = study if isinstance(study, StudyConfig) else load_study(study)
        changes: dict[str, Any] = {"seed": self.seed if seed is None else seed}
        if model is not None:
            changes["model"] = model
        config = attrs.evolve(config, **changes)
        options.setdefault("store", InMemoryStore())
        if self.executor is not None:
            options.setdefault("executor", self.executor)
        session = await begin(config, personas=personas, **options)
        await session.run()
        return await session.end()
