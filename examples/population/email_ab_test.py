"""Seed 002's email A/B test, offline: a population, power first, then the test.

1. Build seed 002's example population (US health consumers in two segments with
   personality fragments) from its JSON description, and show its profile.
2. Ask how many personas each arm needs to detect a 10-point rise in purchase
   intent, before spending anything.
3. Run the two emails and a control group on the survey mode, assigned at random
   within each segment, every unit stored in a SQLite run store as it finishes.
4. Print each arm's rates and means with intervals, the significance table (Holm-
   adjusted p-values, effect sizes) and the segment breakdown; read the same results
   back from the store.

    python examples/population/email_ab_test.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import anyio

from clientsim import (
    InterventionResults,
    SQLiteStore,
    generate_population,
    load_intervention,
    load_population_spec,
    required_sample_size,
    run_intervention,
)


MODEL = os.environ.get("CLIENTSIM_MODEL") or "offline"
SEED = int(os.environ.get("CLIENTSIM_SEED") or "0")

POPULATION = {
    "name": "US Healthcare Consumers",
    "demographic_base": "usa_demographics",
    "size": 150,
    "segments": [
        {
            "name": "young_professionals",
            "size": 75,
            "particularities": "25-35 years old, high income, tech-savvy",
            "fragments": ["health_conscious", "time_constrained"],
        },
        {
            "name": "families",
            "size": 75,
            "particularities": "married with children, middle income",
            "fragments": ["loving_parent", "budget_conscious"],
        },
    ],
}

INTERVENTION = {
    "name": "Email Campaign A/B Test",
    "type": "marketing_intervention",
    "control": "control",
    "variants": [
        {
            "name": "emotional_appeal",
            "content": "Don't miss out on transforming your health...",
            "timing": "morning",
            "channel": "email",
        },
        {
            "name": "rational_appeal",
            "content": "Our clinical studies show 89% improvement... Plans from $9 a "
            "month, cancel any time.",
            "timing": "afternoon",
            "channel": "email",
        },
    ],
    "target_segments": ["young_professionals", "families"],
    "success_metrics": ["open_rate", "click_through", "purchase_intent"],
}


async def main(folder: Path) -> None:
    population = generate_population(load_population_spec(POPULATION), seed=SEED)
    print(population.profile().render())

    test = load_intervention(INTERVENTION)
    per_arm = required_sample_size(0.10, baseline_rate=0.20, intervention=test)
    print(f"\nto see purchase intent go from 20% to 30%: {per_arm} personas per arm")

    async with SQLiteStore(folder / "runs.sqlite") as store:
        results = await run_intervention(
            test, population, run_id="email-ab", store=store, seed=SEED, model=MODEL
        )
        print()
        print(results.render())
        again = await InterventionResults.load(store, "email-ab")
        same = again.table() == results.table()
        print(f"\nread back from the store after the run: the same figures: {same}")
    html = folder / "email-ab.html"
    results.write_html(html)
    print(f"\nHTML report: {html.name} ({html.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        anyio.run(main, Path(folder))
