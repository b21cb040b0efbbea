"""The client pool: sizes, ratios and the three selection strategies."""

from __future__ import annotations

from collections import Counter

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim.clients.base import ClientInterface
from clientsim.clients.pool import (
    BUILTINS,
    ClientPoolConfig,
    DomainMatchedStrategy,
    RoundRobinStrategy,
    WeightedRandomStrategy,
)
from clientsim.errors import ConfigError
from clientsim.models.client import ClientFeedback, ClientProfile, TaskRequirement


@attrs.define
class Client:
    profile: ClientProfile

    async def submit_requirement(self, context):
        return None

    async def review_deliverable(self, context):
        return ClientFeedback(accepted=True, reason="")


def client(client_id: str, *domains: str) -> Client:
    return Client(
        ClientProfile(
            client_id=client_id,
            name=client_id,
            persona="tester",
            expertise_domains=domains or ("general",),
            strictness_level=0.5,
        )
    )


def work(domain: str) -> TaskRequirement:
    return TaskRequirement(title="t", description="d", domain=domain)


def test_a_test_client_is_a_client_interface():
    assert isinstance(client("a"), ClientInterface)


@given(
    st.integers(1, 200),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_counts_add_up_to_the_size(size, first, second):
    ai = first
    human = (1 - ai) * second
    hybrid = 1 - ai - human
    config = ClientPoolConfig(
        size=size, ai_ratio=ai, human_ratio=human, hybrid_ratio=max(hybrid, 0.0)
    )
    counts = config.counts()
    assert sum(counts.values()) == size
    assert len(config.strictness_levels()) == size


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"size": 0}, "size"),
        ({"ai_ratio": 0.5}, "add up to 1.0"),
        ({"ai_ratio": 1.5, "human_ratio": -0.5}, "ai_ratio"),
        ({"strictness_range": (0.9, 0.1)}, "strictness_range"),
        ({"domains": ()}, "domains"),
        ({"selection_strategy": ""}, "selection_strategy"),
    ],
)
def test_bad_pool_configs_name_the_key(options, named):
    with pytest.raises(ConfigError, match=named):
        ClientPoolConfig(**options)


def test_round_robin_takes_turns():
    pool = [client("a"), client("b"), client("c")]
    strategy = RoundRobinStrategy()
    picked = [strategy.select(pool).profile.client_id for _ in range(6)]
    assert picked == ["a", "b", "c", "a", "b", "c"]


def test_weighted_random_follows_the_weights_and_the_seed():
    pool = [client("a"), client("b")]
    picks = Counter(
        WeightedRandomStrategy({"a": 3.0, "b": 1.0}, seed=1)
        .select(pool)
        .profile.client_id
        for _ in range(1)
    )
    assert sum(picks.values()) == 1
    strategy = WeightedRandomStrategy({"a": 3.0, "b": 1.0}, seed=7)
    many = Counter(strategy.select(pool).profile.client_id for _ in range(2000))
    assert 0.7 < many["a"] / 2000 < 0.8
    again = WeightedRandomStrategy({"a": 3.0, "b": 1.0}, seed=7)
    repeat = Counter(again.select(pool).profile.client_id for _ in range(2000))
    assert repeat == many
    with pytest.raises(ConfigError, match="weight"):
        WeightedRandomStrategy({"a": -1})
    with pytest.raises(ConfigError, match="weight 0"):
        WeightedRandomStrategy({"a": 0, "b": 0}).select(pool)


def test_domain_matched_prefers_experts_and_falls_back_to_everyone():
    pool = [client("a", "backend"), client("b", "frontend"), client("c", "backend")]
    strategy = DomainMatchedStrategy()
    backend = [
        strategy.select(pool, work("backend")).profile.client_id for _ in range(4)
    ]
    assert backend == ["a", "c", "a", "c"]
    assert strategy.select(pool, work("frontend")).profile.client_id == "b"
    assert strategy.select(pool, work("mobile")).profile.client_id in {"a", "b", "c"}


def test_an_empty_pool_is_an_error():
    for name, kind in BUILTINS.items():
        with pytest.raises(ConfigError, match="empty"):
            kind.from_config().select([])
        assert name in {"round_robin", "weighted_random", "domain_matched"}
