"""Sampling personas offline: time for 1,000 and 10,000, and how far each marginal is.

    python benchmarks/population_sampling.py            # full figures
    python benchmarks/population_sampling.py --quick    # smoke run (1 repetition)
    python benchmarks/population_sampling.py --strict   # exit 1 if a target is missed

For each template (usa, eu, uk) the script generates a population of 1,000 and one
of 10,000 personas with no segment (``generate_population``, seeds 0..R-1), times each
with ``time.perf_counter()`` (median and min-max over R repetitions), and for the
10,000 prints the largest gap, per dimension, between a value's sampled share and
its table's (in percentage points). Targets: 1,000 personas in under 1 s; every
marginal of 10,000 within 1 percentage point.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from clientsim.population import demographic_template, generate_population


def timed(template: str, size: int, seed: int) -> tuple[float, object]:
    start = time.perf_counter()
    population = generate_population(
        {"name": template, "demographic_base": template, "size": size}, seed=seed
    )
    return time.perf_counter() - start, population


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    repetitions = 1 if args.quick else 5
    missed = False
    print(f"{'template':<8} {'size':>6} {'median s':>9} {'min-max s':>15}  target")
    gaps: dict[str, dict[str, float]] = {}
    for template in ("usa", "eu", "uk"):
        for size in (1_000, 10_000):
            times = []
            population = None
            for seed in range(repetitions):
                print(f"{template} {size} seed {seed}", file=sys.stderr)
                seconds, population = timed(template, size, seed)
                times.append(seconds)
            median = statistics.median(times)
            target = ""
            if size == 1_000:
                ok = median < 1.0
                missed |= not ok
                target = f"< 1 s {'PASS' if ok else 'MISS'}"
            print(
                f"{template:<8} {size:>6} {median:>9.3f} "
                f"{min(times):>7.3f}-{max(times):<7.3f}  {target}"
            )
            if size == 10_000 and population is not None:
                gaps[template] = population.profile().max_distance()  # type: ignore[attr-defined]
    print()
    print("largest gap from the table over 10,000 personas, percentage points")
    dims = demographic_template("usa").dimension_names
    print(f"{'template':<8} " + " ".join(f"{d[:14]:>14}" for d in dims) + "  target")
    for template, by_dimension in gaps.items():
        worst = max(by_dimension.values())
        ok = worst <= 0.01
        missed |= not ok
        cells = " ".join(f"{by_dimension.get(d, 0.0) * 100:>14.4f}" for d in dims)
        print(f"{template:<8} {cells}  <= 1 {'PASS' if ok else 'MISS'}")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
