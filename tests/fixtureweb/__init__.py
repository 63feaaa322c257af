"""The fixture web: an offline imitation of digestcrawl's real sources, served on 127.0.0.1.

``server.FixtureWeb`` serves every directory under ``site/`` as its own site (own port, so its
own netloc); ``sources.yaml`` is the source config for it and ``expected.yaml`` the hand-checked
truth of what a crawl must store or drop. See README.md.
"""
