"""Read a day: the stored articles, cleaned of page residue, with clean titles."""

from digestcrawl.digest.read.pagetext import is_junk
from digestcrawl.digest.read.repository import DigestRepository, co_mentions
from digestcrawl.digest.read.sanitize import UNSAFE, clean_day, cut, one_line

__all__ = ["UNSAFE", "DigestRepository", "clean_day", "co_mentions", "cut", "is_junk", "one_line"]
