"""Gate CI on results: ``clientsim run --fail-under``, ``--junit-xml`` and ``--quiet``,
and an experiment file whose agent speaks first (``first: agent``).

Each test runs the real ``python -m clientsim`` in a child process against a real
WebSocket agent on 127.0.0.1 served by the test's own event loop.
"""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import anyio
import pytest

from tests.channels import ws_server as ws
from tests.integration.test_cli import (
    CLI,
    TIMEOUT,
    experiment_dirs,
    offline_env,
    progress,
    started,
    traces,
)
from tests.integration.test_cli_failures import assert_clean_failure


GREETING = "Welcome to Acme! What can I do for you?"
WEIRD = "bell\x07 and a lone \ud800 surrogate"

# Five inputs; the agent says "refund issued" to two of them: a pass rate of 40%.
INPUTS = {
    "r1": "I want a refund",
    "r2": "refund my order please",
    "q1": "where is my parcel",
    "q2": "weird characters please",
    "q3": "explode",
}


async def support_agent(connection: ws.Connection) -> None:
    """Refunds what mentions a refund; answers oddly to "weird"; sends a malformed
    frame on "explode"; otherwise asks for more."""
    async for content in connection.customer_messages():
        if "explode" in content:  # a malformed reply: an error, not retried
            await connection.socket.send_str("{not json")
            continue
        if "refund" in content:
            await connection.say("Done: your refund issued today.")
        elif "weird" in content:
            await connection.say(WEIRD)
        else:
            await connection.say("Could you tell me more?")
        await connection.end_turn()


async def greeting_agent(connection: ws.Connection) -> None:
    await connection.say(GREETING)
    await connection.end_turn()
    async for content in connection.customer_messages():
        await connection.say(f"Your refund issued for: {content}")
        await connection.end_turn()


def experiment(url: str, *, extra: str = "", inputs: dict[str, str] = INPUTS) -> str:
    listed = "\n".join(
        f"  - {{id: {key}, content: {json.dumps(text)}}}"
        for key, text in inputs.items()
    )
    return (
        textwrap.dedent(
            f"""\
        name: refunds
        description: gate CI on the refund pass rate
        seed: 11
        parallel_runs: 2
        agent: {url}
        hybrid:
          reply_timeout_seconds: 5
          quiet_period_seconds: 0.3
        outcomes:
          - name: resolved
            patterns: ["refund issued"]
            sender: agent
        pass_outcomes: [resolved]
        """
        )
        + f"{extra}inputs:\n{listed}\n"
    )


async def clientsim(root: Path, *args: str | Path):
    """Run ``clientsim`` in ``root`` without blocking the loop that serves the agent."""
    with anyio.fail_after(TIMEOUT):
        done = await anyio.run_process(
            [*CLI, *map(str, args)],
            cwd=root,
            env=offline_env(),
            check=False,
        )
    done.stdout = done.stdout.decode()
    done.stderr = done.stderr.decode()
    return done


def explain(done) -> str:
    return (
        f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )


def write(root: Path, text: str) -> Path:
    path = root / "simulation.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def pass_rate_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("pass rate ")]


# --------------------------------------------------------------------- the threshold


@pytest.mark.parametrize(
    ("args", "extra", "code"),
    [
        ((), "", 1),  # no threshold: a conversation failed (the malformed reply)
        (("--fail-under", "0.5"), "", 1),  # 40% < 50%
        (("--fail-under", "0.4"), "", 0),  # 40% == 40%: not below
        (("--fail-under", "0"), "", 0),
        ((), "fail_under: 0.9\n", 1),  # the file's key
        ((), "fail_under: 0.25\n", 0),
        (("--fail-under", "0.3"), "fail_under: 0.9\n", 0),  # the flag wins
        (("--fail-under", "0.9"), "fail_under: 0.3\n", 1),
    ],
)
async def test_fail_under_exits_1_below_the_printed_pass_rate(
    tmp_path, args, extra, code
):
    async with ws.serve(support_agent) as server:
        config = write(tmp_path, experiment(server.url, extra=extra))
        done = await clientsim(tmp_path, "run", config, *args)
    assert done.returncode == code, explain(done)
    assert pass_rate_lines(done.stdout) == ["pass rate 40.0% (95% CI 11.8%-76.9%)"]
    (folder,) = experiment_dirs(tmp_path / "experiments")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["pass_rate"]["value"] == 0.4
    below = "the pass rate is below the threshold" in done.stderr
    assert below is (code == 1 and bool(args or extra))
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("value", ["1.5", "-0.1", "abc", "nan", "inf", ""])
async def test_a_bad_fail_under_exits_2_with_one_error_line(tmp_path, value):
    config = write(tmp_path, experiment("ws://127.0.0.1:9/agent"))
    done = await clientsim(tmp_path, "run", config, f"--fail-under={value}")
    assert_clean_failure(done, "--fail-under must be a number from 0 to 1", repr(value))
    assert experiment_dirs(tmp_path / "experiments") == []  # nothing ran


@pytest.mark.parametrize(
    ("value", "shown"), [("1.5", "1.5"), ('"0.8"', "'0.8'"), ("true", "true")]
)
async def test_a_bad_fail_under_key_exits_2_naming_it(tmp_path, value, shown):
    text = experiment("ws://127.0.0.1:9/agent", extra=f"fail_under: {value}\n")
    done = await clientsim(tmp_path, "run", write(tmp_path, text))
    assert_clean_failure(done, "fail_under: expected a number from 0 to 1", shown)


