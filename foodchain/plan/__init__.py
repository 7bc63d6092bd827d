"""The weekly plan: allocation, rounds, KPIs, as one self-contained record.

plan = plan_week(engine, Week.parse("2026-W49"), PlanOptions(seed=1))
plan.record.kpis["transport"]["co2_kg"]
"""

from typing import TYPE_CHECKING

from foodchain.lazy import lazy_exports

if TYPE_CHECKING:
    from foodchain.plan.kpis import compute_kpis
    from foodchain.plan.record import PlanRecord, build_record
    from foodchain.plan.weekly import Plan, PlanOptions, StageProgress, plan_snapshot, plan_week

_EXPORTS = {
    "Plan": "foodchain.plan.weekly",
    "PlanOptions": "foodchain.plan.weekly",
    "PlanRecord": "foodchain.plan.record",
    "StageProgress": "foodchain.plan.weekly",
    "build_record": "foodchain.plan.record",
    "compute_kpis": "foodchain.plan.kpis",
    "plan_snapshot": "foodchain.plan.weekly",
    "plan_week": "foodchain.plan.weekly",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
__all__ = [
    "Plan",
    "PlanOptions",
    "PlanRecord",
    "StageProgress",
    "build_record",
    "compute_kpis",
    "plan_snapshot",
    "plan_week",
]
