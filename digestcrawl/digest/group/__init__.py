"""Group a day's articles into stories: ``group_stories`` is the entry. Similarity (with
countries) decides which articles are one story; first-party releases and papers join the story
that names them. The rest of the digest reads the first-party helpers from here too."""

from digestcrawl.digest.group.firstparty import (
    DOWNLOAD_WORDS,
    FIRST_PARTY,
    SOURCE_NAMES,
    Release,
    download_changes,
    releases,
)
from digestcrawl.digest.group.stories import LooseMember, group_stories, loose_members, mark_follow_ups, split_off

__all__ = [
    "DOWNLOAD_WORDS",
    "FIRST_PARTY",
    "SOURCE_NAMES",
    "LooseMember",
    "Release",
    "download_changes",
    "group_stories",
    "loose_members",
    "mark_follow_ups",
    "releases",
    "split_off",
]
