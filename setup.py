# scrapyd-deploy builds its egg by running this file; it would write a setup.py of its own (named
# 'project', version 1.0) were there none. Name, version, packages and the Scrapy settings entry
# point are pyproject.toml's.

from setuptools import setup

setup()
