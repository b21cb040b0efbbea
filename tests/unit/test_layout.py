"""The house rules of docs/explanation/architecture.md, checked on the source itself.

Every check reads ``src/clientsim/**/*.py`` with ``ast`` (nothing is imported), collects
every violation, and fails once with a sorted list of ``path:line: what is wrong``.

The words used here:

- a *part* is a top-level subpackage or top-level module of clientsim (``runners``,
  ``experiments``, ``factory``, ``errors``); ``clientsim/__init__.py`` belongs to none;
- an import's *context* is ``module`` (runs when the module is imported), ``function``
  (runs when a function or lambda is called) or ``type_checking`` (inside
  ``if TYPE_CHECKING:``, never runs).
"""

from __future__ import annotations

import ast
import functools
import textwrap
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal, NamedTuple

import pytest


ROOT = Path(__file__).parents[2]
SRC = ROOT / "src"
PACKAGE = "clientsim"

MAX_LINES = 600
#: Top-level names of LangChain, LangGraph and the OpenAI SDK (checked by prefix, so
#: ``langchain_community`` or ``langgraph_sdk`` count too).
LANGCHAIN_PREFIXES = ("langchain", "langgraph", "openai")
LLM_PART = "llm"
#: What a value in ``models/`` may import from clientsim.
MODELS_MAY_IMPORT = frozenset({"models", "errors", "_validators", "config"})
#: One way up from the values, with the reason: Jupyter asks a value itself for its
#: HTML (``_repr_html_``), and the value hands the drawing to the renderers, only
#: when a notebook displays it (a function-local import, never at import time).
MODELS_MAY_CALL_UP = {("_repr_html_", "clientsim.render.notebook")}
#: The faces no other layer may import ...
IMPORT_ONLY_FROM_FACES = frozenset({"cli", "pytest_plugin", "assertions"})
#: ... and every face, which may import them.
FACES = IMPORT_ONLY_FROM_FACES | {"render", "notebook", "testing", "__main__"}

#: Why a package ``__init__.py`` may have a module ``__getattr__``.
GETATTR_IN_PACKAGE_INIT = (
    "lazy re-exports: `import clientsim` and its subpackages stay fast and load no "
    "LangChain until a name that needs it is used"
)
#: Every other module that may have a module ``__getattr__``, with the reason. A lazy
#: attribute must never stand in for an import that would close a cycle (move the
#: shared piece down a layer instead). No test can tell the two apart, so each entry
#: here is a reviewed decision, not a pattern.
GETATTR_ALLOWED = {
    "src/clientsim/testing.py": (
        "serves OfflineChatModel (a LangChain BaseChatModel) lazily, so that "
        "`import clientsim.testing` loads no LangChain"
    ),
    "src/clientsim/pytest_plugin.py": (
        "serves the assertion helpers lazily, so that loading the pytest plugin at "
        "pytest start-up stays import-light"
    ),
}

Context = Literal["module", "type_checking", "function"]


class Import(NamedTuple):
    """One imported module, where it is imported and when that import runs."""

    path: Path
    lineno: int
    module: str
    context: Context

    @property
    def where(self) -> str:
        return location(self.path, self.lineno)


# -- helpers ---------------------------------------------------------------------------


def location(path: Path, lineno: int) -> str:
    """``src/clientsim/x.py:12``, relative to the repository when possible."""
    try:
        shown = path.relative_to(ROOT).as_posix()
    except ValueError:
        shown = path.as_posix()
    return f"{shown}:{lineno}"


def source_files(src: Path = SRC) -> list[Path]:
    """Every module of the package, in a stable order."""
    return sorted((src / PACKAGE).rglob("*.py"))


