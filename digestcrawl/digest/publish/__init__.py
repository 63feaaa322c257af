"""Publish a digest: the post, its image and the Jekyll site."""
