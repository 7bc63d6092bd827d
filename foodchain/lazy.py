"""Package namespaces that import what they export only when it is used.

``foodchain.allocation``, ``foodchain.routing`` and ``foodchain.plan`` export their solvers
beside light data classes. Importing the package for a data class (the documents read a plan's
record) must not load OR-Tools, PyVRP or the database: each name is imported from its module
on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` giving each of ``exports`` (name -> module)."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
