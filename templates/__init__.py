"""Jinja2 templates for the digest post, loaded as package resources."""
