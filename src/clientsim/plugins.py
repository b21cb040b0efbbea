"""Plugins: pluggy hooks, entry points, and the one plugin manager.

Third-party packages add strategies by exposing a module (or object) with hook
implementations under the entry-point group ``clientsim``::

    # pyproject.toml of the plugin
    [project.entry-points.clientsim]
    my_plugin = "my_package.clientsim_plugin"

    # my_package/clientsim_plugin.py
    import clientsim

    @clientsim.hookimpl
    def clientsim_register_termination(register):
        register("my_package/politeness", Politeness)

Plugins load lazily, once, on the first registry lookup. ``CLIENTSIM_DISABLE_PLUGINS=1``
skips third-party entry points (built-ins still load). A plugin that fails to import or
does not fit the hook specifications raises :class:`~clientsim.errors.PluginError`
naming the entry point and its distribution; nothing is dropped silently.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections.abc import Mapping
from typing import Any, Final

import pluggy

from clientsim import _builtins
from clientsim._markers import Register, hookimpl, hookspec
from clientsim.errors import PluginError


__all__ = [
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "HookSpecs",
    "Register",
    "generation",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "register_plugin",
    "unregister_plugin",
]

ENTRY_POINT_GROUP: Final = "clientsim"
"""The entry-point group third-party plugins register under."""
DISABLE_ENV: Final = "CLIENTSIM_DISABLE_PLUGINS"
"""Set this environment variable to ``1`` to skip third-party plugins."""


class HookSpecs:
    """The hooks clientsim calls. All registration hooks are cheap and synchronous."""

    @hookspec
    def clientsim_register_participants(self, register: Register) -> None:
        """Register participant factories: ``register("llm", LLMParticipant.from_config)``."""

    @hookspec
    def clientsim_register_termination(self, register: Register) -> None:
        """Register termination strategy factories."""

    @hookspec
    def clientsim_register_outcome_evaluators(self, register: Register) -> None:
        """Register outcome evaluator factories."""

    @hookspec
    def clientsim_register_channels(self, register: Register) -> None:
        """Register channel factories: ``register("http", HTTPChannel)``."""

    @hookspec
    def clientsim_register_turn_policies(self, register: Register) -> None:
        """Register turn policies of the group runner:
        ``register("round_robin", RoundRobin)``; factories build a
        :class:`~clientsim.turns.base.TurnPolicy`."""

    @hookspec
    def clientsim_register_executors(self, register: Register) -> None:
        """Register executors, where a batch's conversations run:
        ``register("ray", RayExecutor)``; factories build a
        :class:`~clientsim.runners.executors.Executor`."""

    @hookspec
    def clientsim_register_rate_budget_backends(self, register: Register) -> None:
        """Register rate budget backends, where budgets are shared:
        ``register("etcd", build)``; ``build(target)`` takes what follows the colon
        of ``RATE_LIMIT_BACKEND`` and returns a
        :class:`~clientsim.llm.budget.BudgetBackend`."""

    @hookspec
    def clientsim_register_population_modes(self, register: Register) -> None:
        """Register communication modes of population studies:
        ``register("survey", SurveyMode)``; factories build a
        :class:`~clientsim.population.base.PopulationMode`."""

    @hookspec
    def clientsim_register_demographics(self, register: Register) -> None:
        """Register demographic templates: ``register("ca", lambda: template)``;
        factories take no argument and return a
        :class:`~clientsim.population.demographics.DemographicTemplate`."""

    @hookspec
    def clientsim_register_fragments(self, register: Register) -> None:
        """Register personality fragments: ``register("night_owl", lambda:
        Fragment(...))``; factories take no argument and return a
        :class:`~clientsim.models.persona.Fragment`."""

    @hookspec
    def clientsim_register_metrics(self, register: Register) -> None:
        """Register success metrics of interventions: ``register("nps", factory)``;
        factories build a :class:`~clientsim.interventions.metrics.Metric`."""

    @hookspec
    def clientsim_register_roles(self, register: Register) -> None:
        """Register team role templates: ``register("legal", lambda: RoleTemplate(
        name="Legal", ...))``; the name is the role's key (:func:`~clientsim.models.
        team.role_key` of its title)."""

    @hookspec
    def clientsim_register_review_stages(self, register: Register) -> None:
        """Register review stages of the review pipeline:
        ``register("stakeholder_panel", StakeholderPanel.from_config)``; factories
        build a :class:`~clientsim.review.ReviewStage`."""

    @hookspec
    def clientsim_register_models(self, register: Register) -> None:
        """Register chat model providers: ``register("openai", build)``.

        ``build(model_name)`` returns a LangChain ``BaseChatModel`` for a spec such as
        ``"openai:gpt-4o-mini"`` (``model_name`` is the part after the colon, ``""`` if
        there is none). Import the provider package inside ``build``, not at module level.
        """

    @hookspec
    def clientsim_register_requirement_generators(self, register: Register) -> None:
        """Register requirement generators (client simulation):
        ``register("template", TemplateGenerator.from_config)``; factories build a
        :class:`~clientsim.requirements.RequirementGenerator`."""

    @hookspec
    def clientsim_register_feedback_strategies(self, register: Register) -> None:
        """Register feedback strategies; factories receive ``client_id=`` and build a
        :class:`~clientsim.feedback.FeedbackStrategy`."""

    @hookspec
    def clientsim_register_report_strategies(self, register: Register) -> None:
        """Register client simulation report styles; factories build a
        :class:`~clientsim.reports.ReportStrategy`."""

    @hookspec
    def clientsim_register_client_pool_strategies(self, register: Register) -> None:
        """Register client selection strategies of the client pool; factories build a
        :class:`~clientsim.clients.pool.ClientSelectionStrategy`."""

    @hookspec
    def clientsim_register_intake_strategies(self, register: Register) -> None:
        """Register intake strategies; factories may take ``provider=`` and build an
        :class:`~clientsim.intake.IntakeStrategy`."""

    @hookspec
    def clientsim_register_entry_points(self, register: Register) -> None:
        """Register entry point strategies; factories receive ``project_id=`` and
        build an :class:`~clientsim.intake.EntryPointStrategy`."""

    @hookspec
    def clientsim_register_work_entry_adapters(self, register: Register) -> None:
        """Register work-entry adapters; factories receive ``work_pipeline=`` and
        ``default_project=`` and build a :class:`~clientsim.intake.WorkEntryAdapter`."""

    @hookspec
    def clientsim_event(self, event: str, fields: Mapping[str, object]) -> None:
        """Receive every lifecycle event (see :mod:`clientsim.events`).

        Called on the event loop's thread; must not block.
        """


_HOOK_NAMES: Final = tuple(
    name for name in vars(HookSpecs) if name.startswith("clientsim_")
)


class _PluginManager(pluggy.PluginManager):
    """A plugin manager that counts changes, so registries know when to refill."""

    generation: int = 0

    def register(self, plugin: object, name: str | None = None) -> str | None:
        registered = super().register(plugin, name)
        type(self).generation += 1
        return registered

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        removed = super().unregister(plugin, name)
        type(self).generation += 1
        return removed


_lock = threading.Lock()
_manager: _PluginManager | None = None


def get_plugin_manager() -> pluggy.PluginManager:
    """Return the one plugin manager, loading built-ins and entry points on first call.

    Raises:
        PluginError: a third-party plugin failed to load or is invalid.
    """
    global _manager  # noqa: PLW0603 - the process-wide manager, built once
    if _manager is not None:
        return _manager
    with _lock:
        if _manager is None:
            manager = _PluginManager("clientsim")
            manager.add_hookspecs(HookSpecs)
            manager.register(_builtins, name="clientsim.builtins")
            if os.environ.get(DISABLE_ENV, "").strip().lower() not in {
                "1",
                "true",
                "yes",
            }:
                _load_entry_points(manager)
            _check(manager)
            _manager = manager
    return _manager


def _load_entry_points(manager: pluggy.PluginManager) -> None:
    # pluggy's load_setuptools_entrypoints stops at the first broken plugin; load each
    # ourselves so the error names the one that broke.
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        # Two distributions may use the same entry-point name: key plugins by both.
        dist = entry_point.dist
        name = f"{dist.name if dist is not None else '?'}:{entry_point.name}"
        if manager.get_plugin(name) is not None or manager.is_blocked(name):
            continue
        where = _describe(entry_point)
        try:
            plugin = entry_point.load()
        except Exception as exc:
            raise PluginError(
                f"clientsim plugin {where} failed to import: {type(exc).__name__}: {exc}. "
                f"Fix or uninstall it, or set {DISABLE_ENV}=1 to skip third-party plugins"
            ) from exc
        try:
            manager.register(plugin, name=name)
            manager.check_pending()
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginError(
                f"clientsim plugin {where} is invalid: {exc}. Its hooks must be among "
                f"{', '.join(_HOOK_NAMES)}"
            ) from exc


def _describe(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = entry_point.dist
    source = (
        f"{dist.name} {dist.version}" if dist is not None else "an unknown distribution"
    )
    return f"{entry_point.name!r} ({entry_point.value}) from {source}"


def _check(manager: pluggy.PluginManager) -> None:
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(
            f"clientsim plugin {exc.plugin!r} implements a hook clientsim does not "
            f"define: {exc}; the hooks are {', '.join(_HOOK_NAMES)}"
        ) from exc


def register_plugin(plugin: object, name: str | None = None) -> None:
    """Register a plugin object (a module or instance with hook implementations).

    Raises:
        PluginError: it implements hooks that do not exist or with the wrong arguments.
    """
    manager = get_plugin_manager()
    try:
        manager.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise PluginError(
            f"cannot register clientsim plugin {plugin!r}: {exc}"
        ) from exc
    try:
        _check(manager)
    except PluginError:
        manager.unregister(plugin)
        raise


def unregister_plugin(plugin: object) -> None:
    """Remove a plugin registered with :func:`register_plugin`."""
    get_plugin_manager().unregister(plugin)


def generation() -> int:
    """A number that changes whenever a plugin is registered or unregistered."""
    return _PluginManager.generation
