"""The post's infographic: the day's stories by number of sources, mentions by category, and
the 7-day mention trend, drawn with matplotlib; below them, when the stored series has readings,
the largest repositories' downloads over the same days (a repository with fewer than three
readings is given as its figures, not a line).

Two drawings: the PNG, 1000 px wide (the post's og:image and the picture on wide screens), and a
narrow SVG for phones, the panels one above the other, its text real text (``svg.fonttype:
none``). Labels wrap at word boundaries (a Latin word or number is never split) and a title
too long for its lines ends with "…" after a whole word.

Labels come from ``templates/headings.yaml`` in the digest's language. CJK text needs a CJK
font: Noto Sans CJK (Debian ``fonts-noto-cjk``) or any font named "… CJK …"; without one,
``CJKFontMissing`` is raised rather than a picture of empty boxes. Characters no font has (emoji)
are left out of labels for the same reason. No settings are read.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import FuncFormatter, MaxNLocator

from digestcrawl.digest.firstparty import SOURCE_NAMES
from digestcrawl.digest.model import DigestInput, RepoTrend, SummaryResult
from digestcrawl.digest.publish.files import write_atomic
from digestcrawl.digest.publish.labels import follow_up_mark, headings
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
# A story's label: two lines of this many columns (a CJK character takes two), wide and narrow.
STORY_COLUMNS = {False: 30, True: 44}
SERIES_MIN = 3  # readings a repository needs to be drawn as a line
# Reader's names of the hosts a repository series comes from (the source's config name is ours).
HOST_NAMES = {"huggingface.co": "Hugging Face", "github.com": "GitHub"}
# What a label may break between: a run of letters, digits and joiners (a word, a number, a
# date, a version), a CJK character, or one other character.
TOKEN = re.compile(r"[0-9A-Za-z\u00C0-\u024F][0-9A-Za-z\u00C0-\u024F.,:/'’_+-]*|\s+|.")
NARROW_WIDTH = 4.2  # inches at 100 dpi: about a phone's width in CSS pixels
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


def _drawable(text: str, font: CJKFont, limit: int = LABEL_LIMIT, lines: int = 1) -> str:
    kept = squash_spaces("".join(c for c in text if ord(c) in font.charset or c.isspace()))
    return wrap_label(kept, limit, lines)


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap_label(text: str, columns: int, lines: int) -> str:
    """``text`` in at most ``lines`` lines of ``columns`` columns, broken between words (a CJK
    character is a word); what does not fit is left out after a whole word, marked "…"."""
    rows = [""]
    for token in TOKEN.findall(text):
        if token.isspace():
            if rows[-1]:
                rows[-1] += " "
            continue
        if _columns(rows[-1] + token) > columns and rows[-1].strip():
            if len(rows) == lines:
                rows[-1] = rows[-1].rstrip() + "…"
                break
            # A space in the line's second half is the better break: "國際版" stays whole.
            head, space, tail = rows[-1].rstrip().rpartition(" ")
            keep = space and _columns(head) * 2 >= columns
            gap = " " if rows[-1].endswith(" ") else ""
            rows[-1:] = [head, tail + gap] if keep else [rows[-1], ""]
        rows[-1] += token
    return "\n".join(row.rstrip() for row in rows)


def _story_bars(digest: DigestInput, result: SummaryResult, font: CJKFont,
                narrow: bool) -> tuple[list[str], list[int]]:
    titles = {s.story_key: s.title for s in result.content.stories}
    labels, counts = [], []
    for story in digest.stories:
        title = generated_text(titles.get(story.key, story.lead.title), digest.language)
        if story.follow_up_day is not None:  # the post links the mark; here it only takes room
            title = title.removesuffix(follow_up_mark(digest.language, story.follow_up_day)).rstrip()
        labels.append(_drawable(title, font, STORY_COLUMNS[narrow], 2))
        counts.append(len(story.outlets))
    return labels, counts


def _draw(digest: DigestInput, result: SummaryResult, narrow: bool, file_format: str) -> bytes:
    font = cjk_font(digest.language)
    # A family list gives per-glyph fallback: CJK from the CJK font, the rest from DejaVu; the
    # SVG keeps its text as text, drawn by the reader's browser in the same families.
    with rc_context({"font.family": [font.family, LATIN_FAMILY], "svg.fonttype": "none",
                     "svg.hashsalt": "digestcrawl"}):
        figure = _figure(digest, result, font, narrow)
        buffer = io.BytesIO()
        # No Software/date metadata: the same digest draws the same bytes.
        metadata = {"Software": None} if file_format == "png" else {"Date": None, "Creator": None}
        figure.savefig(buffer, format=file_format, metadata=metadata)
    return buffer.getvalue()


def infographic_png(digest: DigestInput, result: SummaryResult) -> bytes:
    """The day's infographic as PNG bytes: 1000 px wide, the og:image."""
    return _draw(digest, result, False, "png")


