"""``clientsim init``: a new experiment folder with a working offline example."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from clientsim.errors import ConfigError


__all__ = ["scaffold"]

_AGENT: Final = '''"""A tiny support agent to rehearse against. Replace ``run`` with your own agent.

clientsim calls ``run(message)`` once per customer message; return the reply (a string,
a list of strings for several messages, or None for no reply). An ``async def`` works
too, and so does a ``module:Class.method`` or ``module:instance.method`` target.
"""

ANSWERS = {
    "password": (
        "I've sent a password reset link to the email on your account. "
        "It expires in 30 minutes."
    ),
    "refund": (
        "Your refund has been issued; it shows on your statement in 3-5 business days."
    ),
    "invoice": "I've emailed you a copy of the invoice.",
    "hours": "We're open 9am to 6pm, Monday to Saturday.",
    "cancel": "Your subscription is cancelled; you keep access until the period ends.",
}


def run(message: str) -> str:
    """Answer one customer message."""
    text = message.lower()
    for word, answer in ANSWERS.items():
        if word in text:
            return answer
    if "thank" in text:
        return "You're welcome! Is there anything else I can help with?"
    return "Sorry, I'm not sure I follow. Could you tell me a bit more?"
'''

_CONFIG: Final = """# clientsim experiment: how the simulation runs (seed 003's simulation.yaml).
# Run it:  clientsim run {folder}/configs/simulation.yaml
# Offline by default: the simulated customers use clientsim's offline model.
name: {name}
description: Simulated customers against the example agent in agent.py
iterations: 2          # times to cycle through inputs x personas (1-1000)
parallel_runs: 4       # conversations at once (seed range 1-20; clientsim allows more)
run_delay_seconds: 0   # pause between starts (0-60)
seed: 42               # null for a random seed per run
executor: local        # where conversations run: local (this process), ray (the
                       # ray extra), or {{strategy: ray, address: "ray://HOST:10001"}}

runner:
  target: "agent:run"  # module:function, module:Class.method or module:instance.method
  working_directory: .
  timeout_seconds: 120
  max_retries: 3

multi_turn:
  enabled: true
  max_turns: 6
  supervisor:
    provider: openai   # openai (an LLM decides and writes follow-ups) | mock (scripted)
    model: offline     # any model spec: offline, openai:gpt-4o-mini, ...

# clientsim's own keys: what the simulated customers start from and how they behave.
inputs:
  - content: I forgot my password and cannot log in
    intent: Get back into the account
  - content: I was charged twice and want a refund
    intent: Get the duplicate charge refunded
  - content: What are your opening hours?
    intent: Learn the opening hours
personas:
  - id: patient
    description: A calm customer who answers questions fully.
  - id: impatient
    description: A busy customer who writes short messages and wants a fast fix.

outcomes:
  - name: resolved
    description: The agent solved the customer's problem
    patterns: ["reset link", "refund has been issued", "open 9am", "cancelled"]
    sender: agent
  - name: unresolved
    description: The agent could not help
    patterns: ["not sure I follow"]
    sender: agent
pass_outcomes: [resolved]

output_directory: experiments
save_traces: true
save_aggregated_metrics: true
"""

_README: Final = """# {name}

An experiment folder made by `clientsim init`.

- `agent.py`: the agent under test (replace it with yours, or point `runner.target`
  at your own code).
- `configs/simulation.yaml`: the experiment: inputs, personas, iterations, the
  supervisor that plays the customer, and what counts as a pass.

```
clientsim run configs/simulation.yaml
clientsim report experiments/exp_<timestamp>
```
"""


def scaffold(directory: str | Path, *, force: bool = False) -> list[Path]:
    """Write a working experiment folder at ``directory``; return the files written.

    Raises:
        ConfigError: a file it would write exists and ``force`` is false, or
            ``directory`` is a file.
    """
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"cannot scaffold into {root}: it is a file, not a folder")
    name = "".join(ch if ch.isalnum() else "_" for ch in root.resolve().name).strip("_")
    files = {
        root / "agent.py": _AGENT,
        root / "configs" / "simulation.yaml": _CONFIG.format(
            name=name or "experiment", folder=root
        ),
        root / "README.md": _README.format(name=name or "experiment"),
    }
    existing = [path for path in files if path.exists()]
    if existing and not force:
        raise ConfigError(
            f"{', '.join(map(str, existing))} already exist(s); pass --force to "
            "overwrite, or choose another folder"
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
