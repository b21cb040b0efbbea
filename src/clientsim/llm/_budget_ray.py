"""The ``ray`` rate budget backend: one named Ray actor holds every budget of a Ray
cluster, so every worker (every actor of the Ray executor) shares them.

The actor (``clientsim-rate-budget`` in namespace ``clientsim``) is detached and
takes no CPU: the first process that needs it creates it, every other one finds it
by name, and it outlives a job, so jobs on one cluster share the budgets too. It
runs one step at a time on :class:`~clientsim.llm.budget.LocalBudgetBackend`'s
state. Ray is imported when the backend is first used.
"""

from __future__ import annotations

import threading
from typing import Any, Final

import anyio.to_thread
import sniffio

from clientsim.errors import ConfigError
from clientsim.llm._budget_core import BudgetLimits, BudgetState, Outcome
from clientsim.llm.budget import BudgetBackend, LocalBudgetBackend, Reservation


__all__ = ["ACTOR_NAME", "RayBudgetBackend", "in_ray_actor"]

ACTOR_NAME: Final = "clientsim-rate-budget"
NAMESPACE: Final = "clientsim"


class BudgetKeeper:
    """The actor's class: budgets in its memory, one step at a time."""

    def __init__(self) -> None:
        self.local = LocalBudgetBackend()

    def reserve(
        self, key: str, limits: BudgetLimits, reservation: Reservation
    ) -> tuple[bool, float]:
        return self.local.step(
            key,
            lambda state, now: state.reserve(
                now,
                limits,
                tokens=reservation.tokens,
                lease=reservation.lease,
                hold=reservation.hold,
            ),
        )

    def release(
        self,
        key: str,
        limits: BudgetLimits,
        lease: str,
        *,
        outcome: Outcome,
        used: int | None,
        retry_after: float | None,
    ) -> None:
        self.local.step(
            key,
            lambda state, now: state.release(
                now, limits, lease, outcome=outcome, used=used, retry_after=retry_after
            ),
        )

    def read(self, key: str) -> tuple[dict[str, Any], float]:
        return self.local.step(key, lambda state, now: (state.dump(), now))


def in_ray_actor() -> bool:
    """Whether this process is a Ray actor (Ray imported and connected)."""
    import sys  # noqa: PLC0415

    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return False
    return ray.get_runtime_context().get_actor_id() is not None


class RayBudgetBackend(BudgetBackend):
    """Budgets in a named Ray actor (see the module docstring)."""

    name = "ray"

    def __init__(self) -> None:
        self._actor: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_target(cls, target: str) -> RayBudgetBackend:
        """``ray`` (no argument): the cluster this process is connected to, else
        ``RAY_ADDRESS``'s, else a local one."""
        if target:
            raise ConfigError(
                f"the ray rate budget backend takes no argument; got 'ray:{target}'"
            )
        try:
            import ray  # noqa: F401, PLC0415
        except ImportError as exc:
            raise ConfigError(
                f"the ray rate budget backend needs ray ({exc}); "
                "pip install 'clientsim[ray]'"
            ) from exc
        return _BACKEND

    def actor(self) -> Any:
        """The budget actor (created by the first process asking for it)."""
        with self._lock:
            if self._actor is None:
                import ray  # noqa: PLC0415

                if not ray.is_initialized():
                    ray.init(log_to_driver=False, configure_logging=False)
                keeper = ray.remote(num_cpus=0, max_restarts=-1)(BudgetKeeper)
                self._actor = keeper.options(
                    name=ACTOR_NAME,
                    namespace=NAMESPACE,
                    lifetime="detached",
                    get_if_exists=True,
                ).remote()
            return self._actor

    async def _call(self, method: str, *args: object, **kwargs: object) -> Any:
        actor = await anyio.to_thread.run_sync(self.actor)
        ref = getattr(actor, method).remote(*args, **kwargs)
        if sniffio.current_async_library() == "asyncio":
            return await ref
        import ray  # noqa: PLC0415

        return await anyio.to_thread.run_sync(ray.get, ref)

    async def reserve(
        self, key: str, limits: BudgetLimits, reservation: Reservation
    ) -> tuple[bool, float]:
        booked, delay = await self._call("reserve", key, limits, reservation)
        return bool(booked), float(delay)

    async def release(
        self,
        key: str,
        limits: BudgetLimits,
        lease: str,
        *,
        outcome: Outcome,
        used: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        await self._call(
            "release",
            key,
            limits,
            lease,
            outcome=outcome,
            used=used,
            retry_after=retry_after,
        )

    async def state(self, key: str) -> BudgetState:
        data, _ = await self._call("read", key)
        return BudgetState.load(data)

    async def pause_left(self, key: str) -> float:
        data, now = await self._call("read", key)
        return BudgetState.load(data).pause_left(now)


_BACKEND: Final = RayBudgetBackend()