def module_name(path: Path, src: Path = SRC) -> str:
    """``src/clientsim/runners/full.py`` -> ``clientsim.runners.full``."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str | None:
    """The part a module belongs to; ``None`` for the package itself or outside it."""
    parts = module.split(".")
    if parts[0] != PACKAGE or len(parts) < 2:
        return None
    return parts[1]


def is_module(dotted: str, src: Path = SRC) -> bool:
    """Whether ``dotted`` names a module or package file under ``src``."""
    base = src.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


@functools.cache
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _literal_dynamic_import(node: ast.Call) -> str | None:
    """The module of ``importlib.import_module("x")`` or ``__import__("x")``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in {"import_module", "__import__"} or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, path: Path, src: Path) -> None:
        self.path = path
        self.src = src
        self.module = module_name(path, src)
        self.is_package = path.name == "__init__.py"
        self.context: Context = "module"
        self.found: list[Import] = []

    def _add(self, node: ast.AST, module: str) -> None:
        lineno = getattr(node, "lineno", 0)
        self.found.append(Import(self.path, lineno, module, self.context))

    def _visit_in(self, nodes: Iterable[ast.AST], context: Context) -> None:
        outer = self.context
        # Code under TYPE_CHECKING never runs, even inside a function.
        self.context = "type_checking" if outer == "type_checking" else context
        for node in nodes:
            self.visit(node)
        self.context = outer

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._visit_in(node.body, "type_checking")
        for child in node.orelse:  # the else branch runs
            self.visit(child)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for child in (*node.decorator_list, node.args):
            self.visit(child)
        self._visit_in(node.body, "function")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.args)
        self._visit_in([node.body], "function")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._absolute(node)
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            inside = candidate.partition(".")[0] == PACKAGE
            if alias.name != "*" and inside and is_module(candidate, self.src):
                self._add(node, candidate)  # from clientsim import events
            else:
                self._add(node, base)  # from clientsim.events import emit

    def visit_Call(self, node: ast.Call) -> None:
        module = _literal_dynamic_import(node)
        if module is not None:
            self._add(node, module)
        self.generic_visit(node)

    def _absolute(self, node: ast.ImportFrom) -> str:
        if node.level == 0:
            return node.module or ""
        package = self.module if self.is_package else self.module.rpartition(".")[0]
        parts = package.split(".")
        parts = parts[: len(parts) - (node.level - 1)]
        return ".".join([*parts, node.module] if node.module else parts)


@functools.cache
def imports_of(path: Path, src: Path = SRC) -> tuple[Import, ...]:
    """Every import in one file, module-level, ``TYPE_CHECKING`` and function-local.

    ``from a import b`` yields ``a.b`` when that is a clientsim module and ``a``
    otherwise; ``importlib.import_module("a")`` with a literal name counts as an import.
    """
    visitor = _ImportVisitor(path, src)
    visitor.visit(parse(path))
    return tuple(visitor.found)


def iter_imports(src: Path = SRC) -> Iterator[Import]:
    """(path, lineno, imported module, context) for every import in the package."""
    for path in source_files(src):
        yield from imports_of(path, src)


def module_getattrs(tree: ast.Module) -> Iterator[ast.stmt]:
    """Module-level ``__getattr__`` definitions (including under ``if`` or ``try``)."""
    pending: deque[ast.stmt] = deque(tree.body)
    while pending:
        node = pending.popleft()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == "__getattr__":
                yield node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__getattr__" for t in targets):
                yield node
        elif not isinstance(node, ast.ClassDef):
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                for child in getattr(node, field, ()):
                    if isinstance(child, ast.ExceptHandler | ast.match_case):
                        pending.extend(child.body)
                    else:
                        pending.append(child)


def part_graph(
    records: Iterable[Import], src: Path = SRC
) -> dict[tuple[str, str], Import]:
    """Edges between parts from module-level imports, each with its first import."""
    edges: dict[tuple[str, str], Import] = {}
    for record in sorted(records, key=lambda r: (str(r.path), r.lineno)):
        if record.context != "module":
            continue
        source, target = part_of(module_name(record.path, src)), part_of(record.module)
        if source is None or target is None or source == target:
            continue
        edges.setdefault((source, target), record)
    return edges


def _shortest_path(adjacent: dict[str, set[str]], start: str, goal: str) -> list[str]:
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [goal]
            while path[-1] != start:
                path.append(previous[path[-1]])
            return path[::-1]
        for following in sorted(adjacent[node]):
            if following not in previous and following != start:
                previous[following] = node
                queue.append(following)
    return []


def find_cycles(edges: Iterable[tuple[str, str]]) -> list[tuple[str, ...]]:
    """One shortest cycle through every edge that lies on a cycle, without repeats.

    Each cycle is given as its nodes, rotated to start at the smallest, e.g.
    ``("experiments", "runners")`` for experiments -> runners -> experiments.
    """
    adjacent: dict[str, set[str]] = {}
    for source, target in edges:
        adjacent.setdefault(source, set()).add(target)
        adjacent.setdefault(target, set())
    cycles: set[tuple[str, ...]] = set()
    for source in sorted(adjacent):
        for target in sorted(adjacent[source]):
            back = _shortest_path(adjacent, target, source)
            if back:
                nodes = [source, *back[:-1]]
                turn = nodes.index(min(nodes))
                cycles.add(tuple(nodes[turn:] + nodes[:turn]))
    return sorted(cycles, key=lambda cycle: (len(cycle), cycle))


