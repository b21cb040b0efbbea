"""Requirement generators: template, dataset, LLM, hybrid, procedural."""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import attrs
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from clientsim import events
from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.models.client import Priority, TaskRequirement, TaskType
from clientsim.requirements import (
    BUILTINS,
    DEFAULT_DOMAINS,
    DatasetGenerator,
    HybridGenerator,
    LLMGenerator,
    ProceduralGenerator,
    RequirementGenerator,
    RequirementTemplate,
    TemplateGenerator,
    load_requirements,
    split_count,
)
from clientsim.requirements.template import BUILTIN_TEMPLATES


# ----- helpers ------------------------------------------------------------------------


class Answers(BaseChatModel):
    """A fake chat model answering each structured call with the next fixed answer."""

    answers: list[dict[str, Any]] = Field(default_factory=list)
    seen: list[Any] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "answers"

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(list(messages))
        name = kwargs["tools"][0]["function"]["name"]
        args = self.answers[min(len(self.seen), len(self.answers)) - 1]
        message = AIMessage(
            content="",
            tool_calls=[{"name": name, "args": args, "id": "c1", "type": "tool_call"}],
            usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
        return self._generate(messages, **kwargs)


GOOD = {
    "title": "Let shoppers save carts for later",
    "description": "Shoppers lose their cart when they switch devices. Save carts "
    "to the account so they follow the user.",
    "acceptance_criteria": [
        "A saved cart appears on every device the user signs in on",
        "Saved carts expire after 30 days",
    ],
}


class Fixed:
    """A generator with fixed ids (to test the hybrid's id renaming)."""

    async def generate(self, count, *, seed=0):
        return tuple(
            TaskRequirement(
                title=f"Fixed {i}",
                description="Fixed work.",
                requirement_id=f"r{i}",
                depends_on=(f"r{i - 1}",) if i else (),
            )
            for i in range(count)
        )


def generated_events(caplog):
    return [
        r.clientsim_fields
        for r in caplog.records
        if getattr(r, "clientsim_event", None) == events.REQUIREMENTS_GENERATED
    ]


def all_generators():
    return [
        TemplateGenerator(),
        DatasetGenerator(),
        ProceduralGenerator(),
        LLMGenerator("offline"),
    ]


# ----- shared behaviour ---------------------------------------------------------------


@pytest.mark.parametrize("generator", all_generators(), ids=lambda g: g.name)
async def test_same_seed_same_output_and_count(generator):
    first = await generator.generate(7, seed=3)
    again = await generator.generate(7, seed=3)
    other = await generator.generate(7, seed=4)
    assert first == again
    assert first != other
    assert len(first) == 7
    assert all(isinstance(r, TaskRequirement) for r in first)
    assert len({r.requirement_id for r in first}) == 7
    assert isinstance(generator, RequirementGenerator)


@pytest.mark.parametrize("generator", all_generators(), ids=lambda g: g.name)
@pytest.mark.parametrize("count", [0, -1, True, 1.5, "3"])
async def test_bad_count_is_refused(generator, count):
    with pytest.raises(ConfigError, match="count must be an int >= 1"):
        await generator.generate(count)


async def test_bad_seed_is_refused():
    with pytest.raises(ConfigError, match="seed must be an int"):
        await TemplateGenerator().generate(1, seed="x")


@pytest.mark.parametrize("generator", all_generators(), ids=lambda g: g.name)
async def test_every_generator_emits_requirements_generated(generator, caplog):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    await generator.generate(4, seed=1)
    assert generated_events(caplog) == [{"generator": generator.name, "count": 4}]


def test_builtins_and_from_config():
    assert set(BUILTINS) == {"template", "llm", "dataset", "procedural"}
    assert "hybrid" not in BUILTINS
    assert isinstance(BUILTINS["template"].from_config(), TemplateGenerator)
    assert isinstance(BUILTINS["dataset"].from_config(), DatasetGenerator)
    llm = BUILTINS["llm"].from_config(model="offline", domain="data", persona="A CFO")
    assert isinstance(llm, LLMGenerator)
    assert (llm.domain, llm.persona) == ("data", "A CFO")
    proc = BUILTINS["procedural"].from_config(max_dependencies=1, domains=["infra"])
    assert isinstance(proc, ProceduralGenerator)
    assert proc.max_dependencies == 1
    assert proc.domains == ("infra",)


@pytest.mark.parametrize("name", ["template", "llm", "dataset", "procedural"])
def test_from_config_refuses_unknown_options(name):
    with pytest.raises(ConfigError, match=r"unknown option 'colour'.*allowed:"):
        BUILTINS[name].from_config(colour="red")


# ----- template -----------------------------------------------------------------------


def test_builtin_templates_cover_every_task_type_and_domain():
    assert {t.task_type for t in BUILTIN_TEMPLATES} == set(TaskType)
    assert {t.domain for t in BUILTIN_TEMPLATES} == set(DEFAULT_DOMAINS)


async def test_template_fills_every_slot():
    requirements = await TemplateGenerator().generate(60, seed=2)
    for requirement in requirements:
        texts = (requirement.title, requirement.description)
        assert not any("{" in t and "{id}" not in t for t in texts)
        assert requirement.acceptance_criteria
    assert {r.task_type for r in requirements} == set(TaskType)
    assert len({r.title for r in requirements}) > 30


async def test_template_domains_filter():
    generator = TemplateGenerator(domains=["frontend", "mobile"])
    requirements = await generator.generate(20, seed=0)
    assert {r.domain for r in requirements} == {"frontend", "mobile"}


def test_template_unknown_domain():
    with pytest.raises(ConfigError, match=r"unknown domain 'space'.*backend"):
        TemplateGenerator(domains=["space"])
    with pytest.raises(ConfigError, match="at least one domain"):
        TemplateGenerator(domains=[])


def test_user_template_with_unknown_slot_names_it():
    template = {
        "title": "Tune {knob}",
        "description": "Tune it.",
        "task_type": "refactor",
        "domain": "backend",
    }
    with pytest.raises(ConfigError, match=r"unknown slot \{knob\}"):
        TemplateGenerator([template])


async def test_user_templates_and_slots():
    generator = TemplateGenerator.from_config(
        templates=[
            {
                "title": "Tune {knob}",
                "description": "Tune the {knob} of the {service}.",
                "task_type": "refactor",
                "domain": "backend",
                "acceptance_criteria": ["{knob} is tuned"],
                "priority": "high",
                "complexity": [2, 2],
            }
        ],
        slots={"knob": ["cache size", "pool size"]},
    )
    requirements = await generator.generate(5, seed=1)
    assert {r.title for r in requirements} <= {"Tune cache size", "Tune pool size"}
    assert all(r.priority is Priority.HIGH and r.complexity == 2 for r in requirements)
    assert all(r.task_type is TaskType.REFACTOR for r in requirements)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"task_type": "chore"}, "task_type must be one of"),
        ({"priority": "urgent"}, "priority must be one of"),
        ({"complexity": (4, 2)}, "complexity must be a"),
        ({"complexity": (0, 3)}, "complexity must be a"),
        ({"acceptance_criteria": "one"}, "acceptance_criteria must be a list"),
        ({"colour": "red"}, "unknown template key 'colour'"),
        ({"title": "{x.y}"}, "not a plain name"),
    ],
)
def test_bad_template_values(changes, message):
    data = {
        "title": "Do it",
        "description": "Do it now.",
        "task_type": "feature",
        "domain": "backend",
    } | changes
    with pytest.raises(ConfigError, match=message):
        TemplateGenerator([data])


