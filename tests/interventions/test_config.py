"""An intervention loads from the seed's example, a mapping or a file; bad ones fail
with the key named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.interventions import Intervention, load_intervention
from clientsim.interventions.results import build_metrics, study_questions
from clientsim.models.intervention import intervention_to_dict


SEED_EXAMPLE: dict[str, Any] = {
    "name": "Email Campaign A/B Test",
    "type": "marketing_intervention",
    "variants": [
        {
            "name": "emotional_appeal",
            "content": "Don't miss out on transforming your health...",
            "timing": "morning",
            "channel": "email",
        },
        {
            "name": "rational_appeal",
            "content": "Our clinical studies show 89% improvement...",
            "timing": "afternoon",
            "channel": "email",
        },
    ],
    "target_segments": ["young_professionals", "families"],
    "success_metrics": ["open_rate", "click_through", "purchase_intent"],
}


def test_the_seed_example_loads_as_is():
    test = load_intervention(SEED_EXAMPLE)
    assert test.arm_names == ("emotional_appeal", "rational_appeal")
    assert test.baseline == "emotional_appeal"
    assert test.variants[0].timing == "morning"
    assert test.variants[1].channel == "email"
    assert test.target_segments == ("young_professionals", "families")
    assert test.success_metrics == ("open_rate", "click_through", "purchase_intent")
    assert test.mode == "survey"


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_the_seed_example_loads_from_a_file(tmp_path: Path, suffix: str):
    path = tmp_path / f"campaign{suffix}"
    text = (
        yaml.safe_dump(SEED_EXAMPLE) if suffix == ".yaml" else json.dumps(SEED_EXAMPLE)
    )
    path.write_text(text, encoding="utf-8")
    assert load_intervention(path) == load_intervention(SEED_EXAMPLE)


def test_the_metrics_add_the_questions_they_need():
    test = load_intervention(SEED_EXAMPLE)
    questions = study_questions(test, build_metrics(test))
    assert [q.id for q in questions] == ["opened", "click_through", "purchase_intent"]
    assert questions[2].type == "scale"


def test_metrics_is_the_short_name_of_success_metrics():
    short = {k: v for k, v in SEED_EXAMPLE.items() if k != "success_metrics"}
    short["metrics"] = ["conversion"]
    assert load_intervention(short).metrics == ("conversion",)
    with pytest.raises(ConfigError, match="not both"):
        load_intervention({**short, "success_metrics": ["conversion"]})


def test_a_control_group_that_shows_nothing():
    test = Intervention(name="x", control="control", variants=[{"name": "new"}])
    assert test.arm_names == ("control", "new")
    assert test.control is not None
    assert test.control.content == ""
    assert test.baseline == "control"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"variants": [{"name": "a", "contnt": "x"}, {"name": "b"}]}, "variants[0]"),
        (
            {"variants": [{"name": "a", "timing": 3}, {"name": "b"}]},
            "variants[0]: timing",
        ),
        ({"variants": [{"name": "a"}]}, "at least two arms"),
        ({"variants": "a"}, "variants must be a list"),
        ({"variants": [{"name": "a"}, {"name": "a"}]}, "repeated: ['a']"),
        ({"success_metrics": []}, "success_metrics must name"),
        ({"success_metrics": [3]}, "success_metrics items"),
        ({"mode": 3}, "mode must be"),
        ({"allocation": {"emotional_appeal": 1}}, "allocation must give a weight"),
        ({"allocation": {"emotional_appeal": 1, "rational_appeal": -1}}, "allocation"),
        ({"questions": [{"id": "q", "text": "?", "type": "stars"}]}, "questions[0]"),
    ],
)
def test_a_bad_intervention_names_the_key(change: dict[str, Any], words: str):
    with pytest.raises(ConfigError) as caught:
        load_intervention({**SEED_EXAMPLE, **change})
    assert words in str(caught.value)


def test_missing_keys_and_files_are_named(tmp_path: Path):
    with pytest.raises(ConfigError, match="missing key 'variants'"):
        load_intervention({"name": "x"})
    with pytest.raises(ConfigError, match="does not exist"):
        load_intervention(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        load_intervention(bad)


def test_an_unknown_metric_lists_the_known_ones():
    test = load_intervention({**SEED_EXAMPLE, "success_metrics": ["opn_rate"]})
    with pytest.raises(UnknownStrategyError) as caught:
        build_metrics(test)
    message = str(caught.value)
    assert "'opn_rate'" in message
    assert "response_rate" in message
    assert "purchase_intent" in message
    assert "did you mean 'open_rate'" in message


@pytest.mark.parametrize(
    ("metric", "words"),
    [
        ("field:", "name the field"),
        ("thing:x", "only 'field:<name>'"),
        ("question:nps>=high", "must be a number"),
        ({"strategy": "mean_score"}, "scale questions: none"),
    ],
)
def test_bad_metric_configs_say_why(metric: object, words: str):
    test = load_intervention({**SEED_EXAMPLE, "success_metrics": [metric]})
    with pytest.raises(ConfigError, match=words):
        build_metrics(test)


_slug = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


@st.composite
def interventions(draw: st.DrawFn) -> Intervention:
    names = draw(st.lists(_slug, min_size=2, max_size=4, unique=True))
    control = draw(st.sampled_from([None, "control"]))
    if control in names:
        control = None
    variants = [
        {
            "name": name,
            "content": draw(_text),
            "timing": draw(st.none() | st.sampled_from(["morning", "evening"])),
            "channel": draw(st.none() | st.sampled_from(["email", "sms"])),
        }
        for name in names
    ]
    arms = ([control] if control else []) + names
    allocation = draw(
        st.none() | st.fixed_dictionaries({arm: st.integers(1, 5) for arm in arms})
    )
    return Intervention(
        name=draw(_text.filter(str.strip)),
        variants=variants,
        control=control,
        target_segments=draw(st.lists(_slug, max_size=3)),
        success_metrics=draw(
            st.lists(
                st.sampled_from(["open_rate", "conversion", "field:rating"]),
                min_size=1,
                unique=True,
            )
        ),
        allocation=allocation,
    )


@given(interventions())
def test_an_intervention_round_trips_through_plain_data(test: Intervention):
    plain = intervention_to_dict(test)
    assert load_intervention(json.loads(json.dumps(plain))) == test
