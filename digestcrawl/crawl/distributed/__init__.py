"""A crawl shared by several worker processes through Redis: the profile (an add-on), the
scheduler, its reliable queue (inflight) and the worker registry."""