def test_template_missing_key_and_empty_list():
    with pytest.raises(ConfigError, match="a template needs 'domain'"):
        RequirementTemplate.from_dict(
            {"title": "x", "description": "y", "task_type": "feature"}
        )
    with pytest.raises(ConfigError, match="at least one template"):
        TemplateGenerator([])
    with pytest.raises(ConfigError, match="slot 'knob' needs"):
        TemplateGenerator(slots={"knob": []})


# ----- dataset ------------------------------------------------------------------------


def test_shipped_corpus_is_varied():
    corpus = load_requirements()
    assert len(corpus) >= 110
    assert len({r.title for r in corpus}) >= 100
    assert {r.task_type for r in corpus} == set(TaskType)
    assert {r.priority for r in corpus} == set(Priority)
    assert {r.complexity for r in corpus} == {1, 2, 3, 4, 5}
    assert set(DEFAULT_DOMAINS) <= {r.domain for r in corpus}
    assert all(2 <= len(r.acceptance_criteria) <= 5 for r in corpus)
    assert len({r.requirement_id for r in corpus}) == len(corpus)


async def test_dataset_samples_without_replacement():
    generator = DatasetGenerator()
    corpus = await generator.load()
    everything = await generator.generate(len(corpus), seed=5)
    assert len({r.requirement_id for r in everything}) == len(corpus)
    assert {r.title for r in everything} == {r.title for r in corpus}
    more = await generator.generate(len(corpus) + 10, seed=5)
    assert len({r.requirement_id for r in more}) == len(corpus) + 10
    assert sum(r.requirement_id.endswith("#2") for r in more) == 10


