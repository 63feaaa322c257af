"""Group a day's articles into stories: ``group_stories`` is the room's one entry. Similarity
(with countries) decides which articles are one story; the day's releases and papers
(``digest.firstparty``) join the story that names them; an LLM's second opinion on loose merges
(``model.MergeCheck``) splits some off; a story continuing an earlier day's is marked a follow-up."""

from digestcrawl.digest.group.stories import group_stories

__all__ = ["group_stories"]
