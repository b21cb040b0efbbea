"""Question configs: every valid mapping builds the question it describes, and every
unknown key is refused by name."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.errors import ConfigError
from clientsim.population import InterviewMode, SurveyMode
from clientsim.population.questions import QUESTION_KEYS


ids = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
texts = st.text(alphabet="abcdefghij ?", min_size=1, max_size=20).filter(str.strip)
options = st.lists(texts, min_size=2, max_size=5, unique=True)

configs = st.one_of(
    st.builds(
        lambda i, t, low, span: {
            "id": i,
            "text": t,
            "type": "scale",
            "low": low,
            "high": low + span,
        },
        ids,
        texts,
        st.integers(-10, 10),
        st.integers(1, 10),
    ),
    st.builds(
        lambda i, t, kind, o: {"id": i, "text": t, "type": kind, "options": o},
        ids,
        texts,
        st.sampled_from(["choice", "ranking"]),
        options,
    ),
    st.builds(lambda i, t: {"id": i, "text": t}, ids, texts),
)


@settings(max_examples=100, deadline=None)
@given(config=configs)
def test_a_valid_question_config_builds_that_question(config):
    (question,) = SurveyMode([config]).questions
    for key, value in config.items():
        expected = tuple(value) if key == "options" else value
        assert getattr(question, key) == expected
    assert InterviewMode([config]).questions == (question,)


@settings(max_examples=100, deadline=None)
@given(config=configs, key=ids.filter(lambda k: k not in QUESTION_KEYS))
def test_an_unknown_key_is_named(config, key):
    with pytest.raises(ConfigError, match=f"unknown key '{key}'"):
        SurveyMode([{**config, key: 1}])