def infographic_svg(digest: DigestInput, result: SummaryResult) -> bytes:
    """The narrow infographic, for phones: an SVG whose labels are text."""
    return _draw(digest, result, True, "svg")


def draw_infographic(digest: DigestInput, result: SummaryResult, path: Path) -> None:
    """Draw the day's infographic and write it to ``path`` atomically."""
    write_atomic(path, infographic_png(digest, result))


def _source_name(trend: RepoTrend) -> str:
    host = (urlsplit(trend.url).hostname or "").removeprefix("www.")
    return SOURCE_NAMES.get(trend.source.casefold()) or HOST_NAMES.get(host) or host or trend.source


def _downloads_panel(axes: Axes, digest: DigestInput, font: CJKFont) -> None:
    """The largest repositories' downloads over the trend window: a line each when it has
    SERIES_MIN readings; otherwise its figures, as text."""
    trends = [t for t in digest.figures.repo_trends if t.series][:DOWNLOAD_REPOS]
    drawn = [t for t in trends if len(t.series) >= SERIES_MIN]
    told = [t for t in trends if len(t.series) < SERIES_MIN]
    sources = ", ".join(dict.fromkeys(_source_name(t) for t in trends))
    axes.set_title(_drawable(headings()[digest.language]["chart_downloads"].format(source=sources), font, 60))
    if drawn:
        days = sorted({*digest.figures.trend, *(day for t in drawn for day, _ in t.series)})
        position = {day: i for i, day in enumerate(days)}
        for colour, trend in zip(COLOURS, drawn, strict=False):
            axes.plot([position[day] for day, _ in trend.series], [n for _, n in trend.series], marker="o",
                      color=colour, label=_drawable(trend.repo.rsplit("/", 1)[-1], font, 32))
        axes.set_xticks(range(len(days)), [f"{d:%m-%d}" for d in days])
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        axes.legend(loc="upper left", fontsize=8)
    else:
        axes.set_axis_off()
    figures = [f"{_drawable(t.repo.rsplit('/', 1)[-1], font, 32)}: "
               + "  ".join(f"{day:%m-%d} {n:,}" for day, n in t.series) for t in told]
    if figures:
        axes.text(0.98 if drawn else 0.5, 0.05 if drawn else 0.5, "\n".join(figures), transform=axes.transAxes,
                  ha="right" if drawn else "center", va="bottom" if drawn else "center",
                  fontsize=9 if drawn else 11)


def _figure(digest: DigestInput, result: SummaryResult, font: CJKFont, narrow: bool = False) -> Figure:
    words = headings()[digest.language]
    shown = [t for t in digest.figures.repo_trends if t.series][:DOWNLOAD_REPOS]
    downloads = bool(shown)
    # A downloads chart takes a panel; figures alone, a strip.
    extra = 1.0 if any(len(t.series) >= SERIES_MIN for t in shown) else 0.4
    ratios: tuple[float, ...]
    if narrow:  # one panel above the other, the story titles above their bars
        size, shape = (NARROW_WIDTH, 12.0 + 3 * extra * downloads), (4 if downloads else 3, 1)
        ratios = (1.6, 1, 1, extra)
    else:
        size, shape, ratios = (10, 7.5 + 3 * extra * downloads), (3 if downloads else 2, 1), (1.2, 1, extra)
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)  # Agg, without pyplot's global figure registry
    # Subfigures lay out apart, so long story titles do not squeeze the lower charts.
    rows = figure.subfigures(*shape, squeeze=False, height_ratios=ratios[: shape[0]]).flat
    if narrow:
        stories, categories, trend = (row.subplots() for row in rows[:3])
    else:
        stories = rows[0].subplots()
        categories, trend = rows[1].subplots(1, 2)
    if downloads:
        _downloads_panel(rows[-1].subplots(), digest, font)
    title = f"{digest.model.display} {words['daily']} - {digest.day:%Y-%m-%d}"
    figure.suptitle(_drawable(title, font, 34 if narrow else 60, 2), fontsize=14 if narrow else 16)

    labels, counts = _story_bars(digest, result, font, narrow)
    bars = stories.barh(range(len(counts)), counts, color=COLOURS[0], height=0.35 if narrow else 0.8)
    stories.bar_label(bars, padding=3)
    if narrow:  # the title above its bar, from the axis: the bars keep the whole width
        for row, label in enumerate(labels):
            stories.annotate(label, (0, row - 0.25), xycoords=("axes fraction", "data"), va="bottom",
                             fontsize=10, linespacing=1.15)
        stories.set_yticks([])
        stories.set_ylim(len(counts) - 0.5, -1.1)  # the lead story on top, room for its title
        stories.margins(x=0.15)
    else:
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