async def test_dataset_loads_user_jsonl(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [
        {
            "title": "Add SSO",
            "description": "Enterprise wants SSO.",
            "task_type": "feature",
        },
        {
            "title": "Fix login",
            "description": "Login fails.",
            "task_type": "bugfix",
            "priority": "critical",
            "complexity": 4,
            "acceptance_criteria": ["Login works", "A test covers it"],
            "domain": "security",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    requirements = await DatasetGenerator(path).generate(2, seed=0)
    assert {r.title for r in requirements} == {"Add SSO", "Fix login"}
    login = next(r for r in requirements if r.title == "Fix login")
    assert login.priority is Priority.CRITICAL
    assert login.acceptance_criteria == ("Login works", "A test covers it")
    assert login.requirement_id == "dataset-2"


async def test_dataset_loads_user_csv(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(
        "title,description,task_type,priority,complexity,acceptance_criteria,domain\n"
        'Add search,"Users need search, fast.",feature,high,3,'
        "Search returns results; Results are ranked ;,backend\n"
        "Write docs,Docs are missing.,documentation,low,1,,docs\n",
        encoding="utf-8",
    )
    corpus = load_requirements(path)
    assert corpus[0].description == "Users need search, fast."
    assert corpus[0].acceptance_criteria == (
        "Search returns results",
        "Results are ranked",
    )
    assert corpus[0].complexity == 3
    assert corpus[1].acceptance_criteria == ()
    assert corpus[1].task_type is TaskType.DOCUMENTATION
    generator = DatasetGenerator.from_config(path=str(path))
    assert len(await generator.generate(2)) == 2


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "a.jsonl",
            '{"title": "x", "description": "y"}\n{oops\n',
            "line 2 is not valid JSON",
        ),
        ("a.jsonl", "[1, 2]\n", "line 1: expected a JSON object"),
        (
            "a.jsonl",
            '{"title": "x", "description": "y", "size": 1}\n',
            "unknown field 'size'",
        ),
        ("a.jsonl", '{"title": "x"}\n', "line 1: missing 'description'"),
        (
            "a.jsonl",
            '{"title": "x", "description": "y", "task_type": "chore"}\n',
            "line 1: task_type must be a TaskType",
        ),
        (
            "a.jsonl",
            '{"title": "x", "description": "y", "acceptance_criteria": "z"}\n',
            "line 1: acceptance_criteria must be a list of strings",
        ),
        (
            "a.jsonl",
            '{"title": "x", "description": "y", "complexity": 9}\n',
            "line 1: complexity must be an int from 1 to 5",
        ),
        ("a.jsonl", "\n\n", "holds no requirements"),
        (
            "a.csv",
            "title,description,colour\nx,y,red\n",
            "line 1: unknown column 'colour'",
        ),
        (
            "a.csv",
            "title,description,complexity\nx,y,2\nx,y,hard\n",
            "line 3: complexity must be an integer",
        ),
        (
            "a.csv",
            "title,description,priority\nx,y,low\nx,y,urgent\n",
            "line 3: priority must be a Priority",
        ),
        ("a.csv", "title,description\nx,y,z\n", "line 2: more values"),
        ("a.txt", "x", "must end in .jsonl or .csv"),
        (
            "a.csv",
            "title,description,requirement_id\nx,y,r1\nz,w,r1\n",
            "requirement_id 'r1' is used twice",
        ),
    ],
)
async def test_dataset_bad_files_name_file_and_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        await DatasetGenerator(path).generate(1)
    assert name in str(info.value)


async def test_dataset_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read requirements file"):
        await DatasetGenerator(tmp_path / "none.jsonl").load()


# ----- procedural ---------------------------------------------------------------------


async def test_procedural_builds_a_backward_dag():
    requirements = await ProceduralGenerator(max_dependencies=3).generate(40, seed=9)
    seen: set[str] = set()
    for requirement in requirements:
        assert set(requirement.depends_on) <= seen
        assert len(requirement.depends_on) <= 3
        seen.add(requirement.requirement_id)
    assert any(r.depends_on for r in requirements)
    assert {r.task_type for r in requirements} == set(TaskType)


async def test_procedural_options():
    flat = await ProceduralGenerator(max_dependencies=0).generate(10)
    assert all(not r.depends_on for r in flat)
    only = await ProceduralGenerator(domains=["docs"]).generate(10)
    assert {r.domain for r in only} == {"docs"}
    with pytest.raises(ConfigError, match="max_dependencies must be an int >= 0"):
        ProceduralGenerator(max_dependencies=-1)
    with pytest.raises(ConfigError, match="unknown domain 'moon'"):
        ProceduralGenerator(domains=["moon"])


# ----- hybrid -------------------------------------------------------------------------


def test_split_count_largest_remainder():
    assert split_count(10, [1, 2, 2]) == (2, 4, 4)
    assert split_count(7, [1.0]) == (7,)
    assert sum(split_count(5, [1, 1, 1], seed=3)) == 5
    ties = {split_count(1, [1, 1], seed=s) for s in range(20)}
    assert ties == {(1, 0), (0, 1)}  # a tie is broken by the seed
    assert split_count(3, [1, 1, 1]) == (1, 1, 1)


async def test_hybrid_mixes_parts_by_weight(caplog):
    caplog.set_level(logging.INFO, logger="clientsim.events")
    hybrid = HybridGenerator([(DatasetGenerator(), 3), (ProceduralGenerator(), 1)])
    assert hybrid.split(8) == (6, 2)
    requirements = await hybrid.generate(8, seed=2)
    assert len(requirements) == 8
    assert [r.requirement_id.startswith("ds-") for r in requirements] == [True] * 6 + [
        False
    ] * 2
    assert requirements == await hybrid.generate(8, seed=2)
    assert {"generator": "hybrid", "count": 8} in generated_events(caplog)
    assert isinstance(hybrid, RequirementGenerator)


async def test_hybrid_renames_clashing_ids():
    hybrid = HybridGenerator([(Fixed(), 1), (Fixed(), 1)])
    requirements = await hybrid.generate(4)
    ids = [r.requirement_id for r in requirements]
    assert ids == ["r0", "r1", "r0~p1", "r1~p1"]
    assert requirements[3].depends_on == ("r0~p1",)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([], "at least one"),
        ([(Fixed(), 0)], "weight must be a number > 0"),
        ([(Fixed(), -1.0)], "weight must be a number > 0"),
        ([(Fixed(), float("nan"))], "weight must be a number > 0"),
        ([(Fixed(), True)], "weight must be a number > 0"),
        ([(object(), 1)], "must have an async generate"),
        ([Fixed()], "must be a \\(generator, weight\\) pair"),
    ],
)
def test_hybrid_refuses_bad_parts(parts, message):
    with pytest.raises(ConfigError, match=message):
        HybridGenerator(parts)


