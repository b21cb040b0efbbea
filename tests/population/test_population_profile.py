"""The population profile: counts per dimension and segment, as text, pandas and HTML."""

from __future__ import annotations

from clientsim.population import PopulationProfile, generate_population
from clientsim.population.profile import PROFILE_COLUMNS


def population():
    return generate_population(
        {
            "name": "Shoppers",
            "demographic_base": "usa",
            "size": 300,
            "segments": [
                {"name": "seniors", "size": 100, "particularities": "retired"},
            ],
        },
        seed=5,
    )


def test_the_profile_counts_each_dimension_overall_and_per_segment():
    shoppers = population()
    profile = shoppers.profile()
    assert isinstance(profile, PopulationProfile)
    assert profile.size == 300
    assert list(profile.segments) == ["seniors", "general"]
    assert profile.dimensions[0] == "age_band"
    assert sum(profile.overall["gender"].values()) == 300
    assert profile.segments["seniors"]["age_band"] == {"65+": 100}
    assert profile.shares("seniors")["age_band"]["65+"] == 1.0
    assert profile.shares("seniors")["age_band"]["18-24"] == 0.0
    # the general segment keeps the template's marginals
    general = profile.shares("general")["age_band"]
    assert abs(general["65+"] - 0.223) < 0.01
    assert set(profile.max_distance()) == set(profile.dimensions)


def test_render_is_a_text_table_with_the_template_and_each_segment():
    text = population().profile().render()
    lines = text.splitlines()
    assert lines[0] == "Profile of Shoppers: 300 personas (template usa)"
    header = next(line for line in lines if line.startswith("age_band"))
    assert header.split() == ["age_band", "all", "template", "seniors", "general"]
    row = next(line for line in lines if line.startswith("65+"))
    assert row.split()[2:4] == ["22.3%", "100.0%"]


def test_to_pandas_long_format_and_population_rows():
    frame = population().profile().to_pandas()
    assert tuple(frame.columns) == PROFILE_COLUMNS
    overall = frame[(frame.segment == "all") & (frame.dimension == "gender")]
    assert overall["count"].sum() == 300
    seniors = frame[(frame.segment == "seniors") & (frame.dimension == "age_band")]
    assert seniors.set_index("value").loc["65+", "share"] == 1.0
    people = population().to_pandas()
    assert len(people) == 300
    assert {"id", "segment", "age_band", "income_band", "age", "background"} <= set(
        people.columns
    )
    assert people["age"][people.segment == "seniors"].min() >= 65


def test_notebook_html_has_a_bar_chart_per_dimension():
    shoppers = population()
    html = shoppers.profile()._repr_html_()
    assert html.count('<svg class="clientsim-chart"') == len(shoppers.dimensions)
    assert "<h4>household_type</h4>" in html
    page = shoppers._repr_html_()
    assert "Population Shoppers" in page
    assert "... and 280 more" in page
    assert "<script" not in page
