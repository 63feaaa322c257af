"""README's "Running it every day", run as written: the crontab's `scrapy daily` line under cron's
bare environment, and the systemd service's ExecStart line with its EnvironmentFile, each in a
checkout whose deploy/digestcrawl.env points at the fixture web. Each writes the day's post and
builds the site, prints at most 60 lines and ends with its summary. (The Scrapyd recipe is in
tests/test_scrapyd.py.) `scrapy digest` of a week of empty days prints one summary line for
them, and its progress line only on a terminal."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import shlex
import struct
import subprocess
import termios
from pathlib import Path

from digestcrawl.config import load_models
from tests.conftest import ROOT, checkout, fixture_environment, scrapy_command
from tests.fixtureweb.server import FixtureWeb
from tests.test_scrapyd import crontab_command

POST = Path("data/site/_posts/2026-01-19-qwen-daily.md")
# What systemd gives a service besides its EnvironmentFile.
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def published(home: Path, output: str) -> None:
    """The day's post, the built site, and output a person reads: short, ending in the summary."""
    assert "QWEN 每日動態 - 2026-01-19" in (home / POST).read_text("utf-8")
    assert "2026-01-19" in (home / "data" / "site" / "_site" / "index.html").read_text("utf-8")
    lines = output.rstrip().splitlines()
    assert len(lines) <= 60, output
    summary = lines[lines.index("Summary:"):]
    assert summary[1].startswith("  qwen 2026-01-19: ") and str(POST) in summary[1], output
    assert any(line.startswith("  Site built: data/site/_site") for line in summary), output
    assert lines[-1] == "Exit code 0: ok"
    assert "Traceback" not in output


def environment_file(path: Path) -> dict[str, str]:
    """systemd's reading of an EnvironmentFile: NAME=value lines, quotes stripped, comments skipped."""
    pairs = (line.split("=", 1) for line in path.read_text("utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {name.strip(): value.strip().strip('"') for name, value in pairs}


def test_the_cron_line_publishes_the_day(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    fixture_web.reset()
    home = checkout(tmp_path / "checkout")
    fixture_environment(home, fixture_web)
    crontab = (home / "deploy" / "crontab").read_text("utf-8")
    variables = dict(re.findall(r"(?m)^([A-Z_]+)=(.*)$", crontab))
    assert variables["PATH"] == "/usr/bin:/bin" and variables["SHELL"] == "/bin/sh"
    command = crontab_command(home / "deploy" / "crontab", home, "scrapy daily")
    cron = subprocess.run(["/usr/bin/env", "-i", f"HOME={home}", "LOGNAME=digestcrawl", f"SHELL={variables['SHELL']}",
                           f"PATH={variables['PATH']}", "/bin/sh", "-c", command], capture_output=True, text=True,
                          timeout=600)
    assert cron.returncode == 0, (home / "data" / "daily.log").read_text("utf-8")[-3000:]
    published(home, (home / "data" / "daily.log").read_text("utf-8"))


def test_the_systemd_service_publishes_the_day(fixture_web: FixtureWeb, tmp_path: Path) -> None:
    fixture_web.reset()
    home = checkout(tmp_path / "checkout")
    fixture_environment(home, fixture_web)
    unit = dict(re.findall(r"(?m)^(\w+)=(.*)$", (home / "deploy" / "digestcrawl-daily@.service").read_text("utf-8")))
    # %f: the instance name (the checkout's escaped path) unescaped.
    specifiers = {key: value.replace("%f", str(home)) for key, value in unit.items()}
    environment = environment_file(Path(specifiers["EnvironmentFile"]))
    # systemd replaces ${NAME} within a word, unsplit, from the EnvironmentFile.
    words = [re.sub(r"\$\{(\w+)\}", lambda match: environment.get(match[1], ""), word)
             for word in shlex.split(specifiers["ExecStart"])]
    service = subprocess.run(words, cwd=specifiers["WorkingDirectory"], env={**environment, "PATH": SYSTEMD_PATH},
                             capture_output=True, text=True, timeout=600)
    assert service.returncode == 0, service.stderr[-3000:]
    published(home, service.stderr + service.stdout)


def digest_week(tmp_path: Path, stderr: int) -> subprocess.Popen[str]:
    """`scrapy digest` of every model over a week with nothing stored: 56 empty model-days."""
    settings = {"STORE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DIGEST_SITE_DIR": tmp_path / "site",
                "DIGEST_SUMMARIZER": "extractive"}
    return subprocess.Popen(scrapy_command("digest", "--model", "all", "--date", "2026-01-13..2026-01-19",
                                           settings=settings), cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=stderr, text=True)


def test_a_week_of_empty_digests_is_one_summary_line_and_a_progress_line_on_a_terminal(tmp_path: Path) -> None:
    piped = digest_week(tmp_path, subprocess.PIPE)
    stdout, stderr = piped.communicate(timeout=300)
    assert piped.returncode == 0, stderr[-3000:]
    models = ", ".join(f"{model} 2026-01-13..2026-01-19" for model in load_models(None))
    assert stdout.splitlines() == ["Summary:", f"  no relevant items, no post written: {models.replace(', ', '; ')}",
                                   "Exit code 0: ok"]
    assert "digests:" not in stderr and len(stderr.splitlines()) <= 3  # no progress line off a terminal
    # On a terminal: the progress line, 56 digests.
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24 × 100, as a terminal is
    on_terminal = digest_week(tmp_path, terminal)
    os.close(terminal)
    drawn = b""
    with contextlib.suppress(OSError):  # EIO once the child has closed the terminal
        while chunk := os.read(controller, 65536):
            drawn += chunk
    os.close(controller)
    assert on_terminal.wait(timeout=300) == 0
    assert b"digests:   0%" in drawn and b"/56 [" in drawn  # cleared when done (leave=False)
