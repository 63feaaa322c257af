"""Publish a digest: the post (``render`` and the modules it calls), its image and the Jekyll
site, written as one unit (``files``); ``check`` finds what a reader would find wrong in a post."""

from digestcrawl.digest.publish.check import Finding, check_post
from digestcrawl.digest.publish.files import PostPaths, StagedFiles, post_paths, remove_stale_staged
from digestcrawl.digest.publish.infographic import infographic_png, infographic_svg
from digestcrawl.digest.publish.render import RenderOptions, render_post, write_post
from digestcrawl.digest.publish.site import Site, create_skeleton, jekyll_build, search_index
from digestcrawl.digest.publish.storyline import write_storyline

__all__ = [
    "Finding",
    "PostPaths",
    "RenderOptions",
    "Site",
    "StagedFiles",
    "check_post",
    "create_skeleton",
    "infographic_png",
    "infographic_svg",
    "jekyll_build",
    "post_paths",
    "remove_stale_staged",
    "render_post",
    "search_index",
    "write_post",
    "write_storyline",
]
