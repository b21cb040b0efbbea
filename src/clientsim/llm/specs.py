"""Model specs: ``"offline"``, ``"offline:7"``, ``"openai:gpt-4o-mini"``,
``"groq:llama-3.3-70b-versatile"`` or a model object.

A spec names a provider registered through the ``clientsim_register_models`` hook and,
after a colon, a model of that provider. Resolving the same spec twice on the same event
loop returns the same object, so every participant and conversation naming it shares one
model (and one HTTP connection pool). A model object is passed through unchanged.

With ``RATE_LIMIT_REQUESTS`` set, every model built from a spec (but the offline
model) gets its provider's rate budget, shared per provider and key by every process
that uses the same backend (see :mod:`clientsim.llm.budget`), unless the provider gave
it a limiter of its own; the lean OpenAI model then leaves 429s to the budget.
"""

from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING, Final, TypeAlias

import anyio.lowlevel
import sniffio

from clientsim.errors import ClientSimError, ConfigError, ModelError
from clientsim.llm.rates import provider_rate_limiter
from clientsim.registry import Registry


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_openai import ChatOpenAI

__all__ = [
    "ModelSpec",
    "aclose_models",
    "check_model",
    "model_providers",
    "resolve_model",
]

ModelSpec: TypeAlias = "str | BaseChatModel"
"""A chat model, or a spec string that names one."""

model_providers: Final[Registry[BaseChatModel]] = Registry(
    family="model provider", hook="clientsim_register_models"
)
"""Model providers by spec prefix (``offline``, ``openai``, and plugins')."""

_per_loop: weakref.WeakKeyDictionary[object, dict[str, BaseChatModel]] = (
    weakref.WeakKeyDictionary()
)
_outside_loop: dict[str, BaseChatModel] = {}


def _loop() -> object | None:
    try:
        sniffio.current_async_library()
        return anyio.lowlevel.current_token().native_token
    except (sniffio.AsyncLibraryNotFoundError, RuntimeError):
        return None


def _cache() -> dict[str, BaseChatModel]:
    # Keyed by the running event loop: provider HTTP clients are bound to the loop they
    # were first used on, and a new loop (a new test, a second anyio.run) needs new ones.
    loop = _loop()
    if loop is None:
        return _outside_loop
    try:
        return _per_loop.setdefault(loop, {})
    except TypeError:  # a loop that cannot be weakly referenced
        return _outside_loop


async def aclose_models() -> None:
    """Close the HTTP clients of the models resolved from specs on this event loop.

    Call it when you are done (e.g. in a ``finally`` before ``anyio.run`` returns) so
    provider connections close cleanly; a later :func:`resolve_model` builds new
    models. Model objects you built yourself are yours to close.
    """
    loop = _loop()
    models = _per_loop.pop(loop, {}) if loop is not None else {}
    for model in models.values():
        client = getattr(model, "http_async_client", None)
        aclose = getattr(client, "aclose", None)
        if aclose is not None:
            await aclose()
    if loop is not None:
        from clientsim._http import aclose_session  # noqa: PLC0415

        await aclose_session()  # the shared session of the lean OpenAI models


def resolve_model(spec: str | BaseChatModel) -> BaseChatModel:
    """Return the chat model a spec names (building it once per event loop).

    Raises:
        UnknownStrategyError: the provider is not registered (lists those that are).
        ConfigError: the spec is malformed.
        ModelError: the provider could not build the model (e.g. no API key).
    """
    if not isinstance(spec, str):
        from langchain_core.language_models import BaseChatModel  # noqa: PLC0415

        if isinstance(spec, BaseChatModel):
            return spec
        raise ConfigError(
            "a model must be a LangChain BaseChatModel or a spec string such as "
            f"'offline' or 'openai:gpt-4o-mini'; got {type(spec).__name__}"
        )
    cache = _cache()
    model = cache.get(spec)
    if model is None:
        model = cache[spec] = _build(spec)
    return model


