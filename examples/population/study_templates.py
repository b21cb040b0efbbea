"""Seed 002's four study templates, offline: what `clientsim init --template NAME`
writes, each run to its end from Python with checkpoints.

For each of market_survey, focus_group, ab_intervention and customer_journey: write
the study file into a temporary folder, begin the study on a SQLite run store, run it,
and print its checkpoints and a summary of its results.

    python examples/population/study_templates.py
    clientsim init my-study --template market_survey   # the same, on the command line
    clientsim population run my-study/study.yaml
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio

from clientsim import SQLiteStore
from clientsim.population import begin
from clientsim.population.templates import TEMPLATES, scaffold_study


async def run(template: str, folder: Path) -> None:
    (study_file,) = scaffold_study(folder / template, template)
    async with SQLiteStore(folder / "runs.sqlite") as store:
        session = await begin(study_file, store=store)
        await session.run()
        points = await session.checkpoints()
        results = await session.end()
    print(f"== {template}: {len(session.personas)} personas, run {session.run_id}")
    print(f"   checkpoints: {', '.join(f'{p.id} ({p.units})' for p in points)}")
    print("   " + results.render().replace("\n", "\n   ")[:1200])


async def main(folder: Path) -> None:
    for template in TEMPLATES:
        await run(template, folder)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        anyio.run(main, Path(folder))
