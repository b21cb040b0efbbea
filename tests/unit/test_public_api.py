"""The public API: sorted ``__all__`` lists that name real, importable things, a top
level that serves both halves lazily, and an ``import clientsim`` that stays light."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import clientsim


LANGCHAIN = ("langchain_core", "langchain_openai", "openai")


def _public_modules() -> list[str]:
    """Every module of clientsim whose dotted name has no ``_``-prefixed part."""
    walked = pkgutil.walk_packages(clientsim.__path__, "clientsim.")
    return sorted(
        [
            "clientsim",
            *(
                info.name
                for info in walked
                if not any(part.startswith("_") for part in info.name.split("."))
            ),
        ]
    )


PUBLIC_MODULES = _public_modules()


def _type_checking_imports() -> dict[str, str]:
    """What ``clientsim/__init__.py`` imports for type checkers: name -> module."""
    tree = ast.parse(Path(clientsim.__file__).read_text(encoding="utf-8"))
    imported: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
                assert statement.module is not None
                for alias in statement.names:
                    assert alias.asname is None, alias.name
                    imported[alias.name] = statement.module
    return imported


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_walk_finds_both_halves():
    for module in (
        "clientsim.channels.http",
        "clientsim.clients.pool",
        "clientsim.factory",
        "clientsim.intake.base",
        "clientsim.reports.base",
        "clientsim.runners.full",
        "clientsim.simulation.runner",
    ):
        assert module in PUBLIC_MODULES
    assert "clientsim.__main__" not in PUBLIC_MODULES
    assert "clientsim._builtins" not in PUBLIC_MODULES


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_module_lists_real_importable_names(module):
    imported = importlib.import_module(module)
    names = getattr(imported, "__all__", None)
    assert isinstance(names, list), f"{module} has no __all__ list"
    assert len(set(names)) == len(names), f"{module}.__all__ repeats a name"
    for name in names:
        assert isinstance(name, str)
        value = getattr(imported, name)  # AttributeError names the missing one
        namespace: dict[str, object] = {}
        exec(f"from {module} import {name}", namespace)  # noqa: S102
        assert namespace[name] is value, f"{module}.{name}"


def test_the_top_level_all_is_sorted_and_has_no_duplicates():
    assert clientsim.__all__ == sorted(clientsim.__all__)
    assert len(set(clientsim.__all__)) == len(clientsim.__all__)


def test_dir_serves_exactly_the_top_level_all():
    served = {
        name
        for name in dir(clientsim)
        if not name.startswith("_") and not inspect.ismodule(getattr(clientsim, name))
    }
    assert served == set(clientsim.__all__) - {"__version__"}
    assert "__version__" in dir(clientsim)


def test_type_checkers_see_what_the_top_level_serves():
    # The TYPE_CHECKING imports are what mypy and IDEs see; the lazy loader is what
    # runs. They must name the same objects, and exactly the names of __all__.
    imported = _type_checking_imports()
    assert set(imported) == set(clientsim.__all__) - {"__version__"}
    for name, module in imported.items():
        assert getattr(clientsim, name) is getattr(
            importlib.import_module(module), name
        ), name


@pytest.mark.parametrize("name", clientsim.__all__)
def test_every_top_level_name_resolves(name):
    value = getattr(clientsim, name)
    assert value is not None
    namespace: dict[str, object] = {}
    exec(f"from clientsim import {name}", namespace)  # noqa: S102
    assert namespace[name] is value


@pytest.mark.parametrize(
    "name",
    [
        # Seed 000: values, protocols, engines, config, stores.
        "ClientRequest",
        "ClientProfile",
        "TaskRequirement",
        "Task",
        "TaskStatus",
        "RequestStatus",
        "ClientInterface",
        "RequirementGenerator",
        "FeedbackStrategy",
        "ReviewStage",
        "IntakeStrategy",
        "ReportStrategy",
        "ClientSelectionStrategy",
        "EntryPointStrategy",
        "WorkEntryAdapter",
        "TaskEngine",
        "InMemoryTaskEngine",
        "IntakeEngine",
        "ReviewPipeline",
        "SimulationRunner",
        "ContinuousMode",
        "ClientSimulationConfig",
        "SimulationStore",
        "InMemoryStore",
        "SQLiteStore",
        # Seed 004: channels and sessions, runners.
        "Channel",
        "Session",
        "InMemoryChannel",
        "TargetChannel",
        "RunnableChannel",
        "HTTPChannel",
        "WebSocketChannel",
        "FullSimulationRunner",
        "HybridSimulationRunner",
        # The spine: errors, factories, plugins.
        "UnknownStrategyError",
        "build_requirement_generator",
        "build_work_entry_adapter",
        "hookimpl",
    ],
)
def test_both_halves_are_at_the_top_level(name):
    assert name in clientsim.__all__


def test_the_whole_error_tree_is_at_the_top_level():
    from clientsim import errors

    classes = {
        name
        for name in errors.__all__
        if inspect.isclass(getattr(errors, name))
        and issubclass(getattr(errors, name), Exception | Warning)
    }
    assert classes
    assert classes <= set(clientsim.__all__)


def test_every_factory_is_at_the_top_level():
    from clientsim import factory

    builders = {name for name in factory.__all__ if name.startswith("build_")}
    # the eleven of seed 000 and 003, turn policies, roles, review stages, population
    # modes, metrics, executors
    assert len(builders) == 17
    assert builders <= set(clientsim.__all__)


def test_models_has_the_values_of_both_halves():
    from clientsim import models
    from clientsim.models import client

    assert set(client.__all__) <= set(models.__all__)
    assert models.TaskRequirement is client.TaskRequirement


def test_every_exported_class_and_function_comes_from_clientsim():
    for name in clientsim.__all__:
        value = getattr(clientsim, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.split(".")[0] == "clientsim", name


def test_version_is_a_string():
    assert isinstance(clientsim.__version__, str)
    assert clientsim.__version__[0].isdigit()


def test_unknown_attributes_raise_attribute_error():
    with pytest.raises(
        AttributeError, match="module 'clientsim' has no attribute 'Nope'"
    ):
        _ = clientsim.Nope
    with pytest.raises(ImportError, match="Nope"):
        exec("from clientsim import Nope", {})  # noqa: S102


def test_import_clientsim_loads_nothing_else_and_is_quick():
    out = _run(
        """
        import sys, time
        start = time.perf_counter()
        import clientsim
        took = time.perf_counter() - start
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "clientsim")
        print(took, ",".join(loaded))
        """
    )
    took, loaded = out.split(" ")
    assert loaded == "clientsim"
    assert float(took) <= 0.3


def test_import_clientsim_does_not_load_langchain():
    out = _run(
        """
        import sys
        import clientsim
        from clientsim import factory, models, plugins, termination, evaluation
        loaded = sorted(
            name for name in sys.modules
            if name.split(".")[0] in {"langchain_core", "langchain_openai", "openai"}
        )
        print(",".join(loaded))
        """
    )
    assert out == ""


def test_only_the_offline_model_needs_langchain():
    out = _run(
        f"""
        import sys
        import clientsim
        for name in clientsim.__all__:
            if name != "OfflineChatModel":
                getattr(clientsim, name)
        print(",".join(sorted(
            name for name in sys.modules if name.split(".")[0] in {LANGCHAIN!r}
        )))
        """
    )
    assert out == ""


def test_version_survives_an_import_of_the_version_module(
    monkeypatch: pytest.MonkeyPatch,
):
    # Importing clientsim._version binds the submodule as the package's attribute
    # `_version`: the top level's version reader must not share that name.
    import clientsim._version

    monkeypatch.delitem(clientsim.__dict__, "__version__", raising=False)
    assert isinstance(clientsim.__version__, str)
