"""Two stored runs of one experiment, compared cell by cell: :func:`compare_runs`.

Run the same experiment before and after a change to the agent (same grid, same seed)
and each cell (input x persona x iteration) is a pair: the same customer, the same
opening, the same seed, only the agent differs. :func:`compare_runs` pairs the two
runs' conversations by cell key, lists the cells that flipped (pass -> fail first),
tests the flips with McNemar's test, gives the change in pass rate with its interval,
the paired bootstrap of every numeric score both runs carry, and says whether the
change is a significant regression (what ``clientsim compare`` exits 1 on).

**What counts as a pass** is what ``summary.json``'s pass rate counts
(:func:`~clientsim.analysis.summary.is_passed`): the conversation ran to its end
(status ``done``) and, when pass outcomes are known, reached one of them; without
them, it ended without an error. The pass outcomes are, first found: the
``pass_outcomes`` argument, the ones run A's stored configuration declares
(``pass_outcomes`` of the experiment file, kept in the run's metadata), run B's.

**Scores**: ``criteria_score``, the share of written criteria a criteria judge found
met, and every number an engine kept at the top of a result's ``data``; a score is
compared over the cells where both runs have it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from clientsim.analysis.paired import PairedComparison, paired_bootstrap, paired_rates
from clientsim.analysis.results import Estimate
from clientsim.analysis.summary import is_passed
from clientsim.errors import ConfigError, StatisticsError
from clientsim.models.records import ConversationRecord, GridCell


if TYPE_CHECKING:
    from clientsim.store.base import SimulationStore

__all__ = [
    "CRITERIA_SCORE",
    "CellPair",
    "RunComparison",
    "compare_records",
    "compare_runs",
    "pass_outcomes_in",
]

CRITERIA_SCORE: Final = "criteria_score"
"""The score name of the share of written criteria met."""

Flip = Literal["pass->fail", "fail->pass"]


@attrs.frozen(kw_only=True)
class CellPair:
    """One cell's conversation in each run.

    Attributes:
        key: the cell key (``input/persona/iteration``).
        a: the conversation in run A.
        b: the conversation in run B.
        passed_a: whether it passed in A.
        passed_b: whether it passed in B.
    """

    key: str
    a: ConversationRecord
    b: ConversationRecord
    passed_a: bool
    passed_b: bool

    @property
    def cell(self) -> GridCell:
        """The cell both conversations ran."""
        return self.a.cell

    @property
    def flip(self) -> Flip | None:
        """``"pass->fail"``, ``"fail->pass"``, or ``None`` when the verdict held."""
        if self.passed_a == self.passed_b:
            return None
        return "pass->fail" if self.passed_a else "fail->pass"


@attrs.frozen(kw_only=True)
class RunComparison:
    """Run B against run A over their shared cells.

    Attributes:
        run_a: the first run's id (before).
        run_b: the second run's id (after).
        pairs: every shared cell, in cell-key order.
        rates: the pass/fail comparison (counts, rates, the change with its interval,
            McNemar's test); see :class:`~clientsim.analysis.paired.PairedComparison`.
        scores: each numeric score both runs have on at least two shared cells: the
            paired bootstrap of its change (B minus A).
        pass_outcomes: the outcomes that counted as a pass (empty: no error).
        unpaired_a: cell keys only run A has.
        unpaired_b: cell keys only run B has.
        notes: what the reader should know (different grids, experiments or pass
            definitions, scores left out).
    """

    run_a: str
    run_b: str
    pairs: tuple[CellPair, ...]
    rates: PairedComparison
    scores: Mapping[str, Estimate]
    pass_outcomes: tuple[str, ...]
    unpaired_a: tuple[str, ...] = ()
    unpaired_b: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def flipped(self) -> tuple[CellPair, ...]:
        """The cells whose verdict changed: pass -> fail first, then fail -> pass."""
        return tuple(p for p in self.pairs if p.flip == "pass->fail") + tuple(
            p for p in self.pairs if p.flip == "fail->pass"
        )

    @property
    def regression(self) -> bool:
        """Whether B passes significantly less often than A (McNemar, ``alpha``)."""
        return self.rates.regression

    @property
    def exit_code(self) -> int:
        """What ``clientsim compare`` exits with: 1 on a significant regression."""
        return 1 if self.regression else 0

    @property
    def pass_definition(self) -> str:
        """What counted as a pass, in words."""
        if self.pass_outcomes:
            names = ", ".join(repr(name) for name in self.pass_outcomes)
            return f"status 'done' and outcome in [{names}]"
        return "status 'done' and no error"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (what ``clientsim compare --json`` prints)."""
        rates = self.rates

        def estimate(value: Estimate) -> dict[str, Any]:
            return attrs.asdict(value)

        return {
            "run_a": self.run_a,
            "run_b": self.run_b,
            "pass_definition": self.pass_definition,
            "pairs": rates.n,
            "both": rates.both,
            "neither": rates.neither,
            "pass_to_fail": rates.a_only,
            "fail_to_pass": rates.b_only,
            "rate_a": estimate(rates.rate_a),
            "rate_b": estimate(rates.rate_b),
            "change": estimate(rates.change),
            "test": attrs.asdict(rates.test),
            "alpha": rates.alpha,
            "regression": self.regression,
            "scores": {name: estimate(value) for name, value in self.scores.items()},
            "flipped": [{"cell": pair.key, "flip": pair.flip} for pair in self.flipped],
            "unpaired_a": list(self.unpaired_a),
            "unpaired_b": list(self.unpaired_b),
            "notes": list(self.notes),
        }


def pass_outcomes_in(metadata: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The pass outcomes a run's stored metadata declares, or ``None``."""
    config = metadata.get("config")
    for source in (
        config.get("pass_outcomes") if isinstance(config, Mapping) else None,
        metadata.get("pass_outcomes"),
    ):
        if isinstance(source, list | tuple) and all(isinstance(x, str) for x in source):
            return tuple(source)
    return None


def _scores(record: ConversationRecord) -> dict[str, float]:
    result = record.result
    if result is None:
        return {}
    found: dict[str, float] = {}
    for name, value in result.data.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            found[str(name)] = float(value)
    if result.criteria is not None and result.criteria.verdicts:
        verdicts = result.criteria.verdicts
        found[CRITERIA_SCORE] = sum(v.passed for v in verdicts) / len(verdicts)
    return found


def _pass_outcomes(
    run_a: str,
    meta_a: Mapping[str, Any],
    run_b: str,
    meta_b: Mapping[str, Any],
    given: Collection[str] | None,
) -> tuple[list[str], tuple[str, ...]]:
    """The notes so far, and the pass outcomes: ``given``, else A's, else B's."""
    notes: list[str] = []
    name_a, name_b = meta_a.get("name"), meta_b.get("name")
    if name_a != name_b:
        notes.append(
            f"the runs come from different experiments ({name_a!r} and {name_b!r})"
        )
    if given is not None:
        if isinstance(given, str):
            raise ConfigError(
                f"pass_outcomes must be a collection of outcome names; got {given!r}"
            )
        return notes, tuple(given)
    declared_a, declared_b = pass_outcomes_in(meta_a), pass_outcomes_in(meta_b)
    if declared_a is not None and declared_b is not None and declared_a != declared_b:
        notes.append(
            f"the runs declare different pass outcomes ({list(declared_a)} for "
            f"{run_a}, "
            f"{list(declared_b)} for {run_b}); {run_a}'s are used"
        )
    chosen = declared_a if declared_a is not None else declared_b
    return notes, chosen or ()


def _by_key(run_id: str, records: Sequence[ConversationRecord]) -> dict[str, Any]:
    keyed: dict[str, ConversationRecord] = {}
    for record in records:
        keyed[record.key] = record  # a later attempt replaces an earlier one
    if not keyed:
        raise StatisticsError(
            f"run {run_id!r} has no stored conversations; nothing to compare"
        )
    return keyed


def compare_records(
    records_a: Sequence[ConversationRecord],
    records_b: Sequence[ConversationRecord],
    *,
    run_a: str = "A",
    run_b: str = "B",
    metadata_a: Mapping[str, Any] | None = None,
    metadata_b: Mapping[str, Any] | None = None,
    pass_outcomes: Collection[str] | None = None,
    alpha: float = 0.05,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> RunComparison:
    """Compare two runs' conversations (already loaded) by cell key.

    :func:`compare_runs` reads them from a store; this does the rest, and also
    serves conversations read from experiment folders (``traces.jsonl``). The
    metadata (as stored for each run) supplies the pass outcomes when
    ``pass_outcomes`` is ``None``, and the experiment names a note compares.

    Raises:
        StatisticsError: a run has no conversations, or the runs share no cell.
    """
    found_notes, outcomes = _pass_outcomes(
        run_a, metadata_a or {}, run_b, metadata_b or {}, pass_outcomes
    )
    keyed_a, keyed_b = _by_key(run_a, records_a), _by_key(run_b, records_b)
    shared = sorted(keyed_a.keys() & keyed_b.keys())
    only_a = tuple(sorted(keyed_a.keys() - keyed_b.keys()))
    only_b = tuple(sorted(keyed_b.keys() - keyed_a.keys()))
    if not shared:
        raise StatisticsError(
            f"runs {run_a!r} and {run_b!r} share no cell (input/persona/iteration), "
            f"so nothing pairs up; {run_a} has e.g. {only_a[0]!r}, {run_b} has "
            f"{only_b[0]!r}: compare two runs of the same experiment"
        )
    pairs = tuple(
        CellPair(
            key=key,
            a=keyed_a[key],
            b=keyed_b[key],
            passed_a=is_passed(keyed_a[key], outcomes),
            passed_b=is_passed(keyed_b[key], outcomes),
        )
        for key in shared
    )
    if only_a or only_b:
        found_notes.append(
            f"the runs' grids differ: {len(shared)} cells pair up; "
            f"{len(only_a)} only in {run_a}, {len(only_b)} only in {run_b} (left out)"
        )
    rates = paired_rates(
        [pair.passed_a for pair in pairs],
        [pair.passed_b for pair in pairs],
        alpha=alpha,
        confidence=confidence,
    )
    scores: dict[str, Estimate] = {}
    per_pair = [(_scores(pair.a), _scores(pair.b)) for pair in pairs]
    names = sorted({name for a, b in per_pair for name in a.keys() & b.keys()})
    for name in names:
        values = [(a[name], b[name]) for a, b in per_pair if name in a and name in b]
        if len(values) < 2:
            found_notes.append(f"score {name!r}: fewer than 2 pairs, left out")
            continue
        scores[name] = paired_bootstrap(
            [a for a, _ in values],
            [b for _, b in values],
            n_resamples=n_resamples,
            confidence=confidence,
            seed=seed,
        )
    return RunComparison(
        run_a=run_a,
        run_b=run_b,
        pairs=pairs,
        rates=rates,
        scores=scores,
        pass_outcomes=outcomes,
        unpaired_a=only_a,
        unpaired_b=only_b,
        notes=tuple(found_notes),
    )


async def _metadata(store: SimulationStore, run_id: str) -> Mapping[str, Any]:
    if not isinstance(run_id, str) or not run_id:
        raise ConfigError(f"a run id must be a non-empty string; got {run_id!r}")
    info = await store.get_simulation(run_id)
    if info is None:
        known = [run.simulation_id for run in await store.runs()]
        shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
        raise ConfigError(
            f"no run {run_id!r} in the store; runs there: {shown or '(none)'}"
        )
    return info.metadata


async def compare_runs(
    store: SimulationStore,
    run_a: str,
    run_b: str,
    *,
    alpha: float = 0.05,
    pass_outcomes: Collection[str] | None = None,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> RunComparison:
    """Compare run B with run A (two runs of one experiment in ``store``) by cell.

    Args:
        store: the run store holding both runs.
        run_a: the earlier run (before the change).
        run_b: the later run (after it).
        alpha: the significance level of ``regression``.
        pass_outcomes: the outcomes that count as a pass; default: those the runs'
            stored configuration declares (A's, else B's), else "no error".
        confidence: the level of every interval.
        n_resamples: bootstrap resamples for the scores.
        seed: the bootstrap's seed.

    Returns:
        The comparison; ``.regression`` is what ``clientsim compare`` exits 1 on.

    Raises:
        ConfigError: a run id the store does not have (the message lists the runs
            it has).
        StatisticsError: a run has no conversations, or the runs share no cell.

    Example:
        >>> import anyio
        >>> from clientsim.models import GridCell, RunStatus
        >>> from clientsim.store import InMemoryStore
        >>> async def main() -> RunComparison:
        ...     async with InMemoryStore() as store:
        ...         for run, failing in (("before", 0), ("after", 6)):
        ...             await store.register_if_absent(run, {"name": "demo"})
        ...             for i in range(10):
        ...                 cell = GridCell(input_id="0", persona_id=f"p{i}", iteration=0)
        ...                 status = RunStatus.FAILED if i < failing else RunStatus.DONE
        ...                 await store.save_conversation(ConversationRecord(
        ...                     run_id=run, cell=cell, seed=i, status=status))
        ...         return await compare_runs(store, "before", "after")
        >>> comparison = anyio.run(main)
        >>> len(comparison.flipped), comparison.rates.change.value, comparison.regression
        (6, -0.6, True)
    """
    meta_a = await _metadata(store, run_a)
    meta_b = await _metadata(store, run_b)
    return compare_records(
        await store.conversations(run_a),
        await store.conversations(run_b),
        run_a=run_a,
        run_b=run_b,
        metadata_a=meta_a,
        metadata_b=meta_b,
        pass_outcomes=pass_outcomes,
        alpha=alpha,
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
    )
