"""pluggy's markers for clientsim's hooks, and the ``register`` callback's type.

Ground floor: the plugin manager (:mod:`clientsim.plugins`), the built-ins and any
plugin import them without importing the manager.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pluggy


__all__ = ["PROJECT", "Register", "hookimpl", "hookspec"]

PROJECT: Final = "clientsim"
"""The pluggy project name (and the entry-point group)."""

hookspec: Final = pluggy.HookspecMarker(PROJECT)
"""Marks clientsim's hook specifications (for clientsim itself)."""
hookimpl: Final = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's hook implementations: ``@clientsim.hookimpl``."""

Register = Callable[[str, Callable[..., Any]], None]
"""The callback a registration hook receives: ``register(name, factory)``."""
