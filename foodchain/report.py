"""KPIs over several weeks, from the stored runs: a table (CSV) and a chart (PNG) for the town.

Each week counts its published run; a week never published counts its newest draft (and says
so), a week never planned is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from foodchain.files.writing import write_table
from foodchain.models import RunStatus
from foodchain.runs import kpi_at, list_runs, run_kpis
from foodchain.weeks import Week

COLUMNS: tuple[tuple[str, str], ...] = (
    ("unserved_stops", "transport.unserved_mandatory_stops"),
    ("canteen_delivered_kg", "fulfilment.canteens.delivered_kg"),
    ("canteen_share", "fulfilment.canteens.share"),
    ("canteen_short_kg", "fulfilment.canteens.short_kg"),
    ("baskets_due", "fulfilment.baskets.due"),
    ("baskets_filled", "fulfilment.baskets.filled"),
    ("shops_kg", "fulfilment.shops.kg"),
    ("supply_kg", "supply_kg"),
    ("unsold_kg", "unsold_kg"),
    ("km", "transport.km"),
    ("co2_kg", "transport.co2_kg"),
    ("diesel_co2_kg", "transport.diesel_co2_kg"),
    ("co2_total_kg", "transport.co2_total_kg"),
    ("cost_eur", "transport.cost_eur"),
    ("food_miles_kg_km", "food_miles_kg_km"),
    ("fairness", "fairness.overall"),
)
"""Report column -> dotted path in kpis.json."""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class WeekRow:
    week: str
    run_id: int
    status: str
    values: dict[str, float | None]


def weekly_kpis(engine: Engine, weeks: list[Week]) -> list[WeekRow]:
    """One row per planned week: the published run's KPIs, else the newest draft's."""
    rows = []
    for week in weeks:
        runs = [r for r in list_runs(engine, str(week)) if r.status != RunStatus.SUPERSEDED]
        if not runs:
            continue
        chosen = next((r for r in runs if r.status == RunStatus.PUBLISHED), runs[0])
        kpis = run_kpis(engine, chosen.id)
        rows.append(
            WeekRow(
                str(week),
                chosen.id,
                str(chosen.status),
                {name: _number(kpi_at(kpis, path)) for name, path in COLUMNS},
            )
        )
    return rows


def write_report(rows: list[WeekRow], folder: Path, stem: str) -> list[Path]:
    """``stem.csv`` (one row per week) and ``stem.png`` (four panels) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = folder / f"{stem}.csv", folder / f"{stem}.png"
    write_table(
        csv_path,
        ["week", "run_id", "status", *(name for name, _ in COLUMNS)],
        [[r.week, r.run_id, r.status, *(r.values[name] for name, _ in COLUMNS)] for r in rows],
    )
    _chart(rows, png_path)
    return [csv_path, png_path]


def _chart(rows: list[WeekRow], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weeks = [r.week.split("-")[1] for r in rows]

    def series(name: str, scale: float = 1.0) -> list[float]:
        return [(r.values[name] or 0.0) * scale for r in rows]

    figure, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    panels = (
        ("Fulfilment (%)", (("canteen_share", "canteens", 100.0),)),
        (
            "Transport CO2 (kg)",
            (
                ("co2_kg", "planned fleet", 1.0),
                ("diesel_co2_kg", "same-class diesel vans", 1.0),
                ("co2_total_kg", "fleet + farmers' runs", 1.0),
            ),
        ),
        ("Produce (kg)", (("shops_kg", "to partner shops", 1.0), ("unsold_kg", "unsold", 1.0))),
        ("Road km", (("km", "km", 1.0),)),
    )
    for axis, (title, lines) in zip(axes.flat, panels, strict=True):
        for name, label, scale in lines:
            axis.plot(weeks, series(name, scale), marker="o", label=label)
        if title.startswith("Fulfilment"):
            filled = [
                100.0 * (r.values["baskets_filled"] or 0.0) / r.values["baskets_due"]
                if r.values["baskets_due"]
                else 100.0
                for r in rows
            ]
            axis.plot(weeks, filled, marker="o", label="baskets")
            axis.set_ylim(0, 105)
        axis.set_title(title)
        axis.legend(loc="best", fontsize="small")
        axis.tick_params(axis="x", labelrotation=45, labelsize="small")
        axis.grid(alpha=0.3)
    figure.suptitle(f"foodchain KPIs {rows[0].week}..{rows[-1].week}" if rows else "foodchain KPIs")
    figure.savefig(path, dpi=100)
    plt.close(figure)
