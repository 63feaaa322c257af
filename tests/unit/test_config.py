from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digestcrawl.config import ConfigError, SourceConfig, load_models, load_sources
from digestcrawl.crawl.expand import SourceURL, source_urls
from digestcrawl.crawl.kinds import KINDS
from tests.conftest import ROOT


def test_shipped_config_is_valid() -> None:
    models = load_models()
    assert {"qwen", "deepseek", "llama", "gemini", "claude", "gpt"} <= set(models)
    assert {"Qwen", "通義千問", "通义千问", "千問", "Qianwen"} <= set(models["qwen"].all_aliases)
    sources, problems = load_sources()
    assert problems == []
    assert {s.kind for s in sources} == {"search_feed", "feed", "sitemap", "listing", "json_api", "hf_models"}
    assert {s.category for s in sources} == {"news", "social", "finance", "release", "paper"}
    assert models["qwen"].hf_authors == ("Qwen",) and "QwenLM/Qwen3" in models["qwen"].github_repos
    assert {m for s in sources for m in s.first_party} <= set(models)


def test_owner_placeholders_expand_per_model_account() -> None:
    models = load_models()
    selected = {key: models[key] for key in ("qwen", "gemini")}
    since = datetime(2026, 1, 19, tzinfo=UTC)
    hub = SourceConfig(name="hf", kind="hf_models", category="release",
                       url="https://huggingface.co/api/models?author={hf_author}&sort=downloads")
    # Gemini has no Hugging Face organisation of its own: no request for it.
    assert list(source_urls(hub, selected, since)) == [
        SourceURL("https://huggingface.co/api/models?author=Qwen&sort=downloads", "qwen", "Qwen")]
    releases = SourceConfig(name="gh", kind="feed", category="release",
                            url="https://github.com/{github_repo}/releases.atom")
    urls = list(source_urls(releases, selected, since))
    assert SourceURL("https://github.com/QwenLM/Qwen3/releases.atom", "qwen", "QwenLM/Qwen3") in urls
    assert SourceURL("https://github.com/google-gemini/gemini-cli/releases.atom", "gemini",
                     "google-gemini/gemini-cli") in urls
    assert len(urls) == len(models["qwen"].github_repos) + len(models["gemini"].github_repos)
    # Without an owner placeholder a URL belongs to no model.
    arxiv = SourceConfig(name="a", kind="feed", category="paper", query={"scripts": ["latin"], "join": " OR all:"},
                         url="https://export.arxiv.org/api/query?search_query=all:{query}")
    [paper] = source_urls(arxiv, {"qwen": models["qwen"]}, since)
    assert paper.owner is None
    assert paper.url == ("https://export.arxiv.org/api/query?search_query="
                         "all:Qwen+OR+all%3AQianwen+OR+all%3A%22Tongyi+Qianwen%22")


