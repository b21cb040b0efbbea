"""Invariants of the requirement generators: the procedural DAG, the hybrid split."""

from __future__ import annotations

import functools

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.requirements import (
    DEFAULT_DOMAINS,
    HybridGenerator,
    ProceduralGenerator,
    TemplateGenerator,
    split_count,
)


seeds = st.integers(min_value=-(2**40), max_value=2**40)


def run(generator, count, seed):
    return anyio.run(functools.partial(generator.generate, count, seed=seed))


@settings(max_examples=60, deadline=None)
@given(
    seed=seeds,
    count=st.integers(min_value=1, max_value=60),
    max_dependencies=st.integers(min_value=0, max_value=6),
    domains=st.lists(st.sampled_from(DEFAULT_DOMAINS), min_size=1, unique=True),
)
def test_procedural_always_gives_a_backward_dag(seed, count, max_dependencies, domains):
    generator = ProceduralGenerator(max_dependencies=max_dependencies, domains=domains)
    requirements = run(generator, count, seed)
    assert len(requirements) == count
    ids = [r.requirement_id for r in requirements]
    assert len(set(ids)) == count
    position = {ident: index for index, ident in enumerate(ids)}
    for index, requirement in enumerate(requirements):
        assert len(requirement.depends_on) <= max_dependencies
        assert len(set(requirement.depends_on)) == len(requirement.depends_on)
        assert all(position[d] < index for d in requirement.depends_on)
        assert requirement.domain in domains
    assert requirements == run(generator, count, seed)


@given(
    count=st.integers(min_value=1, max_value=500),
    weights=st.lists(
        st.floats(min_value=0.01, max_value=100, allow_nan=False),
        min_size=1,
        max_size=8,
    ),
    seed=seeds,
)
def test_split_is_exact_and_proportional(count, weights, seed):
    shares = split_count(count, weights, seed=seed)
    assert sum(shares) == count
    assert all(share >= 0 for share in shares)
    total = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - count * weight / total) < 1
    assert shares == split_count(count, weights, seed=seed)


@settings(max_examples=25, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=30),
    weights=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=3),
    seed=st.integers(min_value=0, max_value=10**6),
)
def test_hybrid_gives_count_unique_ids(count, weights, seed):
    hybrid = HybridGenerator([(TemplateGenerator(), w) for w in weights])
    requirements = run(hybrid, count, seed)
    assert len(requirements) == count
    assert len({r.requirement_id for r in requirements}) == count
