"""deploy/schedule-daily.sh passes digestcrawl's environment variables (deploy/digestcrawl.env) and its
NAME=value arguments to every job as Scrapyd job settings (the script against a real Scrapyd is in
tests/test_scrapyd.py); here a recording server on 127.0.0.1 stands in for Scrapyd's schedule.json."""

from __future__ import annotations

import ast
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "deploy" / "schedule-daily.sh"


class _Schedule(BaseHTTPRequestHandler):
    server: _Recorder

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.posts.append((self.path, parse_qs(body)))
        answer = b'{"status": "ok", "jobid": "1"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class _Recorder(ThreadingHTTPServer):
    posts: list[tuple[str, dict[str, list[str]]]]


@pytest.fixture
def scrapyd() -> Iterator[_Recorder]:
    server = _Recorder(("127.0.0.1", 0), _Schedule)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run(server: _Recorder, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """The script in a bare environment, as cron runs it, with ``variables`` set."""
    env = {"PATH": "/usr/bin:/bin", "SCRAPYD_URL": f"http://127.0.0.1:{server.server_address[1]}", "MODEL": "qwen",
           **variables}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60,
                          check=False)


def environment_defaults() -> dict[str, str]:
    """digestcrawl/settings.py's digestcrawl variables → the setting each gives its default."""
    found = {}
    for node in ast.parse((ROOT / "digestcrawl" / "settings.py").read_text("utf-8")).body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        target = targets[0] if targets else None
        if not isinstance(target, ast.Name):
            continue
        for call in ast.walk(node):
            if (isinstance(call, ast.Call) and ast.unparse(call.func) == "os.environ.get"
                    and isinstance(call.args[0], ast.Constant) and str(call.args[0].value).startswith("DIGEST")):
                found[str(call.args[0].value)] = target.id
    return found


def test_every_digestcrawl_variable_becomes_its_setting(scrapyd: _Recorder) -> None:
    """Jobs run in Scrapyd's environment: each variable of deploy/digestcrawl.env that settings.py
    reads reaches them as the setting it sets (DIGESTCRAWL_STORE_URL as STORE_URL, …)."""
    variables = environment_defaults()
    assert variables["DIGESTCRAWL_STORE_URL"] == "STORE_URL" and variables["DIGEST_SITE_DIR"] == "DIGEST_SITE_DIR"
    values = {**{name: f"value of {name}" for name in variables}, "DIGESTCRAWL_NETGUARD_ALLOW": ""}
    result = run(scrapyd, "DOWNLOAD_DELAY=1", **values, UNTIL="2026-01-20")
    assert result.returncode == 0, result.stderr
    expected = sorted(f"{setting}=value of {name}" for name, setting in variables.items()
                      if name != "DIGESTCRAWL_NETGUARD_ALLOW")  # empty: not sent
    for _, form in scrapyd.posts:
        assert sorted(form["setting"][:-1]) == expected and form["setting"][-1] == "DOWNLOAD_DELAY=1"
        assert form["since"] == ["1d"] and form["until"] == ["2026-01-20"]


def test_settings_go_to_every_job(scrapyd: _Recorder) -> None:
    store = "postgresql+psycopg://u:p@db/digestcrawl?sslmode=require&x=1"
    result = run(scrapyd, "NETGUARD_ALLOW=10.0.0.0/8,127.0.0.1", f"STORE_URL={store}")
    assert result.returncode == 0, result.stderr
    assert [form["spider"] for _, form in scrapyd.posts] == [["news"], ["social"], ["finance"], ["releases"]]
    for path, form in scrapyd.posts:
        assert path == "/schedule.json" and form["model"] == ["qwen"]
        assert form["setting"] == ["NETGUARD_ALLOW=10.0.0.0/8,127.0.0.1", f"STORE_URL={store}"]


def test_an_argument_that_is_not_a_setting_schedules_nothing(scrapyd: _Recorder) -> None:
    result = run(scrapyd, "qwen")
    assert result.returncode == 2 and "not a NAME=value setting: qwen" in result.stderr
    assert scrapyd.posts == []
