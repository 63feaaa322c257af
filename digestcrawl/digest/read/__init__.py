"""Read a day: the stored dated articles, cleaned of page residue, with clean titles, each named by
its publisher (``outlets``)."""

from digestcrawl.digest.read.outlets import aggregator_of, is_redirect, known_outlet, outlet_table, readable_host
from digestcrawl.digest.read.pagetext import is_junk
from digestcrawl.digest.read.repository import DigestRepository, co_mentions
from digestcrawl.digest.read.sanitize import UNSAFE, clean_day, cut, one_line

__all__ = ["UNSAFE", "DigestRepository", "aggregator_of", "clean_day", "co_mentions", "cut", "is_junk", "is_redirect",
           "known_outlet", "one_line", "outlet_table", "readable_host"]
