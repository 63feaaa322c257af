"""The post's infographic: the day's stories by number of sources, mentions by category, and
the 7-day mention trend, in one PNG drawn with matplotlib's Agg canvas; below them, when the
stored series has readings, the largest repositories' downloads over the same days.

Labels come from ``templates/headings.yaml`` in the digest's language. CJK text needs a CJK
font: Noto Sans CJK (Debian ``fonts-noto-cjk``) or any font named "… CJK …"; without one,
``CJKFontMissing`` is raised rather than a picture of empty boxes. Characters no font has (emoji)
are left out of labels for the same reason. No settings are read.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import FuncFormatter, MaxNLocator

from digestcrawl.digest.firstparty import SOURCE_NAMES
from digestcrawl.digest.model import DigestInput, SummaryResult
from digestcrawl.digest.publish.files import write_atomic
from digestcrawl.digest.publish.labels import headings
from digestcrawl.digest.publish.script import generated_text
from digestcrawl.languages import Language
from digestcrawl.text import squash_spaces

# The face whose glyph shapes suit the output language come first.
CJK_FAMILIES = {
    Language.ZH_TW: ("Noto Sans CJK TC", "Noto Sans CJK HK", "Noto Sans CJK SC", "Noto Sans CJK JP"),
    Language.ZH_CN: ("Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK JP"),
    Language.JA: ("Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC"),
    Language.EN: ("Noto Sans CJK TC", "Noto Sans CJK SC", "Noto Sans CJK JP"),
}
LATIN_FAMILY = "DejaVu Sans"  # ships with matplotlib
CATEGORIES = ("news", "social", "finance")
LABEL_LIMIT = 24
COLOURS = ("#4C72B0", "#DD8452", "#55A868")
DOWNLOAD_REPOS = 3  # lines in the downloads panel: the largest repositories


class CJKFontMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class CJKFont:
    family: str
    path: str
    charset: frozenset[int]  # code points the CJK font and the Latin fallback can draw


def _entries() -> list[font_manager.FontEntry]:
    entries = [e for e in font_manager.fontManager.ttflist if "CJK" in e.name]
    if not entries:
        # Fonts installed after matplotlib built its cache are not in ttflist yet.
        for path in font_manager.findSystemFonts():
            if "CJK" in path:
                font_manager.fontManager.addfont(path)
        entries = [e for e in font_manager.fontManager.ttflist if "CJK" in e.name]
    return entries


@lru_cache(maxsize=4)
def cjk_font(language: str) -> CJKFont:
    """The CJK font labels are drawn with; raises ``CJKFontMissing`` when none is installed."""
    entries = _entries()
    preferred = CJK_FAMILIES[Language(language)]

    def rank(entry: font_manager.FontEntry) -> tuple[int, bool, bool, str]:
        order = preferred.index(entry.name) if entry.name in preferred else len(preferred)
        return order, "Mono" in entry.name, entry.weight != 400, entry.fname

    ranked = sorted(entries, key=rank)
    if not ranked:
        raise CJKFontMissing("No CJK font found: install fonts-noto-cjk (Noto Sans CJK) so the "
                             "infographic's Chinese and Japanese text can be drawn")
    best = ranked[0]
    latin = font_manager.findfont(LATIN_FAMILY, fallback_to_default=True)
    charset = set(FT2Font(best.fname, face_index=best.index).get_charmap())
    charset.update(FT2Font(latin).get_charmap())
    return CJKFont(best.name, best.fname, frozenset(charset))


def _drawable(text: str, font: CJKFont, limit: int = LABEL_LIMIT) -> str:
    kept = squash_spaces("".join(c for c in text if ord(c) in font.charset or c.isspace()))
    return kept if len(kept) <= limit else kept[: limit - 1].rstrip() + "…"


def _story_bars(digest: DigestInput, result: SummaryResult,
                font: CJKFont) -> tuple[list[str], list[int]]:
    titles = {s.story_key: s.title for s in result.content.stories}
    labels, counts = [], []
    for story in digest.stories:
        title = generated_text(titles.get(story.key, story.lead.title), digest.language)
        labels.append(_drawable(title, font))
        counts.append(len(story.outlets))
    return labels, counts


def infographic_png(digest: DigestInput, result: SummaryResult) -> bytes:
    """The day's infographic as PNG bytes."""
    font = cjk_font(digest.language)
    # A family list gives per-glyph fallback: CJK from the CJK font, the rest from DejaVu.
    with rc_context({"font.family": [font.family, LATIN_FAMILY]}):
        figure = _figure(digest, result, font)
        buffer = io.BytesIO()
        # No Software/date metadata: the same digest draws the same bytes.
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def draw_infographic(digest: DigestInput, result: SummaryResult, path: Path) -> None:
    """Draw the day's infographic and write it to ``path`` atomically."""
    write_atomic(path, infographic_png(digest, result))


