"""Themes in free-text answers: by keyword clustering (offline) or by a model.

:func:`keyword_themes` is deterministic and needs nothing: each answer becomes its
set of content words (lowercase, at least three letters, common words left out, a
plural ``s`` dropped); the word most answers share (ties: the longer, then the first
in alphabetical order) names the
first theme, which takes every answer holding it; the next theme is found the same way
among the answers left, and so on, for as long as a word is shared by two answers or
more. A theme's keywords are its word and the (at most two) words most often found
with it.

:func:`model_themes` asks a model instead, in one structured call titled ``themes``
(the offline model answers it with :func:`keyword_themes`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from clientsim.errors import ConfigError, InvalidModelOutputError


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


__all__ = [
    "THEMES_TITLE",
    "Theme",
    "keyword_themes",
    "model_themes",
    "numbered_answers",
    "themes_prompt",
]

THEMES_TITLE: Final = "themes"
"""The title of the themes call's structured-output schema."""
ANSWERS_HEADER: Final = "Answers:"
_EXAMPLES: Final = 2
_EXAMPLE_CHARS: Final = 160
_WORD: Final = re.compile(r"[a-z][a-z']+")
_NUMBERED: Final = re.compile(r"^\s*(\d+)\.\s+(.*)$")
STOPWORDS: Final = frozenset(
    """
    about above after again against all also although always and another any anyone
    anything are aren't around because been before being below between both but can
    can't cannot could couldn't did didn't does doesn't doing don't down during each
    either else enough even ever every few for from further get gets getting going
    got had hadn't has hasn't have haven't having her here hers herself him himself
    his how however i'd i'll i'm i've into isn't it's its itself just know less
    let's like likely lot make many maybe might more most much must myself need
    needs never not now off once one only other our ours ourselves out over own
    perhaps quite rather really same she she'd she's should shouldn't since some
    something still such than that that's the their theirs them themselves then
    there there's these they they'd they're thing things think this those though
    through too under until upon very want was wasn't way we'd we're we've well were
    weren't what what's when where which while who whom why will with within without
    won't would wouldn't yes yet you you'd you'll you're you've your yours yourself
    the and for are was not you that this with have but they his her she him its our
    out use used using say said see sure bit yeah okay
    """.split()  # noqa: SIM905 - a word list reads best as text
)


