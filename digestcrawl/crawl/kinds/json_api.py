"""``kind: json_api``: a JSON API answer mapped to entries by the source's JMESPath ``fields``.

Besides JMESPath's own functions (``join``, ``to_string``, ``not_null`` …) an expression may
call ``split(string, separator)`` and ``format(template, value…)``, so that an API that gives
ids instead of web URLs is still configuration: a Bluesky post's
``at://did:plc:…/app.bsky.feed.post/<rkey>`` becomes
``format('https://bsky.app/profile/{}/post/{}', author.handle, split(uri, '/')[-1])``. Both
give null for a null input, so ``||`` can try another field. Expressions are checked when the
configuration loads: a syntax error, an unknown function or a ``format`` template whose ``{}``
do not match its values names the field.
"""

from __future__ import annotations

from datetime import tzinfo
from functools import cache
from typing import Any

import jmespath
from jmespath import exceptions, functions
from pydantic import field_validator

from digestcrawl.crawl.feeds import Entry, FeedError, load_json, plain_text
from digestcrawl.crawl.kinds.base import Document, Options, Parsed, SourceKind
from digestcrawl.text.dates import parse_datetime

PLACEHOLDER = "{}"


class _Functions(functions.Functions):
    """JMESPath's functions, and two that build a URL from an API's ids."""

    @functions.signature({"types": ["string", "null"]}, {"types": ["string"]})
    def _func_split(self, subject: str | None, separator: str) -> list[str] | None:
        """The parts of ``subject`` between ``separator``s (an empty one: its characters)."""
        if subject is None:
            return None
        return subject.split(separator) if separator else list(subject)

    @functions.signature({"types": ["string"]}, {"types": [], "variadic": True})
    def _func_format(self, template: str, *values: Any) -> str | None:
        """``template`` with each ``{}`` replaced by the next value, a string or a number; null
        when a value is anything else (null included) or the count differs."""
        pieces = template.split(PLACEHOLDER)
        if len(pieces) != len(values) + 1 or not all(_scalar(value) for value in values):
            return None
        return "".join(piece + str(value) for piece, value in zip(pieces, values, strict=False)) + pieces[-1]


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


OPTIONS = jmespath.Options(custom_functions=_Functions())


@cache
def compiled(expression: str) -> Any:
    """The parsed expression (jmespath's ParsedResult), parsed once per process."""
    return jmespath.compile(expression)


def _check_calls(node: dict[str, Any]) -> None:
    """Refuse calls the answer could never satisfy, read off the parsed expression's tree."""
    if node.get("type") == "function_expression":
        name, arguments = node.get("value"), node.get("children", [])
        if name not in _Functions.FUNCTION_TABLE:
            raise ValueError(f"unknown function {name}()")
        signature = _Functions.FUNCTION_TABLE[name]["signature"]
        variadic = bool(signature) and signature[-1].get("variadic", False)
        if len(arguments) < len(signature) or (len(arguments) > len(signature) and not variadic):
            raise ValueError(f"{name}() takes {len(signature)}{' or more' if variadic else ''} arguments, "
                             f"not {len(arguments)}")
        template = arguments[0].get("value") if name == "format" and arguments[0].get("type") == "literal" else None
        if isinstance(template, str) and template.count(PLACEHOLDER) != len(arguments) - 1:
            raise ValueError(f"format template {template!r} has {template.count(PLACEHOLDER)} {{}} "
                             f"for {len(arguments) - 1} values")
    for child in node.get("children", []):
        if isinstance(child, dict):
            _check_calls(child)


class FieldMap(Options):
    """JMESPath expressions mapping a JSON API answer to entries."""

    items: str
    url: str
    title: str | None = None
    text: str | None = None
    published: str | None = None
    author: str | None = None

    @field_validator("*")
    @classmethod
    def _expression(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                _check_calls(compiled(value).parsed)
            except exceptions.ParseError as exc:  # its message spans lines; the report has one
                raise ValueError(f"not a JMESPath expression ({exc.msg} at character {exc.lex_position})") from None
        return value


def parse_json_api(body: bytes, fields: FieldMap, zone: tzinfo) -> list[Entry]:
    """A JSON API answer mapped to entries with the source's JMESPath expressions."""
    data = load_json(body)
    try:
        items = compiled(fields.items).search(data, options=OPTIONS)
    except exceptions.JMESPathError as exc:
        raise FeedError(f"no list at {fields.items!r}: {exc}") from None
    if not isinstance(items, list):
        raise FeedError(f"no list at {fields.items!r}")
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        url = _field(fields.url, item, str)
        if not url:
            continue
        text = plain_text(_field(fields.text, item, str))
        title = plain_text(_field(fields.title, item, str)) or text[:120]
        entries.append(Entry(url=url, title=title, text=text, snippet=text[:1000],
                             published=parse_datetime(_field(fields.published, item, (str, int, float)), zone),
                             author=_field(fields.author, item, str) or None))
    return entries


def _field(expression: str | None, item: dict[str, Any], kinds: type | tuple[type, ...]) -> Any:
    """The value at ``expression`` when it is of ``kinds``; an API's other shapes, and an item
    a function cannot take (``join`` over a number), read as missing."""
    if expression is None:
        return None
    try:
        value = compiled(expression).search(item, options=OPTIONS)
    except exceptions.JMESPathError:
        return None
    return value if isinstance(value, kinds) and not isinstance(value, bool) else None


def read_json_api(document: Document) -> Parsed:
    return Parsed(entries=parse_json_api(document.body, document.options, document.zone))


KIND = SourceKind("json_api", read_json_api, option="fields", headers={"Accept": "application/json"},
                  self_contained=True)
