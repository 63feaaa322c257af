"""Publish a digest: the post (``render`` and the modules it calls), its image and the Jekyll
site, written as one unit (``files``)."""

from digestcrawl.digest.publish.files import PostPaths, StagedFiles, post_paths, remove_stale_staged
from digestcrawl.digest.publish.infographic import infographic_png, infographic_svg
from digestcrawl.digest.publish.render import RenderOptions, render_post, write_post
from digestcrawl.digest.publish.site import Site, create_skeleton, jekyll_build, search_index
from digestcrawl.digest.publish.storyline import write_storyline

__all__ = [
    "PostPaths",
    "RenderOptions",
    "Site",
    "StagedFiles",
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
