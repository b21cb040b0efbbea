"""The top-level API: a sorted __all__ that matches the public names, and a light import."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import textwrap

import pytest

import clientsim


def _public_attributes() -> set[str]:
    """Public names bound in the package namespace, submodules aside."""
    return {
        name
        for name, value in vars(clientsim).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }


def test_all_is_sorted_and_has_no_duplicates():
    assert clientsim.__all__ == sorted(clientsim.__all__)
    assert len(set(clientsim.__all__)) == len(clientsim.__all__)


@pytest.mark.parametrize("name", clientsim.__all__)
def test_every_name_in_all_is_importable(name):
    value = getattr(clientsim, name)
    assert value is not None
    namespace: dict[str, object] = {}
    exec(f"from clientsim import {name}", namespace)  # noqa: S102
    assert namespace[name] == value


def test_all_matches_the_public_names():
    # STYLE.md: __init__ holds "re-exports + sorted __all__ (nothing else)". The lazily
    # served names (__version__, OfflineChatModel) are not bound until used; every other
    # name bound without a leading underscore must be listed, and nothing else.
    lazy = set(clientsim.__all__) - _public_attributes()
    assert lazy <= {"__version__", "OfflineChatModel"}
    assert _public_attributes() == set(clientsim.__all__) - lazy


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


@pytest.mark.parametrize(
    "module",
    [
        "clientsim.errors",
        "clientsim.events",
        "clientsim.evaluation",
        "clientsim.factory",
        "clientsim.models",
        "clientsim.participants",
        "clientsim.plugins",
        "clientsim.registry",
        "clientsim.runners",
        "clientsim.termination",
    ],
)
def test_public_modules_all_names_real_attributes(module):
    imported = importlib.import_module(module)
    assert imported.__all__
    for name in imported.__all__:
        assert hasattr(imported, name), f"{module}.{name}"


def test_import_clientsim_does_not_load_langchain():
    code = textwrap.dedent(
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
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
