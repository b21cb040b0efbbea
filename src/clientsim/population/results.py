"""The results of a population study as one value: individual and aggregate.

:class:`StudyResults` is read from a run (:meth:`StudyResults.from_run`) or from the
run store after a restart (:meth:`StudyResults.from_store`), and gives the results
structure of seed 002 (``simulation_id``, ``intervention_id``, ``timestamp``,
``aggregate_results``, ``individual_results``) as plain data, JSON, CSV (one row per
person and question) and a pandas frame; it reweights to a target population mix
(:meth:`StudyResults.reweight`), finds the themes of the free-text answers
(:meth:`StudyResults.themes`), and shows itself in notebooks.

Everyone the study asked is an individual: a unit that failed leaves its persona in
the results with no answers, so the response rate counts it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import attrs

from clientsim.errors import ConfigError
from clientsim.models.persona import Persona
from clientsim.models.records import RunStatus
from clientsim.models.survey import Question, Response
from clientsim.population._aggregate import (
    QuestionInfo,
    aggregate,
    infer_questions,
    responded,
)
from clientsim.population.engine import StudyRun, record_responses
from clientsim.population.themes import Theme, keyword_themes, model_themes


if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]
    from langchain_core.language_models import BaseChatModel

    from clientsim.population.generate import Population
    from clientsim.store.base import SimulationStore

    DataFrame: TypeAlias = pd.DataFrame

__all__ = ["CSV_COLUMNS", "StudyResults"]

CSV_COLUMNS: Final = (
    "simulation_id",
    "agent_id",
    "segment",
    "variant",
    "responded",
    "weight",
    "question_id",
    "question_type",
    "value",
    "text",
    "reasoning",
    "confidence",
)
"""The first columns of :meth:`StudyResults.to_csv` and :meth:`StudyResults.rows`;
then one ``demographic.<dimension>`` column per dimension and one ``field.<name>``
column per extracted field, each set in name order."""
PANDAS_HINT: Final = "pip install 'clientsim[pandas]'"


def _plain(value: object) -> object:
    """JSON-able plain data (tuples and frozen mappings become lists and dicts)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _cell(value: object) -> object:
    """A CSV cell: lists as JSON, ``None`` as empty, the rest as it is."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return json.dumps([_plain(v) for v in value], ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _filled(response: Response, persona: Persona | None, arm: str | None) -> Response:
    """``response`` with the arm as its variant and the persona's segment and
    profile where it has none."""
    return attrs.evolve(
        response,
        variant=response.variant or arm,
        segment=response.segment or (persona.segment if persona is not None else None),
        demographics=response.demographics
        or (persona.demographics if persona is not None else {}),
    )


def _people(run: StudyRun, population: Sequence[Persona] | None) -> list[Response]:
    """Everyone asked: each unit's responses, and a response with no answers for
    the persona of a unit that failed before answering."""
    known = {p.id: p for p in population or ()}
    people: list[Response] = []
    for record in run.records:
        arm = record.cell.input_id if record.cell.input_id != "all" else None
        found = record_responses(record)
        if found or record.status is RunStatus.DONE:
            people.extend(_filled(r, known.get(r.persona_id), arm) for r in found)
            continue
        pid = record.cell.persona_id
        people.append(_filled(Response(persona_id=pid), known.get(pid), arm))
    return sorted(people, key=lambda r: (r.persona_id, r.variant or ""))


def _timestamp(run: StudyRun) -> datetime | None:
    stamps = [r.started_at for r in run.records if r.started_at is not None]
    return max(stamps) if stamps else None


@attrs.frozen(kw_only=True, repr=False)
class StudyResults:
    """The individual and aggregate results of a population study run.

    Build it with :meth:`from_run` or :meth:`from_store`.

    Attributes:
        simulation_id: the run's id.
        mode: the communication mode (``survey``, ``focus_group``, ...).
        intervention_id: the intervention the run tested, if any.
        timestamp: when the last unit started (``None`` for an empty run).
        people: every person asked, as a ``Response``, in persona id order: those
            whose unit failed have no answers; a response with no variant takes its
            unit's arm (unless the arm is ``"all"``, the arm of a study with none).
        questions: the questions, declared or read off the answers.
        weights: each person's weight (``None``: unweighted).
        weighting: how the weights were made (``by``, ``target_mix``,
            ``effective_sample_size``), or ``None``.
        score: the question or field behind ``mean_score`` (``None``: the first
            scale question, else the ``rating`` or ``purchase_intent`` field).
        confidence: the level of every interval.
    """

    simulation_id: str
    mode: str = ""
    intervention_id: str | None = None
    timestamp: datetime | None = None
    people: tuple[Response, ...] = ()
    questions: tuple[QuestionInfo, ...] = ()
    weights: tuple[float, ...] | None = None
    weighting: Mapping[str, Any] | None = None
    score: str | None = None
    confidence: float = 0.95

    def __repr__(self) -> str:
        weighted = f", weighted by {self.weighting['by']!r}" if self.weighting else ""
        return (
            f"StudyResults({self.simulation_id!r}, mode={self.mode!r}, "
            f"people={len(self.people)}{weighted})"
        )

    # -- building ------------------------------------------------------------------

    @classmethod
    def from_run(
        cls,
        run: StudyRun,
        *,
        population: Sequence[Persona] | None = None,
        questions: Sequence[Question] | None = None,
        score: str | None = None,
        intervention_id: str | None = None,
        confidence: float = 0.95,
    ) -> StudyResults:
        """The results of ``run`` (what ``run_mode``
        returned).

        Args:
            run: the study run.
            population: its personas (a ``Population`` or
                any list of personas), to fill in the segment and demographics of a
                person whose unit failed.
            questions: the questions asked, for their types, options and scales
                (default: read off the answers: numbers make a scale, lists a
                ranking, short text with few values a choice, other text free text).
            score: the question id or field behind ``mean_score``.
            intervention_id: the intervention the run tested.
            confidence: the level of every interval, strictly between 0 and 1.

        Raises:
            ConfigError: ``run`` is not a StudyRun, a bad ``confidence``, or
                ``questions`` holds something that is not a Question.
        """
        if not isinstance(run, StudyRun):
            raise ConfigError(
                f"from_run() takes the StudyRun run_mode returned; got {type(run).__name__}"
            )
        if (
            isinstance(confidence, bool)
            or not isinstance(confidence, float)
            or not 0 < confidence < 1
        ):
            raise ConfigError(
                f"confidence must be a number strictly between 0 and 1; got {confidence!r}"
            )
        people = _people(run, list(population) if population is not None else None)
        if questions is None:
            infos = infer_questions(people)
        else:
            if not all(isinstance(q, Question) for q in questions):
                raise ConfigError("questions must be Question values")
            infos = tuple(QuestionInfo.of(q) for q in questions)
        return cls(
            simulation_id=run.run_id,
            mode=run.mode,
            intervention_id=intervention_id,
            timestamp=_timestamp(run),
            people=tuple(people),
            questions=infos,
            score=score,
            confidence=confidence,
        )

    @classmethod
    async def from_store(
        cls,
        store: SimulationStore,
        run_id: str,
        *,
        population: Sequence[Persona] | None = None,
        questions: Sequence[Question] | None = None,
        score: str | None = None,
        confidence: float = 0.95,
    ) -> StudyResults:
        """The results of the stored run ``run_id`` (after a restart, say); the
        mode and the intervention id come from the run's metadata (``mode``,
        ``intervention_id``). The other arguments are those of :meth:`from_run`.

        Raises:
            ConfigError: the store has no run ``run_id``.
        """
        info = await store.get_simulation(run_id)
        if info is None:
            known = [i.simulation_id for i in await store.runs()]
            raise ConfigError(
                f"the store has no run {run_id!r}; it has {known[:10] or 'none'}"
            )
        records = await store.conversations(run_id)
        mode = str(info.metadata.get("mode", ""))
        intervention = info.metadata.get("intervention_id")
        run = StudyRun(run_id=run_id, mode=mode, records=tuple(records))
        return cls.from_run(
            run,
            population=population,
            questions=questions,
            score=score,
            intervention_id=str(intervention) if intervention is not None else None,
            confidence=confidence,
        )

    # -- individual results ------------------------------------------------------------

    def _weight(self, index: int) -> float:
        return self.weights[index] if self.weights is not None else 1.0

    def _individual(self, index: int) -> dict[str, Any]:
        person = self.people[index]
        ordered = [q.id for q in self.questions if q.id in person.answers]
        ordered += [qid for qid in person.answers if qid not in ordered]
        answers = [person.answers[qid] for qid in ordered]
        answered = [a for a in answers if a.value is not None]
        response = person.fields.get("response")
        if response is None and answered:
            response = answered[0].value
        reasoning = next((a.reasoning for a in answers if a.reasoning), "")
        confidence = next(
            (a.confidence for a in answered if a.confidence is not None), None
        )
        return {
            "agent_id": person.persona_id,
            "response": _plain(response),
            "confidence": confidence,
            "reasoning": reasoning,
            "demographic_profile": dict(person.demographics),
            "segment": person.segment,
            "variant": person.variant,
            "responded": responded(person),
            "weight": self._weight(index),
            "answers": {
                a.question_id: {
                    "value": _plain(a.value),
                    "text": a.text,
                    "reasoning": a.reasoning,
                    "confidence": a.confidence,
                }
                for a in answers
            },
            "fields": {k: _plain(v) for k, v in person.fields.items()},
        }

    @property
    def individual_results(self) -> list[dict[str, Any]]:
        """One dict per person: ``agent_id`` (the persona id), ``response``,
        ``confidence``, ``reasoning``, ``demographic_profile``, ``segment``,
        ``variant``, ``responded``, ``weight``, ``answers`` and ``fields``."""
        return [self._individual(i) for i in range(len(self.people))]

    def individual(self, persona_id: str) -> dict[str, Any]:
        """One person's individual result (the first, if they were in two arms).

        Raises:
            ConfigError: no one with that persona id.
        """
        for index, person in enumerate(self.people):
            if person.persona_id == persona_id:
                return self._individual(index)
        shown = [p.persona_id for p in self.people[:5]]
        raise ConfigError(
            f"no persona {persona_id!r} in the results of {self.simulation_id!r} "
            f"(persona ids such as {shown})"
        )

    # -- aggregate results -----------------------------------------------------------

    @property
    def aggregate_results(self) -> dict[str, Any]:
        """``total_responses``, ``invited``, ``response_rate`` (and its interval),
        ``mean_score`` and its ``confidence_interval``, ``score``, ``confidence``,
        ``segment_breakdown`` and ``variant_breakdown`` (the same per group),
        ``questions`` (per question: the counts per option or scale value, the
        shares, and for a scale its mean with an interval), ``fields`` (per
        extracted field: its mean, distribution or how many listed something),
        ``themes`` (of the free-text answers) and ``weighting``."""
        found = aggregate(
            self.people,
            self.questions,
            weights=self.weights,
            score=self.score,
            confidence=self.confidence,
            themes=[t.to_dict() for t in self.themes()],
        )
        found["weighting"] = _plain(self.weighting) if self.weighting else None
        return found

    def free_texts(self) -> list[str]:
        """The free-text answers and listed concerns of everyone, in order (the
        reasoning given, when there are none)."""
        free = {q.id for q in self.questions if q.type == "free_text"}
        texts: list[str] = []
        for person in self.people:
            for qid, answer in person.answers.items():
                if (
                    qid in free
                    and isinstance(answer.value, str)
                    and answer.value.strip()
                ):
                    texts.append(answer.value)
            concerns = person.fields.get("concerns")
            if isinstance(concerns, list | tuple):
                texts.extend(str(c) for c in concerns if str(c).strip())
        if not texts:
            texts = [
                a.reasoning
                for p in self.people
                for a in p.answers.values()
                if a.reasoning
            ]
        return texts

    def themes(self, top: int = 5) -> list[Theme]:
        """The ``top`` themes of the free-text answers by keyword clustering
        (deterministic, no model; see :mod:`clientsim.population.themes`).

        Raises:
            ConfigError: ``top`` is not an integer >= 1.
        """
        return keyword_themes(self.free_texts(), top=top)

    async def model_themes(
        self, model: str | BaseChatModel = "offline", *, top: int = 5, seed: int = 0
    ) -> list[Theme]:
        """The ``top`` themes of the free-text answers as ``model`` groups them (one
        structured call titled ``themes``).

        Raises:
            ConfigError: ``top`` is not an integer >= 1.
            ModelError: the model failed or did not answer in time.
            InvalidModelOutputError: the answer is out of shape.
        """
        return await model_themes(self.free_texts(), model, top=top, seed=seed)

    # -- reweighting ---------------------------------------------------------------------

    def cell_of(self, person: Response, by: str) -> str:
        """The person's cell for reweighting: their segment, or their value of the
        demographic dimension ``by`` (``"(none)"`` when missing)."""
        value = person.segment if by == "segment" else person.demographics.get(by)
        return value or "(none)"

    def reweight(
        self, target_mix: Mapping[str, float], by: str = "segment"
    ) -> StudyResults:
        """These results post-stratified to ``target_mix`` (see
        :mod:`clientsim.population.reweight`): every rate, mean and share is
        weighted, and every interval uses Kish's effective sample size.

        Args:
            target_mix: cell -> its share of the target population (summing to 1).
            by: ``"segment"`` or a demographic dimension (``"age_band"``).

        Raises:
            ConfigError: bad shares, or a cell of the sample ``target_mix`` does not
                name (give it 0 to leave it out).
            StatisticsError: a cell the target gives a share to has no one in the
                sample.
        """
        from clientsim.population.reweight import (  # noqa: PLC0415
            effective_sample_size,
            post_stratification_weights,
        )

        if not isinstance(by, str) or not by:
            raise ConfigError(
                f"by must be 'segment' or a demographic dimension; got {by!r}"
            )
        cells = [self.cell_of(p, by) for p in self.people]
        weights = post_stratification_weights(cells, target_mix, by=by)
        return attrs.evolve(
            self,
            weights=tuple(weights),
            weighting={
                "by": by,
                "target_mix": {str(k): float(v) for k, v in target_mix.items()},
                "effective_sample_size": effective_sample_size(weights),
            },
        )

    # -- export --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The seed's results structure: ``simulation_id``, ``intervention_id``,
        ``timestamp`` (ISO 8601), ``mode``, ``aggregate_results`` and
        ``individual_results``, as JSON-able data."""
        return {
            "simulation_id": self.simulation_id,
            "intervention_id": self.intervention_id,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "mode": self.mode,
            "aggregate_results": self.aggregate_results,
            "individual_results": self.individual_results,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def columns(self) -> list[str]:
        """The columns of :meth:`rows`: :data:`CSV_COLUMNS`, then the demographic
        dimensions and the fields, each in name order."""
        dimensions = sorted({d for p in self.people for d in p.demographics})
        fields = sorted({f for p in self.people for f in p.fields})
        return [
            *CSV_COLUMNS,
            *(f"demographic.{d}" for d in dimensions),
            *(f"field.{f}" for f in fields),
        ]

    def rows(self) -> list[dict[str, object]]:
        """One row per person and question (one row with an empty ``question_id`` for
        a person with nothing to show a question for), keyed by :meth:`columns`;
        lists (rankings, concerns) are JSON text, ``None`` is empty."""
        columns = self.columns()
        types = {q.id: q.type for q in self.questions}
        rows: list[dict[str, object]] = []
        for index, person in enumerate(self.people):
            base: dict[str, object] = dict.fromkeys(columns, "")
            base.update(
                simulation_id=self.simulation_id,
                agent_id=person.persona_id,
                segment=_cell(person.segment),
                variant=_cell(person.variant),
                responded=_cell(responded(person)),
                weight=self._weight(index),
            )
            for dim, value in person.demographics.items():
                base[f"demographic.{dim}"] = value
            for name, value in person.fields.items():
                base[f"field.{name}"] = _cell(value)
            ids = [q.id for q in self.questions]
            ids += [qid for qid in person.answers if qid not in ids]
            for qid in ids or [""]:
                answer = person.answers.get(qid)
                row = dict(base, question_id=qid, question_type=types.get(qid, ""))
                if answer is not None:
                    row.update(
                        value=_cell(answer.value),
                        text=answer.text,
                        reasoning=answer.reasoning,
                        confidence=_cell(answer.confidence),
                    )
                rows.append(row)
        return rows

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`rows` to ``path`` as UTF-8 CSV with a header line; returns
        the path (its folder is created)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns())
            writer.writeheader()
            writer.writerows(self.rows())
        return target

    def to_pandas(self) -> DataFrame:
        """:meth:`rows` as a pandas DataFrame with the :meth:`columns`.

        Raises:
            ImportError: pandas is not installed; the message says how to install it
                (``pip install 'clientsim[pandas]'``).
        """
        try:
            import pandas as pd  # noqa: PLC0415
        except ImportError as exc:
            raise ImportError(
                "StudyResults.to_pandas() needs pandas, an optional dependency of "
                f"clientsim; install it with: {PANDAS_HINT}",
                name="pandas",
            ) from exc
        return pd.DataFrame.from_records(self.rows(), columns=self.columns())

    # -- display -------------------------------------------------------------------------

    def render(self) -> str:
        """A plain-text summary: totals, the score, segments, questions, themes."""
        from clientsim.render.population_results import results_text  # noqa: PLC0415

        return results_text(self)

    def __str__(self) -> str:
        return self.render()

    def html(self, population: Population | None = None) -> str:
        """A self-contained HTML page of the results, after the population's profile
        when ``population`` is given."""
        from clientsim.render.population_results import results_page  # noqa: PLC0415

        profile = population.profile()._repr_html_() if population is not None else ""
        return results_page(self, profile)

    def write_html(
        self, path: str | Path, population: Population | None = None
    ) -> Path:
        """Write :meth:`html` to ``path`` (its folder is created); returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.html(population), encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        from clientsim.render.population_results import results_html  # noqa: PLC0415

        return results_html(self)
