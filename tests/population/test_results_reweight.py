"""Reweighting to a target population mix: a hand-computed example, Kish's effective
sample size, the errors, and a property: the weighted sample has the target shares."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm, t

from clientsim.errors import ConfigError, StatisticsError
from clientsim.models.survey import Response
from clientsim.population.results import StudyResults
from clientsim.population.reweight import (
    effective_sample_size,
    post_stratification_weights,
)

from .study_fakes import scored, study_run


def sample() -> StudyResults:
    """Segment a: scores 8, 6, 7 and one non-responder; segment b: score 2 and one
    non-responder. Sample shares 4/6 and 2/6."""
    people = [
        scored("a1", "a", 8, demographics={"age_band": "young"}),
        scored("a2", "a", 6, demographics={"age_band": "young"}),
        scored("a3", "a", 7, demographics={"age_band": "old"}),
        scored("a4", "a", None, demographics={"age_band": "old"}),
        scored("b1", "b", 2, demographics={"age_band": "old"}),
        scored("b2", "b", None, demographics={"age_band": "old"}),
    ]
    return StudyResults.from_run(study_run(people))


def wilson(p: float, n: float) -> list[float]:
    z = norm.ppf(0.975)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return [centre - half, centre + half]


def test_reweighting_by_segment_on_a_hand_computed_example():
    plain = sample().aggregate_results
    assert plain["response_rate"] == pytest.approx(4 / 6)
    assert plain["mean_score"] == pytest.approx(23 / 4)

    weighted = sample().reweight({"a": 0.5, "b": 0.5})
    # weights: a 0.5 / (4/6) = 0.75, b 0.5 / (2/6) = 1.5
    assert [r["weight"] for r in weighted.individual_results] == pytest.approx(
        [0.75] * 4 + [1.5] * 2
    )
    data = weighted.aggregate_results
    # rate: (0.75 * 3 + 1.5 * 1) / (0.75 * 4 + 1.5 * 2) = 3.75 / 6
    assert data["response_rate"] == pytest.approx(0.625)
    # n_eff = 6^2 / (4 * 0.75^2 + 2 * 1.5^2) = 36 / 6.75
    n_all = 36 / 6.75
    assert data["weighting"]["effective_sample_size"] == pytest.approx(n_all)
    assert data["response_rate_interval"] == pytest.approx(wilson(0.625, n_all))
    # mean among responders: (0.75 * (8 + 6 + 7) + 1.5 * 2) / (0.75 * 3 + 1.5) = 5
    assert data["mean_score"] == pytest.approx(5.0)
    n = 3.75**2 / (3 * 0.75**2 + 1.5**2)
    spread = (0.75 * (9 + 1 + 4) + 1.5 * 9) / 3.75 * n / (n - 1)
    half = t.ppf(0.975, n - 1) * math.sqrt(spread / n)
    assert data["confidence_interval"] == pytest.approx([5 - half, 5 + half])
    # within a segment the weights are equal: its figures do not move
    assert data["segment_breakdown"]["a"]["mean_score"] == pytest.approx(7.0)
    assert data["questions"]["score"]["shares"] == pytest.approx(
        {"2": 1.5 / 3.75, "6": 0.75 / 3.75, "7": 0.75 / 3.75, "8": 0.75 / 3.75}
    )
    assert data["weighting"]["by"] == "segment"


def test_reweighting_by_a_demographic_dimension():
    data = (
        sample().reweight({"young": 0.5, "old": 0.5}, by="age_band").aggregate_results
    )
    # young: a1, a2 (2 of 6) -> 1.5 each; old: 4 of 6 -> 0.75 each
    assert data["response_rate"] == pytest.approx((1.5 * 2 + 0.75 * 2) / 6)
    assert data["mean_score"] == pytest.approx((1.5 * 14 + 0.75 * 9) / 4.5)


def test_a_target_cell_with_no_one_in_the_sample_is_named():
    with pytest.raises(StatisticsError, match=r"\['c'\]"):
        sample().reweight({"a": 0.4, "b": 0.4, "c": 0.2})


def test_target_shares_must_sum_to_one_and_name_every_cell():
    with pytest.raises(ConfigError, match=r"sum to 1; they sum to 0\.9"):
        sample().reweight({"a": 0.5, "b": 0.4})
    with pytest.raises(ConfigError, match=r"\['b'\]"):
        sample().reweight({"a": 1.0})
    with pytest.raises(ConfigError, match="from 0 to 1"):
        sample().reweight({"a": 1.5, "b": -0.5})
    # a share of 0 leaves a cell out
    assert sample().reweight({"a": 1.0, "b": 0.0}).aggregate_results[
        "mean_score"
    ] == pytest.approx(7.0)


def test_kish_effective_sample_size():
    assert effective_sample_size([1.0] * 10) == pytest.approx(10)
    assert effective_sample_size([2.0, 2.0, 1.0, 1.0]) == pytest.approx(3.6)


def test_equal_weights_give_the_unweighted_intervals():
    plain = sample().aggregate_results
    same = sample().reweight({"a": 4 / 6, "b": 2 / 6}).aggregate_results
    assert same["response_rate_interval"] == pytest.approx(
        plain["response_rate_interval"]
    )
    assert same["confidence_interval"] == pytest.approx(plain["confidence_interval"])


@given(
    counts=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=5),
    raw=st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=5, max_size=5),
)
def test_the_weighted_sample_has_the_target_shares(counts, raw):
    cells = [f"c{i}" for i, n in enumerate(counts) for _ in range(n)]
    total = sum(raw[: len(counts)])
    target = {f"c{i}": raw[i] / total for i in range(len(counts))}
    target[f"c{len(counts) - 1}"] = 1.0 - sum(
        target[f"c{i}"] for i in range(len(counts) - 1)
    )
    weights = post_stratification_weights(cells, target)
    for cell, share in target.items():
        mass = sum(w for c, w in zip(cells, weights, strict=True) if c == cell)
        assert mass / sum(weights) == pytest.approx(share, abs=1e-9)


def test_reweighting_an_empty_study_is_refused():
    with pytest.raises(StatisticsError, match="hold no one"):
        StudyResults.from_run(study_run([])).reweight({"a": 1.0})


def test_people_with_no_segment_form_their_own_cell():
    people = [scored("p1", "a", 5), Response(persona_id="p2")]
    results = StudyResults.from_run(study_run(people))
    with pytest.raises(ConfigError, match=r"\(none\)"):
        results.reweight({"a": 1.0})
    assert results.reweight({"a": 0.5, "(none)": 0.5}).weights == (1.0, 1.0)
