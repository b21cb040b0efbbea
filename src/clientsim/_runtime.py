"""How clientsim runs other people's code: task groups and sync calls, one rule each.

Ground floor: every part that runs user code (runners, the intake and task engines,
the client simulation) uses these, so the rules below hold everywhere alike.

- :func:`task_group` is ``anyio.create_task_group()`` that raises what actually went
  wrong instead of an ``ExceptionGroup``: a :class:`~clientsim.errors.ConfigError`
  first (configuration errors always propagate, unwrapped), otherwise the one error
  that happened (the others, if several failed at once, are named in its notes).
  :func:`unwrap` applies the same rule to a group caught elsewhere.
- :func:`run_sync` calls a sync function in a worker thread that is *abandoned* when
  the caller is cancelled (a deadline passed): the caller returns at once, the call
  runs on in its thread, and the thread is a daemon thread, so a call that never
  returns never keeps the process from exiting. (anyio's own worker threads are not
  daemon threads: the interpreter would wait for them at exit.)
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from anyio.abc import TaskGroup

from clientsim.errors import ConfigError


try:
    from sniffio import current_async_library_cvar as _sniffio_cvar
except ImportError:  # pragma: no cover - sniffio is optional
    _sniffio_cvar = None  # type: ignore[assignment]

__all__ = ["leaves", "run_sync", "task_group", "unwrap"]

T = TypeVar("T")

log = logging.getLogger("clientsim")


def leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    """The exceptions inside ``group`` and its nested groups, in order."""
    found: list[BaseException] = []
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            found.extend(leaves(error))
        else:
            found.append(error)
    return found


def unwrap(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception to raise for ``group``: the rule of the module docs.

    A :class:`ConfigError` wins; then an exception that is not an ``Exception``
    (``KeyboardInterrupt``, ``SystemExit``, cancellation); then the first error, with
    a note naming the others. A group with nothing in it is returned as it is.
    """
    found = leaves(group)
    if not found:
        return group
    for error in found:
        if isinstance(error, ConfigError):
            return error
    for error in found:
        if not isinstance(error, Exception):
            return error
    first, others = found[0], found[1:]
    if others:
        first.add_note(
            f"{len(others)} more error(s) at the same time: "
            + "; ".join(f"{type(e).__name__}: {e}" for e in others[:5])
        )
    return first


@contextlib.asynccontextmanager
async def task_group() -> AsyncIterator[TaskGroup]:
    """``anyio.create_task_group()`` raising the error itself, never a group.

    Example:
        >>> import anyio
        >>> from clientsim._runtime import task_group
        >>> from clientsim.errors import ConfigError
        >>> async def work():
        ...     raise ConfigError("model spec 'openai:x' needs OPENAI_API_KEY")
        >>> async def main():
        ...     async with task_group() as group:
        ...         group.start_soon(work)
        >>> anyio.run(main)
        Traceback (most recent call last):
        ...
        clientsim.errors.ConfigError: model spec 'openai:x' needs OPENAI_API_KEY
    """
    raised: BaseException | None = None
    try:
        async with anyio.create_task_group() as group:
            yield group
    except BaseExceptionGroup as caught:
        raised = unwrap(caught)
        if raised is caught:
            raise
    if raised is not None:
        raise raised  # outside the handler: the error's own cause and context stay


async def run_sync(
    function: Callable[..., T],
    *args: object,
    name: str | None = None,
) -> T:
    """Call ``function(*args)`` in a daemon worker thread and return what it returns.

    At most as many calls run at once as anyio's default thread limiter allows.
    Cancelling the caller abandons the call: the caller gets the cancellation at once,
    the thread runs on (a warning is logged, naming ``name`` and how long it ran) and
    its result is dropped. The thread is a daemon thread, so the process can exit while
    it runs.
    """
    token = anyio.lowlevel.current_token()
    done = anyio.Event()
    outcome: list[tuple[bool, object]] = []
    context = contextvars.copy_context()
    if (
        _sniffio_cvar is not None
    ):  # in the thread, no async library runs (as anyio does)
        context.run(_sniffio_cvar.set, None)

    def deliver(result: tuple[bool, object]) -> None:
        outcome.append(result)
        done.set()

    def work() -> None:
        result: tuple[bool, object]
        try:
            result = (True, context.run(function, *args))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            result = (False, exc)
        with contextlib.suppress(Exception):  # the loop is gone: nobody waits
            anyio.from_thread.run_sync(deliver, result, token=token)

    started = time.monotonic()
    async with anyio.to_thread.current_default_thread_limiter():
        thread = threading.Thread(
            target=work, name=f"clientsim: {name or _name(function)}", daemon=True
        )
        thread.start()
        try:
            await done.wait()
        except anyio.get_cancelled_exc_class():
            log.warning(
                "abandoned the call to %s after %.1f s: it had not returned; its "
                "thread runs on in the background",
                name or _name(function),
                time.monotonic() - started,
            )
            raise
    ok, value = outcome[0]
    if ok:
        return value  # type: ignore[return-value]
    if not isinstance(value, BaseException):  # pragma: no cover - never: see work()
        raise TypeError(value)
    if isinstance(value, StopIteration):  # would become a RuntimeError in a coroutine
        raise RuntimeError(  # noqa: TRY004 - what a coroutine makes of it
            f"{name or _name(function)} raised StopIteration"
        ) from value
    raise value


def _name(function: Callable[..., object]) -> str:
    return str(getattr(function, "__qualname__", None) or type(function).__qualname__)
