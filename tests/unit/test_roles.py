"""Role templates: the built-ins shipped as data, lookup by key or title, plugins' roles,
and teams and roles read from lists and files, with errors that name the entry."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clientsim
from clientsim import RoleTemplate, UnknownStrategyError
from clientsim.errors import ConfigError
from clientsim.models.team import role_key
from clientsim.plugins import register_plugin, unregister_plugin
from clientsim.teams import builtin_roles, get_role, load_roles, load_team, roles


SRC = Path(__file__).parents[2] / "src"
TITLES = [
    "CEO",
    "Product Manager",
    "Engineering Lead",
    "Designer",
    "Sales",
    "Support",
    "Simulation Analyst",
]


def test_the_seven_built_in_roles_ship_as_package_data():
    data = resources.files("clientsim.teams") / "data" / "roles.yaml"
    assert data.is_file()
    assert [role.name for role in builtin_roles()] == TITLES
    for role in builtin_roles():
        assert role.description
        assert role.goals
        assert role.expertise
        assert role.style
        assert len(role.cares_about) >= 3


def test_each_role_cares_about_its_own_part():
    cares = {role.key: " ".join(role.cares_about) for role in builtin_roles()}
    assert "revenue" in cares["ceo"]
    assert "strategy" in cares["ceo"]
    assert "timeline" in cares["product_manager"]
    assert "capacity" in cares["engineering_lead"]
    assert "UX debt" in cares["designer"]
    assert "deals" in cares["sales"]
    assert "tickets" in cares["support"]
    assert "decisions" in cares["simulation_analyst"]


def test_roles_lists_the_built_ins_first_and_is_at_the_top_level():
    assert [role.name for role in roles()][:7] == TITLES
    assert clientsim.roles is roles
    assert clientsim.get_role is get_role


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ceo", "ceo"),
        ("CEO", "ceo"),
        ("Product Manager", "product_manager"),
        ("product-manager", "product_manager"),
        ("PRODUCT_MANAGER", "product_manager"),
        ("  engineering lead ", "engineering_lead"),
        ("simulation analyst", "simulation_analyst"),
    ],
)
def test_get_role_takes_a_key_or_a_title_in_any_case(name, key):
    assert get_role(name).key == key
    assert clientsim.build_role(name) == get_role(name)


def test_an_unknown_role_lists_the_known_ones_and_the_closest():
    with pytest.raises(UnknownStrategyError) as caught:
        get_role("Prodct Manager")
    message = str(caught.value)
    assert message.startswith("unknown role 'Prodct Manager'; known roles: 'CEO'")
    for title in TITLES:
        assert repr(title) in message
    assert message.endswith("did you mean 'Product Manager'?")
    assert caught.value.family == "role"


@pytest.mark.parametrize("name", ["", "   ", 5, None])
def test_a_role_name_must_be_a_non_empty_string(name):
    with pytest.raises(ConfigError, match="a role name must be a non-empty string"):
        get_role(name)


class LegalPlugin:
    @clientsim.hookimpl
    def clientsim_register_roles(self, register):
        register(
            "legal_counsel",
            lambda: RoleTemplate(
                name="Legal Counsel",
                description="Reviews contracts and risk.",
                cares_about=("liability", "compliance"),
            ),
        )


@pytest.fixture(name="legal_plugin")
def _legal_plugin():
    plugin = LegalPlugin()
    register_plugin(plugin)
    yield plugin
    unregister_plugin(plugin)


def test_a_plugin_adds_a_role_that_every_lookup_finds(legal_plugin):
    assert [role.name for role in roles()] == [*TITLES, "Legal Counsel"]
    assert get_role("Legal Counsel").cares_about == ("liability", "compliance")
    assert get_role("legal-counsel") == get_role("legal_counsel")
    team = load_team(["CEO", "Legal Counsel"])
    assert [role.key for role in team] == ["ceo", "legal_counsel"]


def test_a_plugin_role_is_gone_once_the_plugin_is():
    plugin = LegalPlugin()
    register_plugin(plugin)
    unregister_plugin(plugin)
    with pytest.raises(UnknownStrategyError):
        get_role("Legal Counsel")


def test_register_role_and_load_roles_with_register_make_roles_selectable(tmp_path):
    # The registry keeps roles registered by hand for the life of the process: run in
    # a process of its own so that other tests see the built-ins only.
    (tmp_path / "roles.yaml").write_text(
        "- name: Data Scientist\n  cares_about: [metrics, experiments]\n",
        encoding="utf-8",
    )
    code = f"""
        from clientsim import RoleTemplate
        from clientsim.errors import DuplicateStrategyError
        from clientsim.teams import get_role, load_roles, load_team, register_role, roles
        register_role(RoleTemplate(name="Legal", cares_about=("liability",)))
        assert get_role("legal").cares_about == ("liability",)
        loaded = load_roles({str(tmp_path / "roles.yaml")!r}, register=True)
        assert [r.name for r in roles()][-2:] == ["Data Scientist", "Legal"]
        assert [r.key for r in load_team(["legal", "data scientist"])] == [
            "legal", "data_scientist"]
        try:
            register_role(RoleTemplate(name="Legal"))
        except DuplicateStrategyError as exc:
            print(exc)
    """
    env = {**os.environ, "PYTHONPATH": str(SRC), "CLIENTSIM_DISABLE_PLUGINS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "role 'legal' is already registered" in done.stdout


def test_register_role_refuses_what_is_not_a_template():
    from clientsim.teams import register_role

    with pytest.raises(ConfigError, match="register_role takes a RoleTemplate"):
        register_role({"name": "Legal"})


# ----------------------------------------------------------------- teams from lists


def test_a_team_from_names_templates_and_mappings():
    custom = RoleTemplate(name="Legal", cares_about=("liability",))
    team = load_team(
        [
            "ceo",
            custom,
            {"role": "Designer", "persona": "Dana, 8 years in UX", "goals": ["ship"]},
            {"name": "Data Scientist", "cares_about": ["metrics"]},
        ]
    )
    assert [role.name for role in team] == [
        "CEO",
        "Legal",
        "Designer",
        "Data Scientist",
    ]
    designer = team[2]
    assert designer.persona == "Dana, 8 years in UX"
    assert designer.goals == ("ship",)
    # what the mapping does not override comes from the built-in
    assert designer.cares_about == get_role("designer").cares_about
    assert designer.description == get_role("designer").description


def test_a_mapping_may_rename_the_role_it_extends():
    (role,) = load_team([{"role": "CEO", "name": "Founder"}])
    assert role.key == "founder"
    assert role.cares_about == get_role("CEO").cares_about


@pytest.mark.parametrize(
    ("team", "message"),
    [
        (["ceo", "cfo"], r"invalid team: team\[1\]: unknown role 'cfo'; known roles: "),
        (
            [{"role": "ceo", "nmae": "x"}],
            (
                r"team\[0\]\.nmae: unknown key; allowed keys in team\[0\]: role, name, "
                r".*; did you mean 'name'\?"
            ),
        ),
        ([5], r"team\[0\]: expected a role name \(key or title\), a RoleTemplate, or"),
        ([{"goals": ["x"]}], r"team\[0\]: give 'name' \(a new role\) or 'role'"),
        ([{"role": 3}], r"team\[0\]\.role: expected the name of a registered role"),
        ([{"role": "ceo", "goals": 3}], r"team\[0\]\.goals: expected a list"),
        ([{"name": "!!"}], r"team\[0\]\.name: a role's name needs a letter or a digit"),
        ([], r"a team needs at least one role"),
        ({"ceo": 1}, r"team: expected a list of roles"),
        ("ceo", r"got the string 'ceo'; for a team of one, write \['ceo'\]"),
    ],
)
def test_a_bad_team_entry_is_named_with_what_is_allowed(team, message):
    with pytest.raises(ConfigError, match=message):
        load_team(team)


# ----------------------------------------------------------------- files


def test_a_team_from_a_yaml_file_with_other_keys(tmp_path):
    file = tmp_path / "scenario.yaml"
    file.write_text(
        "scenario: Launch on March 1?\n"
        "team:\n"
        "  - CEO\n"
        "  - role: Engineering Lead\n"
        "    persona: Sam, ten years in payments\n"
        "  - name: Legal\n"
        "    cares_about: [liability]\n",
        encoding="utf-8",
    )
    team = load_team(file)
    assert [role.name for role in team] == ["CEO", "Engineering Lead", "Legal"]
    assert team[1].persona == "Sam, ten years in payments"
    assert load_team(str(file)) == team


def test_a_team_from_toml_and_json(tmp_path):
    toml = tmp_path / "team.toml"
    toml.write_text(
        'team = ["Sales", { role = "Support", goals = ["keep tickets low"] }]\n',
        encoding="utf-8",
    )
    assert [r.goals[0] for r in load_team(toml)][1] == "keep tickets low"
    data = tmp_path / "team.json"
    data.write_text(json.dumps(["Designer", "product manager"]), encoding="utf-8")
    assert [r.key for r in load_team(data)] == ["designer", "product_manager"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "team:\n  - CEO\n  - role: Sales\n    goals: 5\n",
            r"team\[1\]\.goals: expected",
        ),
        ("team:\n  - Chief\n", r"team\[0\]: unknown role 'Chief'"),
        ("scenario: x\n", r"no 'team' key"),
        ("team: CEO\n", r"team: expected a list of roles; got 'CEO'"),
        ("team: [CEO\n", r"is not valid YAML at line"),
    ],
)
def test_a_bad_team_file_is_named_with_the_entry(tmp_path, text, message):
    file = tmp_path / "team.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_team(file)
    assert str(file) in str(caught.value)


def test_a_missing_or_unsupported_team_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_team(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="its suffix must be one of"):
        load_team(tmp_path / "team.txt")


def test_roles_from_a_file_list_or_mapping(tmp_path):
    listed = tmp_path / "roles.yaml"
    listed.write_text(
        "- name: Legal\n  cares_about: [liability, compliance]\n"
        "- role: Sales\n  name: Partner Sales\n",
        encoding="utf-8",
    )
    legal, partner = load_roles(listed)
    assert legal.cares_about == ("liability", "compliance")
    assert partner.key == "partner_sales"
    assert partner.cares_about == get_role("sales").cares_about
    toml = tmp_path / "roles.toml"
    toml.write_text(
        '[[roles]]\nname = "Legal"\ncares_about = ["liability"]\n', encoding="utf-8"
    )
    assert load_roles(toml)[0].cares_about == ("liability",)
    with pytest.raises(UnknownStrategyError):
        get_role("Legal")  # loading alone does not register


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- Legal\n", r"roles\[0\]: expected a mapping of role fields"),
        ("rolls: []\n", r"unknown key 'rolls' at the top level.*did you mean 'roles'"),
        ("roles: 3\n", r"expected a list of roles"),
        ("- name: Legal\n  style: [a]\n", r"roles\[0\]\.style: expected"),
    ],
)
def test_a_bad_roles_file_names_the_key(tmp_path, text, message):
    file = tmp_path / "roles.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_roles(file)


# ----------------------------------------------------------------- properties

_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
_titles = st.lists(_words, min_size=1, max_size=4).map(
    lambda words: " ".join(w.capitalize() for w in words)
)
_texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30
)
_roles = st.builds(
    dict,
    name=_titles,
    description=_texts,
    goals=st.lists(_texts, max_size=3),
    expertise=st.lists(_texts, max_size=3),
    style=_texts,
    cares_about=st.lists(_texts, max_size=4),
)


@given(st.lists(_words, min_size=1, max_size=4), st.sampled_from(["_", "-", " ", "  "]))
def test_role_key_ignores_case_and_separators(words, separator):
    title = separator.join(words)
    key = role_key(title)
    assert key == "_".join(words)
    assert role_key(key) == key
    assert role_key(title.upper()) == key
    assert re.fullmatch(r"[a-z0-9]+(?:_[a-z0-9]+)*", key)


@given(
    st.sampled_from(TITLES),
    st.lists(st.booleans(), min_size=20, max_size=20),
    st.sampled_from(["_", "-", " "]),
)
def test_get_role_finds_a_built_in_however_its_title_is_written(title, upper, sep):
    written = "".join(
        char.upper() if flag else char.lower()
        for char, flag in zip(title, upper + [False] * len(title), strict=False)
    ).replace(" ", sep)
    assert get_role(written).name == title


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(st.lists(_roles, min_size=1, max_size=4), st.sampled_from([".yaml", ".json"]))
def test_a_roles_file_round_trips(tmp_path, entries, suffix):
    file = tmp_path / f"roles{suffix}"
    if suffix == ".yaml":
        file.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    else:
        file.write_text(json.dumps(entries), encoding="utf-8")
    loaded = load_roles(file)
    assert [clientsim.models.to_dict(role) for role in loaded] == [
        {**entry, "persona": None, "prompt": None, "model": None} for entry in entries
    ]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(
    st.lists(_roles, min_size=1, max_size=3),
    st.data(),
    st.sampled_from(["goals", "cares_about", "style", "description", "name"]),
    st.one_of(st.integers(), st.booleans(), st.floats(allow_nan=False)),
)
def test_a_wrong_value_in_a_roles_file_names_its_entry_and_key(
    tmp_path, entries, data, field, value
):
    index = data.draw(st.integers(0, len(entries) - 1))
    entries[index][field] = value
    file = tmp_path / "roles.json"
    file.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_roles(file)
    assert f"roles[{index}].{field}: expected" in str(caught.value)


def test_the_roles_page_shows_the_built_in_roles_as_shipped():
    page = (Path(__file__).parents[2] / "docs" / "reference" / "roles.md").read_text(
        encoding="utf-8"
    )
    rows = re.findall(
        r"^\| (?!Role |-)(.+?) \| `(\w+)` \| (.+?) \| (.+?) \|$", page, re.MULTILINE
    )
    assert rows == [
        (role.name, role.key, role.description, ", ".join(role.cares_about))
        for role in builtin_roles()
    ]