# ------------------------------------------------------------------------- JUnit XML


async def test_junit_xml_has_one_case_per_conversation_with_failures_explained(
    tmp_path,
):
    junit = tmp_path / "reports" / "junit.xml"  # its folder is made
    async with ws.serve(support_agent) as server:
        config = write(tmp_path, experiment(server.url))
        done = await clientsim(
            tmp_path, "run", config, "--fail-under", "0.8", "--junit-xml", junit
        )
    assert done.returncode == 1, explain(done)  # below: the file is written anyway
    root = ET.parse(junit).getroot()  # noqa: S314
    (suite,) = root.findall("testsuite")
    assert root.tag == "testsuites"
    assert suite.attrib | {"time": "-"} == {
        "name": "refunds",
        "tests": "5",
        "failures": "2",
        "errors": "1",
        "skipped": "0",
        "time": "-",
    }
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert sorted(cases) == sorted(
        f"{key}/default/0: {text}" for key, text in INPUTS.items()
    )
    assert {case.get("classname") for case in cases.values()} == {"refunds"}
    seeds = {trace["cell_key"]: trace["seed"] for trace in traces(started(done)[1])}

    for key in ("r1", "r2"):  # passed: no child
        assert list(cases[f"{key}/default/0: {INPUTS[key]}"]) == []

    parcel = cases["q1/default/0: where is my parcel"]
    (failure,) = list(parcel)
    assert failure.tag == "failure"
    assert failure.get("type") == "NoPassOutcome"
    assert failure.get("message") == (
        f"no pass outcome (outcome: none; wanted one of resolved); "
        f"seed {seeds['q1/default/0']}"
    )
    assert f"seed: {seeds['q1/default/0']}" in failure.text
    assert (
        "customer: where is my parcel\nagent: Could you tell me more?" in failure.text
    )

    weird = cases["q2/default/0: weird characters please"].find("failure")
    assert "agent: bell\\u0007 and a lone \\ud800 surrogate" in weird.text

    (error,) = list(cases["q3/default/0: explode"])
    assert error.tag == "error"
    assert "ChannelError" in error.get("type")
    assert f"seed {seeds['q3/default/0']}" in error.get("message")
    assert "customer: explode" in error.text
    assert "error: agent channel: " in error.text
    assert float(cases["q1/default/0: where is my parcel"].get("time")) > 0


async def test_junit_xml_trims_long_transcripts(tmp_path):
    long_input = "refund? " + "x" * 900

    async def chatty(connection: ws.Connection) -> None:
        async for _ in connection.customer_messages():
            await connection.say(*(f"line {n}: " + "y" * 600 for n in range(45)))
            await connection.end_turn()

    junit = tmp_path / "junit.xml"
    async with ws.serve(chatty) as server:
        text = experiment(server.url, inputs={"long": long_input})
        done = await clientsim(
            tmp_path, "run", write(tmp_path, text), "--junit-xml", junit
        )
    assert done.returncode == 0, explain(done)  # no threshold, nothing failed
    case = ET.parse(junit).getroot().find("testsuite/testcase")  # noqa: S314
    assert len(case.get("name")) < 120
    failure = case.find("failure")
    lines = failure.text.split("transcript:\n", 1)[1].splitlines()
    assert lines[0] == "... 6 earlier message(s)"  # 46 messages, the last 40 shown
    assert len(lines) == 41
    assert lines[-1].startswith("agent: line 44: yyy")
    assert all(len(line) <= len("agent: ") + 500 for line in lines)


# ----------------------------------------------------------------------------- quiet


async def test_quiet_prints_the_pass_rate_and_no_progress(tmp_path):
    async with ws.serve(support_agent) as server:
        config = write(tmp_path, experiment(server.url))
        done = await clientsim(tmp_path, "run", config, "--quiet", "--fail-under", ".3")
        loud = await clientsim(tmp_path, "run", config, "--fail-under", ".3")
    assert done.returncode == loud.returncode == 0, explain(done)
    assert progress(done.stdout) == []
    assert pass_rate_lines(done.stdout) == ["pass rate 40.0% (95% CI 11.8%-76.9%)"]
    assert "results:" not in done.stdout
    assert len(progress(loud.stdout)) == 5
    assert pass_rate_lines(loud.stdout) == pass_rate_lines(done.stdout)
    assert "the pass rate meets the threshold 30.0%" in loud.stdout


# ------------------------------------------------------------- an agent that greets


async def test_an_experiment_file_with_first_agent_records_the_greeting_first(
    tmp_path,
):
    async with ws.serve(greeting_agent) as server:
        text = experiment(
            server.url, extra="first: agent\n", inputs={"a": "my order is late"}
        )
        done = await clientsim(
            tmp_path, "run", write(tmp_path, text), "--fail-under", "1"
        )
    assert done.returncode == 0, explain(done)
    (trace,) = traces(started(done)[1])
    assert [(m["role"], m["content"]) for m in trace["transcript"]] == [
        ("agent", GREETING),
        ("customer", "my order is late"),
        ("agent", "Your refund issued for: my order is late"),
    ]


async def test_a_bad_first_key_exits_2_naming_the_allowed_values(tmp_path):
    text = experiment("ws://127.0.0.1:9/agent", extra="first: bot\n")
    done = await clientsim(tmp_path, "run", write(tmp_path, text))
    assert_clean_failure(done, "first: expected one of 'customer', 'agent'", "'bot'")
