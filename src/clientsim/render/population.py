"""Notebook HTML for populations: the personas and the profile with a bar chart per
dimension (the SVG chart of :mod:`clientsim.render.chart`).

Example:
    >>> from clientsim.population import generate_population
    >>> html = generate_population({"name": "P", "size": 30}, seed=0).profile()._repr_html_()
    >>> html.count("<svg") >= 7
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from clientsim.render._format import cut, escape
from clientsim.render.chart import outcome_chart


if TYPE_CHECKING:
    from clientsim.population.generate import Population
    from clientsim.population.profile import PopulationProfile

__all__ = ["MAX_PERSONAS", "population_html", "profile_html", "profile_page"]

MAX_PERSONAS: Final = 20
"""The most personas the population's HTML lists."""
_BACKGROUND_CHARS: Final = 160


def _table(heads: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return (
        f'<table class="clientsim-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def profile_html(profile: PopulationProfile) -> str:
    """Per dimension: a bar chart of the counts, then each value's share overall, in
    the template and per segment."""
    segments = list(profile.segments)
    shares: dict[str | None, dict[str, dict[str, float]]] = {None: profile.shares()}
    shares.update({s: profile.shares(s) for s in segments})
    parts = [
        '<div class="clientsim-profile">',
        f"<h3>Profile of {escape(profile.name)}</h3>",
        f"<p>{profile.size} personas"
        + (
            f", template <code>{escape(profile.template)}</code>"
            if profile.template
            else ""
        )
        + (f", segments: {escape(', '.join(segments))}" if segments else "")
        + "</p>",
    ]
    for dimension in profile.dimensions:
        heads = [
            dimension,
            "all",
            *(["template"] if profile.expected else []),
            *segments,
        ]
        rows = []
        for value in profile.overall[dimension]:
            row = [value, f"{shares[None][dimension].get(value, 0.0):.1%}"]
            if profile.expected:
                expected = profile.expected.get(dimension, {}).get(value)
                row.append("" if expected is None else f"{expected:.1%}")
            row.extend(f"{shares[s][dimension].get(value, 0.0):.1%}" for s in segments)
            rows.append(row)
        parts.append(f"<h4>{escape(dimension)}</h4>")
        parts.append(outcome_chart(dict(profile.overall[dimension])))
        parts.append(_table(heads, rows))
    parts.append("</div>")
    return "".join(parts)


def population_html(population: Population, *, max_rows: int = MAX_PERSONAS) -> str:
    """The population's segments, its first personas and its profile."""
    groups = population.segments()
    sizes = ", ".join(
        f"{escape(name or '-')}: {len(members)}" for name, members in groups.items()
    )
    dims = list(population.dimensions)[:4]
    rows = [
        [
            p.id,
            p.name,
            p.segment or "",
            *(p.demographics.get(d, "") for d in dims),
            ", ".join(p.fragment_names),
            cut(p.background, _BACKGROUND_CHARS),
        ]
        for p in population.personas[:max_rows]
    ]
    more = len(population) - len(rows)
    return (
        '<div class="clientsim-population">'
        f"<h3>Population {escape(population.name)}</h3>"
        f"<p>{len(population)} personas ({sizes})</p>"
        + _table(["id", "name", "segment", *dims, "fragments", "background"], rows)
        + (f"<p>... and {more} more</p>" if more > 0 else "")
        + profile_html(population.profile())
        + "</div>"
    )


def profile_page(profile: PopulationProfile) -> str:
    """A self-contained HTML page (no script, no outside resource) of the profile."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">\n"
        "<title>Population profile - clientsim</title>\n</head>\n<body>\n<main>\n"
        f"{profile_html(profile)}</main>\n</body>\n</html>\n"
    )
