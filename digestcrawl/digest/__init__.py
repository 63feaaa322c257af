"""The daily digest, in four rooms run by one loop (``daily``): ``read`` the day's articles,
``group`` them into stories, ``summarize`` the stories, ``publish`` the post. ``model`` holds
the types the rooms share."""

from digestcrawl.digest.daily import DigestBuilder, DigestOutcome, build_digests

__all__ = ["DigestBuilder", "DigestOutcome", "build_digests"]
