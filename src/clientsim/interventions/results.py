"""What an intervention test found: :class:`InterventionResults`.

A value built from the responses of a run (:func:`~clientsim.interventions.run.
run_intervention`), or again from the run store by run id
(:meth:`InterventionResults.load`): the run's metadata keeps the intervention, the
assignment and the analysis settings, so the same figures come back after a restart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from clientsim.config.values import to_dict
from clientsim.errors import ConfigError
from clientsim.interventions.analysis import (
    ArmMetric,
    Comparison,
    OmnibusTest,
    ScoreTest,
    analyse,
)
from clientsim.interventions.metrics import Metric
from clientsim.models.intervention import (
    Intervention,
    intervention_to_dict,
    load_intervention,
)
from clientsim.models.survey import Question, Response


if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]

    from clientsim.store.base import SimulationStore

__all__ = ["InterventionResults", "build_metrics", "study_questions"]


def build_metrics(intervention: Intervention) -> tuple[Metric, ...]:
    """The intervention's success metrics, built (unknown names fail here, before
    any model is called)."""
    from clientsim.factory import build_metric  # noqa: PLC0415

    built = tuple(
        build_metric(
            config, questions=intervention.questions, fields=intervention.fields
        )
        for config in intervention.success_metrics
    )
    names = [m.name for m in built]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"success_metrics name a metric twice: {repeated}")
    return built


def study_questions(
    intervention: Intervention, metrics: Sequence[Metric]
) -> tuple[Question, ...]:
    """The intervention's questions plus those its metrics need and it lacks."""
    have = {q.id for q in intervention.questions}
    extra: list[Question] = []
    for metric in metrics:
        if metric.question is not None and metric.question.id not in have:
            extra.append(metric.question)
            have.add(metric.question.id)
    return intervention.questions + tuple(extra)


