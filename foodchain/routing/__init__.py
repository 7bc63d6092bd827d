"""Routing engine: collection and delivery rounds of a day, solved with OR-Tools and PyVRP.

``build_day_problem`` turns sites, farms, vehicles and the allocation's flows into a
``RoutingProblem``; ``solve`` (``portfolio.solve``) returns a ``RoutingResult`` (trips,
unserved stops with their reason, costs), the best valid one of the engines chosen in
``SolverOptions.engine``. Nothing here prints; progress reaches a caller through a callback.
"""

from foodchain.routing.build import Flow, build_day_problem
from foodchain.routing.diagnosis import diagnose
from foodchain.routing.options import (
    ENGINES,
    GLS_SEARCH,
    ILS_SEARCH,
    ILS_SEARCH_2,
    LNS_OPERATORS,
    Progress,
    SearchConfig,
    SolverOptions,
)
from foodchain.routing.portfolio import solve
from foodchain.routing.problem import (
    HUB,
    InitialRoutes,
    RoutingProblem,
    RoutingResult,
    Stop,
    StopKind,
    Trip,
    Unserved,
    UnservedReason,
    Vehicle,
    Visit,
)
from foodchain.routing.schedule import evaluate
from foodchain.routing.travel import Place, Travel, great_circle_km

__all__ = [
    "ENGINES",
    "GLS_SEARCH",
    "HUB",
    "ILS_SEARCH",
    "ILS_SEARCH_2",
    "LNS_OPERATORS",
    "Flow",
    "InitialRoutes",
    "Place",
    "Progress",
    "RoutingProblem",
    "RoutingResult",
    "SearchConfig",
    "SolverOptions",
    "Stop",
    "StopKind",
    "Travel",
    "Trip",
    "Unserved",
    "UnservedReason",
    "Vehicle",
    "Visit",
    "build_day_problem",
    "diagnose",
    "evaluate",
    "great_circle_km",
    "solve",
]
