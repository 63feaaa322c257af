"""The import rules of ARCHITECTURE.md, read from the source: no cycle among the project's
modules, and imports flow one way through the layers.

Every ``import`` in digestcrawl/, spiders/, pipelines/ and templates/ counts, at module level or
inside a function (a lazy import is still a dependency). ``from package import name`` depends on
the submodule when ``name`` is one, else on the package. A package read as a resource
(``importlib.resources.files("templates")``) counts as imported.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from digestcrawl.lazy import surface
from tests.conftest import ROOT

PACKAGES = ("digestcrawl", "spiders", "pipelines", "templates")
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
                         if target != module} | resources_read(tree, known)
    return graph


def resources_read(tree: ast.AST, known: set[str]) -> set[str]:
    """The project packages whose files ``tree`` opens with ``resources.files("package")``."""
    return {arg.value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "files"
            for arg in node.args[:1] if isinstance(arg, ast.Constant) and arg.value in known}


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
    assert "digestcrawl.text" in graph["pipelines.normalize"]
    assert {"digestcrawl", "spiders", "pipelines", "templates"} <= set(graph)
    assert any("templates" in targets for targets in graph.values())  # resources count


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def layer(*packages: str) -> tuple[str, ...]:
    return tuple(f"digestcrawl.{package}" for package in packages)


# The layers, bottom up: config/items → text → store → crawl and digest → commands and
# extensions; ops beside. Each layer → what it must never import.
ABOVE = {
    layer("config", "items", "languages", "lazy", "validation"): layer(
        "text", "store", "crawl", "digest", "ops", "commands", "extensions"),
    # Bytes → clean article knows nothing of fetching, storing, digests or operations.
    layer("text"): layer("crawl", "store", "digest", "ops", "commands", "extensions"),
    # The store keeps what it is given, from a crawl or a command alike.
    layer("store"): layer("crawl", "digest", "ops", "commands", "extensions"),
    # Fetching does not write digests; a digest is made from the database, whatever fetched it.
    layer("crawl"): layer("digest", "commands", "extensions"),
    layer("digest"): layer("crawl", "commands", "extensions"),
    # Helpers of a run, not its top: the extensions and commands use them.
    layer("ops"): layer("digest", "commands", "extensions"),
    # Commands start crawls and digests; the extensions are Scrapy's to build.
    layer("commands"): layer("extensions"),
    ("spiders", "pipelines"): layer("commands", "extensions"),
    # Package data: the templates import no code.
    ("templates",): ("digestcrawl", "spiders", "pipelines"),
}
# The top: the extensions watch a whole crawl and may import every layer; the settings name them.
TOP = layer("extensions", "settings")
# config validates sources against the kind registry, so the kinds and the parsers they share sit
# below it (bytes in, entries out): the one way down from config into crawl.
KINDS = ("digestcrawl.crawl.kinds", "digestcrawl.crawl.feeds")
# Importer package → a package it must never import.
FORBIDDEN = [
    ("digestcrawl", "spiders"),
    ("digestcrawl", "pipelines"),
    *((importer, forbidden) for importers, above in ABOVE.items() for importer in importers for forbidden in above),
    *((kinds, above) for kinds in KINDS
      for above in (*layer("config", "store", "digest", "ops", "commands", "extensions"), "digestcrawl.crawl.context")),
]
ALLOWED = {"digestcrawl.config": KINDS}  # importer → packages it may import all the same


@pytest.mark.parametrize(("importer", "forbidden"), FORBIDDEN)
def test_imports_flow_one_way(importer: str, forbidden: str) -> None:
    violations = sorted(f"{module} imports {target}" for module, targets in import_graph().items()
                        if within(module, importer) for target in targets if within(target, forbidden)
                        and not any(within(target, allowed) for allowed in ALLOWED.get(module, ())))
    assert violations == []


MAX_MODULES = 12  # a package that needs more is two packages


def test_no_package_holds_more_than_twelve_modules() -> None:
    crowded = {str(init.parent.relative_to(ROOT)): count for init in (ROOT / "digestcrawl").rglob("__init__.py")
               if (count := len(list(init.parent.glob("*.py")))) > MAX_MODULES}
    assert crowded == {}


def test_every_package_has_its_layer() -> None:
    """A new package of digestcrawl gets its place in ABOVE (or is an extension, the top)."""
    placed = {package for importers in ABOVE for package in importers} | set(TOP)
    packages = {".".join(module.split(".")[:2]) for module in import_graph() if within(module, "digestcrawl")}
    assert packages - placed - {"digestcrawl"} == set()


def test_what_the_layers_use_of_ops_is_a_leaf() -> None:
    """The ops modules that fetching, storing and the Scrapy components use (stats keys,
    signals, …) import nothing else of the project: ops sits beside the layers, never above."""
    graph = import_graph()
    users = ("digestcrawl.text", "digestcrawl.store", "digestcrawl.crawl", "spiders", "pipelines")
    leaves = {target for module, targets in graph.items() if any(within(module, user) for user in users)
              for target in targets if within(target, "digestcrawl.ops")}
    assert leaves, "the layers use ops' stats keys and signals"
    outside = sorted(f"{leaf} imports {target}" for leaf in leaves for target in graph[leaf]
                     if not within(target, "digestcrawl.ops"))
    assert outside == []


def test_only_the_digest_reads_the_templates() -> None:
    readers = {module for module, targets in import_graph().items() if "templates" in targets}
    assert readers and all(within(module, "digestcrawl.digest") for module in readers), sorted(readers)


def is_package(module: str) -> bool:
    return (ROOT / module.replace(".", "/") / "__init__.py").is_file()


def declares_all(package: str) -> bool:
    tree = ast.parse((ROOT / package.replace(".", "/") / "__init__.py").read_text("utf-8"))
    return any(isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "__all__" for target in node.targets)
               for node in tree.body)


def test_a_package_with_a_surface_is_imported_through_it() -> None:
    """A package that declares ``__all__`` (store, …) is imported from the package by the rest of
    the project, never from its modules; its subpackages are packages of their own. The source
    kinds and their parsers sit below config, which the text package as a whole sits above
    (relevance reads the models' config): they import the text modules they parse with."""
    graph = import_graph()
    surfaces = [module for module in graph if is_package(module) and declares_all(module)]
    assert {"digestcrawl.store", "digestcrawl.text", "digestcrawl.crawl", "digestcrawl.digest"} <= set(surfaces)
    violations = sorted(f"{module} imports {target}" for package in surfaces for module, targets in graph.items()
                        if not within(module, package) for target in targets
                        if target.rpartition(".")[0] == package and not is_package(target)
                        and not (package == "digestcrawl.text" and any(within(module, k) for k in KINDS)))
    assert violations == []


LAZY_SURFACES = ("digestcrawl.text", "digestcrawl.crawl")


@pytest.mark.parametrize("package", LAZY_SURFACES)
def test_a_lazy_surface_is_its_type_checking_imports(package: str) -> None:
    """``__all__`` names what the ``if TYPE_CHECKING:`` block imports, and each name loads from
    its module on first use (digestcrawl.lazy)."""
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(surface(package))
    # A name that is also a module's would be replaced by the module once that is imported.
    assert {name for name in module.__all__ if is_package(package) and (ROOT / package.replace(".", "/")
            / f"{name}.py").exists()} == set()
    for name, home in surface(package).items():
        assert getattr(module, name) is getattr(importlib.import_module(home), name)
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        getattr(module, "nothing_here")  # noqa: B009


def loaded_in_a_fresh_process(imports: str, watched: tuple[str, ...]) -> list[str]:
    """The ``watched`` modules a new interpreter holds after running ``imports``."""
    script = f"import sys\n{imports}\nprint(sorted(m for m in {watched!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return ast.literal_eval(done.stdout.strip())


def test_an_extraction_worker_loads_only_what_extraction_needs() -> None:
    """The worker processes import text.extraction through the text and crawl packages: their
    surfaces load nothing else (no dedup index and its numpy; no entity table; no
    configuration, pydantic and YAML: 11 MB of every worker, issue 25)."""
    imports = ("import importlib\n"
               "from digestcrawl.crawl.extraction.pool import EXTRACTION_MODULE, FORKSERVER_MODULES\n"
               "for module in (*FORKSERVER_MODULES, EXTRACTION_MODULE): importlib.import_module(module)")
    assert loaded_in_a_fresh_process(imports, ("numpy", "scipy", "digestcrawl.text.dedup", "digestcrawl.text.entities",
                                               "digestcrawl.crawl.context", "digestcrawl.config", "pydantic",
                                               "yaml")) == []


def test_a_crawl_process_loads_no_extraction_library() -> None:
    """A crawl leaves extraction to its workers: Scrapy's start (which imports every command's
    module), the spiders, the pipelines and the pool load no extraction library, and no
    MinHash library's scipy (issue 25: 56 MB and 0.5 s of every crawl's start)."""
    imports = ("from scrapy.cmdline import _get_commands_dict\n"
               "from scrapy.utils.project import get_project_settings\n"
               "_get_commands_dict(get_project_settings(), inproject=True)\n"
               "import spiders.news, spiders.social, spiders.finance, spiders.releases\n"
               "import pipelines.normalize, pipelines.relevance, pipelines.dedup, pipelines.store\n"
               "import digestcrawl.crawl.extraction.pool")
    assert loaded_in_a_fresh_process(imports, ("trafilatura", "htmldate", "justext", "readability", "scipy",
                                               "digestcrawl.text.extraction", "digestcrawl.digest")) == []


def test_a_crawl_outside_the_distributed_profile_loads_no_redis_client() -> None:
    """A crawler built with the project's settings (extensions, add-ons, middlewares) loads
    redis and scrapy-redis only in the distributed profile: 0.08 s of every crawl's start
    (issue 25)."""
    imports = ("from scrapy.utils.project import get_project_settings\n"
               "from scrapy.utils.reactor import install_reactor\n"
               "from scrapy.utils.test import get_crawler\n"
               "from spiders.news import NewsSpider\n"
               "settings = get_project_settings()\n"
               "install_reactor(settings['TWISTED_REACTOR'])\n"
               "crawler = get_crawler(NewsSpider, settings_dict=settings.copy_to_dict())\n"
               "assert crawler.extensions is not None and crawler.addons.addons")
    assert loaded_in_a_fresh_process(imports, ("redis", "scrapy_redis")) == []


def test_group_stories_is_the_group_rooms_one_entry() -> None:
    from digestcrawl.digest import group

    assert group.__all__ == ["group_stories"]
