"""Invariants of the summary statistics: Wilson intervals, percentiles, summaries."""

from __future__ import annotations

import json
import math

import pytest
import scipy.stats  # noqa: F401 - loaded here once, not in a timed example
from hypothesis import assume, given
from hypothesis import strategies as st

from clientsim.analysis.stats import percentile, wilson_interval
from clientsim.errors import ConfigError
from clientsim.experiments.output import record_from_trace, summarize, trace_line
from clientsim.models import (
    Conversation,
    ConversationRecord,
    ConversationResult,
    ErrorRecord,
    GridCell,
    RunStatus,
    TokenUsage,
)
from tests import strategies


counts = st.integers(min_value=0, max_value=100_000)
confidences = st.floats(min_value=0.5, max_value=0.999)
finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
quantiles = st.floats(min_value=0, max_value=100)


@st.composite
def proportions(draw: st.DrawFn) -> tuple[int, int]:
    total = draw(st.integers(min_value=0, max_value=100_000))
    successes = draw(st.integers(min_value=0, max_value=total))
    return successes, total


# -- Wilson --------------------------------------------------------------------------


@given(proportions(), confidences)
def test_wilson_contains_the_estimate_within_unit_interval(proportion, confidence):
    successes, total = proportion
    low, high = wilson_interval(successes, total, confidence)
    assert 0.0 <= low <= high <= 1.0
    if total:
        assert low <= successes / total <= high
    else:
        assert (low, high) == (0.0, 1.0)


@given(
    st.integers(min_value=1, max_value=200).flatmap(
        lambda total: st.tuples(st.integers(0, total), st.just(total))
    ),
    st.integers(min_value=2, max_value=50),
)
def test_wilson_narrows_as_n_grows_for_the_same_proportion(proportion, factor):
    successes, total = proportion
    low, high = wilson_interval(successes, total)
    big_low, big_high = wilson_interval(successes * factor, total * factor)
    assert big_high - big_low < high - low


@given(proportions(), st.floats(min_value=0.5, max_value=0.98))
def test_wilson_widens_with_confidence(proportion, confidence):
    successes, total = proportion
    low, high = wilson_interval(successes, total, confidence)
    wide_low, wide_high = wilson_interval(successes, total, confidence + 0.01)
    assert wide_low <= low
    assert wide_high >= high


def test_wilson_hand_checked():
    # p = 0.5, n = 10, z = 1.95996: centre 0.5, half width 0.2832.
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.23659, abs=1e-5)
    assert high == pytest.approx(0.76341, abs=1e-5)
    # No successes: the lower bound is exactly 0, the upper z^2 / (n + z^2).
    z2 = 1.959963984540054**2
    low, high = wilson_interval(0, 20)
    assert low == 0.0
    assert high == pytest.approx(z2 / (20 + z2))
    low, high = wilson_interval(20, 20)
    assert low == pytest.approx(20 / (20 + z2))
    assert high == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, 10), "successes must be an int >= 0"),
        ((1, True), "total must be an int >= 0"),
        ((11, 10), r"successes \(11\) must not exceed total \(10\)"),
        ((1, 10, 1.0), "confidence must be a number strictly between 0 and 1"),
        ((1, 10, 0), "confidence must be a number strictly between 0 and 1"),
    ],
)
def test_wilson_refuses_bad_input(args, message):
    with pytest.raises(ConfigError, match=message):
        wilson_interval(*args)


# -- percentiles ---------------------------------------------------------------------


@given(st.lists(finite, min_size=1, max_size=50), quantiles, quantiles)
def test_percentile_is_monotone_in_q(values, q1, q2):
    low_q, high_q = sorted((q1, q2))
    low = percentile(values, low_q)
    high = percentile(values, high_q)
    assert low is not None
    assert high is not None
    assert low <= high


@given(st.lists(finite, min_size=1, max_size=50), quantiles)
def test_percentile_lies_between_min_and_max(values, q):
    result = percentile(values, q)
    assert result is not None
    assert min(values) <= result <= max(values)
    assert percentile(values, 0) == min(values)
    assert percentile(values, 100) == max(values)


