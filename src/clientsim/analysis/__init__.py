"""Statistics and summaries of finished conversations.

Used by experiments, the client simulation's metrics and every renderer: intervals
and percentiles (:mod:`clientsim.analysis.stats`) and the aggregate figures of a run
(:mod:`clientsim.analysis.summary`). Pure functions over stored records; no I/O.
"""

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
    "estimate_cost",
    "is_passed",
    "percentile",
    "summarize",
    "wilson_interval",
]