def check_model(model: object) -> ModelSpec | None:
    """``model`` if it is ``None``, a non-blank spec or a chat model: checks a
    ``model=`` argument when it is given, before anything resolves it.

    Raises:
        ConfigError: it is none of these.

    Example:
        >>> check_model("offline"), check_model(None)
        ('offline', None)
    """
    if model is None:
        return None
    if isinstance(model, str):
        if not model.strip():
            raise ConfigError(
                "model must be a non-blank spec such as 'offline'; got ''"
            )
        return model
    if not hasattr(model, "ainvoke"):
        raise ConfigError(
            "model must be None, a model spec (e.g. 'offline') or a LangChain chat "
            f"model; got {type(model).__name__}"
        )
    return model  # type: ignore[return-value]


def _build(spec: str) -> BaseChatModel:
    provider, _, name = spec.strip().partition(":")
    if not provider:
        raise ConfigError(
            f"a model spec must look like 'provider' or 'provider:model', e.g. "
            f"'offline' or 'openai:gpt-4o-mini'; got {spec!r}"
        )
    factory = model_providers.get(provider)
    limiter = provider_rate_limiter(provider)  # a bad limit fails before any build
    try:
        model = factory(name)
    except ClientSimError:
        raise
    except Exception as exc:
        raise ModelError(
            f"cannot build chat model {spec!r}: {type(exc).__name__}: {exc}"
        ) from exc
    if limiter is not None and getattr(model, "rate_limiter", limiter) is None:
        model.rate_limiter = limiter
        if "retry_rate_limits" in type(model).model_fields:
            # A 429 goes to the shared budget, which waits Retry-After once for all.
            setattr(model, "retry_rate_limits", False)  # noqa: B010 - a pydantic field
    return model


def build_offline(name: str) -> BaseChatModel:
    """``offline`` or ``offline:<seed>``: the deterministic offline model."""
    from clientsim.llm.offline import OfflineChatModel  # noqa: PLC0415

    if name and not name.lstrip("-").isdigit():
        raise ConfigError(
            f"the offline model takes an integer seed after the colon, e.g. "
            f"'offline:7'; got 'offline:{name}'"
        )
    return OfflineChatModel(seed=int(name) if name else 0)


DEFAULT_TIMEOUT_SECONDS: Final = 60.0


OPENAI_CLIENT: Final = "CLIENTSIM_OPENAI_CLIENT"
"""The environment variable that chooses the client of ``openai:`` and ``groq:`` specs:
``http`` (the default, :class:`~clientsim.llm.openai_http.OpenAIHTTPChatModel` on the
shared aiohttp session) or ``langchain`` (``ChatOpenAI``)."""

OPENAI_CLIENTS: Final = ("http", "langchain")


def openai_client() -> str:
    """The client ``openai:`` and ``groq:`` specs build (``CLIENTSIM_OPENAI_CLIENT``).

    Raises:
        ConfigError: the variable names no client.
    """
    value = os.environ.get(OPENAI_CLIENT, "").strip().lower() or "http"
    if value not in OPENAI_CLIENTS:
        raise ConfigError(
            f"{OPENAI_CLIENT} must be one of {', '.join(OPENAI_CLIENTS)}; got {value!r}"
        )
    return value


