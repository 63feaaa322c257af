"""decode_html on real-shaped pages: a declared charset with a stray byte, the order of BOM,
header and <meta>, unknown labels, the superset decoders."""

from __future__ import annotations

import pytest

from digestcrawl.text.encoding import JSON_MAX_CHARS, decode_html, looks_binary, looks_json, normalise

ZH_HANS = "国务院新闻办公室今天举行发布会，介绍经济运行情况。记者从会上获悉，镕、堃等字也能正确显示。" * 6
ZH_HANT = "行政院今天召開記者會，說明經濟情勢。記者從會上得知，今年出口成長超過預期。" * 6
HK = "香港特區政府今日公布，㗎、嘅、咗等字在新聞稿中出現。" * 6  # HKSCS characters
JA = "政府は今日、経済対策を発表した。①②③や髙﨑などの文字も含まれる。" * 6  # cp932 extensions
KO = "정부는 오늘 경제 대책을 발표했다. 기자회견에서 자세한 내용이 소개되었다." * 6
DE = "Die Bürgerinnen und Bürger müssen Äpfel, Öl und Größen prüfen. " * 6
PL = "Zażółć gęślą jaźń. Łódź i Kraków są piękne, ale źle się śpi. " * 6
FR = "Le café de l’été — « déjà vu » à Noël, naïve œuvre. " * 6
# A stray byte that the codec cannot read (cp932 and cp1252 map 0x80 to a character).
STRAY = {"cp932": b"\x85", "cp1252": b"\x81"}


def page(text: str, encoding: str, meta: str | None = None, stray: bool = True) -> bytes:
    head = f'<html><head><meta charset="{meta}"><title>t</title></head><body><p>' if meta else "<html><body><p>"
    middle = len(text) // 2
    raw = head.encode("ascii") + text[:middle].encode(encoding)
    raw += STRAY.get(encoding, b"\x80") if stray else b""
    return raw + text[middle:].encode(encoding) + b"</p></body></html>"


@pytest.mark.parametrize(("text", "codec", "label"), [
    (ZH_HANS, "gb2312", "gb2312"),
    (ZH_HANS, "gbk", "GBK"),
    (ZH_HANT, "big5", "big5"),
    (HK, "big5hkscs", "big5"),  # Big5 label, HKSCS bytes: decoded with the superset
    (JA, "cp932", "shift_jis"),  # Shift_JIS label, Windows extensions: cp932
    (KO, "euc_kr", "euc-kr"),
    (DE, "utf-8", "utf-8"),
    (PL, "utf-8", "utf-8"),
    (FR, "cp1252", "iso-8859-1"),  # latin-1 label, cp1252 quotes: cp1252
    (FR, "cp1252", "windows-1252"),
])
@pytest.mark.parametrize("where", ["header", "meta"])
def test_declared_charset_with_a_stray_byte_wins(text: str, codec: str, label: str, where: str) -> None:
    if codec == "gb2312":
        text = text.replace("镕", "中").replace("堃", "国")  # not in GB2312 itself
    body = page(text, codec, meta=label if where == "meta" else None)
    content_type = f"text/html; charset={label}" if where == "header" else "text/html"
    decoded, encoding = decode_html(body, content_type)
    half = len(text) // 2
    assert text[:half] + "\ufffd" + text[half:] in decoded, encoding
    assert decoded.count("\ufffd") == 1
    assert encoding == normalise(label)


@pytest.mark.parametrize(("label", "codec"), [
    ("gb2312", "gb18030"), ("GBK", "gb18030"), ("big5", "big5hkscs"), ("Shift_JIS", "cp932"),
    ("latin-1", "cp1252"), ("ISO-8859-1", "cp1252"), ("us-ascii", "cp1252"), ("euc-kr", "cp949"),
    ("utf8", "utf-8"), ("x-unknown-charset", None), ("", None),
])
def test_labels_read_as_their_superset(label: str, codec: str | None) -> None:
    assert normalise(label) == codec


def test_superset_reads_characters_outside_the_label() -> None:
    """镕 and 堃 are GBK/GB18030, not GB2312: a page labelled gb2312 still shows them."""
    decoded, encoding = decode_html(page(ZH_HANS, "gb18030", meta="gb2312", stray=False))
    assert ZH_HANS in decoded and encoding == "gb18030"


def test_header_beats_meta() -> None:
    body = page(ZH_HANT, "big5", meta="gb2312", stray=False)
    decoded, encoding = decode_html(body, "text/html; charset=big5")
    assert ZH_HANT in decoded and encoding == "big5hkscs"


def test_header_failing_badly_passes_to_meta() -> None:
    """GBK bytes labelled Big5 in the header: Big5 leaves many invalid bytes, the <meta> reads it."""
    body = page(ZH_HANS, "gb18030", meta="gbk")
    decoded, encoding = decode_html(body, "text/html; charset=big5")
    assert encoding == "gb18030" and ZH_HANS[:20] in decoded


def test_unknown_header_label_passes_to_meta() -> None:
    decoded, encoding = decode_html(page(ZH_HANS, "gb18030", meta="gbk"), "text/html; charset=x-no-such")
    assert encoding == "gb18030" and ZH_HANS[:20] in decoded


