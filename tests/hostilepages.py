"""Hostile page shapes, generated: what a broken or malicious site serves to a crawler.

Real markup, not test doubles: extracting ``many_links(50_000)`` keeps trafilatura busy for
seconds (tens of microseconds per link), ``nested_divs(100_000)`` is 200,000 tags deep.
"""

from __future__ import annotations

from html import escape

LEAD = "Qwen team ships a page that no extractor should have to read in full."


def page(title: str, body: str, head: str = "", description: str = LEAD) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>\n'
            f'<meta name="description" content="{escape(description)}">\n{head}</head>\n'
            f"<body>{body}</body></html>\n")


def many_links(count: int, title: str = "Qwen link farm") -> str:
    """``count`` links, one per block: the shape that stalled a worker for minutes."""
    return page(title, "".join(f'<div><a href="/l/{i}">link label number {i}</a></div>\n' for i in range(count)))


def nested_divs(depth: int, title: str = "Qwen nested divs") -> str:
    return page(title, "<div>" * depth + "<p>Qwen at the bottom.</p>" + "</div>" * depth)


def article(title: str, head: str = "", paragraphs: int = 6) -> str:
    """An ordinary article page about Qwen, with ``head`` added to its <head>."""
    text = "".join(f"<p>Paragraph {i}: Alibaba's Qwen models were updated today with longer context, "
                   f"better tool use and lower prices for developers across the region.</p>"
                   for i in range(paragraphs))
    return page(title, f"<article><h1>{escape(title)}</h1>{text}</article>", head)


def huge_title(chars: int, head: str = "") -> str:
    return article("Qwen " + "very long title " * (chars // 16), head)


def padded(size: int, title: str = "Qwen padded page") -> str:
    """An article followed by ``size`` characters of comment padding (few tags, many bytes)."""
    return article(title).replace("</body>", "<!--" + "x" * size + "--></body>")
