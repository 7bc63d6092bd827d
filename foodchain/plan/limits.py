"""The limits of a weekly plan's search, in a module light enough for the command line's
option defaults (importing it loads no solver)."""

DEFAULT_TIME_LIMIT_S = 2.0
"""Routing seconds for the whole week. Measured on the 7 Lensois weeks of
benchmarks/README.md: 2 s gives the same rounds (km to the metre) as 5 s, and a median wall
time of 5.0 s instead of 7.5 s; rounds come out however busy the machine (the portfolio's
construction), a busy machine may give worse ones."""


MAX_TIME_LIMIT_S = 86_400.0
"""A day of search at most."""

MAX_SEED = 2**31 - 1
"""Seeds are stored as 32-bit integers (PostgreSQL's ``integer``) and fed to both engines."""

DEFAULT_SOLUTION_LIMIT = 200
"""Deterministic mode's work budget: solutions the routing search may find per day. The
Lensois week 2026-W49 plans in 36 s at 200 and 7.8 s at 50, against 4 s with the default time
limit (`foodchain plan --deterministic --work N`, 2 cores, 2-3 other processes running)."""

MAX_SOLUTION_LIMIT = 1_000_000

PYVRP_ITERATIONS_PER_SOLUTION = 15
"""Deterministic mode: PyVRP's iterations per unit of the work budget (3000 at the default
200, what it ran before the budget could be chosen)."""
