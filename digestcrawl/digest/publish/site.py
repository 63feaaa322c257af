"""The Jekyll site the digests are published in: its skeleton, its model pages, its build.

The skeleton (``digestcrawl/skeleton/``: ``_config.yml``, layouts default/home/post/model,
includes, CSS, the home page) is package data, read through ``importlib.resources`` because a
Scrapyd job runs from a zipped egg. It is copied into a site folder that has no Jekyll config
yet, one file at a time and only where no file exists: a user's file is never overwritten.
A site that uses the skeleton's ``model`` layout also gets one page per model
(``models/KEY.md``, at ``/KEY/``), written once; a site with its own theme gets only the posts
and images.

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

logger = logging.getLogger(__name__)
SKELETON = "skeleton"
CONFIG_NAMES = ("_config.yml", "_config.yaml", "_config.toml")
MODEL_LAYOUT = Path("_layouts") / "model.html"
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


def model_page(key: str, display: str) -> str:
    front = {"layout": "model", "title": display, "model": key, "permalink": f"/{key}/"}
    dumped = yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
    return f"---\n{dumped}---\n"


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

    def ensure_model_page(self, key: str, display: str) -> Path | None:
        """Write ``models/KEY.md`` when the site has the ``model`` layout and no page for the
        model yet; return the page's path (None: not a site with our layouts)."""
        self.prepare()
        if not (self.root / MODEL_LAYOUT).is_file():
            return None
        path = self.root / "models" / f"{key}.md"
        if key in self._pages:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(model_page(key, display))
            logger.info("Created the page of model %s: %s", key, path)
        except FileExistsError:
            pass  # the user's (or an earlier run's) page stands
        self._pages.add(key)
        return path


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
