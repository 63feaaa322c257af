"""Alembic revisions, one module per schema change (a package so that setuptools ships it)."""
