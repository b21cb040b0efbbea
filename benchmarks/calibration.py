"""Do the statistics keep their promises? False positives, interval coverage and power
over simulated A/B experiments, offline.

Run from the repository root::

    python benchmarks/calibration.py            # 10,000 experiments per figure, ~20 s CPU
    python benchmarks/calibration.py --quick    # 1,000 per figure (a smoke run)
    python benchmarks/calibration.py --seed 7   # another draw
    python benchmarks/calibration.py --strict   # exit 1 if a target is missed

The data are drawn with numpy (seeded, vectorised); each experiment is then analysed
by clientsim's own functions, called one experiment at a time exactly as a user calls
them (no vectorised re-implementation), so the figures are those of the shipped code.

Figures (a Markdown table on stdout, progress on stderr):

1. False-positive rate of ``compare_rates``: two arms of 500 with the same true rate
   0.30; the share of experiments with p < 0.05. Target 4.5%-5.5%. The same with arms
   of 20 at 0.2, informational: there Fisher's exact test runs for most experiments,
   and it is conservative (its false-positive rate stays below 5%).
2. False-positive rate of ``compare_means`` (Welch): two arms of 50 scores from the
   same normal distribution (mean 7, sd 2). Target 4.5%-5.5%. The same for
   Mann-Whitney, informational (a fifth as many experiments: it is slower).
3. Coverage of ``rate_difference`` (Newcombe's interval): arms of 500 with true rates
   0.30 and 0.36; the share of 95% intervals that hold the true difference 0.06.
   Target 94.5%-95.5%.
4. Coverage of ``mean_difference`` (Welch's interval): arms of 40 and 60 scores with
   means 7 and 7.5 and unequal sds 2 and 3. Target 94.5%-95.5%.
5. Power, informational (a fifth as many experiments): arms of
   ``sample_size_rates(0.30, 0.06)`` and of ``sample_size_means(0.25)`` with those true
   effects; the share found significant should be close to the 80% asked for.

Each figure prints its Monte Carlo standard error, ``sqrt(r * (1 - r) / N)``: with
10,000 experiments it is about 0.22 points at 5% or 95%, so a correct procedure lands
within the 1-point-wide target about 97% of the time.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from clientsim.analysis import (
    compare_means,
    compare_rates,
    mean_difference,
    rate_difference,
    sample_size_means,
    sample_size_rates,
)


ALPHA = 0.05


class Figure(NamedTuple):
    name: str
    hits: int
    total: int
    low: float | None  # target range, as fractions; None: informational
    high: float | None
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.hits / self.total

    @property
    def verdict(self) -> str:
        if self.low is None or self.high is None:
            return "-"
        return "PASS" if self.low <= self.rate <= self.high else "MISS"


def _timed(
    label: str, run: Callable[[], tuple[int, int, str]]
) -> tuple[int, int, str, float]:
    print(f"{label} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    hits, total, note = run()
    return hits, total, note, time.perf_counter() - start


def null_rates(
    rng: np.random.Generator, n: int, size: int = 500, rate: float = 0.30
) -> tuple[int, int, str]:
    a = rng.binomial(size, rate, n)
    b = rng.binomial(size, rate, n)
    hits = fisher = 0
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        result = compare_rates(x, size, y, size)
        hits += result.p_value < ALPHA
        fisher += result.name == "fisher_exact"
    return hits, n, f"Fisher's test ran {fisher} times"


def null_means(rng: np.random.Generator, n: int, method: str) -> tuple[int, int, str]:
    size = 50
    a = rng.normal(7.0, 2.0, (n, size))
    b = rng.normal(7.0, 2.0, (n, size))
    hits = 0
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        hits += compare_means(x, y, method).p_value < ALPHA  # type: ignore[arg-type]
    return hits, n, ""


def cover_rates(rng: np.random.Generator, n: int) -> tuple[int, int, str]:
    size, p_a, p_b = 500, 0.30, 0.36
    a = rng.binomial(size, p_a, n)
    b = rng.binomial(size, p_b, n)
    truth = p_b - p_a
    hits = sum(
        rate_difference(x, size, y, size).contains(truth)
        for x, y in zip(a.tolist(), b.tolist(), strict=True)
    )
    return hits, n, ""


def cover_means(rng: np.random.Generator, n: int) -> tuple[int, int, str]:
    a = rng.normal(7.0, 2.0, (n, 40))
    b = rng.normal(7.5, 3.0, (n, 60))
    hits = sum(
        mean_difference(x, y).contains(0.5)
        for x, y in zip(a.tolist(), b.tolist(), strict=True)
    )
    return hits, n, ""


def power_of_rates(rng: np.random.Generator, n: int) -> tuple[int, int, str]:
    size = sample_size_rates(0.30, 0.06)
    a = rng.binomial(size, 0.30, n)
    b = rng.binomial(size, 0.36, n)
    hits = sum(
        compare_rates(x, size, y, size).p_value < ALPHA
        for x, y in zip(a.tolist(), b.tolist(), strict=True)
    )
    return hits, n, f"{size} per arm"


def power_of_means(rng: np.random.Generator, n: int) -> tuple[int, int, str]:
    size = sample_size_means(0.25)
    a = rng.normal(7.0, 2.0, (n, size))
    b = rng.normal(7.5, 2.0, (n, size))
    hits = sum(
        compare_means(x, y).p_value < ALPHA
        for x, y in zip(a.tolist(), b.tolist(), strict=True)
    )
    return hits, n, f"{size} per arm"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 experiments each")
    parser.add_argument("--experiments", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20260)
    parser.add_argument("--strict", action="store_true", help="exit 1 on a MISS")
    args = parser.parse_args()
    n = args.experiments or (1_000 if args.quick else 10_000)
    side = max(1, n // 5)  # the informational figures: fewer experiments, slower ones
    rng = np.random.default_rng(args.seed)
    plan: list[
        tuple[str, Callable[[], tuple[int, int, str]], float | None, float | None]
    ] = [
        ("false positives, compare_rates", lambda: null_rates(rng, n), 0.045, 0.055),
        (
            "false positives, compare_rates, arms of 20 at 0.2",
            lambda: null_rates(rng, side, 20, 0.2),
            None,
            None,
        ),
        (
            "false positives, compare_means welch",
            lambda: null_means(rng, n, "welch"),
            0.045,
            0.055,
        ),
        (
            "false positives, compare_means mann_whitney",
            lambda: null_means(rng, side, "mann_whitney"),
            None,
            None,
        ),
        (
            "coverage, rate_difference (newcombe)",
            lambda: cover_rates(rng, n),
            0.945,
            0.955,
        ),
        (
            "coverage, mean_difference (welch)",
            lambda: cover_means(rng, n),
            0.945,
            0.955,
        ),
        (
            "power at sample_size_rates(0.30, 0.06)",
            lambda: power_of_rates(rng, side),
            None,
            None,
        ),
        (
            "power at sample_size_means(0.25)",
            lambda: power_of_means(rng, side),
            None,
            None,
        ),
    ]
    figures = []
    started = time.perf_counter()
    for name, run, low, high in plan:
        hits, total, note, seconds = _timed(name, run)
        figures.append(Figure(name, hits, total, low, high, seconds, note))
    elapsed = time.perf_counter() - started

    print(
        f"Calibration over {n:,} simulated experiments per target figure, {side:,} "
        f"per informational one (seed {args.seed})."
    )
    print()
    print("| figure | result | MC s.e. | target | verdict | time | note |")
    print("|---|---|---|---|---|---|---|")
    for figure in figures:
        se = math.sqrt(figure.rate * (1 - figure.rate) / figure.total)
        target = (
            "-"
            if figure.low is None or figure.high is None
            else f"{figure.low:.1%}-{figure.high:.1%}"
        )
        print(
            f"| {figure.name} | {figure.rate:.2%} ({figure.hits:,}/{figure.total:,}) "
            f"| {se:.2%} | {target} | {figure.verdict} | {figure.seconds:.1f} s "
            f"| {figure.note} |"
        )
    print()
    print(f"Total time: {elapsed:.1f} s.")
    missed = [figure.name for figure in figures if figure.verdict == "MISS"]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
