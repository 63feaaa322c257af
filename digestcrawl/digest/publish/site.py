"""The Jekyll site the digests are published in: its skeleton, its model pages, its build.

The skeleton (``digestcrawl/skeleton/``: ``_config.yml``, layouts default/home/post/model,
includes, CSS, the home page) is package data, read through ``importlib.resources`` because a
Scrapyd job runs from a zipped egg. It is copied into a site folder that has no Jekyll config
yet, one file at a time and only where no file exists: a user's file is never overwritten.
A site that uses the skeleton's ``model`` layout also gets three pages per model, each written
once: the model's page (``models/KEY.md`` at ``/KEY/``: its names, company and description from
models.yaml), its storyline (``/KEY/storyline/``, data from ``storyline``) and its Atom feed
(``/KEY/feed.xml``); a site with its own theme gets only the posts and images.
``jekyll_build`` builds the site, then Pagefind indexes the posts for the search page
(``pagefind-bin-extended``, which segments Chinese and Japanese words).

Settings (read by ``DigestBuilder``): DIGEST_SITE_DIR, DIGEST_SITE_SKELETON (create the
skeleton where there is no Jekyll config, default True).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

from digestcrawl.config import ModelConfig
from digestcrawl.digest.publish.labels import headings
from digestcrawl.languages import Language

logger = logging.getLogger(__name__)
SKELETON = "skeleton"
CONFIG_NAMES = ("_config.yml", "_config.yaml", "_config.toml")
MODEL_LAYOUT = Path("_layouts") / "model.html"
# What a post's story links include: a site made from an older skeleton may not have them.
STORY_INCLUDES = (Path("_includes") / "follow_up.html", Path("_includes") / "storyline_link.html")
BUILD_TIMEOUT = 600
# Jekyll's (and Liquid's, Ruby's) warning lines: "Build Warning:", "Liquid Warning:",
# "Deprecation:", "Conflict:", "warning: …".
WARNING_LINE = re.compile(r"(?i)\b(?:warning|deprecation|conflict)\b\s*:")


def skeleton_files() -> Iterator[tuple[str, Traversable]]:
    """Every file of the shipped skeleton, as (relative POSIX path, resource)."""
    def walk(node: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            name = f"{prefix}{child.name}"
            if child.is_dir():
                yield from walk(child, f"{name}/")
            else:
                yield name, child

    yield from walk(resources.files("digestcrawl").joinpath(SKELETON), "")


def has_config(site_dir: Path) -> bool:
    return any((site_dir / name).is_file() for name in CONFIG_NAMES)


def create_skeleton(site_dir: Path) -> list[Path]:
    """Copy the skeleton's missing files into ``site_dir``; return the files created.

    Each file is created exclusively (``open(..., "xb")``): a file that exists, or appears
    meanwhile, is kept as it is.
    """
    created = []
    for name, resource in skeleton_files():
        target = site_dir.joinpath(*name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with target.open("xb") as handle:
                handle.write(resource.read_bytes())
        except FileExistsError:
            continue
        created.append(target)
    return created


def model_pages(key: str, model: ModelConfig, language: Language) -> dict[str, dict[str, str]]:
    """The front matter of each page of the model, by the page's path in the site."""
    names = [name for name in model.aliases_in(language.alias_scripts) if name not in model.aliases.get("latin", ())]
    about = {"local_name": names[0] if names else "", "company": model.company or "",
             "description": model.description.get(language, "")}
    return {
        f"models/{key}.md": {"layout": "model", "title": model.display, "model": key, "permalink": f"/{key}/",
                             **{k: v for k, v in about.items() if v}},
        f"models/{key}-storyline.md": {"layout": "storyline", "model": key, "permalink": f"/{key}/storyline/",
                                       "title": f"{model.display} {headings()[language]['storyline']}"},
        f"models/{key}-feed.xml": {"layout": "atom", "model": key, "title": model.display,
                                   "permalink": f"/{key}/feed.xml"},
    }


@dataclass
class Site:
    """The site folder one ``DigestBuilder`` writes into."""

    root: Path
    skeleton: bool = True  # create the skeleton where there is no Jekyll config
    _prepared: bool = field(default=False, init=False)
    _pages: set[str] = field(default_factory=set, init=False)

    def prepare(self) -> None:
        """Create the skeleton once, when enabled and the folder has no Jekyll config."""
        if self._prepared:
            return
        if self.skeleton and not has_config(self.root):
            created = create_skeleton(self.root)
            logger.info("Created the Jekyll site skeleton in %s (%d files)", self.root, len(created))
        self._prepared = True  # only once it worked: a failure is tried again by the next digest

    @property
    def has_story_links(self) -> bool:
        """The site has the includes a post's story links use (the skeleton's, not a theme's)."""
        self.prepare()
        return all((self.root / include).is_file() for include in STORY_INCLUDES)

    def ensure_model_pages(self, key: str, model: ModelConfig, language: Language) -> Path | None:
        """Write the model's pages the site has not got yet, each when the site has its layout;
        return the model page's path (None: not a site with our ``model`` layout)."""
        self.prepare()
        if not (self.root / MODEL_LAYOUT).is_file():
            return None
        pages = model_pages(key, model, language)
        if key in self._pages:
            return self.root / next(iter(pages))
        for name, front in pages.items():
            if not any((self.root / "_layouts").glob(f"{front['layout']}.*")):
                continue  # a site made from an older skeleton: copy the layout to get the page
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            dumped = yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
            try:
                with path.open("x", encoding="utf-8") as handle:
                    handle.write(f"---\n{dumped}---\n")
                logger.info("Created a page of model %s: %s", key, path)
            except FileExistsError:
                pass  # the user's (or an earlier run's) page stands
        self._pages.add(key)
        return self.root / next(iter(pages))


@dataclass(frozen=True)
class JekyllBuild:
    destination: Path
    returncode: int
    warnings: list[str]
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def jekyll_build(site_dir: Path, destination: Path | None = None, *extra: str) -> JekyllBuild | None:
    """Run ``jekyll build`` on the site; None when Jekyll is not installed.

    Every warning line of its output is logged as a WARNING and returned.
    """
    jekyll = shutil.which("jekyll")
    if jekyll is None:
        return None
    destination = destination or site_dir / "_site"
    command = [jekyll, "build", "--source", str(site_dir), "--destination", str(destination), *extra]
    run = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    output = run.stdout + run.stderr
    warnings = [line.strip() for line in output.splitlines() if WARNING_LINE.search(line)]
    for line in warnings:
        logger.warning("jekyll: %s", line)
    if run.returncode != 0:
        logger.error("jekyll build failed (exit %d):\n%s", run.returncode, output[-3000:])
    return JekyllBuild(destination, run.returncode, warnings, output)


@dataclass(frozen=True)
class SearchIndex:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def search_index(built_site: Path) -> SearchIndex | None:
    """Index the built site's posts (``data-pagefind-body``) with Pagefind into
    ``pagefind/``, which the search page loads; None when pagefind-bin-extended is missing."""
    try:
        from pagefind_bin_extended import get_executable
        pagefind = get_executable()
    except (ImportError, FileNotFoundError):
        return None
    run = subprocess.run([str(pagefind), "--site", str(built_site)], capture_output=True, text=True,
                         timeout=BUILD_TIMEOUT, check=False)
    if run.returncode != 0:
        logger.error("pagefind failed (exit %d):\n%s", run.returncode, (run.stdout + run.stderr)[-3000:])
    return SearchIndex(run.returncode, run.stdout + run.stderr)
