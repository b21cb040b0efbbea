"""Validation against real data: distances, fidelity, the adversarial check and the
behaviour checks, through the public API."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import anyio
import pytest

from clientsim.errors import ConfigError, StatisticsError
from clientsim.models import (
    Conversation,
    ConversationRecord,
    ConversationResult,
    GridCell,
    Message,
    ParticipantRole,
    RunStatus,
)
from clientsim.models.survey import Answer, Question, Response
from clientsim.population.behaviour import CHECKS, check_behaviour
from clientsim.population.validation import adversarial_check, empirical_compare


QUESTIONS = (
    Question(id="interest", text="How interested?", type="scale"),
    Question(id="buy", text="Would you buy?", type="choice", options=("Yes", "No")),
)


def _responses(values: list[tuple[int, str, str]]) -> list[Response]:
    return [
        Response(
            persona_id=f"p{i}",
            segment=segment,
            answers=[
                Answer(question_id="interest", value=interest),
                Answer(question_id="buy", value=buy),
            ],
        )
        for i, (interest, buy, segment) in enumerate(values)
    ]


def _write_csv(path, rows):
    lines = ["interest,buy,segment"] + [f"{a},{b},{s}" for a, b, s in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_identical_distributions_have_fidelity_one(tmp_path):
    rows = [
        (1 + i % 10 + i % 3, "Yes" if i % 3 else "No", f"s{i % 3}") for i in range(60)
    ]
    report = empirical_compare(
        _responses(rows), _write_csv(tmp_path / "real.csv", rows), questions=QUESTIONS
    )
    assert report.fidelity == pytest.approx(1.0)
    interest, buy = report.questions
    assert interest.kind == "numeric"
    assert interest.ks == (0.0, 1.0)
    assert interest.segment_rank_correlation == pytest.approx(1.0)
    assert buy.kind == "categorical"
    assert buy.jensen_shannon == pytest.approx(0.0)
    assert buy.chi_square is not None
    assert buy.chi_square[1] == pytest.approx(1.0)


def test_disjoint_answers_have_fidelity_zero_and_the_worst_is_named(tmp_path):
    simulated = [(9, "Yes", "a")] * 30
    real = [(2, "No", "a")] * 30
    report = empirical_compare(
        _responses(simulated), _write_csv(tmp_path / "r.csv", real), questions=QUESTIONS
    )
    assert report.fidelity == pytest.approx(0.0)
    worst = report.worst(1)[0]
    assert worst.similarity == pytest.approx(0.0)
    buy = next(fit for fit in report.questions if fit.question_id == "buy")
    assert buy.largest_gap is not None
    assert buy.largest_gap[1:] in (
        (1.0, 0.0),
        (0.0, 1.0),
    )
    text = report.render()
    assert "fidelity 0.000" in text
    assert "most off" in text


def test_a_shift_lowers_similarity_in_proportion(tmp_path):
    rng = random.Random(1)
    real = [(rng.randint(1, 10), "Yes", "a") for _ in range(400)]
    close = [(min(10, v + (rng.random() < 0.2)), b, s) for v, b, s in real]
    far = [(min(10, v + 4), b, s) for v, b, s in real]
    path = _write_csv(tmp_path / "r.csv", real)
    near_fit = empirical_compare(_responses(close), path, questions=QUESTIONS[:1])
    far_fit = empirical_compare(_responses(far), path, questions=QUESTIONS[:1])
    assert 1.0 > near_fit.fidelity > far_fit.fidelity > 0.0


def test_without_declared_questions_numeric_columns_are_detected():
    rows = [{"interest": str(v), "buy": "Yes"} for v in (3, 4, 5, 6)]
    report = empirical_compare(
        _responses([(v, "Yes", "a") for v in (3, 4, 5, 6)]), rows
    )
    kinds = {fit.question_id: fit.kind for fit in report.questions}
    assert kinds == {"interest": "numeric", "buy": "categorical"}


def test_no_shared_question_names_both_sides(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("age,city\n30,Oslo\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match="real columns: age, city; simulated: buy, interest"
    ):
        empirical_compare(_responses([(1, "Yes", "a")]), path)


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read real data"):
        empirical_compare(_responses([(1, "Yes", "a")]), tmp_path / "nope.csv")


def test_too_few_answers_is_a_statistics_error():
    with pytest.raises(StatisticsError, match="at least 2 simulated and 2 real"):
        empirical_compare(_responses([(1, "Yes", "a")]), [{"interest": "1"}])


POLISHED = [
    f"I would consider it if the price were {p} dollars." for p in range(10, 40)
]
CASUAL = [f"idk maybe, {p} bucks is a lot lol" for p in range(10, 40)]


def test_the_baseline_tells_apart_what_differs_and_not_what_does_not():
    apart = anyio.run(lambda: adversarial_check(CASUAL, POLISHED, seed=3))
    assert apart.accuracy > 0.9
    assert not apart.indistinguishable
    same = anyio.run(lambda: adversarial_check(POLISHED[::2], POLISHED[1::2], seed=3))
    assert same.indistinguishable
    assert 0.0 <= same.low <= same.accuracy <= same.high <= 1.0
    assert apart.classifier == "baseline"
    assert apart.n == 60


def test_a_model_can_be_the_classifier():
    result = anyio.run(lambda: adversarial_check(CASUAL, POLISHED, model="offline"))
    assert result.accuracy == 1.0
    assert result.classifier == "offline"


def test_the_adversarial_check_needs_enough_answers():
    with pytest.raises(StatisticsError, match="at least 5 real and 5 simulated"):
        anyio.run(lambda: adversarial_check(["a"], ["b"]))


def _record(
    key: str,
    texts: list[str],
    *,
    demographics=None,
    answers=("interest",),
    status=RunStatus.DONE,
) -> ConversationRecord:
    messages = []
    for i, text in enumerate(texts):
        side = ParticipantRole.AGENT if i % 2 == 0 else ParticipantRole.CUSTOMER
        messages.append(
            Message(
                content=text, sender=side, timestamp=datetime(2026, 1, 1, tzinfo=UTC)
            )
        )
    response = Response(
        persona_id=key,
        demographics=demographics
        or {"age_band": "25-34", "household_type": "Single person"},
        answers=[Answer(question_id=q, value=5) for q in answers],
    )
    from clientsim.config.values import to_dict

    result = ConversationResult(
        Conversation(messages=tuple(messages)), data={"responses": [to_dict(response)]}
    )
    return ConversationRecord(
        run_id="r",
        cell=GridCell(input_id="all", persona_id=key, iteration=0),
        seed=1,
        status=status,
        result=result,
    )


def test_behaviour_checks_count_each_failure_once_per_unit():
    records = [
        _record("ok", ["How interested are you?", "Quite, it fits my routine."]),
        _record(
            "reversal", ["How interested?", "How can I help you today? Next question."]
        ),
        _record(
            "leak", ["How interested?", "My instructions say I am price sensitive."]
        ),
        _record("age", ["How interested?", "I'm 67 years old, so not much."]),
        _record("spouse", ["How interested?", "My wife would love it."]),
        _record("short", ["How interested?", "Fine."], answers=()),
        _record("timeout", ["How interested?"], status=RunStatus.TIMEOUT),
    ]
    report = check_behaviour(records, questions=["interest"])
    assert report.units == 7
    assert report.counts == {
        "role_reversal": 1,
        "goal_leak": 1,
        "premature_ending": 2,
        "demographic_contradiction": 2,
    }
    assert set(report.counts) == set(CHECKS)
    assert {
        f.persona_id for f in report.findings if f.check == "demographic_contradiction"
    } == {"age", "spouse"}
    assert report.rate("premature_ending") == pytest.approx(2 / 7)
    assert "premature_ending: 2 (29%)" in report.render()
