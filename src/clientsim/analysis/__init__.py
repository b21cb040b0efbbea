"""Statistics and summaries of finished conversations and studies.

Used by experiments, the client simulation's metrics, interventions and every renderer:
intervals and percentiles (:mod:`clientsim.analysis.stats`), the aggregate figures of a
run (:mod:`clientsim.analysis.summary`), and the statistics of comparing groups:
estimates with intervals (:mod:`~clientsim.analysis.intervals`), significance tests
and Holm's correction (:mod:`~clientsim.analysis.significance`), effect sizes
(:mod:`~clientsim.analysis.effects`), power and sample size
(:mod:`~clientsim.analysis.power`), paired comparisons of variants run on one grid
(:mod:`~clientsim.analysis.paired`, :mod:`~clientsim.analysis.runs`), all returning
the values of :mod:`~clientsim.analysis.results`. Pure functions; no I/O
(``compare_runs`` reads a store it is given); scipy loads on first use.
"""

from clientsim.analysis.effects import (
    cohens_d,
    cohens_h,
    mean_difference,
    rate_difference,
)
from clientsim.analysis.intervals import mean_ci, proportion_ci
from clientsim.analysis.paired import (
    PairedComparison,
    mcnemar,
    paired_bootstrap,
    paired_rates,
)
from clientsim.analysis.power import (
    power_means,
    power_rates,
    sample_size_means,
    sample_size_rates,
)
from clientsim.analysis.results import Estimate, TestResult
from clientsim.analysis.runs import RunComparison, compare_runs
from clientsim.analysis.significance import (
    compare_means,
    compare_rates,
    holm,
    omnibus_means,
    omnibus_rates,
)
from clientsim.analysis.stats import (
    MODEL_PRICES,
    estimate_cost,
    percentile,
    wilson_interval,
)
from clientsim.analysis.summary import NONE_KEY, is_passed, summarize


__all__ = [
    "MODEL_PRICES",
    "NONE_KEY",
    "Estimate",
    "PairedComparison",
    "RunComparison",
    "TestResult",
    "cohens_d",
    "cohens_h",
    "compare_means",
    "compare_rates",
    "compare_runs",
    "estimate_cost",
    "holm",
    "is_passed",
    "mcnemar",
    "mean_ci",
    "mean_difference",
    "omnibus_means",
    "omnibus_rates",
    "paired_bootstrap",
    "paired_rates",
    "percentile",
    "power_means",
    "power_rates",
    "proportion_ci",
    "rate_difference",
    "sample_size_means",
    "sample_size_rates",
    "summarize",
    "wilson_interval",
]
