"""Invariants of the cassette's settings and of the simulator replay's digests.

(a) any ``mode``, ``replay``, ``on_miss`` and ``strict`` either give a cassette (and
    its scopes) whose settings are the ones asked for, with ``strict`` the older
    spelling of ``on_miss``, or raise ``ConfigError`` (``InvalidTypeError`` for a
    ``strict`` that is not a bool), naming the bad setting; never another exception;
(b) the ``clientsim`` marker's ``replay`` and ``on_miss`` are checked the same way;
(c) a simulator replay hands out every recorded answer when each call is asked what
    it was asked in the recording, and fails (or, with ``on_miss="live"``, goes
    live for good) at the first call asked something else.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientsim import pytest_plugin as plugin
from clientsim.errors import CassetteDivergenceError, ConfigError
from clientsim.experiments.cassette import INPUT_PREFIX, Cassette, CassetteScope


MODES = ("record", "replay")
REPLAYS = ("all", "simulator")
ON_MISS = ("fail", "live")

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.text(max_size=10),
)


@given(
    mode=st.one_of(st.sampled_from(MODES), anything),
    replay=st.one_of(st.sampled_from(REPLAYS), anything),
    on_miss=st.one_of(st.sampled_from(ON_MISS), st.none(), anything),
    strict=st.one_of(st.none(), st.booleans(), anything),
)
def test_settings_are_taken_as_given_or_refused(
    mode: Any, replay: Any, on_miss: Any, strict: Any
) -> None:
    valid = (
        mode in MODES
        and replay in REPLAYS
        and (on_miss is None or on_miss in ON_MISS)
        and (strict is None or isinstance(strict, bool))
    )
    wanted = on_miss or (None if strict is None else ("fail" if strict else "live"))
    contradicts = (
        valid
        and on_miss is not None
        and strict is not None
        and on_miss != ("fail" if strict else "live")
    )
    if not valid or contradicts:
        with pytest.raises(ConfigError):
            Cassette(
                "tape.sqlite", mode=mode, replay=replay, on_miss=on_miss, strict=strict
            )
        with pytest.raises(ConfigError):
            CassetteScope("c", mode=mode, replay=replay, on_miss=on_miss, strict=strict)
        return
    cassette = Cassette(
        "tape.sqlite", mode=mode, replay=replay, on_miss=on_miss, strict=strict
    )
    scope = CassetteScope("c", mode=mode, replay=replay, on_miss=on_miss, strict=strict)
    for made in (cassette, scope):
        assert (made.mode, made.replay) == (mode, replay)
        assert made.on_miss == (wanted or "fail")
        assert made.strict is (made.on_miss == "fail")
    assert scope.agent_live is (mode == "record" or replay == "simulator")


@given(key=st.sampled_from(("replay", "on_miss")), value=anything)
def test_the_marker_settings_are_checked(key: str, value: Any) -> None:
    allowed = plugin._CASSETTE_CHOICES[key]

    mark = pytest.mark.clientsim(**{key: value}).mark
    request = SimpleNamespace(
        node=SimpleNamespace(get_closest_marker=lambda _name: mark), config=None
    )
    if value in allowed:
        assert plugin._cassette_choice(request, key, "--x") == value
    else:
        with pytest.raises(ConfigError, match=f"@pytest.mark.clientsim {key}"):
            plugin._cassette_choice(request, key, "--x")


def answer(index: int) -> dict[str, Any]:
    return {"type": "ai", "data": {"content": f"answer {index}", "type": "ai"}}


@given(
    digests=st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=8),
    changed_at=st.one_of(st.none(), st.integers(min_value=0, max_value=7)),
    live=st.booleans(),
)
def test_a_replay_fits_until_the_first_changed_input(
    digests: list[str], changed_at: int | None, live: bool
) -> None:
    scope = CassetteScope(
        "c",
        mode="replay",
        replay="simulator",
        on_miss="live" if live else "fail",
        entries={
            "model:customer": [answer(i) for i in range(len(digests))],
            INPUT_PREFIX + "model:customer": digests,
        },
    )
    for index, digest in enumerate(digests):
        asked = digest + "!" if index == changed_at else digest
        if changed_at is None or index < changed_at:
            assert scope.take("model:customer", seen=asked) == answer(index)
        elif live:
            assert scope.take("model:customer", seen=asked) is None
            assert scope.changed
        else:
            with pytest.raises(CassetteDivergenceError):
                scope.take("model:customer", seen=asked)
            return
    fits = changed_at is None or changed_at >= len(digests)
    assert scope.hits == (len(digests) if fits else changed_at)
    assert scope.changed is (live and not fits)
