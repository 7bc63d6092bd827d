"""How the allocation is solved (solvers, time limits, tolerances) and what each tier
reports: the settings a caller chooses, free of any solver import."""

from __future__ import annotations

from dataclasses import dataclass

LP_SOLVERS = ("GLOP", "CLP", "SCIP")
"""PDLP (first-order) is left out: its answers missed the tiers' optima on the tiny scenario."""
MIP_SOLVERS = ("HIGHS", "SCIP")
"""HiGHS is called through MathOpt's model proto: through the model builder (1.12 in OR-Tools
9.15) it crashed the process on the basket MIP and printed a banner."""


@dataclass(frozen=True)
class AllocationParameters:
    lp_solver: str = "GLOP"
    """For the LP tiers (chosen by measurement: see benchmarks/README.md)."""
    mip_solver: str = "HIGHS"
    """For tier 2 (and tiers 3-5 when their basket choice is not fixed): HiGHS decided the
    basket probes of large regions where SCIP ran out of time (benchmarks/README.md)."""
    time_limit_s: float = 20.0
    """Per MIP solve; the best solution found so far is kept when it is reached."""
    relative_gap: float = 1e-4
    glop_parameters: str = ""
    """Extra GLOP settings, in the text format of its GlopParameters."""
    scip_parameters: str = ""
    """Extra SCIP settings, one ``name = value`` a line."""
    highs_mip_options: str = "mip_allow_restart = false"
    """HiGHS settings for the MIPs with an objective (the € bought has its own), one ``name
    = value`` a line. HiGHS finds these MIPs' optima early and spends its time proving them;
    its root restarts delayed the proofs (35 Lensois weeks, runs side by side, idle: 38.7-41.2 s
    in all with HiGHS's defaults, 29.2-30.9 s with this; benchmarks/README.md). A probe
    without objective keeps the defaults: it only asks for a solution, and finds one soonest
    with them (the 300 × 150 × 150 region's search day by day)."""
    highs_bought_options: str = "mip_heuristic_run_rins = false\nmip_heuristic_run_rens = false"
    """HiGHS settings for the € bought: without the RINS and RENS sub-MIPs its proofs end
    sooner (the weeks that buy in: 12.3 s in all against 13.4 s with ``highs_mip_options``
    and 15.1 s with the defaults)."""
    tolerance_abs: float = 1e-6
    """How far a lower tier may move a higher tier's optimum (kg, or the tier's unit) ..."""
    tolerance_rel: float = 1e-6
    """... plus this share of it."""
    min_kg_per_product: float = 0.2
    """Least kg of a product (sold by weight) worth putting in a basket."""
    probe_time_limit_s: float = 2.0
    """Per feasibility probe of the search for the most baskets each size can fill on each
    day when supply cannot fill them all; a probe undecided by then counts as 'no'."""
    weight_time_limit_s: float = 1.0
    """For the basket weights (once a probe has found that the baskets can be filled under
    a rung's rules, or the baskets the search fills): the probe's solution is the start, the
    best found by then is kept (the gap is in the tier's bound, and the result is then
    'feasible'). The weights are grams a basket: where their optimum takes long to prove,
    more time improves them little (2027-W09's 402 baskets: 155 kg off target in all at
    1 s, 146 kg at 3 s, 139 kg at 7 s)."""
    bought_time_limit_s: float = 5.0
    """For the € bought in, searched at once: money, worth the time (2027-W11: 3 s to prove)."""
    reroute_canteens_in_tier2: bool = False
    """While searching how many baskets can be filled, keep tier 1's canteen flows (fast);
    True lets the search re-route them too (exact, but a much larger MIP in large regions)."""
    keep_canteen_flows: bool = False
    """Keep tier 1's canteen flows in tiers 3-5 too: fairness and transport then act through
    baskets and shops only; much faster in large regions (see benchmarks/README.md)."""
    pool_offers_above: int = 20_000
    """Above this many candidate flows, route classes of interchangeable offers as one (exact
    unless an EGalim row binds, which is detected: then solved again per farm; see ``Offers``).
    Below, one column per farm and destination (fast enough, and the same vertices as ever)."""
    fix_baskets_after_tier2: bool = True
    """Keep tier 2's choice of products in each basket for tiers 3-5 (then LPs, much faster);
    False re-optimises the choice in every tier (a MIP each)."""
    cost_per_kgkm: float = 1.0
    """Tier 5 weighs € of purchase against kg·km: 1 € counts as this many kg·km."""

    def __post_init__(self) -> None:
        if self.lp_solver not in LP_SOLVERS or self.mip_solver not in MIP_SOLVERS:
            raise ValueError(f"solvers: LP one of {LP_SOLVERS}, MIP one of {MIP_SOLVERS}")


@dataclass(frozen=True)
class TierStats:
    name: str
    objective: float
    status: str
    seconds: float
    bound: float | None = None
