"""The weekly plan: allocation, rounds, KPIs, as one self-contained record.

plan = plan_week(engine, Week.parse("2026-W49"), PlanOptions(seed=1))
plan.record.kpis["transport"]["co2_kg"]
"""

from foodchain.plan.kpis import compute_kpis
from foodchain.plan.record import PlanRecord, build_record
from foodchain.plan.weekly import Plan, PlanOptions, StageProgress, plan_snapshot, plan_week

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