def build_openai(name: str) -> BaseChatModel:
    """``openai:<model>``: clientsim's lean OpenAI-compatible model on the shared
    aiohttp session (``ChatOpenAI`` with ``CLIENTSIM_OPENAI_CLIENT=langchain``).

    Reads ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` as the openai SDK does; with a base
    URL and no key (a local OpenAI-compatible server) a placeholder key is sent.
    """
    if not name:
        raise ConfigError(
            "an openai model spec names the model, e.g. 'openai:gpt-4o-mini'"
        )
    base_url = os.environ.get("OPENAI_BASE_URL") or None
    if not os.environ.get("OPENAI_API_KEY") and base_url is None:
        raise ConfigError(
            f"'openai:{name}' needs OPENAI_API_KEY (or OPENAI_BASE_URL pointing at an "
            "OpenAI-compatible server); set one, or use the 'offline' model"
        )
    if openai_client() == "http":
        from pydantic import SecretStr  # noqa: PLC0415

        from clientsim.llm.openai_http import OpenAIHTTPChatModel  # noqa: PLC0415

        key = os.environ.get("OPENAI_API_KEY") or "not-needed"
        return OpenAIHTTPChatModel(
            model=name,
            base_url=base_url or "https://api.openai.com/v1",
            api_key=SecretStr(key),
            timeout=DEFAULT_TIMEOUT_SECONDS,
            max_retries=2,
        )
    return _openai_compatible(
        name,
        base_url=base_url,
        api_key=None if os.environ.get("OPENAI_API_KEY") else "not-needed",
    )


GROQ_API_KEY: Final = "GROQ_API_KEY"
"""The environment variable the ``groq:`` spec takes its API key from."""

GROQ_BASE_URL: Final = "GROQ_BASE_URL"
"""The environment variable that points ``groq:`` elsewhere (a proxy, a test server)."""

GROQ_DEFAULT_URL: Final = "https://api.groq.com/openai/v1"
"""Groq's OpenAI-compatible endpoint."""


def build_groq(name: str) -> BaseChatModel:
    """``groq:<model>``: Groq's OpenAI-compatible endpoint, on the same client as
    ``openai:`` (:class:`~clientsim.llm.groq.GroqChatModel`, or
    :class:`~clientsim.llm.groq.GroqChatOpenAI` with
    ``CLIENTSIM_OPENAI_CLIENT=langchain``); structured output by tool calling, which
    every Groq model with tool use takes.

    Reads ``GROQ_API_KEY`` (required; sent as a bearer token and never shown) and
    ``GROQ_BASE_URL`` (default ``https://api.groq.com/openai/v1``).
    """
    if not name:
        raise ConfigError(
            "a groq model spec names the model, e.g. 'groq:llama-3.3-70b-versatile'"
        )
    key = os.environ.get(GROQ_API_KEY, "").strip()
    if not key:
        raise ConfigError(
            f"'groq:{name}' needs {GROQ_API_KEY}: create a key at "
            f"https://console.groq.com/keys and set {GROQ_API_KEY} to it, or use "
            "the 'offline' model"
        )
    base_url = os.environ.get(GROQ_BASE_URL, "").strip() or GROQ_DEFAULT_URL
    from clientsim.llm.groq import GroqChatModel, GroqChatOpenAI  # noqa: PLC0415

    if openai_client() == "http":
        from pydantic import SecretStr  # noqa: PLC0415

        return GroqChatModel(
            model=name,
            base_url=base_url,
            api_key=SecretStr(key),
            timeout=DEFAULT_TIMEOUT_SECONDS,
            max_retries=2,
        )
    return _openai_compatible(name, base_url=base_url, api_key=key, kind=GroqChatOpenAI)


def _openai_compatible(
    name: str,
    *,
    base_url: str | None,
    api_key: str | None,
    kind: type[ChatOpenAI] | None = None,
) -> BaseChatModel:
    """``ChatOpenAI`` (or ``kind``) on its own aiohttp client (closed by
    :func:`aclose_models`)."""
    from langchain_openai import ChatOpenAI  # noqa: PLC0415
    from openai import DefaultAioHttpClient  # noqa: PLC0415

    kwargs: dict[str, object] = {}
    if api_key is not None:
        kwargs["api_key"] = api_key  # kept as a SecretStr: shown as '**********'
    return (kind or ChatOpenAI)(
        model=name,
        base_url=base_url,
        timeout=DEFAULT_TIMEOUT_SECONDS,
        max_retries=2,
        stream_usage=True,
        http_async_client=DefaultAioHttpClient(timeout=DEFAULT_TIMEOUT_SECONDS),
        **kwargs,  # type: ignore[arg-type]
    )
