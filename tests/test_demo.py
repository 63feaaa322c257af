"""README's first command (after setup): the offline main job, end to end."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_demo_crawls_the_fixture_web_and_writes_the_digest() -> None:
    result = subprocess.run([sys.executable, "scripts/demo.py"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    header = next(line for line in out.splitlines() if line.startswith("source "))
    assert header.split()[:6] == ["source", "fetched", "entries", "relevant", "duplicate", "stored"]
    rows = {line.split()[0]: line for line in out.splitlines()[out.splitlines().index(header) + 1:] if line.strip()
            and not line.startswith(("Digest", "Infographic", "Database", "No digest"))}
    assert {"udn", "gnews", "hn", "reddit", "yahoo_ticker", "cmnews"} <= set(rows)
    assert "robots 1" in rows["udn"] and "malformed_feed 1" in rows["broken"]
    assert "Digest post: data/demo/site/_posts/2026-01-19-qwen-daily.md" in out
    assert (ROOT / "data/demo/site/_posts/2026-01-19-qwen-daily.md").is_file()
    assert (ROOT / "data/demo/site/assets/img/posts/2026-01-19-qwen-infographic.png").is_file()
