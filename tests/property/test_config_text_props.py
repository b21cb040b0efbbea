"""Whatever strings a config holds, loading it gives a config whose every string is
text, or a ``ConfigError``; never a value that fails later (a lone surrogate passed
validation and then failed every conversation with ``UnicodeEncodeError``), never
another exception.

Strings here include lone surrogates (category Cs), which Hypothesis leaves out of
``st.text()`` by default.
"""

from __future__ import annotations

import json

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.config import parse_text
from clientsim.errors import ConfigError
from clientsim.experiments.config import ExperimentConfig, InputItem, PersonaConfig
from clientsim.simulation import ClientSimulationConfig


SETTINGS = settings(deadline=None, max_examples=150)

ANY_CHARACTER = st.characters(codec=None, categories=None)
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
TEXT = st.one_of(
    st.text(ANY_CHARACTER, max_size=12),
    st.builds(
        lambda head, bad, tail: head + bad + tail,
        st.text(max_size=6),
        SURROGATE,
        st.text(max_size=6),
    ),
)
SCALARS = st.none() | st.booleans() | st.integers(-5, 100) | TEXT
JSON_LIKE = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3)
    ),
    max_leaves=8,
)
NAMES = st.sampled_from(["content", "intent", "id", "metadata", "description", "name"])


def encodable(data: object) -> bool:
    """Every key and string of ``data`` encodes as UTF-8."""
    try:
        json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def only_config_error(build: object, data: object) -> None:
    try:
        config = build(data)  # type: ignore[operator]
    except ConfigError:
        return
    assert encodable(config.to_dict())


@SETTINGS
@given(
    inputs=st.lists(
        TEXT | st.dictionaries(NAMES, JSON_LIKE, max_size=4), min_size=1, max_size=3
    ),
    personas=st.lists(st.dictionaries(NAMES, JSON_LIKE, max_size=3), max_size=2),
    prompt=TEXT,
    name=TEXT,
)
def test_an_experiment_loads_with_text_only_or_is_a_config_error(
    inputs: list[object], personas: list[object], prompt: str, name: str
) -> None:
    data = {
        "name": name,
        "description": "",
        "agent": {"system_prompt": prompt},
        "inputs": inputs,
        "personas": personas,
    }
    only_config_error(ExperimentConfig.from_dict, data)


@SETTINGS
@given(
    data=st.dictionaries(st.sampled_from(["pool", "generators", "report"]), JSON_LIKE)
)
def test_a_client_simulation_config_loads_with_text_only_or_is_a_config_error(
    data: dict[str, object],
) -> None:
    only_config_error(ClientSimulationConfig.from_dict, data)


@SETTINGS
@given(content=TEXT, intent=TEXT | st.none(), description=TEXT)
def test_values_built_in_python_refuse_a_lone_surrogate(
    content: str, intent: str | None, description: str
) -> None:
    try:
        item = InputItem(content=content, intent=intent)
        persona = PersonaConfig(id="p", description=description)
    except ConfigError:
        return
    assert encodable(attrs.asdict(item))
    assert encodable(attrs.asdict(persona))


@SETTINGS
@given(data=JSON_LIKE, suffix=st.sampled_from([".json", ".yaml"]))
def test_parsed_text_is_text_or_a_config_error(data: object, suffix: str) -> None:
    # JSON escapes (\udc80) are how a lone surrogate gets into a UTF-8 file; YAML
    # double-quoted strings take the same escape.
    text = json.dumps({"value": data})
    try:
        parsed = parse_text(text, suffix, f"file{suffix}")
    except ConfigError:
        return
    assert encodable(parsed)


@SETTINGS
@given(
    text=st.text(ANY_CHARACTER, max_size=60),
    suffix=st.sampled_from([".json", ".yaml", ".toml"]),
)
def test_any_text_parses_or_is_a_config_error(text: str, suffix: str) -> None:
    try:
        parsed = parse_text(text, suffix, f"file{suffix}")
    except ConfigError:
        return
    assert encodable(parsed)
