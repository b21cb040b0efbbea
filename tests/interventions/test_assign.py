"""Assignment to arms: seeded, stratified by segment, balanced, order-independent."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.errors import ConfigError
from clientsim.interventions import assign
from clientsim.models.persona import Persona


def crowd(sizes: dict[str, int]) -> list[Persona]:
    return [
        Persona(id=f"s{segment}-{i}", name=f"P{i}", segment=segment or None)
        for segment, size in sizes.items()
        for i in range(size)
    ]


segment_sizes = st.dictionaries(
    st.sampled_from(["", "young", "family", "retired", "student"]),
    st.integers(0, 40),
    max_size=5,
)
arm_lists = st.lists(
    st.sampled_from(["control", "a", "b", "c", "d"]),
    min_size=1,
    max_size=5,
    unique=True,
)


@settings(max_examples=60)
@given(segment_sizes, arm_lists, st.integers(0, 2**32))
def test_every_persona_in_exactly_one_arm_and_each_segment_balanced(sizes, arms, seed):
    people = crowd(sizes)
    split = assign(people, arms, seed=seed)
    assert list(split) == arms
    placed = [p.id for members in split.values() for p in members]
    assert sorted(placed) == sorted(p.id for p in people)
    for segment in {p.segment for p in people}:
        counts = [
            sum(1 for p in members if p.segment == segment)
            for members in split.values()
        ]
        assert max(counts) - min(counts) <= 1
    totals = [len(members) for members in split.values()]
    assert max(totals) - min(totals) <= 1


@settings(max_examples=40)
@given(segment_sizes, arm_lists, st.integers(0, 2**32), st.randoms())
def test_same_seed_same_assignment_whatever_the_order(sizes, arms, seed, rng):
    people = crowd(sizes)
    shuffled = list(people)
    rng.shuffle(shuffled)
    assert assign(people, arms, seed=seed) == assign(shuffled, arms, seed=seed)


def test_another_seed_gives_another_assignment():
    people = crowd({"young": 30, "family": 30})
    assert assign(people, ["a", "b"], seed=1) != assign(people, ["a", "b"], seed=2)


@settings(max_examples=40)
@given(
    st.integers(0, 200),
    st.lists(st.integers(1, 6), min_size=2, max_size=4),
    st.integers(0, 1000),
)
def test_weights_are_followed_within_one_per_arm(size, weights, seed):
    arms = [f"arm{i}" for i in range(len(weights))]
    split = assign(crowd({"": size}), arms, seed=seed, weights=weights)
    for arm, weight in zip(arms, weights, strict=True):
        assert abs(len(split[arm]) - size * weight / sum(weights)) < 1


def test_only_target_segments_take_part():
    people = crowd({"young": 10, "family": 10, "retired": 10})
    split = assign(people, ["a", "b"], target_segments=["young", "family"])
    segments = Counter(p.segment for members in split.values() for p in members)
    assert segments == {"young": 10, "family": 10}


def test_stratify_by_a_demographic_dimension():
    people = [
        Persona(
            id=f"p{i}", name="P", demographics={"region": "north" if i < 7 else "south"}
        )
        for i in range(20)
    ]
    split = assign(people, ["a", "b"], seed=3, stratify_by="region")
    norths = [
        sum(p.demographics["region"] == "north" for p in m) for m in split.values()
    ]
    assert sorted(norths) == [3, 4]


def test_arms_look_random_not_sorted():
    people = crowd({"": 100})
    first = assign(people, ["a", "b"], seed=0)["a"]
    ids = sorted(int(p.id.split("-")[1]) for p in first)
    assert ids != list(range(50))
    assert ids != list(range(50, 100))


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"arms": []}, "at least one arm"),
        ({"arms": ["a", "a"]}, "distinct"),
        ({"arms": ["a", "b"], "weights": [1]}, "one weight per arm"),
        ({"arms": ["a", "b"], "weights": {"a": 1, "c": 1}}, "unknown ['c']"),
        ({"arms": ["a", "b"], "weights": [1, 0]}, "positive"),
    ],
)
def test_bad_arguments_fail_clearly(kwargs, words):
    with pytest.raises(
        ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")
    ):
        assign(crowd({"x": 4}), **kwargs)


def test_repeated_persona_ids_are_refused():
    twice = crowd({"x": 2}) + crowd({"x": 1})
    with pytest.raises(ConfigError, match="repeated"):
        assign(twice, ["a", "b"])
