"""Exact numbers to solvers' integers: times and loads that must stay feasible.

A travel or service time is rounded *up* and a capacity or a window's close *down*, so that
whatever a solver accepts in integers is feasible in exact arithmetic.
"""

from __future__ import annotations

import math

TIME_UNITS_PER_MINUTE = 600
"""Solver time units: a tenth of a second."""
DISTANCE_UNITS_PER_KM = 1000
LOAD_UNITS = 100
"""Per kg or per crate: hundredths."""
COST_UNITS_PER_EURO = 360_000
"""So that an hourly rate in tenths of euros is exact per time unit."""


def up(value: float, scale: int) -> int:
    """``value × scale`` rounded up (float noise below 1e-6 ignored)."""
    return math.ceil(round(value * scale, 6))


def down(value: float, scale: int) -> int:
    """``value × scale`` rounded down (float noise below 1e-6 ignored)."""
    return math.floor(round(value * scale, 6))