# ----- llm ----------------------------------------------------------------------------


async def test_llm_on_the_offline_model_is_valid_and_tracks_tokens():
    generator = LLMGenerator("offline", domain="security", persona="A careful CISO")
    requirements = await generator.generate(5, seed=1)
    assert all(r.domain == "security" for r in requirements)
    assert all(2 <= len(r.acceptance_criteria) <= 5 for r in requirements)
    assert all(len(r.title.split()) >= 3 for r in requirements)
    assert generator.token_usage.calls == 5
    assert generator.token_usage.total_tokens > 0
    assert generator.fallbacks["title"] == 5
    plans = generator.plan(5, seed=1)
    assert [r.title for r in requirements] == [p.title for p in plans]
    assert [r.task_type for r in requirements] == [p.task_type for p in plans]


async def test_llm_uses_the_models_words():
    model = Answers(
        answers=[GOOD | {"acceptance_criteria": [f"c{i}" for i in range(7)]}]
    )
    generator = LLMGenerator(model, persona="A retail founder")
    (requirement,) = await generator.generate(1, seed=0)
    assert requirement.title == GOOD["title"]
    assert requirement.description == " ".join(GOOD["description"].split())
    assert requirement.acceptance_criteria == ("c0", "c1", "c2", "c3", "c4")
    assert not generator.fallbacks
    assert generator.token_usage.total_tokens == 15
    system = model.seen[0][0].content
    assert "A retail founder" in system
    plan = generator.plan(1, seed=0)[0]
    assert plan.subject in model.seen[0][1].content
    assert requirement.priority is plan.priority


