"""The seams between packages, as the import graph shows them: a module that only reads a
plan's record loads no solver and no database, and routing does not need the allocation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("ortools", "pyvrp", "sqlalchemy", "sqlmodel", "foodchain.db", "foodchain.inputs")


def _loaded(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["foodchain.documents", "foodchain.plan.record"])
def test_readers_of_a_plan_load_no_solver_and_no_database(module: str) -> None:
    """The documents are made from a stored record years later: they must not need OR-Tools,
    PyVRP or the database (they pulled in all three through the packages' namespaces)."""
    loaded = _loaded(module)
    assert not sorted(m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY)


def test_routing_imports_neither_the_allocation_nor_the_database() -> None:
    """Every module of ``foodchain.routing``: the week's rounds from the allocation's flows
    live in ``foodchain.plan.rounds`` (routing used to import the allocation and back)."""
    modules = sorted(
        f"foodchain.routing.{path.stem}"
        for path in (Path(__file__).parents[1] / "foodchain" / "routing").glob("*.py")
        if path.stem != "__init__"
    )
    loaded = _loaded(", ".join(modules))
    assert not sorted(m for m in loaded if m.startswith(("foodchain.allocation", "foodchain.plan")))
    assert not {"foodchain.db", "foodchain.inputs"} & loaded


def test_the_allocation_solver_does_not_import_the_routing_engines() -> None:
    loaded = _loaded("foodchain.allocation.solver")
    engines = ("pyvrp", "foodchain.routing.portfolio", "foodchain.routing.ortools_search")
    assert not sorted(m for m in loaded if m.startswith(engines))


def test_the_command_line_starts_without_solvers_data_libraries_or_the_database() -> None:
    """``foodchain --help`` answered in 1.4 s when the CLI imported everything at start-up;
    each command now imports what it uses when it runs (benchmarks/startup.py)."""
    loaded = _loaded("foodchain.cli")
    late = (*HEAVY, "pandas", "numpy", "matplotlib", "alembic", "openpyxl", "pydantic")
    assert not sorted(m for m in loaded if m.split(".")[0] in late or m in late)
