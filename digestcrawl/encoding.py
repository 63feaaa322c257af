"""Decode HTML bytes correctly even when the declared charset lies.

Scrapy trusts the HTTP header first and then replaces undecodable bytes, which turns a GB18030
page labelled UTF-8 into mojibake. Here a charset must decode the body strictly to be used;
when neither UTF-8 nor a declared one does, it is detected from the bytes (charset-normalizer).
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

# Labels that servers use for an encoding whose superset is what they really send.
SUPERSETS = {
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "euc_jp": "euc_jis_2004",
    "ascii": "utf-8",
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
}


def _normalise(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return SUPERSETS.get(name, name)


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used)."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding and bom:
        return body[len(bom):].decode(bom_encoding, errors="replace"), bom_encoding
    # Strict UTF-8 first: other multi-byte text practically never decodes as UTF-8, while
    # single-byte labels (latin-1) decode anything and would hide a UTF-8 page.
    candidates = [
        "utf-8",
        _normalise(http_content_type_encoding(content_type or "")),
        _normalise(html_body_declared_encoding(body)),
    ]
    for encoding in dict.fromkeys(c for c in candidates if c):
        try:
            return body.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    best = from_bytes(body).best()
    encoding = _normalise(best.encoding if best else None) or "utf-8"
    return body.decode(encoding, errors="replace"), encoding
