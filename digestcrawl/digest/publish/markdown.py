"""Text made safe for a post: one clean line, markup removed from generated text, Markdown
escaped so that kramdown, Liquid and HTML read it as text, only http(s) links."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

from markupsafe import Markup

from digestcrawl.digest.read import UNSAFE as CONTROL
from digestcrawl.digest.read import one_line

TITLE_LIMIT = 60

HTML_TAG = re.compile(r"</?[A-Za-z!][^<>]*>")
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")  # one nesting: (x(1))
MARKDOWN_BLOCK = re.compile(r"(?m)^[ \t]*(?:#{1,6}|>|[-*+]|\d+[.)])[ \t]+")
MARKDOWN_MARKS = re.compile(r"\*\*|__|~~|`+")
# Characters kramdown, Liquid or HTML would read as syntax anywhere in a line. Backslash escapes
# where kramdown has them; entities for HTML, for ~ (not escapable in every kramdown parser) and
# for braces, since Liquid reads the "{%" in "\\{%" before kramdown removes the backslash.
# A dash in a run of dashes too: kramdown would print "--" and "---" as typographic dashes.
MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]{}|$\"'~<>&]|-(?=-)|(?<=-)-")
ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "~": "&#126;", "{": "&#123;", "}": "&#125;"}
# Only syntax at the start of a line: headers, lists, setext/rules, definition lists.
BLOCK_START = re.compile(r"^(?:[#+=:-]|(\d+)(?=[.)]))")


def plain(text: str) -> str:
    """Generated text without Markdown or HTML markup, on one line."""
    text = MARKDOWN_BLOCK.sub("", MARKDOWN_LINK.sub(r"\1", CONTROL.sub("", text)))
    while (stripped := HTML_TAG.sub("", text)) != text:  # <<b>script> leaves <script> once
        text = stripped
    return one_line(MARKDOWN_MARKS.sub("", text))


def escape_markdown(text: str) -> Markup:
    """Text that kramdown, Liquid and HTML all read as text."""
    text = MARKDOWN_SPECIAL.sub(lambda m: ENTITIES.get(m[0]) or "\\" + m[0], text)
    return Markup(BLOCK_START.sub(lambda m: f"{m[1]}\\" if m[1] else "\\" + m[0], text))


def safe_url(url: str) -> str | None:
    """An http(s) URL with everything but RFC 3986 delimiters percent-encoded, else None."""
    try:
        parts = urlsplit(url.strip())
        host = parts.netloc if parts.netloc.isascii() else parts.netloc.encode("idna").decode()
    except (ValueError, UnicodeError):
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    safe = "%/:@!$&*+,;=-._~"  # not ( ) ' or space: they would end a Markdown link target
    return urlunsplit((parts.scheme.lower(), quote(host, safe=safe + "[]"), quote(parts.path, safe),
                       quote(parts.query, safe + "?"), quote(parts.fragment, safe + "?")))


def shorten(text: str, limit: int = TITLE_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "..."