@attrs.frozen(kw_only=True)
class InterventionResults:
    """The figures of an intervention test.

    Attributes:
        run_id: the run.
        intervention: what was tested.
        assignment: arm -> persona id -> segment (every assigned persona).
        responses: every response read back (``variant`` is the arm).
        estimates: per arm and metric, the rate or mean with its interval.
        comparisons: per variant and metric, the difference from the baseline, its
            interval, the test, Cohen's h or d, and Holm's adjusted p-value.
        omnibus: with more than two arms, per metric the test of "all alike".
        segment_estimates: per segment, arm and metric, the estimate.
        failed: units that ended in an error or a timeout.
        confidence: the intervals' level.
        alpha: the significance level.
        score_test: ``welch`` or ``mann_whitney``.
    """

    run_id: str
    intervention: Intervention
    assignment: Mapping[str, Mapping[str, str | None]]
    responses: tuple[Response, ...]
    estimates: tuple[ArmMetric, ...]
    comparisons: tuple[Comparison, ...]
    omnibus: tuple[OmnibusTest, ...] = ()
    segment_estimates: tuple[ArmMetric, ...] = ()
    failed: int = 0
    confidence: float = 0.95
    alpha: float = 0.05
    score_test: ScoreTest = "welch"

    @classmethod
    def from_responses(
        cls,
        intervention: Intervention,
        assignment: Mapping[str, Mapping[str, str | None]],
        responses: Sequence[Response],
        *,
        run_id: str,
        failed: int = 0,
        confidence: float = 0.95,
        alpha: float = 0.05,
        score_test: ScoreTest = "welch",
    ) -> InterventionResults:
        """Analyse ``responses`` of an intervention whose arms hold ``assignment``."""
        if score_test not in ("welch", "mann_whitney"):
            raise ConfigError(
                f"score_test must be 'welch' or 'mann_whitney'; got {score_test!r}"
            )
        metrics = build_metrics(intervention)
        arms = {arm: list(assignment.get(arm, {})) for arm in intervention.arm_names}
        segments = {pid: seg for ids in assignment.values() for pid, seg in ids.items()}
        table, comparisons, omnibus, rows = analyse(
            metrics,
            arms,
            responses,
            baseline=intervention.baseline,
            segments=segments,
            confidence=confidence,
            alpha=alpha,
            score_test=score_test,
        )
        return cls(
            run_id=run_id,
            intervention=intervention,
            assignment={a: dict(ids) for a, ids in assignment.items()},
            responses=tuple(responses),
            estimates=tuple(table),
            comparisons=tuple(comparisons),
            omnibus=tuple(omnibus),
            segment_estimates=tuple(rows),
            failed=failed,
            confidence=confidence,
            alpha=alpha,
            score_test=score_test,
        )

    @classmethod
    async def load(cls, store: SimulationStore, run_id: str) -> InterventionResults:
        """The results of a stored intervention run, analysed again.

        Raises:
            ConfigError: the store has no such run, or it is not an intervention run.
        """
        from clientsim.population.engine import record_responses  # noqa: PLC0415

        info = await store.get_simulation(run_id)
        if info is None:
            raise ConfigError(f"the store has no run {run_id!r}")
        meta = info.metadata
        if meta.get("kind") != "intervention" or "intervention" not in meta:
            raise ConfigError(
                f"run {run_id!r} is not an intervention run (kind "
                f"{meta.get('kind')!r}); run it with run_intervention"
            )
        intervention = load_intervention(meta["intervention"])
        records = await store.conversations(run_id)
        responses = [r for record in records for r in record_responses(record)]
        failed = sum(1 for record in records if record.result is None)
        analysis = dict(meta.get("analysis") or {})
        return cls.from_responses(
            intervention,
            {
                arm: {str(k): v for k, v in ids.items()}
                for arm, ids in meta["assignment"].items()
            },
            responses,
            run_id=run_id,
            failed=failed,
            confidence=float(analysis.get("confidence", 0.95)),
            alpha=float(analysis.get("alpha", 0.05)),
            score_test=analysis.get("score_test", "welch"),
        )

    # -- views -----------------------------------------------------------------------

    @property
    def arms(self) -> tuple[str, ...]:
        """The arms, the baseline first."""
        return self.intervention.arm_names

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics' names, in declared order."""
        return tuple(dict.fromkeys(row.metric for row in self.estimates))

    def table(self) -> list[dict[str, Any]]:
        """One row per arm and metric: n, the rate or mean, its interval."""
        return [_row(row) for row in self.estimates]

    def significance(self) -> list[dict[str, Any]]:
        """One row per variant and metric: the difference from the baseline with its
        interval, the test, p, Holm's adjusted p, the effect size, significant."""
        return [attrs.asdict(c) for c in self.comparisons]

    def segments(self) -> list[dict[str, Any]]:
        """One row per segment, arm and metric."""
        return [_row(row) for row in self.segment_estimates]

    def comparison(self, metric: str, arm: str) -> Comparison:
        """The comparison of ``arm`` with the baseline on ``metric``.

        Raises:
            ConfigError: no such metric or variant.
        """
        for c in self.comparisons:
            if c.metric == metric and c.arm == arm:
                return c
        raise ConfigError(
            f"no comparison for metric {metric!r} and arm {arm!r}; metrics: "
            f"{', '.join(self.metrics)}; variants: {', '.join(self.arms[1:])}"
        )

    def significant(self) -> list[Comparison]:
        """The comparisons that are significant after Holm's adjustment."""
        return [c for c in self.comparisons if c.significant]

    def power(
        self, min_effect: float, *, metric: str | None = None
    ) -> dict[str, float]:
        """The power each variant had to detect ``min_effect`` against the baseline
        (a rate difference for rates, Cohen's d for scores), at the arms' sizes."""
        from clientsim.interventions.power import achieved_power  # noqa: PLC0415

        return achieved_power(self, min_effect, metric=metric)

    def to_pandas(self) -> pd.DataFrame:
        """The ``table()`` rows as a DataFrame (needs pandas)."""
        try:
            import pandas as pd  # noqa: PLC0415
        except ImportError as exc:  # pragma: no cover - pandas is optional
            from clientsim.notebook import PANDAS_HINT  # noqa: PLC0415

            raise ImportError(
                f"to_pandas() needs pandas; install it with: {PANDAS_HINT}",
                name="pandas",
            ) from exc
        return pd.DataFrame(self.table())

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the intervention, every table, the responses."""
        return {
            "run_id": self.run_id,
            "intervention": intervention_to_dict(self.intervention),
            "baseline": self.intervention.baseline,
            "confidence": self.confidence,
            "alpha": self.alpha,
            "score_test": self.score_test,
            "failed": self.failed,
            "arms": {arm: len(ids) for arm, ids in self.assignment.items()},
            "estimates": self.table(),
            "significance": self.significance(),
            "omnibus": [attrs.asdict(o) for o in self.omnibus],
            "segments": self.segments(),
            "responses": [to_dict(r) for r in self.responses],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """:meth:`to_dict` as JSON."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def render(self) -> str:
        """The figures as text."""
        from clientsim.render.interventions import intervention_text  # noqa: PLC0415

        return intervention_text(self)

    def html(self) -> str:
        """A self-contained HTML page of the figures (the report section in a page)."""
        from clientsim.render.interventions import intervention_page  # noqa: PLC0415

        return intervention_page(self)

    def write_html(self, path: str | Path) -> Path:
        """Write :meth:`html` to ``path`` (its folder is created); returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.html(), encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        from clientsim.render.interventions import intervention_html  # noqa: PLC0415

        return intervention_html(self)

    def __str__(self) -> str:
        return self.render()


def _row(row: ArmMetric) -> dict[str, Any]:
    data = attrs.asdict(row)
    if row.segment is None:
        data.pop("segment")
    return data