@attrs.frozen(kw_only=True)
class Theme:
    """A theme among free-text answers.

    Attributes:
        theme: its name (its main keyword, or the model's label).
        keywords: the words that mark it.
        count: how many answers are in it.
        share: ``count`` over all the answers read.
        examples: up to two of its answers, as said (cut to 160 characters).
        members: the positions of its answers among those read (from 0).
    """

    theme: str
    keywords: tuple[str, ...] = ()
    count: int = 0
    share: float = 0.0
    examples: tuple[str, ...] = ()
    members: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The theme as plain data (without ``members``)."""
        return {
            "theme": self.theme,
            "keywords": list(self.keywords),
            "count": self.count,
            "share": self.share,
            "examples": list(self.examples),
        }


def _stem(word: str) -> str:
    word = word.strip("'")
    word = word.removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_words(text: str) -> frozenset[str]:
    """The content words of ``text`` (see the module docstring).

    Example:
        >>> sorted(content_words("The prices are too high for what you get"))
        ['high', 'price']
    """
    words = (_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS)
    return frozenset(w for w in words if len(w) >= 3 and w not in STOPWORDS)


def _example(text: str) -> str:
    text = " ".join(text.split())
    return (
        text if len(text) <= _EXAMPLE_CHARS else text[: _EXAMPLE_CHARS - 1] + "\u2026"
    )


def _check_top(top: object) -> int:
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ConfigError(f"top must be an integer >= 1; got {top!r}")
    return top


def _theme(
    texts: Sequence[str], label: str, keys: Sequence[str], members: list[int]
) -> Theme:
    return Theme(
        theme=label,
        keywords=tuple(str(k) for k in keys),
        count=len(members),
        share=len(members) / len(texts) if texts else 0.0,
        examples=tuple(_example(texts[i]) for i in members[:_EXAMPLES]),
        members=tuple(members),
    )


def keyword_themes(texts: Sequence[str], *, top: int = 5) -> list[Theme]:
    """The ``top`` themes of ``texts`` by keyword clustering (deterministic; see the
    module docstring), largest first.

    Example:
        >>> answers = ["Too expensive, the price is wrong", "Price way above others",
        ...            "Delivery was slow", "The delivery took ages"]
        >>> [(t.theme, t.count) for t in keyword_themes(answers)]
        [('delivery', 2), ('price', 2)]

    Raises:
        ConfigError: ``top`` is not an integer >= 1.
    """
    top = _check_top(top)
    words = [content_words(text) for text in texts]
    left = set(range(len(texts)))
    themes: list[Theme] = []
    while left and len(themes) < top:
        counts = Counter(w for i in sorted(left) for w in words[i])
        if not counts:
            break
        word, count = min(
            counts.items(), key=lambda item: (-item[1], -len(item[0]), item[0])
        )
        if count < 2:
            break
        members = [i for i in sorted(left) if word in words[i]]
        near = Counter(w for i in members for w in words[i] if w != word)
        companions = [
            w
            for w, n in sorted(near.items(), key=lambda item: (-item[1], item[0]))
            if n >= 2
        ][:2]
        themes.append(_theme(texts, word, [word, *companions], members))
        left -= set(members)
    return sorted(themes, key=lambda t: (-t.count, t.theme))


def themes_prompt(texts: Sequence[str], top: int) -> str:
    """The user message of the themes call: how many, then the numbered answers."""
    listed = "\n".join(f"{i}. {' '.join(t.split())}" for i, t in enumerate(texts, 1))
    return f"Top: {top}\n\n{ANSWERS_HEADER}\n{listed}"


def numbered_answers(prompt: str) -> list[str]:
    """The answers of a :func:`themes_prompt`, in order."""
    lines = prompt.splitlines()
    start = next((i for i, line in enumerate(lines) if line == ANSWERS_HEADER), None)
    if start is None:
        return []
    found = []
    for line in lines[start + 1 :]:
        match = _NUMBERED.match(line)
        if match:
            found.append(match.group(2))
    return found


_SCHEMA: Final[dict[str, Any]] = {
    "title": THEMES_TITLE,
    "description": "The main themes of a list of free-text answers.",
    "type": "object",
    "properties": {
        "themes": {
            "type": "array",
            "description": "The themes, largest first.",
            "items": {
                "type": "object",
                "properties": {
                    "theme": {"type": "string", "description": "A short name."},
                    "keywords": {"type": "array", "items": {"type": "string"}},
                    "answers": {
                        "type": "array",
                        "items": {"type": "integer"},
                        "description": "The numbers of the answers in the theme.",
                    },
                },
                "required": ["theme", "keywords", "answers"],
            },
        }
    },
    "required": ["themes"],
}

_SYSTEM: Final = """\
You read numbered free-text answers from a study and group them into at most the \
given number of themes. Name each theme in a few words, give its keywords, and list \
the numbers of the answers that belong to it (an answer belongs to one theme at most)."""


def read_themes(answer: dict[str, Any], texts: Sequence[str], top: int) -> list[Theme]:
    """The model's ``themes`` answer as :class:`Theme` values, largest first.

    Raises:
        InvalidModelOutputError: out of shape, or an answer number not in the list.
    """
    items = answer.get("themes")
    if not isinstance(items, list):
        raise InvalidModelOutputError(
            f"the themes answer needs 'themes', a list; got {items!r}"
        )
    themes = []
    for item in items[:top]:
        label = item.get("theme") if isinstance(item, dict) else None
        keys = item.get("keywords", []) if isinstance(item, dict) else None
        numbers = item.get("answers") if isinstance(item, dict) else None
        if (
            not isinstance(label, str)
            or not isinstance(keys, list)
            or not all(isinstance(k, str) for k in keys)
            or not isinstance(numbers, list)
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers)
        ):
            raise InvalidModelOutputError(
                "each theme needs a string 'theme', a list of string 'keywords' and "
                f"a list of integer 'answers'; got {item!r}"
            )
        bad = [n for n in numbers if not 1 <= n <= len(texts)]
        if bad:
            raise InvalidModelOutputError(
                f"theme {label!r} lists answers {bad}, not among 1-{len(texts)}"
            )
        members = sorted({n - 1 for n in numbers})
        themes.append(_theme(texts, label.strip(), keys, members))
    return sorted(themes, key=lambda t: (-t.count, t.theme))


async def model_themes(
    texts: Sequence[str],
    model: str | BaseChatModel = "offline",
    *,
    top: int = 5,
    seed: int = 0,
) -> list[Theme]:
    """The ``top`` themes of ``texts`` as a model reads them (one call titled
    ``themes``, temperature 0), largest first; none for no texts.

    Raises:
        ConfigError: ``top`` is not an integer >= 1.
        ModelError: the model failed or did not answer in time.
        InvalidModelOutputError: the answer is out of shape.
    """
    from clientsim.llm import Turn  # noqa: PLC0415
    from clientsim.llm.calls import judge_call  # noqa: PLC0415

    top = _check_top(top)
    if not texts:
        return []
    call = judge_call(model, _SCHEMA, seed=seed)
    answer, _ = await call(
        [Turn("system", _SYSTEM), Turn("user", themes_prompt(texts, top))]
    )
    return read_themes(answer, texts, top)