@given(st.lists(finite, min_size=1, max_size=50), quantiles, st.randoms())
def test_percentile_ignores_order(values, q, random):
    shuffled = list(values)
    random.shuffle(shuffled)
    assert percentile(shuffled, q) == percentile(values, q)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        # Checked by hand against numpy.percentile(values, q) (method="linear").
        ([1, 2, 3, 4], 50, 2.5),
        ([1, 2, 3, 4], 25, 1.75),
        ([1, 2, 3, 4], 95, 3.85),
        ([10], 37, 10.0),
        ([3, 1, 2], 50, 2.0),
        ([0.5, 1, 2, 3, 4, 5], 95, 4.75),
        ([1, 2, 2, 3, 4], 95, 3.8),
        ([15, 20, 35, 40, 50], 40, 29.0),
        ([-5, 5], 10, -4.0),
    ],
)
def test_percentile_matches_numpy_linear(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected, rel=1e-12)


def test_percentile_edge_cases():
    assert percentile([], 50) is None
    with pytest.raises(ConfigError, match="q must be a number from 0 to 100; got 101"):
        percentile([1], 101)
    with pytest.raises(ConfigError, match="q must be a number from 0 to 100; got nan"):
        percentile([1], math.nan)
    with pytest.raises(ConfigError, match="values must be finite numbers; got inf"):
        percentile([1, math.inf], 50)


# -- summaries -----------------------------------------------------------------------


@st.composite
def records(draw: st.DrawFn) -> ConversationRecord:
    status = draw(st.sampled_from(RunStatus))
    result = draw(
        st.none()
        | st.builds(
            ConversationResult,
            st.builds(
                Conversation,
                messages=strategies.message_lists(max_size=4),
                outcome=st.none() | strategies.outcomes,
            ),
            st.floats(min_value=0, max_value=100),
            ending=st.none() | strategies.endings,
            error=st.none() | strategies.error_records,
        )
    )
    error: ErrorRecord | None = draw(st.none() | strategies.error_records)
    models = draw(
        st.dictionaries(
            st.sampled_from(["openai:gpt-4o-mini", "offline:1", "acme:x"]),
            strategies.token_usages,
            max_size=2,
        )
    )
    return ConversationRecord(
        run_id="run",
        cell=GridCell(
            input_id=draw(st.sampled_from(["0", "1", "2"])),
            persona_id=draw(st.sampled_from(["a", "b"])),
            iteration=draw(st.integers(0, 3)),
        ),
        seed=draw(st.integers(0, 2**31)),
        status=status,
        result=result,
        error=error,
        attempts=draw(st.integers(1, 4)),
        duration_seconds=draw(st.floats(min_value=0, max_value=1000)),
        models=models,
    )


@given(st.lists(records(), max_size=12), st.sets(strategies.slugs(), max_size=2))
def test_summary_counts_add_up(batch, pass_outcomes):
    summary = summarize(batch, pass_outcomes=pass_outcomes)
    total = len(batch)
    assert summary["total"] == total
    assert sum(summary["by_status"].values()) == total
    assert set(summary["by_status"]) == {status.value for status in RunStatus}
    assert sum(summary["by_outcome"].values()) == total
    assert sum(summary["ending_reasons"].values()) == total
    assert sum(item["count"] for item in summary["by_persona"].values()) == total
    assert (
        sum(item["passed"] for item in summary["by_input"].values())
        == (summary["pass_rate"]["passed"])
    )
    assert summary["pass_rate"]["passed"] <= summary["by_status"]["done"]
    errors = summary["errors"]
    assert sum(errors["by_side"].values()) == sum(errors["by_type"].values())
    assert summary["retries"] == summary["attempts"] - total


@given(st.lists(records(), max_size=8))
def test_summary_tokens_are_the_sum_over_models(batch):
    summary = summarize(batch)
    overall = sum(
        (usage for record in batch for usage in record.models.values()), TokenUsage()
    )
    assert summary["tokens"]["input"] == overall.input_tokens
    assert summary["tokens"]["calls"] == overall.calls
    assert sum(model["total_tokens"] for model in summary["by_model"].values()) == (
        overall.total_tokens
    )
    assume(batch)
    low, high = summary["pass_rate"]["ci95_low"], summary["pass_rate"]["ci95_high"]
    assert low <= summary["pass_rate"]["value"] <= high


@given(records())
def test_a_trace_line_survives_json_and_rebuilding(record):
    line = json.loads(json.dumps(trace_line(record)))
    assert trace_line(record_from_trace(line)) == line
