"""The fragment library: shipped fragments, user files, registration, prompts."""

from __future__ import annotations

import json
from typing import Any

import pytest

import clientsim
from clientsim.errors import ConfigError, DuplicateStrategyError, UnknownStrategyError
from clientsim.models.persona import Fragment, Persona
from clientsim.plugins import register_plugin, unregister_plugin
from clientsim.population import (
    fragments,
    generate_population,
    get_fragment,
    load_fragments,
    register_fragment,
)


TOPICS = {
    "price",
    "health",
    "time",
    "environment",
    "technology",
    "family",
    "trust",
    "novelty",
    "privacy",
    "quality",
    "convenience",
    "social",
    "brand",
    "risk",
    "community",
}
ASKED = (
    "health_conscious",
    "tech_savvy",
    "price_sensitive",
    "environmentally_aware",
    "time_constrained",
    "loving_parent",
    "budget_conscious",
    "brand_loyal",
    "early_adopter",
    "skeptical",
    "risk_averse",
    "social_media_active",
    "privacy_conscious",
    "convenience_seeker",
    "quality_focused",
    "community_minded",
)


def test_at_least_sixteen_fragments_ship_with_descriptions_traits_and_leanings():
    library = fragments()
    assert len(library) >= 16
    assert set(ASKED) <= set(library)
    for name, fragment in library.items():
        assert fragment.name == name
        assert fragment.description.endswith(".")
        assert fragment.traits
        assert fragment.leanings
        assert set(fragment.leanings) <= TOPICS, name


def test_names_are_found_however_they_are_written():
    assert get_fragment("tech-savvy") is get_fragment("tech_savvy")
    assert get_fragment("Price Sensitive").name == "price_sensitive"
    with pytest.raises(UnknownStrategyError, match="did you mean 'tech_savvy'"):
        get_fragment("tech_savy")


def test_applying_a_fragment_changes_what_the_prompt_says():
    persona = Persona(id="p1", name="Ana", demographics={"age_band": "25-34"})
    before = persona.prompt()
    after = persona.with_fragments(get_fragment("price_sensitive")).prompt()
    assert before != after
    assert "Fragments: price_sensitive" in after
    assert "You compare prices before buying" in after
    assert "Leanings: price=+0.90" in after
    population = generate_population({"name": "P", "size": 4}, seed=1)
    tilted = population.apply_fragments("environmentally_aware")
    for old, new in zip(population, tilted, strict=True):
        assert "environment=+0.90" in new.prompt()
        assert "environment" not in old.prompt().split("Leanings:")[-1]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_user_fragments_load_from_files(tmp_path, suffix):
    entries = [
        {
            "name": "night_owl",
            "description": "You do your shopping late at night.",
            "traits": ["up late"],
            "leanings": {"time": 0.4},
        },
        {"name": "gift_giver", "description": "You buy presents all year."},
    ]
    path = tmp_path / f"mine{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps({"fragments": entries}), encoding="utf-8")
    else:
        import yaml

        path.write_text(yaml.safe_dump(entries), encoding="utf-8")
    loaded = load_fragments(path)
    assert list(loaded) == ["night_owl", "gift_giver"]
    assert loaded["night_owl"].leanings == {"time": 0.4}
    population = generate_population(
        {
            "name": "P",
            "segments": [
                {
                    "name": "s",
                    "size": 3,
                    "particularities": "night owl",
                    "fragments": ["gift_giver"],
                }
            ],
        },
        fragments=loaded,
    )
    assert population.personas[0].fragment_names == ("night_owl", "gift_giver")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('[{"name": "x", "description": "d", "leanings": {"price": 3}}]', "[0]"),
        ('[{"name": "x", "description": "d", "mood": 1}]', "[0].mood: unknown key"),
        ('[{"name": "Bad Name", "description": "d"}]', "slug"),
        (
            '[{"name": "x", "description": "d"}, {"name": "x", "description": "e"}]',
            "'x' twice",
        ),
        ('"just text"', "expected a list of fragments"),
    ],
)
def test_bad_fragment_files_name_the_file_and_the_entry(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.json") as caught:
        load_fragments(path)
    assert words in str(caught.value)


def test_register_fragment_and_the_hook():
    mine = Fragment(name="test_only_insomniac", description="You sleep little.")
    assert register_fragment(mine) is mine
    assert get_fragment("test_only_insomniac") is mine
    with pytest.raises(DuplicateStrategyError):
        register_fragment(mine)

    class Plugin:
        @clientsim.hookimpl
        def clientsim_register_fragments(self, register: Any) -> None:
            register(
                "acme_thrifty",
                lambda: Fragment(name="acme_thrifty", description="You save."),
            )

    plugin = Plugin()
    register_plugin(plugin)
    try:
        assert "acme_thrifty" in fragments()
        assert get_fragment("test_only_insomniac") is mine  # kept across refills
    finally:
        unregister_plugin(plugin)
    assert "acme_thrifty" not in fragments()
