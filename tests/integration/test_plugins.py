"""Third-party plugins through real entry points.

(a) ``tests/plugin_dist`` is a real distribution installed into the test environment
(nox's ``tests`` session installs it); its strategies are built by name from a config.
(b) Broken plugins are fake ``*.dist-info`` folders on ``PYTHONPATH`` of a fresh
interpreter, so that their failures cannot leak into this process's plugin manager.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clientsim import (
    FullSimulationRunner,
    Outcome,
    Outcomes,
    ParticipantRole,
    ScriptedParticipant,
)
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.factory import (
    build_outcome_evaluator,
    build_participant,
    build_termination,
    outcome_evaluators,
    participants,
    termination_strategies,
)
from clientsim.plugins import ENTRY_POINT_GROUP, get_plugin_manager


EXAMPLE_DIST = "clientsim-example-plugin"
POLITENESS = "clientsim-example-plugin/politeness"
ECHO = "clientsim-example-plugin/echo"
KEYWORD = "clientsim-example-plugin/keyword"


# --- (a) the installed example plugin ----------------------------------------------


@pytest.fixture(name="example_dist")
def _example_dist() -> importlib.metadata.Distribution:
    try:
        return importlib.metadata.distribution(EXAMPLE_DIST)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(
            f"the {EXAMPLE_DIST} test distribution is not installed; run "
            "`pip install ./tests/plugin_dist` (nox's tests session installs it)"
        )


def test_the_example_dist_exposes_a_clientsim_entry_point(example_dist):
    (entry_point,) = [
        ep for ep in example_dist.entry_points if ep.group == ENTRY_POINT_GROUP
    ]
    assert (entry_point.name, entry_point.value) == (
        "example",
        "clientsim_example_plugin",
    )
    plugin = get_plugin_manager().get_plugin(f"{example_dist.name}:example")
    assert plugin is not None
    assert plugin.__name__ == "clientsim_example_plugin"


def test_the_example_plugin_adds_namespaced_names(example_dist):
    assert POLITENESS in termination_strategies.names()
    assert ECHO in participants.names()
    assert KEYWORD in outcome_evaluators.names()


async def test_a_plugin_strategy_built_by_name_ends_a_real_run(
    example_dist, hello, intent, outcomes, base_time
):
    config = {
        "termination": [
            {"strategy": POLITENESS, "phrase": "Thank you", "times": 2},
            {"strategy": "max_messages", "max_messages": 20},
        ],
    }
    customer = ScriptedParticipant(
        ParticipantRole.CUSTOMER,
        ["It says my password expired", "Thank you!", "Great, thank you so much"],
    )
    agent = ScriptedParticipant(
        ParticipantRole.AGENT,
        ["I have reset it", "You are welcome", "Anything else?", "Bye"],
    )
    runner = FullSimulationRunner(
        customer,
        agent,
        hello,
        intent,
        outcomes,
        base_timestamp=base_time,
        termination=build_termination(config["termination"]),
    )
    result = await runner.run()
    assert result.ok
    assert result.ending is not None
    assert result.ending.reason == POLITENESS
    assert result.ending.message_count == 7  # the second "thank you"
    assert result.conversation.messages[-1].content == "Great, thank you so much"


async def test_a_plugin_participant_built_by_name_takes_part_in_a_run(
    example_dist, hello, intent, outcomes, base_time
):
    agent = build_participant({"strategy": ECHO, "role": "agent", "prefix": "Echo: "})
    customer = build_participant(
        {"strategy": "scripted", "role": "customer", "lines": ["Is anyone there?"]}
    )
    runner = FullSimulationRunner(
        customer,
        agent,
        hello,
        intent,
        outcomes,
        base_timestamp=base_time,
        termination=build_termination(
            {"strategy": POLITENESS, "phrase": "anyone there"}
        ),
    )
    result = await runner.run()
    contents = [m.content for m in result.conversation.messages]
    assert contents == [
        "Hello, I need help",
        "Echo: Hello, I need help",
        "Is anyone there?",
    ]
    assert result.ending is not None
    assert result.ending.reason == POLITENESS


async def test_a_plugin_outcome_evaluator_built_by_name_judges_a_real_run(
    example_dist, hello, intent, base_time
):
    outcomes = Outcomes(
        (
            Outcome("refunded", "The agent issued a refund"),
            Outcome("other", "Anything else"),
        )
    )
    evaluator = build_outcome_evaluator(
        {"strategy": KEYWORD, "outcome": "refunded", "keyword": "Refund Issued"}
    )
    customer = ScriptedParticipant(
        ParticipantRole.CUSTOMER, ["I was charged twice", "Thanks"]
    )
    agent = ScriptedParticipant(
        ParticipantRole.AGENT,
        ["Let me look", "Refund issued to your card", "Bye"],
    )
    runner = FullSimulationRunner(
        customer,
        agent,
        hello,
        intent,
        outcomes,
        base_timestamp=base_time,
        outcome_evaluator=evaluator,
        termination=build_termination("outcome_reached"),
    )
    result = await runner.run()
    assert result.outcome == outcomes.get_outcome_by_name("refunded")
    contents = [m.content for m in result.conversation.messages]
    assert contents[-1] == "Refund issued to your card"


async def test_the_plugin_evaluator_ignores_the_keyword_from_the_customer(
    example_dist,
):
    from clientsim import Conversation, Message

    outcomes = Outcomes((Outcome("refunded", "The agent issued a refund"),))
    evaluator = build_outcome_evaluator(
        {"strategy": KEYWORD, "outcome": "refunded", "keyword": "refund issued"}
    )
    said = Message(
        content="Was the refund issued?",
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        sender=ParticipantRole.CUSTOMER,
    )
    assert await evaluator.evaluate(Conversation((said,)), outcomes) is None
    with pytest.raises(ConfigError, match=f"invalid options for .*'{KEYWORD}'"):
        build_outcome_evaluator({"strategy": KEYWORD, "outcome": "", "keyword": "x"})


def test_plugin_strategy_options_are_checked(example_dist):
    with pytest.raises(ConfigError, match=f"unknown option.*'colour'.*{POLITENESS}"):
        build_termination({"strategy": POLITENESS, "colour": "red"})
    with pytest.raises(
        ConfigError, match=f"invalid options for .*'{POLITENESS}'.*times"
    ):
        build_termination({"strategy": POLITENESS, "times": 0})


def test_a_misspelt_plugin_name_suggests_the_plugin(example_dist):
    with pytest.raises(UnknownStrategyError, match=f"did you mean '{POLITENESS}'"):
        build_termination("clientsim-example-plugin/politness")


# --- (b) broken plugins, each in a fresh interpreter ---------------------------------

LOOKUP = textwrap.dedent(
    """
    import json
    from clientsim.errors import PluginError
    from clientsim.factory import build_termination, termination_strategies

    try:
        strategy = build_termination({"strategy": "max_messages", "max_messages": 3})
        names = termination_strategies.names()
    except PluginError as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
    else:
        print(json.dumps({"built": type(strategy).__name__, "names": list(names)}))
    """
)


def _fake_dist(
    root: Path, *, dist: str, entry_point: str, module: str, source: str | None
) -> None:
    """Write ``module.py`` (unless ``source`` is None) and a dist-info naming it."""
    info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n{entry_point} = {module}\n", encoding="utf-8"
    )
    if source is not None:
        (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")


def _lookup(path: Path, *, disable: bool) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "CLIENTSIM_DISABLE_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(path), os.environ.get("PYTHONPATH", "")) if p
    )
    if disable:
        env["CLIENTSIM_DISABLE_PLUGINS"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", LOOKUP],
        capture_output=True,
        text=True,
        env=env,
        cwd=path,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


BROKEN = {
    "import-error": """
        raise ImportError("No module named 'missing_dependency'")
    """,
    "error-at-import": """
        raise RuntimeError("plugin configuration is incomplete")
    """,
    "missing-module": None,
    "wrong-hook-name": """
        import clientsim

        @clientsim.hookimpl
        def clientsim_register_terminations(register):
            register("broken/stop", object)
    """,
    "wrong-hook-arguments": """
        import clientsim

        @clientsim.hookimpl
        def clientsim_register_termination(registry):
            registry("broken/stop", object)
    """,
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_plugin_is_a_plugin_error_naming_entry_point_and_dist(tmp_path, case):
    _fake_dist(
        tmp_path,
        dist="broken-plugin",
        entry_point="broken_ep",
        module="broken_plugin_module",
        source=BROKEN[case],
    )
    result = _lookup(tmp_path, disable=False)
    assert result.get("error") == "PluginError", result
    message = str(result["message"])
    assert "'broken_ep'" in message
    assert "broken-plugin" in message


def test_disabling_plugins_skips_every_broken_one(tmp_path):
    for number, case in enumerate(sorted(BROKEN)):
        _fake_dist(
            tmp_path,
            dist=f"broken-plugin-{number}",
            entry_point=f"broken_ep_{number}",
            module=f"broken_plugin_module_{number}",
            source=BROKEN[case],
        )
    assert _lookup(tmp_path, disable=False).get("error") == "PluginError"
    result = _lookup(tmp_path, disable=True)
    assert result.get("built") == "MaxMessages", result
    assert not any("/" in name for name in result["names"])  # no third-party names


def test_an_import_error_message_says_what_failed_and_how_to_skip(tmp_path):
    _fake_dist(
        tmp_path,
        dist="broken-plugin",
        entry_point="broken_ep",
        module="broken_plugin_module",
        source=BROKEN["import-error"],
    )
    message = str(_lookup(tmp_path, disable=False)["message"])
    assert "broken-plugin 1.2.3" in message
    assert "ImportError: No module named 'missing_dependency'" in message
    assert "CLIENTSIM_DISABLE_PLUGINS=1" in message


def test_a_working_fake_dist_is_loaded(tmp_path):
    _fake_dist(
        tmp_path,
        dist="fine-plugin",
        entry_point="fine",
        module="fine_plugin_module",
        source="""
            import clientsim

            class Stop:
                async def check(self, context):
                    return None

            @clientsim.hookimpl
            def clientsim_register_termination(register):
                register("fine-plugin/stop", Stop)
        """,
    )
    assert "fine-plugin/stop" in _lookup(tmp_path, disable=False)["names"]
    assert "fine-plugin/stop" not in _lookup(tmp_path, disable=True)["names"]


def test_two_dists_with_the_same_entry_point_name_are_not_dropped_silently(tmp_path):
    # Entry-point names are chosen by each distribution independently; when two clash,
    # loading must either register both or fail loudly, never skip one.
    for dist in ("dup-one", "dup-two"):
        _fake_dist(
            tmp_path,
            dist=dist,
            entry_point="shared",
            module=dist.replace("-", "_"),
            source=f"""
                import clientsim

                class Stop:
                    async def check(self, context):
                        return None

                @clientsim.hookimpl
                def clientsim_register_termination(register):
                    register("{dist}/stop", Stop)
            """,
        )
    result = _lookup(tmp_path, disable=False)
    if "error" in result:
        assert result["error"] == "PluginError"
        assert "dup-one" in str(result["message"])
        assert "dup-two" in str(result["message"])
    else:
        assert {"dup-one/stop", "dup-two/stop"} <= set(result["names"]), result
