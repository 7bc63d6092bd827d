"""Routing engine: collection and delivery rounds of a day, solved with OR-Tools and PyVRP.

``build_day_problem`` turns sites, farms, vehicles and the allocation's flows into a
``RoutingProblem``; ``solve`` (``portfolio.solve``) returns a ``RoutingResult`` (trips,
unserved stops with their reason, costs), the best valid one of the engines chosen in
``SolverOptions.engine``. Nothing here prints; progress reaches a caller through a callback.
"""

from typing import TYPE_CHECKING

from foodchain.lazy import lazy_exports

if TYPE_CHECKING:
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

_EXPORTS = {
    "ENGINES": "foodchain.routing.options",
    "Flow": "foodchain.routing.build",
    "GLS_SEARCH": "foodchain.routing.options",
    "HUB": "foodchain.routing.problem",
    "ILS_SEARCH": "foodchain.routing.options",
    "ILS_SEARCH_2": "foodchain.routing.options",
    "InitialRoutes": "foodchain.routing.problem",
    "LNS_OPERATORS": "foodchain.routing.options",
    "Place": "foodchain.routing.travel",
    "Progress": "foodchain.routing.options",
    "RoutingProblem": "foodchain.routing.problem",
    "RoutingResult": "foodchain.routing.problem",
    "SearchConfig": "foodchain.routing.options",
    "SolverOptions": "foodchain.routing.options",
    "Stop": "foodchain.routing.problem",
    "StopKind": "foodchain.routing.problem",
    "Travel": "foodchain.routing.travel",
    "Trip": "foodchain.routing.problem",
    "Unserved": "foodchain.routing.problem",
    "UnservedReason": "foodchain.routing.problem",
    "Vehicle": "foodchain.routing.problem",
    "Visit": "foodchain.routing.problem",
    "build_day_problem": "foodchain.routing.build",
    "diagnose": "foodchain.routing.diagnosis",
    "evaluate": "foodchain.routing.schedule",
    "great_circle_km": "foodchain.routing.travel",
    "solve": "foodchain.routing.portfolio",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
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
