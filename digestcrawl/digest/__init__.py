"""The daily digest: stories, summarizers, rendering."""
