"""Sampling personas: marginals, seeds, sizes, ids and segments' particularities."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.population import demographic_template, generate_population


@pytest.mark.parametrize("name", ["usa", "eu", "uk"])
def test_ten_thousand_personas_reproduce_every_marginal_within_a_point(name):
    population = generate_population(
        {"name": name, "demographic_base": name, "size": 10_000}, seed=7
    )
    assert len(population) == 10_000
    for dimension in demographic_template(name).dimensions:
        counts: dict[str, int] = {}
        for persona in population:
            value = persona.demographics[dimension.name]
            counts[value] = counts.get(value, 0) + 1
        assert set(counts) <= set(dimension.distribution)
        for value, share in dimension.distribution.items():
            assert abs(counts.get(value, 0) / 10_000 - share) <= 0.01, (
                dimension.name,
                value,
            )


segment_sizes = st.lists(st.integers(0, 40), max_size=4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=segment_sizes,
    extra=st.integers(0, 30),
    seed=st.integers(0, 2**32),
    base=st.sampled_from(["usa", "eu", "uk"]),
)
def test_the_same_seed_gives_the_same_population_with_the_sizes_asked(
    sizes, extra, seed, base
):
    if sum(sizes) + extra == 0:
        extra = 1
    spec = {
        "name": "P",
        "demographic_base": base,
        "size": sum(sizes) + extra,
        "segments": [{"name": f"s{i}", "size": n} for i, n in enumerate(sizes)],
    }
    first = generate_population(spec, seed=seed)
    assert first == generate_population(spec, seed=seed)
    assert len(first) == sum(sizes) + extra
    groups = first.segments()
    for i, n in enumerate(sizes):
        assert len(groups.get(f"s{i}", ())) == n
    assert len(groups.get("general", ())) == extra
    ids = [p.id for p in first]
    assert len(set(ids)) == len(ids)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_another_seed_gives_other_personas_and_segments_are_independent(seed):
    spec = {"name": "P", "size": 30, "segments": [{"name": "a", "size": 10}]}
    one = generate_population(spec, seed=seed)
    assert one != generate_population(spec, seed=seed + 1)
    wider = {
        **spec,
        "size": 40,
        "segments": [*spec["segments"], {"name": "b", "size": 10}],
    }
    # adding a segment leaves the others' personas as they were
    assert generate_population(wider, seed=seed).individuals("a") == one.individuals(
        "a"
    )


def test_the_spec_seed_is_the_default_seed():
    spec = {"name": "P", "size": 12, "seed": 42}
    assert generate_population(spec) == generate_population(spec, seed=42)
    assert generate_population(spec) != generate_population(spec, seed=0)


def test_the_seed_example_segments_get_what_their_particularities_say():
    population = generate_population(
        {
            "name": "US Healthcare Consumers",
            "demographic_base": "usa_demographics",
            "size": 200,
            "segments": [
                {
                    "name": "young_professionals",
                    "size": 50,
                    "particularities": "25-35 years old, high income, tech-savvy",
                    "fragments": ["health_conscious", "time_constrained"],
                },
                {
                    "name": "families",
                    "size": 75,
                    "particularities": "married with children, middle income",
                    "fragments": ["loving_parent", "budget_conscious"],
                },
            ],
        },
        seed=1,
    )
    young = population.individuals("young_professionals")
    assert all(25 <= int(p.demographics["age"]) <= 35 for p in young)
    assert {p.demographics["age_band"] for p in young} <= {"25-34", "35-44"}
    assert {p.demographics["income_band"] for p in young} <= {
        "$150,000-$199,999",
        "$200,000 or more",
    }
    assert all(
        p.fragment_names == ("tech_savvy", "health_conscious", "time_constrained")
        for p in young
    )
    families = population.individuals("families")
    assert {p.demographics["household_type"] for p in families} == {
        "married couple with children"
    }
    assert {p.demographics["income_band"] for p in families} <= {
        "$50,000-$74,999",
        "$75,000-$99,999",
        "$100,000-$149,999",
    }
    assert families[0].fragment_names == ("loving_parent", "budget_conscious")
    assert len(population.individuals("general")) == 75


@pytest.mark.parametrize(
    ("words", "dimension", "allowed"),
    [
        ("women over 60", "gender", {"female"}),
        ("women over 60", "age_band", {"55-64", "65+"}),
        ("single parents, low income", "household_type", {"single parent"}),
        (
            "couples without children",
            "household_type",
            {"married couple without children", "cohabiting couple"},
        ),
        ("living in the Midwest, college educated", "region", {"Midwest"}),
        ("retired", "age_band", {"65+"}),
        ("in their 30s", "age_band", {"25-34", "35-44"}),
    ],
)
def test_particularities_restrict_dimensions(words, dimension, allowed):
    population = generate_population(
        {"name": "P", "segments": [{"name": "s", "size": 60, "particularities": words}]}
    )
    assert {p.demographics[dimension] for p in population} <= allowed


def test_unmatched_particularities_become_traits_and_ages_stay_in_range():
    population = generate_population(
        {
            "name": "P",
            "demographic_base": "uk",
            "segments": [
                {
                    "name": "s",
                    "size": 40,
                    "particularities": "under 25, loves gardening",
                }
            ],
        }
    )
    for persona in population:
        assert 18 <= int(persona.demographics["age"]) <= 24
        assert "loves gardening" in persona.traits


@pytest.mark.parametrize(
    ("segment", "words"),
    [
        (
            {"particularities": "high income, low income"},
            "leave no value of 'income_band'",
        ),
        ({"particularities": "25-30, over 50"}, "does not overlap"),
        ({"demographics": {"region": "Atlantis"}}, "'Atlantis' is not a value"),
        ({"demographics": {"planet": "Earth"}}, "no dimension 'planet'"),
    ],
)
def test_contradictions_and_unknown_values_are_refused(segment, words):
    spec = {"name": "P", "segments": [{"name": "s", "size": 3, **segment}]}
    with pytest.raises(ConfigError, match=r"'s'|planet") as caught:
        generate_population(spec)
    assert words in str(caught.value)


def test_an_unknown_fragment_names_the_segment_and_the_known_ones():
    spec = {"name": "P", "segments": [{"name": "s", "size": 2, "fragments": ["nerdy"]}]}
    with pytest.raises(UnknownStrategyError, match="segment 's'") as caught:
        generate_population(spec)
    assert "tech_savvy" in str(caught.value)


def test_sample_and_apply_fragments():
    population = generate_population(
        {"name": "P", "size": 30, "segments": [{"name": "a", "size": 10}]}, seed=3
    )
    sample = population.sample(5, seed=1)
    assert len(sample) == 5
    assert sample == population.sample(5, seed=1)
    assert {p.id for p in sample} <= {p.id for p in population}
    with pytest.raises(ConfigError, match="from 0 to 30"):
        population.sample(31)
    tilted = population.apply_fragments(["price-sensitive"], segment="a")
    assert all("price_sensitive" in p.fragment_names for p in tilted.individuals("a"))
    assert not any(p.fragment_names for p in tilted.individuals("general"))
    with pytest.raises(ConfigError, match="no segment 'b'; its segments: a, general"):
        population.individuals("b")


@settings(max_examples=30, deadline=None)
@given(
    low=st.integers(18, 85),
    span=st.integers(0, 30),
    base=st.sampled_from(["usa", "eu", "uk"]),
    seed=st.integers(0, 1000),
)
def test_every_age_range_is_respected(low, span, base, seed):
    high = min(low + span, 90)
    population = generate_population(
        {
            "name": "P",
            "demographic_base": base,
            "segments": [
                {"name": "s", "size": 15, "particularities": f"{low}-{high} years old"}
            ],
        },
        seed=seed,
    )
    for persona in population:
        assert low <= int(persona.demographics["age"]) <= high
