"""What the ``clientsim_cassette`` fixture costs and catches, on a 20-conversation suite.

Run from the repository root::

    python benchmarks/pytest_cassette.py             # 20 tests, one conversation each
    python benchmarks/pytest_cassette.py --tests 5   # a smaller suite

It writes a pytest suite into a temporary folder: ``--tests`` tests, each running one
conversation (up to 6 messages) of the offline customer against an async function
agent, through the ``simulate`` and ``clientsim_cassette`` fixtures with their
defaults (``replay="simulator"``, ``on_miss="fail"``). The customer's model and the
agent count their calls in files. Then it runs ``pytest`` on it (a real subprocess,
as a user would) three times:

(a) the first run: no cassette yet, everything is called live and recorded;
(b) the replay with the agent unchanged: the agent is called live, the customer's
    model must not be (target: 0 calls), and every test passes;
(c) the replay after the agent is broken (it answers "Let me transfer you..." to
    everything): every test must fail, naming the turn; how long the run takes and
    how long the first failing test took.

Times are wall-clock seconds of the whole ``pytest`` process (start-up and imports
included) and, from its JUnit XML, of the tests themselves (their sum, their median,
and the first failing test's, which also pays the first import of LangChain). The
script exits 1 if a target is missed (a model call in (b), a test that passes in
(c), a test that fails in (a) or (b)), else 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]

HELPERS = """
from pathlib import Path

from clientsim.llm.offline import OfflineChatModel

HERE = Path(__file__).parent
AGENT_CALLS = HERE / "agent_calls.txt"
MODEL_CALLS = HERE / "model_calls.txt"
BROKEN = HERE / "BROKEN"


class CountingOffline(OfflineChatModel):
    '''The offline model, counting the calls that reach it.'''

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
        with MODEL_CALLS.open("a") as calls:
            calls.write("x")
        return await super()._agenerate(
            messages, stop=stop, run_manager=run_manager, **kwargs
        )


async def agent(message: str) -> str:
    with AGENT_CALLS.open("a") as calls:
        calls.write("x")
    if BROKEN.exists():
        return "Let me transfer you..."
    text = message.lower()
    if "password" in text:
        return "I have sent you a reset link. Did that fix it?"
    if "refund" in text or "charged" in text:
        return "Your refund has been issued. Anything else?"
    if "order" in text or "parcel" in text:
        return "Your order ships tomorrow. Anything else?"
    return "Glad I could help. Anything else?"
"""

INTENTS = [
    "I forgot my password",
    "I was charged twice for my order",
    "My parcel has not arrived",
    "I want a refund for my order",
    "How do I change my password?",
]

TEST = """

@pytest.mark.clientsim(seed={index})
async def test_conversation_{index}(simulate, clientsim_cassette):
    results = await simulate(
        agent, intents=[{intent!r}], customer_model=CountingOffline(), max_messages=6
    )
    assert all(run.result.ok for run in results), results
"""


@dataclass
class Phase:
    name: str
    seconds: float
    tests_seconds: float
    first_failure_seconds: float | None
    median_test_seconds: float
    passed: int
    failed: int
    model_calls: int
    agent_calls: int


def write_suite(folder: Path, tests: int) -> None:
    (folder / "pytest.ini").write_text("[pytest]\nanyio_mode = auto\n")
    (folder / "helpers.py").write_text(textwrap.dedent(HELPERS))
    body = "import pytest\n\nfrom helpers import CountingOffline, agent\n"
    for index in range(tests):
        body += TEST.format(index=index, intent=INTENTS[index % len(INTENTS)])
    (folder / "test_suite.py").write_text(body)


def count(path: Path) -> int:
    return len(path.read_text()) if path.exists() else 0


def run_pytest(folder: Path, name: str) -> Phase:
    model_before = count(folder / "model_calls.txt")
    agent_before = count(folder / "agent_calls.txt")
    report = folder / f"{name}.xml"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(folder), env.get("PYTHONPATH", "")]
    )
    env.pop("OPENAI_API_KEY", None)
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:langsmith_plugin",
            f"--junitxml={report}",
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    cases = ET.parse(report).getroot().iter("testcase")
    passed = failed = 0
    times: list[float] = []
    first_failure: float | None = None
    for case in cases:
        took = float(case.get("time", 0))
        times.append(took)
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            if first_failure is None:
                first_failure = took
        else:
            passed += 1
    return Phase(
        name=name,
        seconds=seconds,
        tests_seconds=sum(times),
        first_failure_seconds=first_failure,
        median_test_seconds=statistics.median(times) if times else 0.0,
        passed=passed,
        failed=failed,
        model_calls=count(folder / "model_calls.txt") - model_before,
        agent_calls=count(folder / "agent_calls.txt") - agent_before,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=20, help="tests in the suite")
    parser.add_argument("--quick", action="store_true", help="a 5-test smoke run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write_suite(folder, 5 if args.quick else args.tests)
        first = run_pytest(folder, "a-record")
        replay = run_pytest(folder, "b-replay")
        (folder / "BROKEN").write_text("")
        broken = run_pytest(folder, "c-broken")
        example = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
            cwd=folder,
            env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{folder}"},
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    print(f"pytest suite of {args.tests} conversations (one per test)\n")
    print(
        f"{'run':<12} {'wall s':>7} {'tests s':>8} {'passed':>6} {'failed':>6} "
        f"{'model calls':>11} {'agent calls':>11} {'median test s':>13} "
        f"{'1st failure s':>13}"
    )
    for phase in (first, replay, broken):
        failure = (
            "-"
            if phase.first_failure_seconds is None
            else f"{phase.first_failure_seconds:.3f}"
        )
        print(
            f"{phase.name:<12} {phase.seconds:>7.2f} {phase.tests_seconds:>8.2f} "
            f"{phase.passed:>6} {phase.failed:>6} {phase.model_calls:>11} "
            f"{phase.agent_calls:>11} {phase.median_test_seconds:>13.3f} "
            f"{failure:>13}"
        )
    lines = [line for line in example.splitlines() if line.startswith("E ")]
    print("\nThe first failure of (c), as pytest shows it:\n")
    print("\n".join(lines[:12]))
    missed = [
        why
        for why, bad in (
            ("(a) a test failed", first.failed > 0),
            ("(b) a test failed", replay.failed > 0),
            ("(b) the customer's model was called", replay.model_calls > 0),
            ("(b) the agent was not called", replay.agent_calls == 0),
            ("(c) a test passed", broken.passed > 0),
        )
        if bad
    ]
    print("\n" + ("MISSED: " + "; ".join(missed) if missed else "all targets met"))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
