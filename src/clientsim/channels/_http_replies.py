"""The request bodies and the replies of :class:`~clientsim.channels.http.HTTPChannel`.

Filling webhook templates, setting and looking up dot paths, reading replies (a JSON
document, an OpenAI chat completion or its server-sent-event stream) and the
``Retry-After`` header. A reply that is not what was expected raises
:class:`MalformedError`, whose ``str()`` says what was expected.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp

from clientsim.errors import ClientSimError
from clientsim.models import ToolCall


Reply = tuple[str, tuple[ToolCall, ...]]
"""One reply message: its text and the tool calls it reports."""
RAW_ARGUMENTS: Final = "_raw"
"""The key a tool call's arguments are kept under when they are not a JSON object."""


_PLACEHOLDER: Final = re.compile(r"\{(message|session_id)\}")
_HISTORY: Final = "{history}"
_TRIM: Final = 200


class MalformedError(Exception):
    """A reply that is not what was expected; ``str()`` says what was expected."""


class TooLargeError(Exception):
    """A reply longer than the channel's ``max_reply_bytes``; ``str()`` says how long."""


async def read_replies(
    response: aiohttp.ClientResponse,
    *,
    stream: bool,
    limit: int,
    reply_path: tuple[str, ...] | None,
) -> list[Reply]:
    """The reply texts of a successful response: a server-sent-event stream (if
    ``stream``), else a JSON document, a chat completion if ``reply_path`` is ``None``.

    Raises:
        MalformedError: the reply is not what was expected.
        TooLargeError: the reply is longer than ``limit`` bytes.
    """
    # The Content-Type header is parsed only where it matters: a stream, or a message.
    if stream and response.content_type == "text/event-stream":
        return [(text, ()) for text in await read_events(response, limit)]
    raw = await read_body(response, limit)
    try:
        document = json.loads(raw)
    except ValueError:
        raise MalformedError(
            f"a JSON body; got {response.content_type} "
            f"{trim(raw.decode(errors='replace'))!r}"
        ) from None
    if reply_path is None:
        return openai_replies(document)
    return [(text, ()) for text in replies_at(document, reply_path)]


