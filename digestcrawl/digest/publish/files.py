"""Where a post and its image go, and how they are written: staged beside their targets, then
put in place together, so a reader or a stopped digest never sees half a post."""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

logger = logging.getLogger(__name__)

MODEL_KEY = re.compile(r"[a-z0-9-]+")
IMAGE_DIR = "assets/img/posts"
POSTS_DIR = "_posts"
# A temp or backup file of StagedFiles: ``.<target>.<pid>.<unique>.tmp|bak``.
STAGED_NAME = re.compile(r"^\..+?\.(?:(?P<pid>\d+)\.)?[^.]+\.(?:tmp|bak)$")
# How long an exiting interpreter waits for a publish in progress to be committed or put back.
PUBLISH_EXIT_WAIT = 4.0


@dataclass(frozen=True)
class PostPaths:
    post: Path
    image: Path
    image_url: str  # site-absolute, as the front matter's ``image``
    narrow_image: Path  # the SVG for phones
    narrow_image_url: str  # site-absolute, as the front matter's ``image_narrow``


def post_paths(site_dir: Path, model_key: str, day: date) -> PostPaths:
    """Where a day's post and infographic go; only the validated key and the date make a name."""
    if not MODEL_KEY.fullmatch(model_key):
        raise ValueError(f"model key must match [a-z0-9-]+, not {model_key!r}")
    stem = f"{day:%Y-%m-%d}-{model_key}"
    image, narrow = f"{IMAGE_DIR}/{stem}-infographic.png", f"{IMAGE_DIR}/{stem}-infographic-narrow.svg"
    return PostPaths(site_dir / POSTS_DIR / f"{stem}-daily.md", site_dir / image, f"/{image}",
                     site_dir / narrow, f"/{narrow}")


class StagedFiles:
    """Files written beside their targets first, then put in place together.

    ``add`` writes a temp file in the target's directory (a failure there, a full disk or an
    unwritable directory, changes nothing); ``publish`` renames them over their targets in the
    order added, keeping a hard link to each file it replaces, and puts the earlier ones back
    if a later rename fails; ``restore`` puts every replaced file back (a database commit that
    failed after publishing). Leaving the ``with`` block removes what is left of temps and
    backups. Temp and backup names start with a dot (Jekyll ignores what a crash leaves) and
    carry the writer's pid: the next digest removes those of dead writers
    (:func:`remove_stale_staged`).

    From ``publish`` to the end of the ``with`` block the process-wide publish lock is held, and
    an exiting interpreter takes it (up to PUBLISH_EXIT_WAIT seconds): a forced stop that kills
    a digest's daemon thread (``digestcrawl.ops.threads``) never leaves a post half replaced.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # (temp, target)
        self._replaced: list[tuple[Path | None, Path]] = []  # (backup, target); None: was new
        self._publishing = False

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for temp, _ in self._staged:
            temp.unlink(missing_ok=True)
        for backup, _ in self._replaced:
            if backup is not None:
                backup.unlink(missing_ok=True)
        self._staged, self._replaced = [], []
        if self._publishing:
            self._publishing = False
            _PUBLISHING.release()

    def add(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            temp.chmod(0o644)  # mkstemp's 0600 would hide the file from the web server
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self._staged.append((temp, path))

    def publish(self) -> None:
        if not self._publishing:
            _PUBLISHING.acquire()
            self._publishing = True
        try:
            while self._staged:
                temp, path = self._staged[0]
                backup = _backup(path)
                try:
                    temp.replace(path)
                except BaseException:
                    if backup is not None:
                        backup.unlink(missing_ok=True)
                    raise
                self._staged.pop(0)
                self._replaced.append((backup, path))
        except BaseException:
            self.restore()
            raise

    def restore(self) -> None:
        while self._replaced:
            backup, path = self._replaced.pop()
            try:
                if backup is None:
                    path.unlink(missing_ok=True)
                else:
                    backup.replace(path)
            except OSError as error:  # the others are still put back
                logger.error("Could not restore %s: %s", path, error)


def _backup(path: Path) -> Path | None:
    """A second name for the file at ``path`` (None when there is none), so it survives a rename
    over it."""
    if not path.is_file():
        return None
    backup = path.with_name(f".{path.name}.{os.getpid()}.{next(_BACKUPS)}.bak")
    try:
        os.link(path, backup)
    except OSError:  # a filesystem without hard links
        shutil.copy2(path, backup)
    return backup


_BACKUPS = itertools.count()
_PUBLISHING = threading.Lock()
# Never released: the daemon thread of a killed digest starts no publish after this one.
atexit.register(_PUBLISHING.acquire, timeout=PUBLISH_EXIT_WAIT)


def remove_stale_staged(site_dir: Path) -> None:
    """Remove the temp and backup files that killed digests left in the site's post and image
    folders (those of a live process are its digest in progress)."""
    removed = []
    for directory in (site_dir / POSTS_DIR, site_dir / IMAGE_DIR):
        for path in directory.glob(".*") if directory.is_dir() else ():
            match = STAGED_NAME.match(path.name)
            if match is None or (match["pid"] is not None and _alive(int(match["pid"]))):
                continue
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        logger.info("Removed %d file(s) a stopped digest left: %s", len(removed),
                    ", ".join(str(path) for path in removed))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step: readers (a Jekyll build) see the old file or the new one."""
    with StagedFiles() as files:
        files.add(path, data)
        files.publish()
