"""Properties of the paired statistics, for any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.analysis.paired import mcnemar, paired_bootstrap, paired_rates


counts = st.integers(min_value=0, max_value=200)
verdicts = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=80)
scores = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(deadline=None)  # the first call imports scipy
@given(counts, counts, st.sampled_from([None, True, False]))
def test_mcnemar_is_symmetric_and_a_probability(
    b: int, c: int, exact: bool | None
) -> None:
    forward, backward = mcnemar(b, c, exact=exact), mcnemar(c, b, exact=exact)
    assert 0.0 <= forward.p_value <= 1.0
    assert forward.p_value == backward.p_value
    assert forward.name == backward.name


@settings(deadline=None)
@given(counts, counts)
def test_more_lopsided_flips_are_never_less_significant(b: int, c: int) -> None:
    """Moving one flip from the smaller side to the larger never raises p."""
    low, high = sorted((b, c))
    if low == 0:
        return
    assert (
        mcnemar(high + 1, low - 1, exact=True).p_value
        <= mcnemar(high, low, exact=True).p_value + 1e-12
    )


@settings(deadline=None)
@given(verdicts)
def test_paired_rates_counts_add_up(pairs: list[tuple[bool, bool]]) -> None:
    pass_a = [a for a, _ in pairs]
    pass_b = [b for _, b in pairs]
    comparison = paired_rates(pass_a, pass_b)
    total = comparison.both + comparison.neither + comparison.a_only + comparison.b_only
    assert total == comparison.n == len(pairs)
    change = comparison.change
    assert -1.0 <= change.low <= change.value <= change.high <= 1.0
    assert (
        abs(change.value - (comparison.rate_b.value - comparison.rate_a.value)) < 1e-12
    )
    assert comparison.rate_a.low <= comparison.rate_a.value <= comparison.rate_a.high
    # A regression needs more pass -> fail than fail -> pass.
    if comparison.regression:
        assert comparison.a_only > comparison.b_only
    swapped = paired_rates(pass_b, pass_a)
    assert swapped.regression == comparison.improvement


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(scores, scores), min_size=2, max_size=40),
    st.sampled_from(["bca", "percentile"]),
)
def test_bootstrap_interval_holds_its_estimate(
    pairs: list[tuple[float, float]], method: str
) -> None:
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    change = paired_bootstrap(a, b, n_resamples=200, method=method)  # type: ignore[arg-type]
    assert change.low <= change.value <= change.high
    assert change.n == len(pairs)
    shifted = paired_bootstrap(
        a,
        [y + 10.0 for y in b],
        n_resamples=200,
        method=method,  # type: ignore[arg-type]
    )
    assert abs(shifted.value - (change.value + 10.0)) < 1e-6 * max(
        1.0, abs(change.value)
    )