async def read_body(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, read as it comes; :class:`TooLargeError` past ``limit`` bytes
    (at once if ``Content-Length`` says so)."""
    length = response.content_length
    if length is not None and length > limit:
        raise TooLargeError(f"Content-Length says {length} bytes")
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > limit:
            raise TooLargeError(f"more than {limit} bytes came")
    return bytes(body)


def render(
    template: object, values: Mapping[str, str], history: list[dict[str, str]]
) -> object:
    if isinstance(template, str):
        if template == _HISTORY:
            return history
        return _PLACEHOLDER.sub(lambda match: values[match[1]], template)
    if isinstance(template, dict):
        return {k: render(v, values, history) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values, history) for v in template]
    return template


def set_path(body: dict[str, object], segments: tuple[str, ...], value: str) -> None:
    target = body
    for index, segment in enumerate(segments[:-1]):
        child = target.setdefault(segment, {})
        if not isinstance(child, dict):
            where = ".".join(segments[: index + 1])
            raise MalformedError(
                f"{where!r} holds a {type(child).__name__}, not an object"
            )
        target = child
    target[segments[-1]] = value


def lookup(document: object, segments: tuple[str, ...], done: str = "") -> object:
    value = document
    for index, segment in enumerate(segments):
        where = f"{done}.{segment}".lstrip(".")
        if segment == "*" and isinstance(value, list):
            rest = segments[index + 1 :]
            return [
                lookup(item, rest, f"{where[:-1]}{i}") for i, item in enumerate(value)
            ]
        if isinstance(value, dict):
            if segment not in value:
                keys = ", ".join(repr(k) for k in list(value)[:10]) or "none"
                raise MalformedError(f"a key {where!r} (the keys there: {keys})")
            value = value[segment]
        elif isinstance(value, list) and re.fullmatch(r"-?\d+", segment):
            if not -len(value) <= int(segment) < len(value):
                raise MalformedError(f"an item {where!r}; the list has {len(value)}")
            value = value[int(segment)]
        else:
            raise MalformedError(
                f"{where!r}, but {done or 'the document'} is {_kind(value)}"
            )
        done = where
    return value


def replies_at(document: object, segments: tuple[str, ...]) -> list[str]:
    try:
        found = lookup(document, segments)
    except MalformedError as exc:
        raise MalformedError(f"{exc}; got {trim(json.dumps(document))}") from None
    if found is None:
        return []
    if isinstance(found, str):
        return [found]
    if isinstance(found, list) and all(x is None or isinstance(x, str) for x in found):
        return [x for x in found if x]
    where = ".".join(segments) or "the top level"
    raise MalformedError(
        f"a string or a list of strings at {where!r}; got {_kind(found)} "
        f"{trim(json.dumps(found))}"
    )


def openai_replies(document: object) -> list[Reply]:
    choices = document.get("choices") if isinstance(document, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, dict):
        raise MalformedError(
            "a chat completion with choices[0].message; "
            f"got {trim(json.dumps(document))}"
        )
    text = _content_text(message.get("content"))
    calls = _tool_calls(message.get("tool_calls"))
    return [(text, calls)] if text or calls else []


def _tool_calls(found: object) -> tuple[ToolCall, ...]:
    """The ``tool_calls`` of a chat completion's message. Arguments are a JSON string
    there: one that is not a JSON object is kept whole as ``{"_raw": text}``."""
    if found is None:
        return ()
    if not isinstance(found, list) or not all(isinstance(c, dict) for c in found):
        raise MalformedError(
            f"tool_calls as a list of objects; got {trim(json.dumps(found))}"
        )
    calls = []
    for call in found:
        function = call.get("function")
        if not isinstance(function, dict):
            raise MalformedError(
                f"a tool call with a 'function' object; got {trim(json.dumps(call))}"
            )
        raw = function.get("arguments")
        try:
            arguments = json.loads(raw) if isinstance(raw, str) and raw else {}
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            arguments = {RAW_ARGUMENTS: raw}
        call_id = call.get("id")
        name: Any = function.get("name")  # checked by ToolCall
        try:
            calls.append(
                ToolCall(
                    name,
                    arguments,
                    call_id if isinstance(call_id, str) else None,
                )
            )
        except ClientSimError as exc:
            raise MalformedError(
                f"a tool call with a name and JSON arguments ({exc}); got "
                f"{trim(json.dumps(call))}"
            ) from None
    return tuple(calls)


def _content_text(content: object) -> str:
    """The text of an OpenAI message content: a string, ``null`` or a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        texts = [part.get("text") for part in content if part.get("type") == "text"]
        if all(isinstance(text, str) for text in texts):
            return "".join(str(text) for text in texts)
    raise MalformedError(
        f"message content as a string or a list of text parts; got {_kind(content)} "
        f"{trim(json.dumps(content))}"
    )


async def read_events(response: aiohttp.ClientResponse, limit: int) -> list[str]:
    """Join the content deltas of an OpenAI server-sent-event stream;
    :class:`TooLargeError` once the stream passes ``limit`` bytes."""
    parts: list[str] = []
    buffer = bytearray()
    data: list[str] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise TooLargeError(f"the stream went past {limit} bytes")
        buffer += chunk
        *lines, rest = buffer.split(b"\n")
        buffer = bytearray(rest)
        for raw in lines:
            line = raw.rstrip(b"\r").decode(errors="replace")
            if line:  # a field of the event; only "data" matters here
                field, _, value = line.partition(":")
                if field == "data":
                    data.append(value.removeprefix(" "))
                continue
            # A blank line ends the event.
            done = bool(data) and _on_event("\n".join(data), parts)
            data = []
            if done:
                return ["".join(parts)] if parts else []
    if data:
        _on_event("\n".join(data), parts)
    return ["".join(parts)] if parts else []


def _on_event(data: str, parts: list[str]) -> bool:
    """Add one event's delta to ``parts``; ``True`` at ``[DONE]``."""
    if data.strip() == "[DONE]":
        return True
    try:
        event = json.loads(data)
    except ValueError:
        raise MalformedError(f"JSON in each stream event; got {trim(data)!r}") from None
    if isinstance(event, dict) and "error" in event:
        raise MalformedError(f"a stream without errors; got {trim(data)}")
    choices = event.get("choices") if isinstance(event, dict) else None
    if not isinstance(choices, list):
        raise MalformedError(f"stream events with 'choices'; got {trim(data)}")
    first = choices[0] if choices else {}
    delta = first.get("delta") if isinstance(first, dict) else None
    content = delta.get("content") if isinstance(delta, dict) else None
    if content is not None:
        if not isinstance(content, str):
            raise MalformedError(f"string deltas in the stream; got {trim(data)}")
        parts.append(content)
    return False


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


async def peek(response: aiohttp.ClientResponse) -> str:
    """The start of an error body, for a message."""
    try:
        raw = await response.content.read(4 * _TRIM)
    except aiohttp.ClientError:
        return "(no body)"
    return trim(raw.decode(errors="replace")) or "(empty body)"


def trim(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TRIM else f"{text[:_TRIM]}... ({len(text)} chars)"


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), f"a {type(value).__name__}")
