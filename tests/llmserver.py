"""A scripted OpenAI-compatible Chat Completions server on 127.0.0.1, for the LLM tests.

``POST /v1/chat/completions`` plays the queued ``Reply`` objects in order: assistant content
(valid or not), an HTTP error status with headers, a raw body that is no chat completion
(malformed JSON, text/plain, JSON of the wrong shape), or a stall: no answer at all, headers and
half a body, or a body trickled a byte at a time. Stalls last until the server stops (an Event
set at teardown) or HANG_SECONDS.
With the queue empty it answers with ``default_answer``: a valid, grounded ``DigestContent`` (or
``StorySummary``, when that schema is requested) built from the story keys, article ids and
titles found in the prompt: every section is made of those titles; to a merge check
(``MergeVerdicts``), a verdict "same" for every question. Every request body and its headers are recorded.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast

Content = str | Callable[[dict[str, Any]], str]  # fixed text, or built from the request body
HANG_SECONDS = 30.0

# Each part of a prompt runs from its delimiter line to the next one (digestcrawl.digest.summarize.prompt).
STORY = re.compile(r"^<<<STORY key=(\S+)>>>\n(.*?)(?=^<<<STORY[ >]|\Z)", re.DOTALL | re.MULTILINE)
ARTICLE = re.compile(r"^<<<ARTICLE (\d+)>>>\n[^\n]*\n([^\n]*)", re.MULTILINE)  # the header, then the title
MERGE_STORY = re.compile(r"^<<<STORY>>>\n(.*?)(?=^<<<|\Z)", re.DOTALL | re.MULTILINE)


@dataclass
class Reply:
    content: Content | None = None  # None: the default answer
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # no status line at all
    stall: str | None = None  # "body": headers and half the body; "trickle": a byte per 50 ms
    body: bytes | None = None  # sent as it is instead of a chat completion
    content_type: str = "application/json"

    @classmethod
    def json(cls, value: Any) -> Reply:
        return cls(content=json.dumps(value, ensure_ascii=False))

    @classmethod
    def raw(cls, body: str | bytes, content_type: str = "application/json") -> Reply:
        return cls(body=body.encode() if isinstance(body, str) else body, content_type=content_type)

    @classmethod
    def error(cls, status: int, **headers: str) -> Reply:
        return cls(status=status, headers=headers)


def prompt_stories(body: dict[str, Any]) -> dict[str, list[tuple[int, str]]]:
    """Story key → (article id, title) of each article, from the request's user message."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return {key: [(int(i), title) for i, title in ARTICLE.findall(block)]
            for key, block in STORY.findall(user)}


def story_answer(key: str, articles: list[tuple[int, str]]) -> dict[str, Any]:
    """A grounded summary: the lead article's title, cited."""
    article_id, title = articles[0]
    return {"story_key": key, "title": title[:200], "paragraph": title, "cited": [article_id]}


def merge_questions(body: dict[str, Any]) -> dict[int, tuple[str, list[str]]]:
    """Title number → (its title, the story's firmly held titles) of a merge check request."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    questions: dict[int, tuple[str, list[str]]] = {}
    for block in MERGE_STORY.findall(user):
        lines = block.splitlines()
        firm = [line[2:] for line in lines if line.startswith("- ")]
        for line in lines:
            number, colon, title = line.partition(": ")
            if colon and number.isdigit():
                questions[int(number)] = (title, firm)
    return questions


def merge_answer(body: dict[str, Any], split: Callable[[str, list[str]], bool] = lambda a, b: False) -> str:
    """Content: a verdict per numbered title of a merge check, "not the same" where
    ``split(title, firm titles)``."""
    verdicts = [{"id": number, "same": not split(title, firm)}
                for number, (title, firm) in merge_questions(body).items()]
    return json.dumps({"verdicts": verdicts})


def default_answer(body: dict[str, Any]) -> dict[str, Any]:
    """Every section made of the prompt's own titles, so that all of it is grounded."""
    schema = body.get("response_format", {}).get("json_schema", {}).get("name")
    if schema == "merge_verdicts":
        return cast(dict[str, Any], json.loads(merge_answer(body)))
    found = prompt_stories(body)
    stories = [story_answer(key, articles) for key, articles in found.items()]
    if schema == "story_summary":
        return stories[0]
    titles = list(dict.fromkeys(title for articles in found.values() for _, title in articles))
    lines = [(titles * 4)[i] + "。" for i in range(4)] if titles else ["今日沒有報導。"] * 4
    return {
        "summary": lines[0],
        "trend": lines[0],
        "stories": stories,
        "analysis": {"industry": lines[0], "competition": lines[1], "market": lines[2]},
        "key_points": list(dict.fromkeys(lines)) + [f"{line}" for line in lines][len(set(lines)):4],
        "developers": lines[:2],
        "users": lines[2:4],
        "tags": ["通義千問"],
    }


def edited(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], str]:
    """Content: the default answer to the request, changed in place by ``change``."""
    def build(body: dict[str, Any]) -> str:
        answer = default_answer(body)
        change(answer)
        return json.dumps(answer, ensure_ascii=False)
    return build


class LLMServer:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A short poll interval: shutdown() waits up to one interval, at every test's teardown.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self.requests)

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def __enter__(self) -> LLMServer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stopping.set()  # wakes hanging handlers, so closing does not wait for them
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            return self.replies.popleft() if self.replies else Reply()

    def _respond(self, reply: Reply, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        if reply.status != 200:
            error = {"error": {"message": f"scripted {reply.status}", "type": "server_error"}}
            return reply.status, reply.headers, json.dumps(error).encode()
        if reply.body is not None:
            return 200, reply.headers, reply.body
        content = reply.content if reply.content is not None else edited(lambda answer: None)
        text = content(body) if callable(content) else content
        prompt = sum(len(m["content"]) for m in body["messages"]) // 2
        message = {"role": "assistant", "content": text}
        completion = {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model", "test"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": len(text) // 2,
                      "total_tokens": prompt + len(text) // 2},
        }
        return 200, reply.headers, json.dumps(completion, ensure_ascii=False).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                reply = server._next(body, {k.lower(): v for k, v in self.headers.items()})
                if self.path != "/v1/chat/completions":
                    reply = Reply.error(404)
                if reply.hang:
                    server._stopping.wait(HANG_SECONDS)
                    return  # the client has given up; answer nothing
                status, headers, payload = server._respond(reply, body)
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": reply.content_type, **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if reply.stall == "body":
                        self.wfile.write(payload[: len(payload) // 2])
                        self.wfile.flush()
                        server._stopping.wait(HANG_SECONDS)
                    elif reply.stall == "trickle":
                        # Each byte comes well within any read timeout; the whole never does.
                        for byte in payload:
                            if server._stopping.wait(0.05):
                                break
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                    else:
                        self.wfile.write(payload)
                except OSError:
                    pass  # the client went away

            def log_message(self, format: str, *args: Any) -> None:
                pass  # tests read the recorded requests, not a log

        return Handler
