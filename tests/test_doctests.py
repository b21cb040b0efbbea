"""The examples in clientsim's docstrings run and print what they show.

One test per module of ``src/clientsim`` that has examples (``>>>``), run in this
process by the standard ``doctest`` runner with the module's globals, as ``pytest
--doctest-modules`` would. So that the outcome does not depend on the machine, each
module runs in a fresh temporary directory (its working directory, and where
``tempfile`` puts what the examples make), in a time zone far from UTC, with no
model or API key picked up from the environment. Warnings are errors here as
everywhere in the suite, so an example that uses a deprecated path fails.

An example that needs a network or a real model is marked ``# doctest: +SKIP``;
everything else runs offline (the offline model, fakes, local functions as agents).
"""

from __future__ import annotations

import doctest
import importlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


PACKAGE = Path(__file__).parents[1] / "src" / "clientsim"

#: 13h45 ahead of UTC, no daylight saving: a naive local time, or a date near
#: midnight, reads differently here than in UTC, so an example that leaks the
#: machine's time zone into its output fails on every machine, not only on some.
FAR_TIME_ZONE = "<+1345>-13:45"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(
    module_name(path)
    for path in PACKAGE.rglob("*.py")
    if ">>>" in path.read_text(encoding="utf-8")
)


@pytest.fixture(name="far_time_zone")
def _far_time_zone() -> Iterator[None]:
    if not hasattr(time, "tzset"):  # Windows: the zone cannot be set per process
        yield
        return
    saved = os.environ.get("TZ")
    os.environ["TZ"] = FAR_TIME_ZONE
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


@pytest.fixture(name="isolated")
def _isolated(far_time_zone, tmp_path, monkeypatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    # An experiment adds its folder to sys.path and imports its agent module: undo
    # both, so that no later test sees this test's "agent".
    monkeypatch.setattr(sys, "path", [*sys.path])
    # Examples make their folders with tempfile (so a reader can paste them): keep
    # those folders under this test's tmp_path, so that none outlives the run.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CLIENTSIM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    # CLIENTSIM_DISABLE_PLUGINS is not set: plugins load once per process, so setting
    # it here would hide the installed plugins from every later test; no example's
    # output depends on them (tests/test_docs.py checks the pages without them).
    yield
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file is not None and Path(file).is_relative_to(tmp_path):
            del sys.modules[name]


def test_the_docstrings_have_examples_to_check():
    assert len(MODULES) >= 40
    assert "clientsim.runners.full" in MODULES


def test_the_time_zone_is_really_far_from_utc(far_time_zone):
    if not hasattr(time, "tzset"):
        pytest.skip("the time zone cannot be set on this platform")
    assert time.localtime(0).tm_hour == 13
    assert time.localtime(0).tm_min == 45


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.usefixtures("isolated")
def test_docstring_examples(name):
    module = importlib.import_module(name)
    tests = [
        test for test in doctest.DocTestFinder().find(module, name) if test.examples
    ]
    report: list[str] = []
    # ELLIPSIS as under pytest --doctest-modules: "..." in an expected output (or a
    # traceback's middle) matches anything.
    runner = doctest.DocTestRunner(verbose=False, optionflags=doctest.ELLIPSIS)
    failed = sum(
        runner.run(test, out=report.append).failed
        for test in sorted(tests, key=lambda test: test.name)
    )
    assert failed == 0, "".join(report)