def private_part(module: str) -> str | None:
    """The part whose private module ``module`` is in, if any.

    ``clientsim.channels._http_options`` and ``clientsim.experiments._x.y`` are private
    to their part; top-level ``clientsim._validators`` is the ground floor, not private.
    """
    parts = module.split(".")
    if part_of(module) is None:
        return None
    for name in parts[2:]:
        if name.startswith("_") and not name.startswith("__"):
            return parts[1]
    return None


def fail_with(rule: str, violations: Iterable[str]) -> None:
    found = sorted(set(violations))
    if found:
        listing = "\n".join(f"  {line}" for line in found)
        pytest.fail(f"{rule} ({len(found)}):\n{listing}", pytrace=False)


def _context_note(record: Import) -> str:
    return "" if record.context == "module" else f" ({record.context})"


# -- the house rules -------------------------------------------------------------------


def test_langchain_is_imported_at_run_time_only_in_llm():
    fail_with(
        "LangChain, LangGraph and openai are imported at run time only in clientsim.llm",
        (
            f"{record.where}: imports {record.module}{_context_note(record)}"
            for record in iter_imports()
            if record.module.partition(".")[0].startswith(LANGCHAIN_PREFIXES)
            and record.context != "type_checking"
            and part_of(module_name(record.path)) != LLM_PART
        ),
    )


def test_no_module_is_over_600_lines():
    violations = []
    for path in source_files():
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES:
            violations.append(
                f"{location(path, MAX_LINES + 1)}: {count} lines (limit {MAX_LINES})"
            )
    fail_with(f"Modules over {MAX_LINES} lines; split them", violations)


def cycle_report(src: Path = SRC) -> list[str]:
    """Each cycle between parts, with the file and line of one import per edge."""
    edges = part_graph(iter_imports(src), src)
    report = []
    for cycle in find_cycles(edges):
        steps = zip(cycle, (*cycle[1:], cycle[0]), strict=True)
        lines = [" -> ".join((*cycle, cycle[0])) + ":"]
        lines += [
            f"    {a} -> {b}: {edges[a, b].where} imports {edges[a, b].module}"
            for a, b in steps
        ]
        report.append("\n".join(lines))
    return report


def test_no_import_cycle_between_parts():
    fail_with("Module-level import cycles between parts", cycle_report())


def test_errors_imports_nothing_from_clientsim():
    errors = SRC / PACKAGE / "errors.py"
    fail_with(
        "clientsim.errors must import nothing from clientsim",
        (
            f"{record.where}: imports {record.module}{_context_note(record)}"
            for record in imports_of(errors)
            if record.module.partition(".")[0] == PACKAGE
        ),
    )


def test_module_getattr_only_where_allowed():
    violations = []
    for path in source_files():
        shown = path.relative_to(ROOT).as_posix()
        if path.name == "__init__.py" or shown in GETATTR_ALLOWED:
            continue
        violations += [
            f"{location(path, node.lineno)}: module __getattr__ (allowed only in "
            "package __init__.py files and the modules listed in GETATTR_ALLOWED)"
            for node in module_getattrs(parse(path))
        ]
    fail_with("Module __getattr__ outside the allow-list", violations)


def test_no_module_imports_another_parts_private_module():
    violations = []
    for record in iter_imports():
        owner = private_part(record.module)
        if owner is not None and owner != part_of(module_name(record.path)):
            violations.append(
                f"{record.where}: imports {record.module}, private to {owner}"
                f"{_context_note(record)}"
            )
    fail_with("Imports of another part's private module", violations)


def test_models_import_only_values_and_the_ground_floor():
    violations = []
    for record in iter_imports():
        importer = part_of(module_name(record.path))
        if importer != "models" or record.module.partition(".")[0] != PACKAGE:
            continue
        if part_of(record.module) in MODELS_MAY_IMPORT:
            continue
        if record.context == "function" and any(
            record.module == module and _in_function(record, name)
            for name, module in MODELS_MAY_CALL_UP
        ):
            continue
        violations.append(
            f"{record.where}: imports {record.module}{_context_note(record)}"
        )
    allowed = ", ".join(sorted(MODELS_MAY_IMPORT))
    fail_with(f"clientsim.models may import only {allowed} from clientsim", violations)


