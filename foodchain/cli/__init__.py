"""The command line: a thin client of the library. Only this package imports typer and rich.

``app`` is the ``foodchain`` program; each module adds its commands to it: ``territory``
(init, scenario, sites/products/vehicles list), ``imports`` (people's files), ``planning``
(demand, allocate, route, plan) and ``runs`` (runs, report).
"""

from foodchain.cli import imports, planning, runs, territory
from foodchain.cli.app import app, escape

__all__ = ["app", "escape", "imports", "planning", "runs", "territory"]
