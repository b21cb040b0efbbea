"""The statistics of comparing groups, checked against published values and scipy.

Published values: Newcombe (1998), "Interval estimation for the difference between
independent proportions", Statistics in Medicine 17, table II (method 10); Cohen
(1988), "Statistical power analysis for the behavioral sciences", tables 2.4.1 and
6.4.1 (sample sizes for d and h).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.stats  # loaded once here, not inside a timed example

from clientsim.analysis import (
    Estimate,
    TestResult,
    cohens_d,
    cohens_h,
    compare_means,
    compare_rates,
    holm,
    mean_ci,
    mean_difference,
    omnibus_means,
    omnibus_rates,
    power_means,
    power_rates,
    proportion_ci,
    rate_difference,
    sample_size_means,
    sample_size_rates,
)
from clientsim.analysis.stats import wilson_interval
from clientsim.errors import ConfigError, StatisticsError


# -- values --------------------------------------------------------------------------


def test_estimate_and_test_result_round_trip_through_json():
    estimate = Estimate(0.15, 0.016, 0.277, n=200, method="newcombe")
    result = TestResult(
        "chi_square", 4.8, 0.028, df=1, effect=0.3, effect_name="cohens_h", ci=estimate
    )
    text = json.dumps(result.to_dict())
    assert TestResult.from_dict(json.loads(text)) == result
    assert Estimate.from_dict(json.loads(json.dumps(estimate.to_dict()))) == estimate


def test_values_take_numpy_numbers_as_plain_floats():
    result = TestResult("x", np.float64(2.5), np.float64(0.5), df=np.int64(3))
    assert type(result.statistic) is float
    assert type(result.df) is float
    assert json.dumps(result.to_dict())


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Estimate(0.5, 0.6, 0.4, n=3), r"low \(0.6\) must not exceed high"),
        (
            lambda: Estimate(0.5, 0.4, 0.6, n=3, confidence=1),
            "strictly between 0 and 1",
        ),
        (lambda: Estimate(math.nan, 0.4, 0.6, n=3), "value must be a number"),
        (lambda: Estimate(0.5, 0.4, 0.6, n=-1), "n must be an int >= 0"),
        (lambda: TestResult("t", 1.0, 1.5), "p_value must be a number from 0 to 1"),
        (lambda: TestResult("t", math.nan, 0.5), "statistic must be a number, not NaN"),
        (lambda: TestResult("", 1.0, 0.5), "name must be a non-empty string"),
        (
            lambda: Estimate.from_dict({"value": 1, "nope": 2}),
            r"unknown keys \['nope'\]",
        ),
        (lambda: TestResult.from_dict({"name": "t"}), "TestResult.from_dict"),
    ],
)
def test_values_refuse_what_does_not_fit(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_a_p_value_a_rounding_error_past_1_is_1():
    assert TestResult("t", 1.0, 1.0000000000000002).p_value == 1.0
    assert TestResult("t", 1.0, -1e-17).p_value == 0.0


def test_significance_is_p_below_alpha():
    result = TestResult("t", 1.0, 0.05)
    assert not result.significant()
    assert result.significant(alpha=0.051)
    with pytest.raises(ConfigError, match="alpha must be a number strictly between"):
        result.significant(alpha=1.0)


def test_notebook_html_escapes_text():
    html = TestResult("t", 1.0, 0.5, detail="<b>x</b>")._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<table" in Estimate(1, 0, 2, n=3)._repr_html_()
    assert str(Estimate(0.5, 0.25, 0.75, n=10)) == "0.5 [0.25, 0.75] (95% CI, n=10)"


# -- intervals -------------------------------------------------------------------------


def test_proportion_ci_methods_give_the_known_intervals():
    wilson = proportion_ci(8, 10)
    assert (wilson.value, wilson.n, wilson.method) == (0.8, 10, "wilson")
    assert (wilson.low, wilson.high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    # Clopper-Pearson for 0 of 10: the upper bound is 1 - 0.025 ** (1 / 10).
    exact = proportion_ci(0, 10, method="exact")
    assert exact.low == 0.0
    assert exact.high == pytest.approx(1 - 0.025 ** (1 / 10))
    corrected = proportion_ci(8, 10, method="wilsoncc")
    assert corrected.low < wilson.low
    assert corrected.high > wilson.high
    assert proportion_ci(np.int64(3), np.int64(4)).value == 0.75


def test_wilson_interval_keeps_its_behaviour_on_scipy():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(8, 10) == (
        proportion_ci(8, 10).low,
        proportion_ci(8, 10).high,
    )


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, 0), StatisticsError, "n is 0"),
        ((3, 2), ConfigError, r"successes \(3\) must not exceed n \(2\)"),
        ((1, 2, 0.95, "wald"), ConfigError, "method must be one of 'wilson'"),
        ((1, 2, 95), ConfigError, "confidence must be a number strictly between"),
        ((True, 2), ConfigError, "successes must be an int >= 0"),
    ],
)
def test_proportion_ci_refuses(args, error, message):
    with pytest.raises(error, match=message):
        proportion_ci(*args)


def test_mean_ci_is_the_t_interval():
    values = [7, 8, 9, 6, 10]
    estimate = mean_ci(values, confidence=0.9)
    low, high = scipy.stats.t.interval(0.9, 4, loc=8, scale=scipy.stats.sem(values))
    assert (estimate.value, estimate.method) == (8.0, "t")
    assert (estimate.low, estimate.high) == pytest.approx((low, high))
    assert mean_ci([3, 3, 3]) == Estimate(3, 3, 3, n=3, method="t")
    with pytest.raises(StatisticsError, match="values has 1 value"):
        mean_ci([1])
    with pytest.raises(ConfigError, match="values must hold finite numbers"):
        mean_ci([1, math.inf])
    with pytest.raises(ConfigError, match="values must be a sequence"):
        mean_ci("123")  # type: ignore[arg-type]


# -- effects ---------------------------------------------------------------------------


def test_cohens_h_and_d():
    assert cohens_h(0.5, 0.6) == pytest.approx(0.2014, abs=1e-4)
    assert cohens_h(0.6, 0.5) == -cohens_h(0.5, 0.6)
    assert cohens_h(0, 1) == pytest.approx(math.pi)
    a, b = [1, 2, 3, 4], [2, 3, 4, 5]
    assert cohens_d(a, b) == pytest.approx(1 / math.sqrt(5 / 3))
    with pytest.raises(ConfigError, match="p2 must be a rate from 0 to 1"):
        cohens_h(0.5, 1.5)
    with pytest.raises(StatisticsError, match="neither sample varies"):
        cohens_d([1, 1], [2, 2])


@pytest.mark.parametrize(
    ("counts", "low", "high"),
    [
        # Newcombe 1998, table II, method 10, examples (a), (b), (d), (e) as b - a.
        ((48, 80, 56, 70), 0.0524, 0.3339),
        ((3, 10, 9, 10), 0.1705, 0.8090),
        ((0, 29, 5, 56), -0.0381, 0.1926),
        ((0, 20, 0, 10), -0.1611, 0.2775),
    ],
)
def test_rate_difference_is_newcombes_interval(counts, low, high):
    estimate = rate_difference(*counts)
    assert estimate.method == "newcombe"
    assert estimate.n == counts[1] + counts[3]
    assert estimate.value == pytest.approx(
        counts[2] / counts[3] - counts[0] / counts[1]
    )
    assert (estimate.low, estimate.high) == pytest.approx((low, high), abs=1e-4)


def test_mean_difference_is_welchs_interval():
    a, b = [6, 7, 7, 8, 6, 5], [8, 9, 7, 9, 8, 12, 10]
    estimate = mean_difference(a, b)
    expected = scipy.stats.ttest_ind(b, a, equal_var=False).confidence_interval()
    assert (estimate.low, estimate.high) == pytest.approx((expected.low, expected.high))
    assert (estimate.method, estimate.n) == ("welch", 13)
    with pytest.raises(StatisticsError, match="neither sample varies"):
        mean_difference([1, 1], [2, 2])
    with pytest.raises(StatisticsError, match="b has 1 value"):
        mean_difference([1, 2], [2])


# -- tests -----------------------------------------------------------------------------


def test_compare_rates_runs_chi_square_for_large_counts():
    result = compare_rates(30, 100, 45, 100)
    chi2, p_value, df, _ = scipy.stats.chi2_contingency(
        [[30, 70], [45, 55]], correction=False
    )
    assert result.name == "chi_square"
    assert (result.statistic, result.p_value, result.df) == pytest.approx(
        (chi2, p_value, df)
    )
    assert result.effect == pytest.approx(cohens_h(0.3, 0.45))
    assert result.effect_name == "cohens_h"
    assert result.ci == rate_difference(30, 100, 45, 100)


def test_compare_rates_runs_fisher_when_an_expected_count_is_below_five():
    # Expected successes per arm: 10 * 9 / 20 = 4.5 < 5.
    result = compare_rates(2, 10, 7, 10)
    odds_ratio, p_value = scipy.stats.fisher_exact([[7, 3], [2, 8]])
    assert result.name == "fisher_exact"
    assert (result.statistic, result.p_value) == pytest.approx((odds_ratio, p_value))
    assert result.df is None
    # Exactly 5 expected: chi-square.
    assert compare_rates(5, 10, 5, 10).name == "chi_square"


def test_compare_rates_with_one_outcome_only_cannot_differ():
    result = compare_rates(0, 10, 0, 12)
    assert (result.name, result.statistic, result.p_value) == ("fisher_exact", 1.0, 1.0)
    assert "cannot differ" in result.detail
    with pytest.raises(StatisticsError, match="both groups need at least one"):
        compare_rates(0, 0, 1, 2)


def test_compare_means_welch_and_mann_whitney_match_scipy():
    a, b = [6, 7, 7, 8, 6, 5], [8, 9, 7, 9, 8, 12, 10]
    welch = compare_means(a, b)
    expected = scipy.stats.ttest_ind(b, a, equal_var=False)
    assert welch.name == "welch_t"
    assert (welch.statistic, welch.p_value, welch.df) == pytest.approx(
        (expected.statistic, expected.pvalue, expected.df)
    )
    assert welch.effect == pytest.approx(cohens_d(a, b))
    assert welch.ci == mean_difference(a, b)
    ranks = compare_means(a, b, method="mann_whitney")
    u, p_value = scipy.stats.mannwhitneyu(b, a, alternative="two-sided")
    assert ranks.name == "mann_whitney_u"
    assert (ranks.statistic, ranks.p_value) == pytest.approx((u, p_value))
    # Every b above every a: the rank-biserial correlation is 1.
    assert compare_means([1, 2], [3, 4], "mann_whitney").effect == 1.0
    # No spread anywhere: ranks still answer, with no interval.
    assert compare_means([1, 1], [1, 1], "mann_whitney").ci is None
    with pytest.raises(ConfigError, match="method must be 'welch' or 'mann_whitney'"):
        compare_means(a, b, "t")  # type: ignore[arg-type]
    with pytest.raises(StatisticsError, match="neither sample varies"):
        compare_means([1, 1], [2, 2])


def test_holm_adjusts_step_down():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm({"a": 0.01, "b": 0.02, "c": 0.04}) == pytest.approx(
        {"a": 0.03, "b": 0.04, "c": 0.04}
    )
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    assert holm(np.array([0.01, 0.02], dtype=np.float32)) == pytest.approx([0.02, 0.02])
    assert holm([]) == []
    assert holm({}) == {}
    with pytest.raises(
        ConfigError, match=r"p_values\[1\] must be a p-value from 0 to 1"
    ):
        holm([0.1, 2.0])
    with pytest.raises(ConfigError, match="p_values must be a mapping"):
        holm(0.1)  # type: ignore[call-overload]
    with pytest.raises(ConfigError, match="holm: alpha must be a number strictly"):
        holm([0.1], alpha=0)


def test_omnibus_rates_is_the_k_by_2_chi_square():
    counts = {"control": (30, 100), "a": (45, 100), "b": (33, 100)}
    result = omnibus_rates(counts)
    table = [[30, 70], [45, 55], [33, 67]]
    chi2, p_value, df, _ = scipy.stats.chi2_contingency(table, correction=False)
    assert (result.statistic, result.p_value, result.df) == pytest.approx(
        (chi2, p_value, df)
    )
    assert result.effect == pytest.approx(math.sqrt(chi2 / 300))
    assert "approximate" in omnibus_rates({"a": (1, 5), "b": (3, 5)}).detail
    assert omnibus_rates({"a": (0, 5), "b": (0, 5)}).p_value == 1.0
    with pytest.raises(StatisticsError, match="got 1 arm"):
        omnibus_rates({"a": (1, 2)})
    with pytest.raises(StatisticsError, match="arm 'b' has no trials"):
        omnibus_rates({"a": (1, 2), "b": (0, 0)})
    with pytest.raises(ConfigError, match=r"counts\['b'\] must be a pair"):
        omnibus_rates({"a": (1, 2), "b": 3})  # type: ignore[dict-item]


def test_omnibus_means_is_anova_or_kruskal_wallis():
    groups = {"control": [5, 6, 7, 6], "a": [7, 8, 8, 9], "b": [6, 6, 7, 5]}
    anova = omnibus_means(groups)
    f, p_value = scipy.stats.f_oneway(*groups.values())
    assert (anova.name, anova.df) == ("anova", 2)
    assert (anova.statistic, anova.p_value) == pytest.approx((f, p_value))
    # eta squared: the between-groups sum of squares (32/3) over the total (32/3 + 6).
    assert anova.effect == pytest.approx((32 / 3) / (32 / 3 + 6))
    kruskal = omnibus_means(groups, "kruskal")
    h, p_value = scipy.stats.kruskal(*groups.values())
    assert (kruskal.statistic, kruskal.p_value) == pytest.approx((h, p_value))
    with pytest.raises(StatisticsError, match="no variation"):
        omnibus_means({"a": [1, 1], "b": [1, 1]})
    with pytest.raises(StatisticsError, match=r"groups\['b'\] has 1 value"):
        omnibus_means({"a": [1, 2], "b": [1]})
    with pytest.raises(ConfigError, match="method must be 'anova' or 'kruskal'"):
        omnibus_means(groups, "chi")  # type: ignore[arg-type]


# -- power -----------------------------------------------------------------------------


def test_sample_size_rates_matches_the_textbook():
    # 50% vs 60%, alpha 0.05 two-sided, power 0.8: 385 (unpooled) to 388 (pooled).
    assert 385 <= sample_size_rates(0.5, 0.1) <= 388
    assert sample_size_rates(0.5, 0.1) == sample_size_rates(0.6, -0.1)
    assert sample_size_rates(0.5, 0.1, two_sided=False) < sample_size_rates(0.5, 0.1)
    assert sample_size_rates(0.5, 0.1, power=0.9) > sample_size_rates(0.5, 0.1)
    # Cohen's table 6.4.1: h = 0.2 needs 392 per arm at 0.8 power.
    assert sample_size_rates(0.5, 0.0998) == pytest.approx(392, abs=4)


@pytest.mark.parametrize(
    ("d", "power", "n"),
    [(0.2, 0.8, 394), (0.5, 0.8, 64), (0.8, 0.8, 26), (0.5, 0.95, 105)],
)
def test_sample_size_means_matches_cohens_table(d, power, n):
    assert sample_size_means(d, power=power) == n
    assert power_means(d, n) >= power > power_means(d, n - 1)


def test_power_inverts_sample_size():
    n = sample_size_rates(0.2, 0.05)
    assert power_rates(0.2, 0.25, n) >= 0.8 > power_rates(0.2, 0.25, n - 1)
    assert power_rates(0.3, 0.3, 500) == pytest.approx(0.05)
    assert power_means(0.0, 50) == pytest.approx(0.05)
    assert power_rates(0.3, 0.3, 500, 0.01, two_sided=False) == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: sample_size_rates(0, 0.1),
            "p_control must be a rate strictly between",
        ),
        (lambda: sample_size_rates(0.5, 0.5), "min_effect must be non-zero and keep"),
        (lambda: sample_size_rates(0.5, 0), "from -0.5 to 0.5 excluding 0"),
        (lambda: sample_size_rates(0.5, 0.1, alpha=0), "alpha must be a number"),
        (lambda: sample_size_rates(0.5, 0.1, power=1), "power must be a number"),
        (lambda: sample_size_rates(0.5, 0.1, two_sided=1), "two_sided must be True"),
        (lambda: sample_size_means(0), "min_d must be a non-zero number"),
        (lambda: sample_size_means(math.inf), "min_d must be a finite number"),
        (lambda: power_rates(0.5, 1.0, 10), "p_treatment must be a rate strictly"),
        (lambda: power_rates(0.5, 0.6, 0), "n_per_arm must be an int >= 1"),
        (lambda: power_means(0.5, 1), "n_per_arm must be an int >= 2"),
    ],
)
def test_power_refuses_arguments_out_of_range(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
