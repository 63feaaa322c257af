"""Spiders, one per source category; every source kind is handled by the shared base."""
