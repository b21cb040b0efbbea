"""The one converter: strict hooks, per-class overrides, file reading, explanations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs
import pytest

from clientsim._validators import an_int
from clientsim.config import (
    converter,
    from_dict,
    parse_text,
    read_text,
    register_structure_overrides,
    register_unstructure_overrides,
    structure_file,
    to_dict,
)
from clientsim.errors import ConfigError


@attrs.frozen
class Leaf:
    name: str
    size: int = attrs.field(default=1, validator=an_int(1, 9).in_file())


@attrs.frozen
class Tree:
    leaves: tuple[Leaf, ...] = ()
    pair: tuple[float, float] = (0.0, 1.0)
    kind: Literal["oak", "elm"] = "oak"
    when: datetime | None = None
    note: str = "kept"


def _leaf_from_value(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value


register_structure_overrides(
    Leaf, from_value=_leaf_from_value, expected="a name or a mapping with name"
)
register_structure_overrides(Tree, omit=["note"])
register_unstructure_overrides(Tree, omit=["note"])


def test_overrides_read_bare_values_and_omit_fields():
    tree = converter().structure(
        {"leaves": ["ash", {"name": "fir", "size": 3}], "pair": [0, 2]}, Tree
    )
    assert tree.leaves == (Leaf("ash"), Leaf("fir", 3))
    assert tree.pair == (0.0, 2.0)
    assert "note" not in to_dict(tree)
    assert to_dict(tree)["leaves"] == [
        {"name": "ash", "size": 1},
        {"name": "fir", "size": 3},
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"leaves": "ash"}, "leaves: expected a list; got 'ash' (a string)"),
        ({"leaves": [5]}, "leaves[0]: expected a name or a mapping with name; got 5"),
        ({"leaves": [{"name": "a", "size": 0}]}, "leaves[0].size: expected an integer"),
        (
            {"pair": [1, 2, 3]},
            "pair: expected a list of 2 items; got [1, 2, 3] (a list)",
        ),
        ({"pair": [1, True]}, "pair[1]: expected"),
        ({"kind": "ask"}, "kind: expected one of 'oak', 'elm'; got 'ask'"),
        ({"note": "x"}, "note: unknown key; allowed keys at the top level: leaves"),
        ({"leavs": []}, "did you mean 'leaves'?"),
        ({"when": "soon"}, "when: expected"),
    ],
)
def test_file_errors_name_the_key_path(data, problem):
    with pytest.raises(ConfigError, match=r"^invalid tree: ") as caught:
        structure_file(data, Tree, head="invalid tree")
    assert problem in str(caught.value)


def test_several_problems_are_one_line_each():
    with pytest.raises(ConfigError) as caught:
        structure_file({"kind": 1, "leaves": [{}]}, Tree, head="bad")
    lines = str(caught.value).splitlines()
    assert lines[0] == "bad:"
    assert len(lines) == 3
    assert any("leaves[0].name: required key missing" in line for line in lines)


def test_values_keep_their_own_style():
    with pytest.raises(ConfigError, match=r"cannot build Tree: .* @ Tree.pair"):
        from_dict({"pair": "ab"}, Tree)
    with pytest.raises(ConfigError, match="expected a mapping"):
        from_dict([], Tree)


def test_the_converter_never_coerces():
    conv = converter()
    for value, kind in [("5", int), (True, int), (1.5, int), (5, str), (1, bool)]:
        with pytest.raises(TypeError):
            conv.structure(value, kind)
    assert conv.structure(3, float) == 3.0
    with pytest.raises(TypeError):
        conv.structure(10**400, float)


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        ("a: [1", ".yaml", "x is not valid YAML at line 1, column 6"),
        ("a = ", ".toml", "x is not valid TOML"),
        ('{"a": }', ".json", "x is not valid JSON at line 1, column 7"),
    ],
)
def test_parse_errors_give_the_line(text, suffix, message):
    with pytest.raises(ConfigError, match=message):
        parse_text(text, suffix, "x")


def test_parse_reads_every_format():
    assert parse_text("a: 1", ".yml", "x") == {"a": 1}
    assert parse_text("a = 1", ".toml", "x") == {"a": 1}
    assert parse_text('{"a": 1}', ".json", "x") == {"a": 1}


def test_read_text_names_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"my config .*nope\.yaml does not exist"):
        read_text(tmp_path / "nope.yaml", "my config")
    with pytest.raises(ConfigError, match="cannot read my config"):
        read_text(tmp_path, "my config")
