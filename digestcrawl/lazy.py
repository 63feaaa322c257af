"""A package's surface, each name imported from its module on first use (PEP 562).

A process that needs one module of a package then loads only that module: an extraction worker
that imports ``extract_page`` from ``digestcrawl.text`` loads no dedup index (numpy) and no entity
table. The surface is declared once, as the imports of the package's ``if TYPE_CHECKING:`` block,
which mypy and readers see; ``lazy_attributes`` reads that block from the package's source, as
scientific-python's lazy_loader reads a stub file.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from functools import cache
from importlib import import_module, resources
from typing import Any


@cache
def surface(package: str) -> dict[str, str]:
    """Name → the module it comes from, as the package's ``if TYPE_CHECKING:`` block imports it."""
    source = resources.files(package).joinpath("__init__.py").read_text("utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return {alias.asname or alias.name: statement.module for statement in node.body
                    if isinstance(statement, ast.ImportFrom) and statement.module for alias in statement.names}
    raise ImportError(f"{package} declares no surface (an `if TYPE_CHECKING:` block of imports)")


def lazy_attributes(package: str) -> Callable[[str], Any]:
    """The package's module ``__getattr__``: a surface name, imported and then kept."""

    def __getattr__(name: str) -> Any:
        module = surface(package).get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        setattr(sys.modules[package], name, value)  # the next lookup finds it without this hook
        return value

    return __getattr__
