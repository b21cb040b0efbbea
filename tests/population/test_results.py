"""StudyResults on known data: counts, rates and means with their intervals, the
seed's JSON structure, CSV and pandas export, the text and notebook views, and the
results read back from an SQLite store in a fresh process."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.analysis.intervals import mean_ci, proportion_ci
from clientsim.errors import ConfigError
from clientsim.models.survey import Answer, Question, Response
from clientsim.population import Arm, run_mode
from clientsim.population.results import CSV_COLUMNS, StudyResults
from clientsim.store import SQLiteStore

from .study_fakes import QUESTIONS, CannedMode, persona, scored, study_run


SRC = Path(__file__).parents[2] / "src"

SCORES_A = [7, 8, 9, 6, 10]
SCORES_B = [5, 5, 6, 4, 5]


def known() -> StudyResults:
    """Ten answers in two segments and one persona of segment b whose unit failed."""
    people = [scored(f"a{i}", "a", s) for i, s in enumerate(SCORES_A)]
    people += [scored(f"b{i}", "b", s) for i, s in enumerate(SCORES_B)]
    population = [persona("b9", "b", age_band="65+")]
    return StudyResults.from_run(
        study_run(people, failed=["b9"]),
        population=population,
        questions=[QUESTIONS[0]],
    )


def test_aggregates_on_known_data():
    results = known()
    data = results.aggregate_results
    assert (data["invited"], data["total_responses"]) == (11, 10)
    rate = proportion_ci(10, 11)
    assert data["response_rate"] == pytest.approx(10 / 11)
    assert data["response_rate_interval"] == pytest.approx([rate.low, rate.high])
    mean = mean_ci([float(s) for s in SCORES_A + SCORES_B])
    assert data["score"] == "score"
    assert data["mean_score"] == pytest.approx(6.5)
    assert data["confidence_interval"] == pytest.approx([mean.low, mean.high])
    question = data["questions"]["score"]
    assert question["responses"] == 10
    assert question["distribution"] == {
        "1": 0, "2": 0, "3": 0, "4": 1, "5": 3, "6": 2, "7": 1, "8": 1, "9": 1, "10": 1,
    }  # fmt: skip
    assert question["shares"]["5"] == pytest.approx(0.3)
    segments = data["segment_breakdown"]
    assert list(segments) == ["a", "b"]
    assert segments["a"]["mean_score"] == pytest.approx(8.0)
    assert segments["b"]["invited"] == 6
    assert segments["b"]["total_responses"] == 5
    assert segments["b"]["mean_score"] == pytest.approx(5.0)
    low, high = mean_ci([float(s) for s in SCORES_B]).low, mean_ci(SCORES_B).high
    assert segments["b"]["confidence_interval"] == pytest.approx([low, high])
    assert data["variant_breakdown"] == {}
    assert data["weighting"] is None
    # the failed persona keeps the segment and profile the population gives it
    assert results.individual("b9")["demographic_profile"] == {"age_band": "65+"}
    assert results.individual("b9")["responded"] is False


def test_choice_ranking_and_fields_are_summarised():
    ranking = Question(
        id="rank", text="Order these", type="ranking", options=("x", "y", "z")
    )
    people = [
        Response(
            persona_id=f"p{i}",
            answers=[
                Answer(question_id="plan", value=plan),
                Answer(question_id="rank", value=order),
            ],
            fields={"sentiment": mood, "purchase_intent": intent, "concerns": worries},
        )
        for i, (plan, order, mood, intent, worries) in enumerate(
            [
                ("pro", ("x", "y", "z"), "positive", 8, ["price"]),
                ("pro", ("y", "x", "z"), "positive", 6, []),
                ("basic", ("x", "z", "y"), "negative", 2, ["speed", "price"]),
            ]
        )
    ]
    results = StudyResults.from_run(
        study_run(people), questions=[QUESTIONS[1], ranking]
    )
    data = results.aggregate_results
    assert data["questions"]["plan"]["distribution"] == {"basic": 1, "pro": 2}
    assert data["questions"]["rank"]["distribution"] == {"x": 2, "y": 1, "z": 0}
    assert data["questions"]["rank"]["mean_rank"] == pytest.approx(
        {"x": 4 / 3, "y": 2.0, "z": 8 / 3}
    )
    # no scale question: the purchase_intent field is the score
    assert data["score"] == "purchase_intent"
    assert data["mean_score"] == pytest.approx(16 / 3)
    assert data["fields"]["sentiment"]["distribution"] == {"positive": 2, "negative": 1}
    assert data["fields"]["concerns"]["with_items"] == 2
    assert data["fields"]["concerns"]["items"] == 3
    assert data["themes"][0]["theme"] == "price"
    assert data["themes"][0]["count"] == 2


def test_question_types_are_read_off_the_answers_when_not_declared():
    people = [
        Response(
            persona_id=f"p{i}",
            answers=[
                Answer(question_id="score", value=i + 3),
                Answer(question_id="plan", value=["basic", "pro"][i % 2]),
                Answer(question_id="why", value="word " * 12 + str(i)),
            ],
        )
        for i in range(4)
    ]
    results = StudyResults.from_run(study_run(people))
    kinds = {q.id: q.type for q in results.questions}
    assert kinds == {"score": "scale", "plan": "choice", "why": "free_text"}
    assert results.aggregate_results["questions"]["score"]["distribution"] == {
        "3": 1, "4": 1, "5": 1, "6": 1,
    }  # fmt: skip


def test_json_has_the_seed_structure():
    data = json.loads(known().to_json())
    assert {"simulation_id", "intervention_id", "timestamp"} <= set(data)
    assert {"aggregate_results", "individual_results"} <= set(data)
    assert data["simulation_id"] == "r1"
    assert data["timestamp"] == "2026-03-02T09:00:00+00:00"
    aggregate = data["aggregate_results"]
    for key in (
        "total_responses",
        "response_rate",
        "mean_score",
        "confidence_interval",
        "segment_breakdown",
        "themes",
    ):
        assert key in aggregate
    assert len(aggregate["confidence_interval"]) == 2
    first = data["individual_results"][0]
    for key in (
        "agent_id",
        "response",
        "confidence",
        "reasoning",
        "demographic_profile",
    ):
        assert key in first
    assert first["agent_id"] == "a0"
    assert first["response"] == 7


def test_individual_results_carry_answers_and_reasoning():
    person = Response(
        persona_id="p1",
        segment="young",
        variant="b",
        demographics={"region": "north"},
        answers=[
            Answer(
                question_id="buy",
                value="yes",
                reasoning="Morning suits me",
                confidence=0.8,
            )
        ],
        fields={"sentiment": "positive"},
    )
    results = StudyResults.from_run(study_run([person]), intervention_id="int_456")
    assert results.individual("p1") == {
        "agent_id": "p1",
        "response": "yes",
        "confidence": 0.8,
        "reasoning": "Morning suits me",
        "demographic_profile": {"region": "north"},
        "segment": "young",
        "variant": "b",
        "responded": True,
        "weight": 1.0,
        "answers": {
            "buy": {
                "value": "yes",
                "text": "",
                "reasoning": "Morning suits me",
                "confidence": 0.8,
            }
        },
        "fields": {"sentiment": "positive"},
    }
    assert results.to_dict()["intervention_id"] == "int_456"
    with pytest.raises(ConfigError, match="no persona 'nobody'"):
        results.individual("nobody")


def test_csv_round_trip(tmp_path):
    results = known()
    path = results.to_csv(tmp_path / "out" / "results.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames
        read = list(reader)
    assert header == results.columns()
    assert header[: len(CSV_COLUMNS)] == list(CSV_COLUMNS)
    assert "demographic.age_band" in header
    assert read == [{k: str(v) for k, v in row.items()} for row in results.rows()]
    assert len(read) == 11  # 11 people x 1 question
    b9 = next(row for row in read if row["agent_id"] == "b9")
    assert (b9["responded"], b9["value"], b9["segment"]) == ("false", "", "b")


def test_csv_keeps_lists_as_json(tmp_path):
    person = Response(
        persona_id="p1",
        answers=[Answer(question_id="rank", value=("x", "y"))],
        fields={"concerns": ["price, mostly", "speed"]},
    )
    path = StudyResults.from_run(study_run([person])).to_csv(tmp_path / "r.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert json.loads(row["value"]) == ["x", "y"]
    assert json.loads(row["field.concerns"]) == ["price, mostly", "speed"]


def test_pandas_frame():
    pytest.importorskip("pandas")
    results = known()
    frame = results.to_pandas()
    assert list(frame.columns) == results.columns()
    assert len(frame) == 11
    answered = frame[frame["responded"] == "true"]
    assert answered.groupby("segment")["value"].apply(
        lambda v: sum(map(int, v))
    ).to_dict() == {
        "a": sum(SCORES_A),
        "b": sum(SCORES_B),
    }


def test_pandas_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"clientsim\[pandas\]"):
        known().to_pandas()


def test_text_and_notebook_views():
    text = known().render()
    assert "Responses: 10 of 11" in text
    assert "Mean score: 6.50" in text
    assert "a: 5/5 responded" in text
    evil = Response(
        persona_id="p1",
        answers=[
            Answer(question_id="q", value=3, reasoning="<script>alert(1)</script>")
        ],
    )
    html = StudyResults.from_run(study_run([evil, scored("p2", None, 5)]))._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "clientsim-distribution" in html
    assert "clientsim-individuals" in html
    assert "clientsim-means" in html


def test_bad_arguments():
    with pytest.raises(ConfigError, match="takes the StudyRun"):
        StudyResults.from_run([])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="confidence"):
        StudyResults.from_run(study_run([]), confidence=1.5)
    with pytest.raises(ConfigError, match="top must be"):
        known().themes(top=0)


# ----- a real run and its store -----------------------------------------------------------


SCRIPT = {
    "p1": (9, "pro", "Great value. But I'm worried about delivery."),
    "p2": (4, "basic", "Too expensive for what it does."),
    "p3": (7, "pro", "Delivery was slow last time, price is fine."),
    "p4": (2, "basic", "The price is too high."),
}
PEOPLE = [
    persona("p1", "young", age_band="18-24"),
    persona("p2", "young", age_band="18-24"),
    persona("p3", "old", age_band="65+"),
    persona("p4", "old", age_band="65+"),
    persona("p5", "old", age_band="65+"),
]


async def test_results_from_the_store_after_a_restart_equal_those_from_the_run(
    tmp_path,
):
    path = tmp_path / "runs.sqlite"
    mode = CannedMode(SCRIPT, fail=frozenset({"p5"}))
    arms = [
        Arm(name="control", personas=PEOPLE[:3]),
        Arm(name="treatment", personas=PEOPLE[3:]),
    ]
    async with SQLiteStore(path) as store:
        run = await run_mode(
            mode,
            arms,
            run_id="study-1",
            store=store,
            metadata={"intervention_id": "int_1"},
        )
        from_run = StudyResults.from_run(
            run, population=PEOPLE, questions=QUESTIONS, intervention_id="int_1"
        )
    data = from_run.to_dict()
    assert data["aggregate_results"]["total_responses"] == 4
    assert data["aggregate_results"]["invited"] == 5
    assert set(data["aggregate_results"]["variant_breakdown"]) == {
        "control",
        "treatment",
    }
    script = (
        "import anyio, sys\n"
        "from clientsim.store import SQLiteStore\n"
        "from clientsim.population.results import StudyResults\n"
        "from tests.population.study_fakes import QUESTIONS, persona\n"
        "people = [persona('p5', 'old', age_band='65+')]\n"
        "async def main():\n"
        "    async with SQLiteStore(sys.argv[1]) as store:\n"
        "        found = await StudyResults.from_store(\n"
        "            store, 'study-1', population=people, questions=QUESTIONS)\n"
        "    print(found.to_json())\n"
        "anyio.run(main)\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{SRC.parent}"}
    with anyio.fail_after(120):
        done = await anyio.run_process(
            [sys.executable, "-c", script, str(path)], env=env, check=False
        )
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout) == json.loads(from_run.to_json())


async def test_from_store_names_an_unknown_run(tmp_path):
    async with SQLiteStore(tmp_path / "runs.sqlite") as store:
        await store.register_if_absent("other", {})
        with pytest.raises(ConfigError, match=r"no run 'missing'.*other"):
            await StudyResults.from_store(store, "missing")


@settings(max_examples=40, deadline=None)
@given(
    texts=st.lists(st.text(max_size=40), min_size=1, max_size=4),
    segment=st.one_of(st.none(), st.text(min_size=1, max_size=10)),
)
def test_any_text_survives_the_csv_round_trip(tmp_path_factory, texts, segment):
    people = [
        Response(
            persona_id=f"p{i}",
            segment=segment,
            answers=[Answer(question_id="why", value=text, reasoning=text)],
            fields={"concerns": [text]},
        )
        for i, text in enumerate(texts)
    ]
    results = StudyResults.from_run(study_run(people))
    path = results.to_csv(tmp_path_factory.mktemp("csv") / "r.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        read = list(csv.DictReader(handle))
    assert [row["reasoning"] for row in read] == texts
    assert [json.loads(row["field.concerns"]) for row in read] == [[t] for t in texts]
    assert read == [{k: str(v) for k, v in row.items()} for row in results.rows()]
