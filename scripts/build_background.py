"""Build ``digestcrawl/conf/background.tsv.gz``: how common each word is in general text.

Story grouping weighs the words two articles share by how rare they are (inverse document
frequency). A day of two articles cannot say that "the" or "的" is common, so the weights come
from this background table, built once from the public word frequencies of the ``wordfreq``
package (data CC BY-SA 4.0, Robyn Speer et al.; https://github.com/rspeer/wordfreq) and
shipped with the package. Only a build-time dependency: ``pip install wordfreq`` then
``python scripts/build_background.py``.

Lines are ``token<TAB>frequency`` (per word of running text, the largest over the languages),
then, for a word of letters that two or more of the languages write at least once a million words,
``<TAB>languages``, how many do: a name or an international term (``merkel``, ``internet``) is
written alike in many, a German noun (``regierung``) in one. Tokens folded the way stories fold
text (Simplified script, lower case). CJK has no spaces, so the table also holds character
bigrams (the summed frequency of the words that contain them) and single characters (their share
of all characters), from the Chinese and Japanese lists.
"""

from __future__ import annotations

import gzip
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digestcrawl.text.chars import CJK_RUN, LATIN_WORD  # noqa: E402
from digestcrawl.text.relevance import fold  # noqa: E402

LANGUAGES = ("en", "de", "es", "fr", "it", "pt", "nl", "pl", "tr", "ar", "ru", "uk", "cs", "sv",
             "id", "vi", "ko", "ja", "zh")
MIN_FREQUENCY = 3e-6  # rarer words read as the floor (about as rare as names) anyway
SHARED_FREQUENCY = 1e-6  # a language writes a word when its list has it at least this often
OUTPUT = ROOT / "digestcrawl" / "conf" / "background.tsv.gz"


def main() -> None:
    import wordfreq

    table: dict[str, float] = defaultdict(float)
    languages: dict[str, int] = defaultdict(int)
    for language in LANGUAGES:
        words = wordfreq.get_frequency_dict(language)
        grams: dict[str, float] = defaultdict(float)
        chars: dict[str, float] = defaultdict(float)
        written: set[str] = set()
        for word, frequency in words.items():
            folded = fold(word)
            for run in CJK_RUN.findall(folded):
                for i in range(len(run) - 1):
                    grams[run[i:i + 2]] += frequency
                for char in run:
                    chars[char] += frequency
            if frequency >= MIN_FREQUENCY:
                for token in LATIN_WORD.findall(folded):
                    table[token] = max(table[token], frequency)
            if frequency >= SHARED_FREQUENCY and LATIN_WORD.fullmatch(folded) and folded not in written:
                written.add(folded)  # two spellings that fold alike are one word of the language
                languages[folded] += 1
        total_chars = sum(chars.values()) or 1.0
        for gram, frequency in grams.items():
            table[gram] = max(table[gram], frequency)
        for char, frequency in chars.items():
            table[char] = max(table[char], frequency / total_chars)
    kept = sorted((t, f) for t, f in table.items() if f >= MIN_FREQUENCY and "\t" not in t and "\n" not in t)
    with gzip.open(OUTPUT, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("# token\tfrequency[\tlanguages]: from wordfreq (CC BY-SA 4.0), see scripts/build_background.py\n")
        for token, frequency in kept:
            shared = f"\t{languages[token]}" if languages.get(token, 0) > 1 else ""
            out.write(f"{token}\t{frequency:.3g}{shared}\n")
    print(f"{len(kept)} tokens -> {OUTPUT} ({OUTPUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
