"""The import rules of ARCHITECTURE.md, read from the source: no cycle among the project's
modules, and imports flow one way.

Every ``import`` in digestcrawl/, spiders/ and pipelines/ counts, at module level or inside a
function (a lazy import is still a dependency). ``from package import name`` depends on the
submodule when ``name`` is one, else on the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("digestcrawl", "spiders", "pipelines")
Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The project modules ``node`` (in ``module``) makes Python load."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the module's package, one level up per extra dot
            package = module.split(".") if is_package else module.split(".")[:-1]
            anchor = package[: len(package) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    for name in names:
        # `import a.b.c` loads a.b.c; count the deepest project module the name reaches.
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name:
            yield name


@cache
def import_graph() -> Graph:
    files = {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}
    known = set(files)
    graph: Graph = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        nodes = (node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom))
        is_package = path.name == "__init__.py"
        graph[module] = {target for node in nodes for target in imported(node, module, is_package, known)
                         if target != module}
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def test_the_graph_sees_function_level_and_relative_imports() -> None:
    graph = import_graph()
    # Lazy imports inside functions: the commands load the digest stack only when they run.
    assert "digestcrawl.digest" in graph["digestcrawl.commands.digest"]
    assert "digestcrawl.text.chars" in graph["pipelines.normalize"]
    assert {"digestcrawl", "spiders", "pipelines"} <= set(graph)


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# Importer package → the packages it must never import.
FORBIDDEN = [
    ("digestcrawl", "spiders"),
    ("digestcrawl", "pipelines"),
    ("digestcrawl.digest", "digestcrawl.crawl"),
    # Bytes → clean article knows nothing of fetching, storing, digests or operations.
    *(("digestcrawl.text", f"digestcrawl.{above}") for above in ("crawl", "store", "digest", "ops", "commands")),
    # The store keeps what it is given, from a crawl or a command alike.
    *(("digestcrawl.store", f"digestcrawl.{above}") for above in ("crawl", "digest", "commands")),
    # config validates sources against the kind registry, so the kinds and the parsers they share
    # sit below it: bytes in, entries out.
    *((kinds, f"digestcrawl.{above}") for kinds in ("digestcrawl.crawl.kinds", "digestcrawl.crawl.feeds")
      for above in ("config", "context", "store", "digest", "ops", "commands")),
]


@pytest.mark.parametrize(("importer", "forbidden"), FORBIDDEN)
def test_imports_flow_one_way(importer: str, forbidden: str) -> None:
    violations = sorted(f"{module} imports {target}" for module, targets in import_graph().items()
                        if within(module, importer) for target in targets if within(target, forbidden))
    assert violations == []


ROOMS = ("read", "group", "summarize", "publish")
MAX_MODULES = 12  # a package that needs more is two packages


@pytest.mark.parametrize("package", ["digestcrawl/digest", "digestcrawl/text"])
def test_no_package_holds_more_than_twelve_modules(package: str) -> None:
    crowded = {str(init.parent.relative_to(ROOT)): count for init in (ROOT / package).rglob("__init__.py")
               if (count := len(list(init.parent.glob("*.py")))) > MAX_MODULES}
    assert crowded == {}


def test_outsiders_enter_a_digest_room_through_its_package() -> None:
    # A room's modules are its own business: the rest of the project imports what the room's
    # __init__ exports, so a room can split or merge modules without touching its callers.
    violations = sorted(f"{module} imports {target}" for module, targets in import_graph().items()
                        for room in (f"digestcrawl.digest.{name}" for name in ROOMS)
                        if not within(module, room)
                        for target in targets if target.startswith(f"{room}."))
    assert violations == []