@pytest.mark.parametrize(("entry", "field", "message"), [
    ("{name: x, kind: feed, category: news, url: 'ftp://a/b'}", "url", "absolute http(s) URL"),
    # Config URLs are scheme-checked like every other URL: nothing but http(s) is ever fetched.
    *((f"{{name: x, kind: sitemap, category: news, url: '{url}'}}", "url", "absolute http(s) URL")
      for url in ("file:///etc/passwd", "gopher://a/1", "data:text/xml,x", "javascript:alert(1)",
                  "//a/b", "http:///etc/passwd")),
    ("{name: x, kind: blog, category: news, url: 'https://a/b'}", "kind", "unknown kind 'blog'; kinds: search_feed"),
    ("{name: X!, kind: feed, category: news, url: 'https://a/b'}", "name", "pattern"),
    ("{name: x, kind: listing, category: news, url: 'https://a/b'}", "(entry)", "needs selectors"),
    ("{name: x, kind: search_feed, category: news, url: 'https://a/?q=1'}", "(entry)", "{query}"),
    # A kind's own settings belong to it: required there, refused elsewhere.
    ("{name: x, kind: json_api, category: news, url: 'https://a/'}", "(entry)", "a json_api source needs fields"),
    ("{name: x, kind: feed, category: news, url: 'https://a/', fields: {items: a, url: b}}", "(entry)",
     "a feed source takes no fields"),
    ("{name: x, kind: json_api, category: news, url: 'https://a/', fields: {items: a, url: b},"
     " selectors: {item: a, url: b, title: c}}", "(entry)", "a json_api source takes no selectors"),
    # JMESPath expressions are checked on load, not on the first answer.
    ("{name: x, kind: json_api, category: news, url: 'https://a/', fields: {items: 'a[', url: b}}", "fields.items",
     "not a JMESPath expression"),
    ("{name: x, kind: json_api, category: news, url: 'https://a/', fields: {items: a, url: 'fromat(b)'}}",
     "fields.url", "unknown function fromat()"),
    ("{name: x, kind: json_api, category: news, url: 'https://a/', fields: {items: a, url: 'split(b)'}}",
     "fields.url", "split() takes 2 arguments, not 1"),
    ("{name: x, kind: json_api, category: news, url: 'https://a/',"
     " fields: {items: a, url: \"format('https://b/{}/{}', c)\"}}", "fields.url", "has 2 {} for 1 values"),
    ("{name: x, kind: feed, category: news, url: 'https://a/{foo}'}", "(entry)", "['foo']"),
    ("{name: x, kind: feed, category: news, url: 'https://a/', timezone: Mars/Base}", "timezone", "Mars/Base"),
    ("{name: x, kind: feed, category: news, url: 'https://a/', colour: red}", "colour", "Extra inputs"),
    ("{name: x, kind: feed, category: news, url: 'https://a/', delay: -1}", "delay", "greater than"),
    ("{name: x, kind: feed, category: blog, url: 'https://a/'}", "category", "Input should be"),
    ("{name: x, kind: feed, category: release, url: 'https://a/{hf_author}/{github_repo}'}", "(entry)",
     "one owner placeholder"),
    ("{name: x, kind: feed, category: news, url: 'https://a/', first_party: [Qwen]}", "first_party.0", "pattern"),
])
def test_bad_source_entry_names_file_entry_and_field(tmp_path: Path, entry: str, field: str, message: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(f"sources:\n  - {{name: good, kind: feed, category: news, url: 'https://ok/'}}\n  - {entry}\n")
    sources, problems = load_sources(str(path))
    assert [s.name for s in sources] == ["good"]
    assert len(problems) == 1
    text = str(problems[0])
    assert str(path) in text and "#2" in text and f"field {field}" in text and message in text


def test_duplicate_source_name_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n" + "  - {name: a, kind: feed, category: news, url: 'https://ok/'}\n" * 2)
    sources, problems = load_sources(str(path))
    assert len(sources) == 1 and "duplicate name" in str(problems[0])


@pytest.mark.parametrize(("text", "message"), [
    ("models: {Qwen: {display: Q, aliases: {latin: [Qwen]}}}", "key must match"),
    ("models: {qwen: {display: Q, aliases: {latin: []}}}", "at least one alias"),
    ("models: {qwen: {display: Q, aliases: {klingon: [Qwen]}}}", "field aliases.klingon.[key]"),
    ("models: {qwen: {display: Q, aliases: {latin: [Qwen]}, ambiguous: [Qwan]}}", "unknown aliases"),
    ("models: {qwen: {display: Q, aliases: {latin: [Qwen]}, github_repos: [Qwen3]}}", "github_repos.0"),
    ("models: {qwen: {display: Q, aliases: {latin: [Qwen]}, hf_authors: ['../admin']}}", "hf_authors.0"),
    ("models: [1, 2]", "expected a mapping"),
    ("models: {qwen: {display: Q, aliases: {latin: [Qwen]}", "not valid YAML"),
])
def test_bad_models_file_is_fatal_with_a_clear_message(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_models(str(path))
    assert str(path) in str(caught.value) and message in str(caught.value)


def kind_branches(tree: ast.AST) -> Iterator[str]:
    """``x.kind == "feed"`` / ``x.kind in ("feed", …)``: the source kind names a comparison tests for."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(side, ast.Attribute) and side.attr == "kind"
                                                 for side in (node.left, *node.comparators)):
            for side in ast.walk(node):
                if isinstance(side, ast.Constant) and side.value in KINDS:
                    yield side.value


def test_the_kind_finder_finds_one() -> None:
    assert list(kind_branches(ast.parse("if source.kind in ('feed', 'page') or c.kind == 'paper': pass"))) == ["feed"]


def test_only_the_kind_modules_branch_on_a_kind() -> None:
    # A new kind is its module in digestcrawl/crawl/kinds/ and a sources.yaml entry: nothing else
    # may test for a kind by name.
    kinds_dir = ROOT / "digestcrawl" / "crawl" / "kinds"
    branches = {f"{path.relative_to(ROOT)}: {name}"
                for package in ("digestcrawl", "spiders", "pipelines") for path in (ROOT / package).rglob("*.py")
                if kinds_dir not in path.parents
                for name in kind_branches(ast.parse(path.read_text(encoding="utf-8")))}
    assert branches == set()