def test_unknown_labels_everywhere_go_to_the_detector() -> None:
    decoded, _ = decode_html(page(ZH_HANS, "gb18030", meta="x-no-such", stray=False), "text/html; charset=bogus")
    assert ZH_HANS in decoded


def test_bom_beats_everything() -> None:
    body = b"\xef\xbb\xbf" + page(DE, "utf-8", meta="iso-8859-1", stray=False)
    decoded, encoding = decode_html(body, "text/html; charset=shift_jis")
    assert DE in decoded and encoding == "utf-8"
    body = codecs_utf16(page(ZH_HANT, "utf-8", stray=False).decode())
    decoded, encoding = decode_html(body, "text/html; charset=gbk")
    assert ZH_HANT in decoded and encoding.startswith("utf-16")


def codecs_utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")


@pytest.mark.parametrize("text", [DE, PL, ZH_HANT])
def test_utf8_bytes_labelled_latin1_are_utf8(text: str) -> None:
    """A latin-1 label reads any bytes without an error, so the check cannot catch it; bytes that
    form valid UTF-8 are UTF-8 (Tomcat's default label on UTF-8 pages), with or without a <meta>
    saying so, and with a stray byte too."""
    for meta in ("utf-8", None):
        for stray in (False, True):
            body = page(text, "utf-8", meta=meta, stray=stray)
            decoded, encoding = decode_html(body, "text/html; charset=iso-8859-1")
            assert encoding == "utf-8" and text[:20] in decoded and decoded.count("\ufffd") == stray


def test_cp1252_page_labelled_utf8_is_not_read_as_utf8() -> None:
    """Every umlaut is an invalid UTF-8 byte: few bytes of the page, but all of its non-ASCII ones."""
    body = ("<html><body>" + "x" * 5000 + DE[:64] + "</body></html>").encode("cp1252")
    decoded, _ = decode_html(body, "text/html; charset=utf-8")
    assert DE[:64] in decoded


@pytest.mark.parametrize(("body", "content_type", "text"), [
    (page(ZH_HANS, "gb18030", stray=False), None, ZH_HANS),  # nothing declared
    (page(ZH_HANS, "gb18030", stray=False), "text/html; charset=utf-8", ZH_HANS),  # mislabelled UTF-8
    (page(JA, "cp932", stray=False), "text/html; charset=utf-8", JA),
])
def test_detector_when_nothing_declared_reads_the_page(body: bytes, content_type: str | None, text: str) -> None:
    decoded, _ = decode_html(body, content_type)
    assert text in decoded


def test_many_invalid_bytes_fail_the_declaration_but_a_worse_guess_loses() -> None:
    """1% invalid bytes is not a stray byte: the detector is asked, and its reading is kept only
    when it has fewer invalid bytes than the label's."""
    raw = (ZH_HANS * 2).encode("gb18030")
    broken = b"".join(raw[i:i + 100] + b"\x80" for i in range(0, len(raw), 100))
    decoded, encoding = decode_html(b"<html><body><p>" + broken + b"</p></body></html>", "text/html; charset=gbk")
    assert encoding == "gb18030" and decoded.count("\ufffd") == len(raw[::100])
    assert ZH_HANS[:30] in decoded


def test_ascii_page_with_any_label() -> None:
    assert decode_html(b"<p>plain</p>", "text/html; charset=gbk") == ("<p>plain</p>", "utf-8")
    assert decode_html(b"<p>plain</p>") == ("<p>plain</p>", "utf-8")


@pytest.mark.parametrize(("body", "binary"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" * 20, True),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<\x00\x01\x02\x03\x04\x05\x06\x07>>" * 20, True),
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" * 50, True),
    ("<html><title>千問</title><p>通義千問發布新模型。</p></html>".encode(), False),
    (b"<p>a NUL\x00 in a page of text, and a form feed\x0c</p>" * 10, False),
    ("<html><p>Qwen 千問</p></html>".encode("utf-16-le"), False),
    ("<html><p>Qwen 千問</p></html>".encode("utf-16"), False),
    (b"", False),
])
def test_looks_binary(body: bytes, binary: bool) -> None:
    assert looks_binary(body) is binary


@pytest.mark.parametrize(("text", "document"), [
    # Issue 20: an API's answer served as text/html is JSON, not an article.
    ('{"title": "Qwen3 發布", "text": "阿里巴巴今天發布 Qwen3。"}', True),
    ('\n  [{"url": "https://news.example/1", "title": "Qwen"}]', True),
    ("[" * 100_000 + "]" * 100_000, True),  # nested deeper than the parser goes
    ("<!DOCTYPE html><html><body><p>{\"title\": 1}</p></body></html>", False),
    ("[Update] Qwen3 is out, with more sizes.", False),  # starts like JSON, is text
    ("{{ site.title }} Qwen", False),
    ("", False),
    ('{"filler": "' + "x" * JSON_MAX_CHARS + '"}', False),  # past the cap: left to extraction's caps
])
def test_looks_json(text: str, document: bool) -> None:
    assert looks_json(text) is document
