"""The one outcome chart and interval bar that the HTML report and notebooks share."""

from __future__ import annotations

import re

from clientsim.render.chart import interval_bar, outcome_chart


EVIL = "<script>alert('x')</script>"


def test_bars_are_in_name_order_with_none_last():
    chart = outcome_chart({"none": 1, "resolved": 2, "escalated": 1})
    labels = re.findall(r'text-anchor="end" [^>]*>([^<]+)</text>', chart)
    assert labels == ["escalated", "resolved", "none"]
    assert chart.count('<g class="clientsim-bar">') == 3
    assert "2 (50%)" in chart
    assert "<title>resolved: 2</title>" in chart


def test_pass_outcomes_are_green_and_none_is_grey():
    chart = outcome_chart({"resolved": 1, "none": 1}, pass_outcomes=["resolved"])
    assert 'fill="#2e8b57"' in chart
    assert 'fill="#999999"' in chart


def test_labels_are_escaped_and_long_names_cut():
    chart = outcome_chart({EVIL: 1, "x" * 40: 1})
    assert "<script" not in chart
    assert "&lt;script&gt;alert(&#x27;x&#x27;)" in chart
    assert "x" * 21 + "\u2026<" in chart
    assert f"<title>{'x' * 40}: 1</title>" in chart


def test_an_id_only_when_asked_and_nothing_for_no_outcomes():
    assert outcome_chart({}) == ""
    assert ' id="' not in outcome_chart({"a": 1})
    assert outcome_chart({"a": 1}, element_id="outcome-chart").startswith(
        '<svg class="clientsim-chart" id="outcome-chart" '
    )


def test_no_address_and_no_script_in_either_chart():
    for svg in (outcome_chart({"a": 3, "none": 0}), interval_bar(0.5, 0.3, 0.7)):
        assert "http" not in svg
        assert "<script" not in svg
        assert "style" not in svg  # colours are attributes: no stylesheet needed


def test_the_interval_bar_lines_up_with_the_bars_and_stays_on_its_track():
    svg = interval_bar(0.5, 0.25, 0.75)
    assert 'cx="300.0"' in svg  # label width 150 + half the 300 bar area
    assert 'x="225.0" y="6" width="150.0"' in svg
    edge = interval_bar(1.5, -0.2, 2.0)
    assert 'cx="450.0"' in edge
    assert 'x="150.0" y="6" width="300.0"' in edge
