"""Population specs from Python and from files; errors name the key."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.errors import ConfigError
from clientsim.population import (
    PopulationSpec,
    SegmentSpec,
    generate_population,
    load_population_spec,
)


SEED_EXAMPLE = """{
  "name": "US Healthcare Consumers",
  "demographic_base": "usa_demographics",
  "size": 200,
  "segments": [
    {
      "name": "young_professionals",
      "size": 50,
      "particularities": "25-35 years old, high income, tech-savvy",
      "fragments": ["health_conscious", "time_constrained"]
    },
    {
      "name": "families",
      "size": 75,
      "particularities": "married with children, middle income",
      "fragments": ["loving_parent", "budget_conscious"]
    }
  ]
}"""


def test_the_seed_example_loads_as_is_from_a_file(tmp_path):
    path = tmp_path / "population.json"
    path.write_text(SEED_EXAMPLE, encoding="utf-8")
    spec = load_population_spec(path)
    assert spec == load_population_spec(json.loads(SEED_EXAMPLE))
    assert spec.name == "US Healthcare Consumers"
    assert [(s.name, s.size) for s in spec.all_segments()] == [
        ("young_professionals", 50),
        ("families", 75),
        ("general", 75),
    ]
    assert spec.segments[0].fragments == ("health_conscious", "time_constrained")
    population = generate_population(path)
    assert len(population) == 200
    assert list(population.segments()) == ["young_professionals", "families", "general"]


def test_a_yaml_file_with_a_population_key_and_a_relative_template(tmp_path):
    (tmp_path / "tiny.yaml").write_text(
        "name: tiny\ndimensions:\n  gender:\n    source: made up 2024\n"
        "    distribution: {female: 1.0}\n",
        encoding="utf-8",
    )
    (tmp_path / "study.yaml").write_text(
        "population:\n  name: T\n  demographic_base: tiny.yaml\n  size: 3\n",
        encoding="utf-8",
    )
    population = generate_population(tmp_path / "study.yaml")
    assert {p.demographics["gender"] for p in population} == {"female"}
    assert population.template == "tiny"


def test_python_values_build_the_same_spec():
    spec = PopulationSpec(
        name="P",
        size=5,
        segments=[SegmentSpec(name="a", size=2, demographics={"gender": "male"})],
    )
    assert spec == load_population_spec(
        {
            "name": "P",
            "size": 5,
            "segments": [
                {"name": "a", "size": 2, "demographics": {"gender": ["male"]}}
            ],
        }
    )
    assert spec.segments[0].demographics == {"gender": ("male",)}
    assert spec.total == 5


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"name": "P", "size": "ten"}, "size: expected an integer; got 'ten'"),
        ({"name": "P", "sise": 3}, "sise: unknown key"),
        (
            {"name": "P", "segments": [{"name": "a", "size": 1, "fragment": []}]},
            "segments[0].fragment: unknown key",
        ),
        ({"name": "P", "segments": [{"name": "a"}]}, "segments[0]"),
        (
            {"name": "P", "size": 3, "segments": [{"name": "a", "size": 5}]},
            "the segments hold 5 personas, more than the population's size 3",
        ),
        (
            {
                "name": "P",
                "segments": [{"name": "a", "size": 1}, {"name": "a", "size": 1}],
            },
            "segment 'a' is named twice",
        ),
        ({"name": "P"}, "at least one persona"),
        (
            {"name": "P", "size": 4, "segments": [{"name": "general", "size": 1}]},
            "'general' names the segment",
        ),
        (
            {"name": "P", "segments": [{"name": "Young Pros", "size": 1}]},
            "lowercase words joined by '_'",
        ),
    ],
)
def test_errors_name_the_key(data, words):
    with pytest.raises(ConfigError, match="invalid population spec") as caught:
        load_population_spec(data)
    assert words in str(caught.value)


def test_file_errors_name_the_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"name": "P", "size": -1}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"population spec .*p\.json: size"):
        load_population_spec(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_population_spec(tmp_path / "none.yaml")


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 50), max_size=5),
    extra=st.one_of(st.none(), st.integers(0, 50)),
)
def test_the_general_segment_takes_the_rest(sizes, extra):
    segments = [{"name": f"s{i}", "size": n} for i, n in enumerate(sizes)]
    size = None if extra is None else sum(sizes) + extra
    if (size if size is not None else sum(sizes)) == 0:
        with pytest.raises(ConfigError):
            load_population_spec({"name": "P", "size": size, "segments": segments})
        return
    spec = load_population_spec({"name": "P", "size": size, "segments": segments})
    total = sum(s.size for s in spec.all_segments())
    assert total == spec.total == (sum(sizes) if size is None else size)
    rest = [s for s in spec.all_segments() if s.name == "general"]
    assert (rest[0].size if rest else 0) == (extra or 0)
