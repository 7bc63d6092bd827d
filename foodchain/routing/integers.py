"""Exact numbers to solvers' integers: times and loads that must stay feasible.

A travel or service time is rounded *up* and a capacity or a window's close *down*, so that
whatever a solver accepts in integers is feasible in exact arithmetic.
"""

from __future__ import annotations

import math


def up(value: float, scale: int) -> int:
    """``value × scale`` rounded up (float noise below 1e-6 ignored)."""
    return math.ceil(round(value * scale, 6))


def down(value: float, scale: int) -> int:
    """``value × scale`` rounded down (float noise below 1e-6 ignored)."""
    return math.floor(round(value * scale, 6))
