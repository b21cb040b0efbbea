"""Demographic templates: the shipped tables, their sources, user files, plugins."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clientsim
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.plugins import register_plugin, unregister_plugin
from clientsim.population import (
    DemographicTemplate,
    demographic_template,
    demographic_templates,
    generate_population,
    load_demographic_template,
)
from clientsim.population.demographics import parse_demographic_template


DIMENSIONS = (
    "age_band",
    "gender",
    "income_band",
    "region",
    "education",
    "household_type",
    "occupation",
)


@pytest.mark.parametrize("name", ["usa", "eu", "uk"])
def test_each_shipped_template_has_every_dimension_with_a_dated_source(name):
    template = demographic_template(name)
    assert template.dimension_names == DIMENSIONS
    for dimension in template.dimensions:
        assert sum(dimension.distribution.values()) == pytest.approx(1.0, abs=1e-9)
        assert all(p > 0 for p in dimension.distribution.values())
        # every table names its source and a year
        assert any(str(year) in dimension.source for year in range(2020, 2025)), (
            dimension.name,
            dimension.source,
        )


def test_templates_answer_to_their_aliases_and_unknown_names_list_the_known_ones():
    assert demographic_template("usa_demographics").name == "usa"
    assert demographic_template("EU").name == "eu"
    assert demographic_template("uk_demographics").name == "uk"
    with pytest.raises(UnknownStrategyError) as caught:
        demographic_template("mars")
    message = str(caught.value)
    assert "'mars'" in message
    assert all(name in message for name in ("'usa'", "'eu'", "'uk'"))
    assert set(demographic_templates()) >= {"usa", "eu", "uk"}


def _template_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "island",
        "title": "Island",
        "dimensions": {
            "gender": {
                "source": "Island census 2021",
                "distribution": {"female": 0.5, "male": 0.5},
            },
            "region": {
                "source": "Island census 2021",
                "distribution": {"North": 0.3, "South": 0.7},
                "keywords": {"northern": ["North"]},
            },
        },
        "names": {"female": ["Ana"], "male": ["Ben"], "family": ["Reef"]},
    }
    data.update(changes)
    return data


def test_a_user_template_file_loads_and_generates(tmp_path):
    import yaml

    path = tmp_path / "island.yaml"
    path.write_text(yaml.safe_dump(_template_data()), encoding="utf-8")
    template = load_demographic_template(path)
    assert isinstance(template, DemographicTemplate)
    assert template.marginals()["region"] == {"North": 0.3, "South": 0.7}
    assert demographic_template(str(path)).name == "island"
    population = generate_population(
        {
            "name": "Islanders",
            "demographic_base": str(path),
            "segments": [{"name": "north", "size": 5, "particularities": "northern"}],
        }
    )
    assert {p.demographics["region"] for p in population} == {"North"}
    assert {p.name for p in population} <= {"Ana Reef", "Ben Reef"}


def test_a_table_that_does_not_sum_to_one_is_refused_naming_file_and_table(tmp_path):
    data = _template_data()
    data["dimensions"]["region"]["distribution"] = {"North": 0.3, "South": 0.6}
    with pytest.raises(ConfigError) as caught:
        parse_demographic_template(data, "demographic template island.yaml")
    message = str(caught.value)
    assert "island.yaml" in message
    assert "table 'region'" in message
    assert "sum to 0.9000" in message


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"source": ""}, "'source' must name"),
        ({"distribution": {"North": 1.5, "South": -0.5}}, "from 0 to 1"),
        ({"keywords": {"west": ["West"]}}, "'West', which is not a value"),
        ({"weights": {}}, "unknown key 'weights'"),
    ],
)
def test_bad_tables_say_what_is_wrong(change, words):
    data = _template_data()
    data["dimensions"]["region"].update(change)
    with pytest.raises(ConfigError, match="table 'region'") as caught:
        parse_demographic_template(data, "demographic template x.yaml")
    assert words in str(caught.value)


def test_missing_and_misnamed_template_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_demographic_template(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="suffix"):
        load_demographic_template(tmp_path / "nope.txt")


def test_a_plugin_adds_a_template():
    island = parse_demographic_template(_template_data(), "test data")

    class Plugin:
        @clientsim.hookimpl
        def clientsim_register_demographics(self, register: Any) -> None:
            register("island", lambda: island)

    plugin = Plugin()
    register_plugin(plugin)
    try:
        assert demographic_template("island") is island
        assert "island" in demographic_templates()
    finally:
        unregister_plugin(plugin)
    with pytest.raises(UnknownStrategyError):
        demographic_template("island")


@settings(max_examples=50, deadline=None)
@given(
    weights=st.lists(st.integers(1, 1000), min_size=1, max_size=8),
    scale=st.floats(0.5, 1.5),
)
def test_tables_are_accepted_exactly_when_they_sum_to_one(weights, scale):
    total = sum(weights)
    distribution = {f"v{i}": w / total * scale for i, w in enumerate(weights)}
    data = _template_data()
    data["dimensions"]["gender"] = {
        "source": "made up 2024",
        "distribution": distribution,
    }
    if all(p <= 1 for p in distribution.values()) and abs(scale - 1) <= 1e-3:
        template = parse_demographic_template(data, "t.yaml")
        assert sum(template.marginals()["gender"].values()) == pytest.approx(1.0)
    else:
        with pytest.raises(ConfigError, match=r"t\.yaml: table 'gender'"):
            parse_demographic_template(data, "t.yaml")
