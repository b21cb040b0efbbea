"""A population's profile: the distribution of each dimension, overall and per segment.

Example:
    >>> from clientsim.population.generate import generate_population
    >>> population = generate_population({"name": "UK", "demographic_base": "uk",
    ...                                   "size": 200}, seed=1)
    >>> profile = population.profile()
    >>> profile.overall["gender"]["female"] + profile.overall["gender"]["male"]
    200
    >>> print(profile.render().splitlines()[0])
    Profile of UK: 200 personas (template uk)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import attrs

from clientsim.errors import UnknownStrategyError


if TYPE_CHECKING:
    # pandas is optional and ships no type information: DataFrame is Any to mypy.
    import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]

    from clientsim.population.generate import Population

    DataFrame: TypeAlias = pd.DataFrame

__all__ = ["PROFILE_COLUMNS", "PopulationProfile", "frame"]

PROFILE_COLUMNS: Final = ("segment", "dimension", "value", "count", "share", "expected")
"""The columns of :meth:`PopulationProfile.to_pandas` (``segment`` ``"all"``: overall)."""
ALL: Final = "all"
_PANDAS_HINT: Final = "pip install 'clientsim[pandas]'"

Counts: TypeAlias = Mapping[str, Mapping[str, int]]


def frame(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> DataFrame:
    """A pandas DataFrame of ``rows``.

    Raises:
        ImportError: pandas is not installed.
    """
    try:
        import pandas as pd  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - pandas is in the test env
        raise ImportError(
            "to_pandas() needs pandas, an optional dependency of clientsim; "
            f"install it with: {_PANDAS_HINT}",
            name="pandas",
        ) from exc
    return pd.DataFrame.from_records(list(rows), columns=list(columns))


def _counts(
    personas: Sequence[Any], dimensions: Sequence[str]
) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {d: {} for d in dimensions}
    for persona in personas:
        for dimension in dimensions:
            value = persona.demographics.get(dimension)
            if value is not None:
                out[dimension][value] = out[dimension].get(value, 0) + 1
    return out


@attrs.frozen(kw_only=True)
class PopulationProfile:
    """The distribution of each dimension of a population.

    Attributes:
        name: the population's name.
        size: how many personas.
        template: the template's name, if any.
        dimensions: the dimensions, in order.
        overall: dimension -> value -> count, over every persona.
        segments: segment -> dimension -> value -> count.
        expected: dimension -> value -> the template's share (empty without one).
    """

    name: str
    size: int
    template: str
    dimensions: tuple[str, ...]
    overall: Mapping[str, Mapping[str, int]]
    segments: Mapping[str, Mapping[str, Mapping[str, int]]]
    expected: Mapping[str, Mapping[str, float]] = attrs.field(factory=dict)

    @classmethod
    def of(cls, population: Population) -> PopulationProfile:
        """Count ``population``'s personas."""
        dims = population.dimensions
        expected: dict[str, dict[str, float]] = {}
        if population.template:
            from clientsim.population.demographics import (  # noqa: PLC0415
                demographic_template,
            )

            try:
                expected = demographic_template(population.template).marginals()
            except UnknownStrategyError:  # a template registered no more
                expected = {}
        overall = _counts(population.personas, dims)
        for dimension, shares in expected.items():  # the template's order of values
            if dimension in overall:
                ordered = {v: overall[dimension].get(v, 0) for v in shares}
                overall[dimension] = {**ordered, **overall[dimension]}
        return cls(
            name=population.name,
            size=len(population),
            template=population.template,
            dimensions=dims,
            overall=overall,
            segments={
                name: _counts(members, dims)
                for name, members in population.segments().items()
            },
            expected=expected,
        )

    def shares(self, segment: str | None = None) -> dict[str, dict[str, float]]:
        """dimension -> value -> share, overall or for one segment."""
        counts = self.overall if segment is None else self.segments[segment]
        out: dict[str, dict[str, float]] = {}
        for dimension in self.dimensions:
            table = counts.get(dimension, {})
            total = sum(table.values())
            out[dimension] = {
                value: (table.get(value, 0) / total if total else 0.0)
                for value in self.overall[dimension]
            }
        return out

    def max_distance(self) -> dict[str, float]:
        """dimension -> the largest gap between a value's share and the template's
        (0 to 1; empty without a template)."""
        shares = self.shares()
        return {
            dimension: max(
                abs(shares[dimension].get(value, 0.0) - share)
                for value, share in table.items()
            )
            for dimension, table in self.expected.items()
            if dimension in shares
        }

    def rows(self) -> list[dict[str, object]]:
        """One row per segment (``all`` first), dimension and value; see
        :data:`PROFILE_COLUMNS`."""
        rows: list[dict[str, object]] = []
        groups: list[tuple[str, Counts]] = [(ALL, self.overall), *self.segments.items()]
        for segment, counts in groups:
            for dimension in self.dimensions:
                table = counts.get(dimension, {})
                total = sum(table.values())
                for value in self.overall[dimension]:
                    count = table.get(value, 0)
                    rows.append(
                        {
                            "segment": segment,
                            "dimension": dimension,
                            "value": value,
                            "count": count,
                            "share": count / total if total else 0.0,
                            "expected": self.expected.get(dimension, {}).get(value),
                        }
                    )
        return rows

    def to_pandas(self) -> DataFrame:
        """:meth:`rows` as a DataFrame.

        Raises:
            ImportError: pandas is not installed.
        """
        return frame(self.rows(), PROFILE_COLUMNS)

    def render(self) -> str:
        """A text table per dimension: each value's share overall, in the template,
        and in each segment."""
        segments = list(self.segments)
        template = f" (template {self.template})" if self.template else ""
        lines = [f"Profile of {self.name}: {self.size} personas{template}"]
        heads = ["all", *(["template"] if self.expected else []), *segments]
        for dimension in self.dimensions:
            width = max(len(dimension), *(len(v) for v in self.overall[dimension]))
            width = min(width, 48)
            lines.append("")
            lines.append(
                f"{dimension:<{width}}  " + "  ".join(f"{h[:12]:>12}" for h in heads)
            )
            shares: dict[str | None, dict[str, dict[str, float]]] = {
                None: self.shares()
            }
            shares.update({s: self.shares(s) for s in segments})
            for value in self.overall[dimension]:
                cells = [f"{shares[None][dimension].get(value, 0.0):>12.1%}"]
                if self.expected:
                    expected = self.expected.get(dimension, {}).get(value)
                    cells.append(
                        f"{expected:>12.1%}" if expected is not None else " " * 12
                    )
                cells.extend(
                    f"{shares[s][dimension].get(value, 0.0):>12.1%}" for s in segments
                )
                lines.append(f"{value[:width]:<{width}}  " + "  ".join(cells))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def _repr_html_(self) -> str:
        from clientsim.render.population import profile_html  # noqa: PLC0415

        return profile_html(self)