async def test_llm_falls_back_on_terse_answers():
    model = Answers(
        answers=[{"title": "Fix", "description": "Yes.", "acceptance_criteria": []}]
    )
    generator = LLMGenerator(model)
    (requirement,) = await generator.generate(1, seed=4)
    plan = generator.plan(1, seed=4)[0]
    assert requirement.title == plan.title
    assert requirement.description == plan.description
    assert len(requirement.acceptance_criteria) == 3
    assert generator.fallbacks == Counter(title=1, description=1, acceptance_criteria=1)


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({k: v for k, v in GOOD.items() if k != "title"}, "title"),
        (GOOD | {"title": 7}, "title"),
        (GOOD | {"description": "   "}, "description"),
        (GOOD | {"acceptance_criteria": "all good"}, "acceptance_criteria"),
        (GOOD | {"acceptance_criteria": ["ok", ""]}, "acceptance_criteria"),
        (GOOD | {"acceptance_criteria": [1, 2]}, "acceptance_criteria"),
    ],
)
async def test_llm_invalid_output_names_the_field(answer, field):
    generator = LLMGenerator(Answers(answers=[answer]))
    with pytest.raises(InvalidModelOutputError, match=f"invalid '{field}'"):
        await generator.generate(1)


def test_llm_refuses_blank_options():
    with pytest.raises(ConfigError, match="persona must be a non-blank string"):
        LLMGenerator(persona=" ")
    with pytest.raises(ConfigError, match="domain must be a non-blank string"):
        LLMGenerator(domain="")
    assert "offline" in repr(LLMGenerator())


async def test_llm_custom_domain_gets_a_generic_subject():
    requirements = await LLMGenerator(domain="robotics").generate(2)
    assert all(r.domain == "robotics" for r in requirements)
    assert all("robotics system" in r.title for r in requirements)


def test_requirements_are_frozen_values():
    requirement = TaskRequirement(title="x", description="y")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        requirement.title = "z"  # type: ignore[misc]
