"""The four study templates of seed 002, shipped as package data: ``market_survey``,
``focus_group``, ``ab_intervention`` and ``customer_journey``
(``clientsim init DIR --template NAME``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

from clientsim.errors import ConfigError, UnknownStrategyError


__all__ = ["TEMPLATES", "scaffold_study", "template_text"]

TEMPLATES: Final[tuple[str, ...]] = (
    "market_survey",
    "focus_group",
    "ab_intervention",
    "customer_journey",
)


def template_text(name: str) -> str:
    """The study file of template ``name``.

    Raises:
        UnknownStrategyError: no such template (the message lists them).
    """
    if name not in TEMPLATES:
        raise UnknownStrategyError("study template", name, TEMPLATES)
    data = resources.files("clientsim.population") / "data" / "templates"
    return (data / f"{name}.yaml").read_text(encoding="utf-8")


def scaffold_study(
    directory: str | Path, template: str, *, force: bool = False
) -> list[Path]:
    """Write ``directory/study.yaml`` from ``template``; return the files written.

    Raises:
        UnknownStrategyError: no such template.
        ConfigError: ``study.yaml`` exists and ``force`` is false, or ``directory``
            is a file.
    """
    text = template_text(template)
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"cannot scaffold into {root}: it is a file, not a folder")
    path = root / "study.yaml"
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; pass --force to overwrite, or choose another folder"
        )
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return [path]
