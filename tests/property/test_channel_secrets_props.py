"""Invariants of what a channel shows and where it posts.

(a) for any credentials in a URL's password or query string or in a header, no message
    built by the channel's redactor, and no copy of an exception chain holding them,
    shows them;
(b) any ``headers`` value either is taken or raises ``ConfigError`` without showing a
    header's value;
(c) a query string of ``base_url`` stays at the end of the URL the HTTP channel posts
    to, after the path it adds.
"""

from __future__ import annotations

import string
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientsim._secrets import Redactor, check_headers
from clientsim.channels._http_options import endpoint
from clientsim.errors import ConfigError


SETTINGS = settings(deadline=None, max_examples=200)

secrets = st.text(
    alphabet=string.ascii_letters + string.digits + "-_.~", min_size=8, max_size=40
)
words = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)


@SETTINGS
@given(token=secrets, password=secrets, key=secrets, filler=st.text(max_size=40))
def test_no_redacted_text_or_cause_shows_a_credential(token, password, key, filler):
    url = f"wss://bot:{password}@agent.example.com/ws?token={quote(token)}"
    redactor = Redactor(url, {"Authorization": f"Bearer {key}", "Accept": "*/*"})
    message = f"{filler} {url} {token} {password} Bearer {key} {filler}"
    inner = ConnectionError(message)
    outer = RuntimeError(f"wrapped: {message}")
    outer.__cause__ = inner
    error = redactor.error(message, transient=True, cause=outer)
    shown = [redactor(message), redactor.url(url), str(error), repr(error.args)]
    current: BaseException | None = error
    while current is not None:
        shown += [str(current), repr(current.args), repr(vars(current))]
        current = current.__cause__ or current.__context__
    for secret in (token, password, key):
        assert not any(secret in text for text in shown)
    assert error.transient
    assert error.__cause__ is not None
    assert error.__cause__.transient  # type: ignore[attr-defined]  # kept from inner


@SETTINGS
@given(
    headers=st.one_of(
        st.none(),
        st.dictionaries(
            st.one_of(st.text(max_size=10), st.integers()),
            st.one_of(secrets, st.integers(), st.none()),
            max_size=4,
        ),
        st.lists(secrets, max_size=3),
        secrets,
    )
)
def test_a_headers_value_is_never_shown(headers):
    error: ConfigError | None = None
    try:
        taken = check_headers("SomeChannel", headers)
    except ConfigError as exc:
        error = exc
    if error is None:
        assert taken == dict(headers or {})
        return
    names = " ".join(map(str, headers)) if isinstance(headers, dict) else ""
    values = headers.values() if isinstance(headers, dict) else [headers]
    for value in values:
        if isinstance(value, str) and value not in names:  # a name may be shown
            assert value not in str(error)


@SETTINGS
@given(
    base=st.lists(words, max_size=3),
    query=st.dictionaries(words, words, max_size=3),
    slash=st.booleans(),
)
def test_a_base_url_query_string_stays_at_the_end(base, query, slash):
    base_path = "/" + "/".join(base) + ("/" if slash else "")
    search = "&".join(f"{k}={v}" for k, v in query.items())
    url = endpoint(
        f"https://h{base_path}{'?' + search if search else ''}", "chat/completions"
    )
    parts = urlsplit(url)
    assert parts.path.endswith("/chat/completions")
    assert "//" not in parts.path
    assert parts.query == search


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        (
            "http://h/v1?api-version=1",
            "chat/completions",
            "http://h/v1/chat/completions?api-version=1",
        ),
        ("http://h/v1/", "chat/completions", "http://h/v1/chat/completions"),
        ("http://h/hooks?t=1", "/chat?v=2", "http://h/hooks/chat?t=1&v=2"),
        ("http://h/hooks?t=1", "", "http://h/hooks?t=1"),
    ],
)
def test_endpoint_examples(base, path, expected):
    assert endpoint(base, path) == expected
