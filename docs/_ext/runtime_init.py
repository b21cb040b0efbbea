"""Griffe extension for the API reference (docs build only, loaded by ``mkdocs.yml``).

It does two things the stock tools do not:

- Signatures for attrs and pydantic classes. griffe reads source statically, so it sees
  no ``__init__`` on a class that attrs or pydantic generates one for; the reference
  would show ``FullSimulationRunner()`` and warn that the documented ``Args`` are not
  in the signature. The class is imported once and its ``__init__`` rebuilt from the
  runtime one, keeping the annotations griffe parsed from the source.
- Sphinx roles in docstrings. ``:class:`~clientsim.models.Ending``` and friends become
  mkdocstrings cross-references (names without a dot are resolved in the docstring's
  scope); an unresolvable name becomes plain code. A paragraph ending in ``::`` before
  an indented block loses one colon. Links go only to objects the reference renders.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import attrs
import griffe


_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}


_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|data|attr|mod|obj|exc):`(~?)([\w.]+)`")
_LITERAL = re.compile(r"(?<=\S)::(?=\n\s*\n)")
# Google style says "Example:", griffe only knows "Examples:" as a section.
_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)


def _crossref(obj: griffe.Object, match: re.Match[str]) -> str:
    short, target = match.group(1) == "~", match.group(2)
    text = target.rsplit(".", 1)[-1] if short else target
    if "." not in target:
        try:
            target = obj.resolve(target)
        except (griffe.NameResolutionError, ValueError):
            return f"`{text}`"
    try:
        found = obj.modules_collection[target]
    except KeyError:
        return f"`{text}`"
    if found.is_attribute and not found.docstring:
        return f"`{text}`"  # not rendered (no docstring), so nothing to link to
    return f"[`{text}`][{target}]"


def _convert_docstring(obj: griffe.Object) -> None:
    docstring = obj.docstring
    if docstring is None:
        return
    value = _ROLE.sub(lambda match: _crossref(obj, match), docstring.value)
    value = _EXAMPLE.sub(r"\1Examples:", value)
    docstring.value = _LITERAL.sub(":", value)


def _runtime(cls: griffe.Class) -> type | None:
    module_path, _, name = cls.path.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_path), name)
    except (ImportError, AttributeError):
        return None
    return obj if isinstance(obj, type) else None


def _default(value: Any) -> str | None:
    if value is inspect.Parameter.empty or value is attrs.NOTHING:
        return None
    if isinstance(value, attrs.Factory):  # type: ignore[arg-type]
        name = getattr(value.factory, "__name__", "")
        return f"{name}()" if name.isidentifier() else "..."
    return repr(value)


def _attrs_parameters(cls: griffe.Class, runtime: type) -> list[griffe.Parameter]:
    fields = {field.alias: field for field in attrs.fields(runtime) if field.init}
    signature = inspect.signature(runtime.__init__)
    parameters = []
    for parameter in list(signature.parameters.values())[1:]:  # drop self
        field = fields.get(parameter.name)
        member = cls.members.get(field.name if field else parameter.name)
        annotation = getattr(member, "annotation", None) or None
        default = field.default if field is not None else parameter.default
        parameters.append(
            griffe.Parameter(
                parameter.name,
                annotation=annotation,
                kind=_KINDS[parameter.kind],
                default=_default(default),
            )
        )
    return parameters


def _pydantic_parameters(cls: griffe.Class, runtime: type) -> list[griffe.Parameter]:
    own = getattr(runtime, "__annotations__", {})
    parameters = []
    for name, field in runtime.model_fields.items():  # type: ignore[attr-defined]
        if name not in own:
            continue
        member = cls.members.get(name)
        parameters.append(
            griffe.Parameter(
                name,
                annotation=getattr(member, "annotation", None) or None,
                kind=griffe.ParameterKind.keyword_only,
                default=None if field.is_required() else repr(field.default),
            )
        )
    parameters.append(griffe.Parameter("kwargs", kind=griffe.ParameterKind.var_keyword))
    return parameters


def _is_pydantic(runtime: type) -> bool:
    return any(
        base.__module__.startswith("pydantic") and base.__name__ == "BaseModel"
        for base in runtime.__mro__
    )


def _set_init(cls: griffe.Class) -> None:
    runtime = _runtime(cls)
    if runtime is None:
        return
    if attrs.has(runtime):
        parameters = _attrs_parameters(cls, runtime)
    elif _is_pydantic(runtime):
        parameters = _pydantic_parameters(cls, runtime)
    else:
        return
    init = griffe.Function(
        "__init__",
        lineno=cls.lineno,
        endlineno=cls.lineno,
        parent=cls,
        parameters=griffe.Parameters(
            griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword),
            *parameters,
        ),
        returns="None",
    )
    cls.set_member("__init__", init)


def _walk(obj: griffe.Object, seen: set[str]) -> None:
    if obj.path in seen:
        return
    seen.add(obj.path)
    _convert_docstring(obj)
    if isinstance(obj, griffe.Class) and "__init__" not in obj.members:
        _set_init(obj)
    for member in list(obj.members.values()):
        if not member.is_alias:
            _walk(member, seen)  # type: ignore[arg-type]


class RuntimeInit(griffe.Extension):
    """Rebuild attrs/pydantic ``__init__`` signatures; turn Sphinx roles into links."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:  # noqa: ARG002
        _walk(pkg, set())
