"""The allocation's CSV files (columns of BRIEF §6 first, then helpful extras).

One writer for ``foodchain allocate --out`` and for a plan's documents, so scripts read both
alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from foodchain.allocation.result import AllocationResult, BasketLine, Flow, Shortfall, Surplus
from foodchain.files.writing import Sheet

KG_DIGITS = 3
"""kg are written to the gram; flows that round to 0 g are left out."""


def kg(value: float) -> float:
    return round(value, KG_DIGITS)


def allocation_sheets(
    flows: Sequence[Flow],
    baskets: Sequence[BasketLine],
    shortfalls: Sequence[Shortfall],
    surplus: Sequence[Surplus],
) -> dict[str, Sheet]:
    ordered = sorted(
        flows, key=lambda f: (f.delivery_day, f.destination_id, f.product_id, f.farm_id)
    )
    return {
        "allocation.csv": Sheet(
            [
                *("farm_id", "product_id", "destination_id", "delivery_day", "kg"),
                *("pickup_day", "purpose", "item_id", "organic_status", "price_eur_per_kg"),
                *("delivered_by", "handed_over"),
            ],
            [
                [
                    *(f.farm_id, f.product_id, f.destination_id, f.delivery_day.isoformat()),
                    kg(f.kg),
                    *(f.pickup_day.isoformat(), f.purpose, f.item_id, str(f.organic_status)),
                    f.price_eur_per_kg,
                    f.delivered_by,
                    f.handed_over.isoformat() if f.handed_over else "",
                ]
                for f in ordered
                if kg(f.kg) > 0
            ],
        ),
        "baskets.csv": Sheet(
            ["basket_type", "product_id", "kg_per_basket", "baskets", "units_per_basket"],
            [
                [b.basket_type_id, b.product_id, kg(b.kg_per_basket), b.baskets, b.units_per_basket]
                for b in baskets
            ],
        ),
        "shortfalls.csv": Sheet(
            ["who", "product", "kg", "reason", "day", "baskets"],
            [
                [s.destination_id, s.item_id, kg(s.kg), s.reason, s.day.isoformat(), s.baskets]
                for s in shortfalls
            ],
        ),
        "surplus.csv": Sheet(
            ["who", "product", "kg", "reason"],
            [[s.farm_id, s.product_id, kg(s.kg), s.reason] for s in surplus],
        ),
    }


def write_sheets(sheets: dict[str, Sheet], folder: Path) -> list[Path]:
    """Machine files: English headers (``french=False``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, sheet in sheets.items():
        sheet.write(folder / name, french=False)
    return [folder / name for name in sheets]


def write_allocation(result: AllocationResult, folder: Path) -> list[Path]:
    sheets = allocation_sheets(result.flows, result.baskets, result.shortfalls, result.surplus)
    return write_sheets(sheets, folder)
