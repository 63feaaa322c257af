"""Decode HTML bytes the way the page was written, even when its label or a few bytes are wrong.

Order (WHATWG's): a byte-order mark, then the HTTP header's charset, then the ``<meta>`` or XML
declaration in the first 4 KB. A declared charset wins when it reads the page with few invalid
bytes (``MAX_INVALID_SHARE`` of the body, and a minority of its non-ASCII bytes); those few are
replaced with U+FFFD. One stray byte must not send a whole GB2312 page to the detector, which
then guesses ptcp154 or cp1250 and turns every character into mojibake. A declaration that fails
badly, or an unknown label, passes to the next one; the detector (charset-normalizer) runs only
when nothing declared reads the page, and its guess is kept only when it leaves fewer
replacements than every declared reading (it guesses on broken bytes too).

One exception to the order: bytes that read as UTF-8 (strictly, or with few invalid bytes) are
UTF-8 whatever the label says. Legacy text, single- or multi-byte, practically never forms valid
UTF-8 sequences, while a legacy label decodes UTF-8 bytes without errors into mojibake
(``latin-1`` on a UTF-8 page is a server default, e.g. Tomcat's), so the invalid-byte check
cannot catch it.

Labels are read as the superset that servers really send (as WHATWG and w3lib do):
GB2312/GBK → gb18030, Big5 → big5hkscs, Shift_JIS → cp932, latin-1/ASCII → cp1252.

What a body is, whatever its Content-Type says, is sniffed here too: ``looks_binary`` (no text
at all) and ``looks_json`` (an API's answer served as ``text/html``).
"""

from __future__ import annotations

import codecs
import json
import re
import threading

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

# Codec names → the superset to decode with (w3lib maps most labels already; these are the rest).
SUPERSETS = {
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_jp": "euc_jis_2004",
    "euc_kr": "cp949",
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
}
# A declared charset that leaves more invalid bytes than this share of the body fails badly.
MAX_INVALID_SHARE = 0.005
# ... or when more than this share of its non-ASCII bytes are invalid: on a mostly-ASCII page
# a wrong label fails on few bytes in all, but on nearly every non-ASCII one.
MAX_INVALID_OF_NON_ASCII = 0.25
ASCII_BYTES = bytes(range(128))
COUNTING = "digestcrawl-count-invalid"
_tally = threading.local()  # the running decode's invalid bytes and its limit


class _TooManyInvalid(Exception):
    pass


def _count_invalid(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: replace like errors="replace", counting the invalid bytes, and stop
    the decode as soon as they exceed the limit (a wrong charset fails early and densely)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    _tally.invalid += error.end - error.start
    if _tally.invalid > _tally.limit:
        raise _TooManyInvalid
    return "\ufffd", error.end


codecs.register_error(COUNTING, _count_invalid)


# Bytes no text encoding but UTF-16/32 puts in a page: C0 controls other than tab, line feed,
# form feed and carriage return. A served image or archive is full of them.
BINARY_BYTES = bytes(set(range(32)) - {9, 10, 12, 13})
BINARY_SNIFF = 1024
BINARY_SHARE = 0.1


def looks_binary(body: bytes) -> bool:
    """Whether ``body`` is no text at all (an image, PDF or archive served as a page), judged on
    its first kilobyte; UTF-16 text, with or without a BOM, is text."""
    head = body[:BINARY_SNIFF]
    if not head or head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return False
    even, odd = sorted((head[0::2].count(0), head[1::2].count(0)))
    if odd > 0.1 * len(head) / 2 and even < 0.01 * len(head) / 2:
        return False  # UTF-16 without a BOM: NULs, beside ASCII characters, on one side only
    controls = len(head) - len(head.translate(None, BINARY_BYTES))
    return controls > BINARY_SHARE * len(head)


# A JSON document (an API's answer) served as a page: it starts with { or [ after whitespace,
# which no HTML page does, and parses. Only pages up to this many characters are parsed (tens of
# milliseconds at most); a larger one is left to the extraction's size caps.
JSON_START = re.compile(r"\s*[{\[]")
JSON_MAX_CHARS = 5 * 1024 * 1024


def looks_json(text: str) -> bool:
    """Whether a decoded page is a JSON document rather than HTML or text."""
    if not JSON_START.match(text) or len(text) > JSON_MAX_CHARS:
        return False
    try:
        json.loads(text)
    except RecursionError:  # nested deeper than the parser goes: a document, no prose
        return True
    except ValueError:  # "[Update] Qwen …": text that only starts like JSON
        return False
    return True


def normalise(label: str | None) -> str | None:
    """The codec to decode a charset label with, or None for an unknown label."""
    name = resolve_encoding(label) if label else None  # w3lib: aliases, most supersets, no UTF-7
    return SUPERSETS.get(name, name) if name else None


def _decode(body: bytes, encoding: str, limit: float) -> str | None:
    """The body decoded with ``encoding``, invalid bytes replaced by U+FFFD; None when more
    than ``limit`` bytes are invalid."""
    _tally.invalid, _tally.limit = 0, limit
    try:
        return body.decode(encoding, errors=COUNTING)
    except _TooManyInvalid:
        return None


def _declared(body: bytes, content_type: str | None) -> list[str]:
    """The declared encodings in order of authority: HTTP header, then <meta>/XML declaration."""
    header = normalise(http_content_type_encoding(content_type or ""))
    in_body = normalise(html_body_declared_encoding(body))
    if in_body and in_body.startswith(("utf-16", "utf-32")):
        # A page that can declare itself in ASCII is not UTF-16 (WHATWG reads this as UTF-8).
        in_body = "utf-8"
    return list(dict.fromkeys(e for e in (header, in_body) if e))


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used); see the module docstring for the order."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding and bom:
        return body[len(bom):].decode(bom_encoding, errors="replace"), bom_encoding
    try:
        return body.decode("utf-8"), "utf-8"  # the common case, and ASCII reads alike in any label
    except UnicodeDecodeError:
        pass
    declared = _declared(body, content_type)
    non_ascii = len(body.translate(None, ASCII_BYTES))
    # Few: stray bytes rather than a wrong charset.
    few = min(max(1.0, len(body) * MAX_INVALID_SHARE), non_ascii * MAX_INVALID_OF_NON_ASCII)
    candidates = list(dict.fromkeys(["utf-8", *declared]))
    for encoding in candidates:
        text = _decode(body, encoding, few)
        if text is not None:
            return text, encoding
    best = from_bytes(body).best()
    guess = normalise(best.encoding if best else None)
    # The detector can guess worse than a failing label (it also guesses on broken bytes):
    # the reading with the fewest replacements wins, the declared ones first on a tie.
    readings = {e: body.decode(e, errors="replace") for e in dict.fromkeys([*candidates, *filter(None, [guess])])}
    encoding = min(readings, key=lambda e: readings[e].count("\ufffd"))
    return readings[encoding], encoding
