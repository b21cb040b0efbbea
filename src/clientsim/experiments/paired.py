"""A paired experiment: every agent or prompt variant meets the same grid.

:func:`run_paired` runs one experiment once per variant: the same inputs, personas,
iterations and run seed, so each cell (input x persona x iteration) has the same
simulated customer, opening and seed under every variant, and only the agent (or
the simulated agent's prompt) differs. Each variant is then compared with the
baseline cell by cell (:func:`~clientsim.analysis.runs.compare_records`): McNemar's
test on the pass/fail flips, the change in pass rate with its interval, and the
paired bootstrap of every score both carry. An A/B test of two independent samples
needs far more conversations to see the same change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from clientsim.analysis.runs import RunComparison, compare_records
from clientsim.errors import ConfigError
from clientsim.experiments.config import ExperimentConfig
from clientsim.experiments.run import ExperimentResult, new_run_seed, run_experiment
from clientsim.experiments.schema import AgentConfig
from clientsim.models.survey import Variant


if TYPE_CHECKING:
    from clientsim.store.base import SimulationStore

__all__ = ["PairedExperimentResult", "apply_variant", "run_paired"]


@attrs.frozen(kw_only=True)
class PairedExperimentResult:
    """What :func:`run_paired` did.

    Attributes:
        baseline: the name of the variant the others are compared with.
        runs: each variant's run, by variant name (in the order given).
        comparisons: each other variant against the baseline, by variant name.
    """

    baseline: str
    runs: Mapping[str, ExperimentResult]
    comparisons: Mapping[str, RunComparison]

    @property
    def regressions(self) -> tuple[str, ...]:
        """The variants that pass significantly less often than the baseline."""
        return tuple(name for name, c in self.comparisons.items() if c.regression)

    def table(self) -> list[dict[str, Any]]:
        """One row per variant: pass rate, change against the baseline with its
        interval, McNemar's p-value, flips each way and whether it regressed."""
        rows = []
        for name, run in self.runs.items():
            comparison = self.comparisons.get(name)
            rate = run.summary.get("pass_rate", {}).get("value")
            row: dict[str, Any] = {"variant": name, "run_id": run.run_id}
            row["pass_rate"] = rate
            if comparison is not None:
                change = comparison.rates.change
                row |= {
                    "change": change.value,
                    "change_low": change.low,
                    "change_high": change.high,
                    "p_value": comparison.rates.test.p_value,
                    "pass_to_fail": comparison.rates.a_only,
                    "fail_to_pass": comparison.rates.b_only,
                    "regression": comparison.regression,
                }
            rows.append(row)
        return rows


def apply_variant(config: ExperimentConfig, variant: Variant) -> ExperimentConfig:
    """``config`` with the variant's agent and prompt; everything else unchanged.

    ``variant.agent``: a ``module:function`` target replaces ``runner.target`` when
    the experiment calls code through ``runner``; anything else the experiment's
    ``agent`` key takes (a URL, a mapping, an :class:`AgentConfig`) becomes its
    ``agent``. ``variant.prompt``: the simulated agent's system prompt (the
    experiment, after ``agent``, must use a simulated agent, or have no agent yet).

    Raises:
        ConfigError: a prompt for an experiment whose agent is not simulated, or an
            agent the experiment file would refuse.
    """
    if not isinstance(variant, Variant):
        raise ConfigError(f"a variant must be a Variant; got {type(variant).__name__}")
    changed = config
    agent = variant.agent
    if agent is not None:
        if (
            isinstance(agent, str)
            and config.runner is not None
            and "://" not in agent
            and config.agent is None
        ):
            runner = attrs.evolve(
                config.runner, target=agent, module_path=None, function_name=None
            )
            changed = attrs.evolve(changed, runner=runner)
        else:
            changed = attrs.evolve(changed, agent=agent)
    if variant.prompt is not None:
        current = changed.agent
        if current is None and changed.runner is None:
            current = AgentConfig(system_prompt=variant.prompt)
        if not isinstance(current, AgentConfig):
            raise ConfigError(
                f"variant {variant.name!r} sets a prompt, which only a simulated agent "
                "(the experiment's agent: {system_prompt: ...}) takes; this experiment "
                "calls its agent's code"
            )
        changed = attrs.evolve(
            changed, agent=attrs.evolve(current, system_prompt=variant.prompt)
        )
    return changed


def _variants(variants: Sequence[Variant] | Mapping[str, Variant]) -> list[Variant]:
    items = list(variants.values() if isinstance(variants, Mapping) else variants)
    if len(items) < 2:
        raise ConfigError(
            f"a paired experiment needs at least 2 variants; got {len(items)}"
        )
    names = [item.name for item in items if isinstance(item, Variant)]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"variant names must differ; repeated: {duplicates}")
    return items


async def run_paired(
    config: ExperimentConfig | str | Path,
    variants: Sequence[Variant] | Mapping[str, Variant],
    *,
    baseline: str | None = None,
    store: SimulationStore | None = None,
    alpha: float = 0.05,
    n_resamples: int = 10_000,
    **options: Any,
) -> PairedExperimentResult:
    """Run the experiment once per variant on the same grid and seed, then compare
    each variant with the baseline cell by cell.

    Args:
        config: the experiment (a config or an experiment file).
        variants: at least two ``Variant`` values (``clientsim.models.survey``)
            (``agent=`` and/or ``prompt=``); each gets its own run (its own folder
            and run id in one store).
        baseline: the variant the others are compared with; default the first.
        store: where the runs go; default the experiment's SQLite store.
        alpha: the significance level of each comparison's ``regression``.
        n_resamples: bootstrap resamples for the scores.
        **options: passed to :func:`~clientsim.experiments.run.run_experiment`
            (``progress``, ``requests_per_second``, ...).

    Returns:
        The runs and the comparisons; ``.regressions`` names the variants that
        pass significantly less often than the baseline.

    Raises:
        ConfigError: fewer than two variants, repeated names, an unknown baseline,
            or a variant the experiment cannot take (see :func:`apply_variant`).
    """
    if not isinstance(config, ExperimentConfig):
        config = ExperimentConfig.from_file(config)
    items = _variants(variants)
    names = [item.name for item in items]
    base = names[0] if baseline is None else baseline
    if base not in names:
        raise ConfigError(f"baseline {base!r} is not a variant; variants: {names}")
    # One seed for every variant, so that each cell meets the same customer.
    seed = config.seed if config.seed is not None else new_run_seed()
    configs = {
        item.name: attrs.evolve(apply_variant(config, item), seed=seed)
        for item in items
    }
    runs: dict[str, ExperimentResult] = {}
    for name, variant_config in configs.items():
        runs[name] = await run_experiment(variant_config, store=store, **options)
    first = runs[base]
    comparisons = {
        name: compare_records(
            first.records,
            run.records,
            run_a=first.run_id,
            run_b=run.run_id,
            pass_outcomes=config.pass_outcomes,
            alpha=alpha,
            n_resamples=n_resamples,
        )
        for name, run in runs.items()
        if name != base
    }
    return PairedExperimentResult(baseline=base, runs=runs, comparisons=comparisons)
