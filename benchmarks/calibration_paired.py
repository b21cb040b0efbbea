"""Calibration of the paired statistics: do the tests and intervals mean what they say?

Offline and seeded. Three figures, each over many simulated paired experiments:

1. False positives of McNemar's test (``clientsim.analysis.paired.mcnemar``, its
   default: exact below 25 discordant pairs, chi-square with continuity correction
   above) when the two variants do not differ: every cell has its own pass
   probability (drawn from Beta(2, 2)), and both variants pass or fail it
   independently with that probability. Target: at most 5% at alpha 0.05. Both forms
   are conservative (below 5%): the exact test because the binomial is discrete, the
   corrected chi-square because of the correction.
2. Coverage of ``paired_bootstrap``'s 95% interval (BCa, the default) when variant B
   adds a known 0.3 to a score: a cell effect N(0, 1) shared by both variants, plus
   noise N(0, 0.5) on each. Target: 94.5%-95.5%.
3. Coverage of the paired pass-rate interval (``paired_rates(...).change``, Newcombe's
   method 10) with a known change of -0.1. Informational; Newcombe reports it a little
   below nominal for small samples.

Run:  python benchmarks/calibration_paired.py [--experiments 10000] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from clientsim.analysis.paired import mcnemar, paired_bootstrap, paired_rates


ALPHA = 0.05


def false_positives(experiments: int, pairs: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    p = rng.beta(2.0, 2.0, size=(experiments, pairs))
    pass_a = rng.random((experiments, pairs)) < p
    pass_b = rng.random((experiments, pairs)) < p
    a_only = (pass_a & ~pass_b).sum(axis=1)
    b_only = (pass_b & ~pass_a).sum(axis=1)
    default = exact = 0
    for b, c in zip(a_only.tolist(), b_only.tolist(), strict=True):
        default += mcnemar(b, c).significant(ALPHA)
        exact += mcnemar(b, c, exact=True).significant(ALPHA)
    return {
        "default": default / experiments,
        "exact": exact / experiments,
        "mean_discordant": float((a_only + b_only).mean()),
    }


def bootstrap_coverage(
    experiments: int, pairs: int, resamples: int, seed: int, *, chunk: int = 50
) -> float:
    """Coverage of the BCa interval of the mean difference, computed the way
    ``paired_bootstrap`` computes it (``scipy.stats.bootstrap``, BCa, the mean of
    the differences) but ``chunk`` experiments per call, so that 10,000 experiments
    take seconds instead of minutes."""
    from scipy.stats import bootstrap

    rng = np.random.default_rng(seed)
    truth = 0.3
    covered = 0
    for start in range(0, experiments, chunk):
        rows = min(chunk, experiments - start)
        cell = rng.normal(0.0, 1.0, (rows, pairs))
        a = cell + rng.normal(0.0, 0.5, (rows, pairs))
        b = cell + truth + rng.normal(0.0, 0.5, (rows, pairs))
        found = bootstrap(
            (b - a,),
            np.mean,
            n_resamples=resamples,
            confidence_level=0.95,
            method="BCa",
            rng=np.random.default_rng(seed + start),
            vectorized=True,
            axis=-1,
        )
        low, high = found.confidence_interval.low, found.confidence_interval.high
        covered += int(((low <= truth) & (truth <= high)).sum())
    # The library itself, on one of them: the same interval up to resampling noise.
    cell = rng.normal(0.0, 1.0, pairs)
    a = cell + rng.normal(0.0, 0.5, pairs)
    b = cell + truth + rng.normal(0.0, 0.5, pairs)
    one = paired_bootstrap(a.tolist(), b.tolist(), n_resamples=resamples, seed=seed)
    assert one.method == "bootstrap_bca"
    return covered / experiments


def rate_coverage(experiments: int, pairs: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    # Cell probabilities: both 0.55, A only 0.2, B only 0.1, neither 0.15.
    probabilities = [0.55, 0.2, 0.1, 0.15]
    truth = probabilities[2] - probabilities[1]
    covered = 0
    for _ in range(experiments):
        kinds = rng.choice(4, size=pairs, p=probabilities)
        pass_a = [kind in (0, 1) for kind in kinds.tolist()]
        pass_b = [kind in (0, 2) for kind in kinds.tolist()]
        change = paired_rates(pass_a, pass_b).change
        covered += change.low <= truth <= change.high
    return covered / experiments


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--experiments", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--bootstrap-pairs", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="1,000 experiments")
    options = parser.parse_args()
    experiments = 1_000 if options.quick else options.experiments
    rows = []

    started = time.perf_counter()
    found = false_positives(experiments, options.pairs, options.seed)
    seconds = time.perf_counter() - started
    rows.append(
        (
            "McNemar false positives (default)",
            f"{found['default']:.2%}",
            "<= 5%",
            found["default"] <= ALPHA,
            seconds,
        )
    )
    rows.append(
        (
            "McNemar false positives (exact)",
            f"{found['exact']:.2%}",
            "<= 5%",
            found["exact"] <= ALPHA,
            0.0,
        )
    )
    print(
        f"# {experiments:,} experiments of {options.pairs} pairs; "
        f"{found['mean_discordant']:.1f} discordant pairs on average",
        file=sys.stderr,
    )

    started = time.perf_counter()
    coverage = bootstrap_coverage(
        experiments, options.bootstrap_pairs, options.resamples, options.seed + 1
    )
    seconds = time.perf_counter() - started
    rows.append(
        (
            f"paired bootstrap 95% coverage ({options.bootstrap_pairs} pairs, BCa)",
            f"{coverage:.2%}",
            "94.5%-95.5%",
            0.945 <= coverage <= 0.955,
            seconds,
        )
    )

    started = time.perf_counter()
    coverage = rate_coverage(experiments, options.pairs, options.seed + 2)
    seconds = time.perf_counter() - started
    rows.append(
        (
            "pass-rate change 95% coverage (Newcombe)",
            f"{coverage:.2%}",
            "-",
            None,
            seconds,
        )
    )

    width = max(len(row[0]) for row in rows)
    print(f"{'figure':<{width}}  {'value':>8}  {'target':>12}  verdict  seconds")
    for name, value, target, ok, seconds in rows:
        verdict = "-" if ok is None else ("PASS" if ok else "MISS")
        print(
            f"{name:<{width}}  {value:>8}  {target:>12}  {verdict:<7}  {seconds:7.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
