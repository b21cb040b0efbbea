"""The offline model's answers as a persona always fit the question asked: a scale
answer within its bounds, a choice among the options, a ranking of all of them, and
the same answer for the same seed."""

from __future__ import annotations

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim.models.persona import Fragment, Persona
from clientsim.models.survey import Question
from clientsim.population import ask
from tests.population.persona_fakes import GREEN, HEALTH, PRICE


WORDS = ["Price", "Health", "Taste", "Brand", "Yes", "No", "Not sure", "Eco", "Speed"]

questions = st.one_of(
    st.builds(
        lambda low, span, text: Question(
            id="s", text=text, type="scale", low=low, high=low + span
        ),
        st.integers(-3, 5),
        st.integers(1, 12),
        st.sampled_from(
            ["How likely are you to buy it?", "How important is price?", "Rate us."]
        ),
    ),
    st.builds(
        lambda kind, options: Question(
            id="c", text="Pick.", type=kind, options=options
        ),
        st.sampled_from(["choice", "ranking"]),
        st.lists(st.sampled_from(WORDS), min_size=2, max_size=6, unique=True),
    ),
    st.just(Question(id="f", text="Anything else?")),
)
personas = st.builds(
    lambda i, fragments, style, age: Persona(
        id=f"p{i}",
        name=f"Person {i}",
        demographics={"age_band": age},
        message_style=style,
        fragments=fragments,
    ),
    st.integers(0, 10**4),
    st.lists(
        st.sampled_from([PRICE, HEALTH, GREEN]), max_size=3, unique_by=lambda f: f.name
    ).map(tuple),
    st.sampled_from(["", "short, lowercase", "formal", "enthusiastic"]),
    st.sampled_from(["18-24", "45-54", "65+"]),
)
contents = st.one_of(
    st.none(),
    st.sampled_from(
        ["Save 30% today.", "Organic and plastic-free.", "Premium luxury, act now!!"]
    ),
)


@settings(max_examples=80, deadline=None)
@given(persona=personas, question=questions, content=contents, seed=st.integers(0, 99))
def test_an_offline_answer_fits_its_question(persona, question, content, seed):
    def asked():
        return anyio.run(lambda: ask(persona, question, content=content, seed=seed))

    answer = asked()
    value = answer.value
    if question.type == "scale":
        assert isinstance(value, int)
        assert question.low <= value <= question.high
    elif question.type == "choice":
        assert value in question.options
    elif question.type == "ranking":
        assert sorted(value) == sorted(question.options)
    else:
        assert isinstance(value, str)
        assert value
    assert answer.text
    assert 0 <= answer.confidence <= 1
    assert asked() == answer


def test_fragments_change_what_the_offline_persona_says():
    plain = Persona(id="a", name="Alex")
    shaped = plain.with_fragments(
        Fragment(
            name="tech_savvy",
            description="You love new gadgets and apps.",
            leanings={"technology": 0.9},
        )
    )
    question = Question(id="f", text="What do you think of it?")
    content = "Our new app orders your groceries with one tap."
    said = [
        anyio.run(lambda p=p: ask(p, question, content=content, seed=1)).text
        for p in (plain, shaped)
    ]
    assert said[0] != said[1]
    assert "tech" in said[1]