def _in_function(record: Import, name: str) -> bool:
    """Whether the import at ``record`` stands inside a function called ``name``."""
    for node in ast.walk(parse(record.path)):
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == name
            and node.lineno <= record.lineno <= (node.end_lineno or node.lineno)
        ):
            return True
    return False


def test_only_faces_import_faces():
    violations = []
    for record in iter_imports():
        target = part_of(record.module)
        importer = part_of(module_name(record.path))
        if target in IMPORT_ONLY_FROM_FACES and importer not in FACES:
            who = importer or "the package __init__"
            violations.append(
                f"{record.where}: {who} imports the face {record.module}"
                f"{_context_note(record)}"
            )
    faces = ", ".join(sorted(IMPORT_ONLY_FROM_FACES))
    fail_with(f"Only faces may import {faces}", violations)


# -- the helpers on small made-up packages ---------------------------------------------


def _write(src: Path, relative: str, code: str) -> Path:
    path = src / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


def test_imports_are_resolved_and_classified(tmp_path):
    _write(tmp_path, "clientsim/__init__.py", "")
    _write(tmp_path, "clientsim/events.py", "")
    _write(tmp_path, "clientsim/runners/__init__.py", "")
    _write(tmp_path, "clientsim/runners/_core.py", "")
    path = _write(
        tmp_path,
        "clientsim/runners/full.py",
        """
        import importlib
        from typing import TYPE_CHECKING
        from clientsim import events
        from . import _core
        from ..models import Message
        if TYPE_CHECKING:
            import langchain_core.messages
            def helper():
                import openai
        else:
            import langgraph
        class Runner:
            import anyio
            def run(self):
                from clientsim.cli import main
                return lambda: importlib.import_module("langchain_openai")
        """,
    )
    found = [(r.lineno, r.module, r.context) for r in imports_of(path, tmp_path)]
    assert found == [
        (2, "importlib", "module"),
        (3, "typing", "module"),
        (4, "clientsim.events", "module"),
        (5, "clientsim.runners._core", "module"),
        (6, "clientsim.models", "module"),
        (8, "langchain_core.messages", "type_checking"),
        (10, "openai", "type_checking"),
        (12, "langgraph", "module"),
        (14, "anyio", "module"),
        (16, "clientsim.cli", "function"),
        (17, "langchain_openai", "function"),
    ]
    assert all(r.where.endswith(f":{r.lineno}") for r in imports_of(path, tmp_path))


def test_cycles_are_found_with_every_edge_on_them(tmp_path):
    _write(tmp_path, "clientsim/a.py", "from clientsim import b\n")
    _write(tmp_path, "clientsim/b.py", "from clientsim.c import x\n")
    _write(
        tmp_path, "clientsim/c/__init__.py", "import clientsim.a\nimport clientsim.d\n"
    )
    _write(tmp_path, "clientsim/d.py", "def f():\n    import clientsim.c\n")
    edges = part_graph(iter_imports(tmp_path), tmp_path)
    assert set(edges) == {("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}
    assert find_cycles(edges) == [("a", "b", "c")]
    where = {
        name: (tmp_path / "clientsim" / name).as_posix() for name in ("a.py", "b.py")
    }
    c_init = (tmp_path / "clientsim/c/__init__.py").as_posix()
    assert cycle_report(tmp_path) == [
        "\n".join(
            [
                "a -> b -> c -> a:",
                f"    a -> b: {where['a.py']}:1 imports clientsim.b",
                f"    b -> c: {where['b.py']}:1 imports clientsim.c",
                f"    c -> a: {c_init}:1 imports clientsim.a",
            ]
        )
    ]
    assert find_cycles([("x", "y"), ("y", "x"), ("y", "z"), ("z", "y")]) == [
        ("x", "y"),
        ("y", "z"),
    ]


def test_module_getattr_is_found_only_at_module_level():
    tree = ast.parse(
        textwrap.dedent(
            """
            class Lazy:
                def __getattr__(self, name): ...
            try:
                def __getattr__(name): ...
            except ImportError:
                __getattr__ = None
            """
        )
    )
    assert [node.lineno for node in module_getattrs(tree)] == [5, 7]


def test_private_modules_are_private_to_their_part():
    assert private_part("clientsim.channels._http_options") == "channels"
    assert private_part("clientsim.experiments._x.y") == "experiments"
    assert private_part("clientsim._validators") is None
    assert private_part("clientsim.runners.__init__") is None
    assert private_part("other._private") is None
