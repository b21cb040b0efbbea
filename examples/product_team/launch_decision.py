"""A product team decides whether to launch, then asks "what if" (offline, no API key).

Run it: ``python examples/product_team/launch_decision.py``. The team file is
``launch.yaml`` beside this script; ``clientsim team start launch.yaml`` runs the same
session from the command line.
"""

from __future__ import annotations

from pathlib import Path

import anyio

from clientsim import teams
from clientsim.render.teams import analysis_text


HERE = Path(__file__).parent


async def main() -> None:
    session = await teams.start(HERE / "launch.yaml")
    print(f"Session {session.session_id}: {session.scenario.title}")
    print(f"[  0] Facilitator: {session.opening}")
    while not session.is_complete:
        for message in await session.next():
            speaker = message.speaker.label if message.speaker else "?"
            print(f"[{session.turn:>3}] {speaker}: {message.content}")
    print(f"Ended: {session.ending.reason if session.ending else 'open'}")
    if session.analyses:
        print(analysis_text(session.analyses[-1]))

    print("\nWhat if the CEO wanted to protect the brand above all, from turn 6?")
    comparison = await session.what_if(
        {"CEO.goal": "Protect the brand: never ship known crash bugs"}, at_turn=6
    )
    print(comparison.render(width=110))
    print(
        f"The branch made {comparison.model_calls} model calls; turns 1-5 were replayed."
    )
    print(
        "What Engineering remembers:", session.memory("Engineering Lead").summary or "-"
    )


if __name__ == "__main__":
    anyio.run(main)
