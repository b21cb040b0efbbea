"""LLM plumbing: the only package that imports LangChain (always lazily).

``import clientsim.llm`` is cheap; LangChain loads on first use of a model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clientsim.llm.calls import (
    ChatView,
    Completion,
    StructuredCall,
    complete,
    model_name,
    usage_of,
)
from clientsim.llm.rates import rate_limiter
from clientsim.llm.specs import (
    ModelSpec,
    aclose_models,
    check_model,
    model_providers,
    resolve_model,
)
from clientsim.llm.turns import Turn, TurnRole


if TYPE_CHECKING:
    from clientsim.llm.cache import SQLiteCache, enable_cache
    from clientsim.llm.offline import OfflineChatModel

__all__ = [
    "ChatView",
    "Completion",
    "ModelSpec",
    "OfflineChatModel",
    "SQLiteCache",
    "StructuredCall",
    "Turn",
    "TurnRole",
    "aclose_models",
    "check_model",
    "complete",
    "enable_cache",
    "model_name",
    "model_providers",
    "rate_limiter",
    "resolve_model",
    "usage_of",
]

_LAZY = {
    "OfflineChatModel": "clientsim.llm.offline",
    "SQLiteCache": "clientsim.llm.cache",
    "enable_cache": "clientsim.llm.cache",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clientsim.llm' has no attribute {name!r}")
    import importlib  # noqa: PLC0415

    return getattr(importlib.import_module(module), name)
