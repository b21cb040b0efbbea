"""Statistics and summaries of finished conversations.

Used by experiments, the client simulation's metrics and every renderer: intervals
and percentiles (:mod:`clientsim.analysis.stats`) and the aggregate figures of a run
(:mod:`clientsim.analysis.summary`), and paired comparisons of variants run on one
grid (:mod:`clientsim.analysis.paired`, :mod:`clientsim.analysis.runs`). Pure
functions over stored records; no I/O (``compare_runs`` reads a store it is given).
"""

from clientsim.analysis.paired import (
    PairedComparison,
    mcnemar,
    paired_bootstrap,
    paired_rates,
)
from clientsim.analysis.runs import RunComparison, compare_runs
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
    "PairedComparison",
    "RunComparison",
    "compare_runs",
    "estimate_cost",
    "is_passed",
    "mcnemar",
    "paired_bootstrap",
    "paired_rates",
    "percentile",
    "summarize",
    "wilson_interval",
]