def _downloads_panel(axes: Axes, digest: DigestInput, font: CJKFont) -> None:
    """The largest repositories' downloads over the trend window, one line each."""
    trends = [t for t in digest.figures.repo_trends if t.series][:DOWNLOAD_REPOS]
    days = sorted({*digest.figures.trend, *(day for t in trends for day, _ in t.series)})
    position = {day: i for i, day in enumerate(days)}
    for colour, trend in zip(COLOURS, trends, strict=False):
        axes.plot([position[day] for day, _ in trend.series], [n for _, n in trend.series], marker="o", color=colour,
                  label=_drawable(trend.repo.rsplit("/", 1)[-1], font, 32))
    axes.set_xticks(range(len(days)), [f"{d:%m-%d}" for d in days])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.legend(loc="upper left", fontsize=8)
    sources = ", ".join(dict.fromkeys(SOURCE_NAMES.get(t.source.casefold(), t.source) for t in trends))
    axes.set_title(_drawable(headings()[digest.language]["chart_downloads"].format(source=sources), font, 60))


def _figure(digest: DigestInput, result: SummaryResult, font: CJKFont) -> Figure:
    words = headings()[digest.language]
    downloads = any(t.series for t in digest.figures.repo_trends)
    figure = Figure(figsize=(10, 10.5 if downloads else 7.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)  # Agg, without pyplot's global figure registry
    # Subfigures lay out apart, so long story titles do not squeeze the lower charts.
    rows = figure.subfigures(3 if downloads else 2, 1, squeeze=False,
                             height_ratios=(1.2, 1, 1) if downloads else (1.2, 1)).flat
    top, bottom = rows[0], rows[1]
    if downloads:
        _downloads_panel(rows[2].subplots(), digest, font)
    stories = top.subplots()
    categories, trend = bottom.subplots(1, 2)
    title = f"{digest.model.display} {words['daily']} - {digest.day:%Y-%m-%d}"
    figure.suptitle(_drawable(title, font, 60), fontsize=16)

    labels, counts = _story_bars(digest, result, font)
    stories.bar_label(stories.barh(range(len(counts)), counts, color=COLOURS[0]), padding=3)
    stories.set_yticks(range(len(labels)), labels)
    stories.invert_yaxis()  # the lead story on top
    stories.xaxis.set_major_locator(MaxNLocator(integer=True))
    stories.set_title(words["chart_stories"])

    mentions = [digest.figures.mentions_by_category.get(c, 0) for c in CATEGORIES]
    categories.bar_label(categories.bar(range(len(CATEGORIES)), mentions, color=COLOURS))
    categories.set_xticks(range(len(CATEGORIES)), [words["category"][c] for c in CATEGORIES])
    categories.yaxis.set_major_locator(MaxNLocator(integer=True))
    categories.margins(y=0.12)  # room for the value labels
    categories.set_title(words["chart_categories"])

    days = sorted(digest.figures.trend)
    per_day = [digest.figures.trend[d] for d in days]
    trend.plot(range(len(days)), per_day, marker="o", color=COLOURS[0])
    trend.set_xticks(range(len(days)), [f"{d:%m-%d}" for d in days])
    trend.yaxis.set_major_locator(MaxNLocator(integer=True))
    trend.set_ylim(bottom=0)
    trend.set_title(words["chart_trend"])
    return figure
