"""The allocation's CSV files (columns of BRIEF §6 first, then helpful extras)."""

from __future__ import annotations

from pathlib import Path

from foodchain.allocation.result import AllocationResult
from foodchain.files.writing import Sheet


def _kg(value: float) -> float:
    return round(value, 3)


def allocation_sheets(result: AllocationResult) -> dict[str, Sheet]:
    flows = sorted(
        result.flows, key=lambda f: (f.delivery_day, f.destination_id, f.product_id, f.farm_id)
    )
    return {
        "allocation.csv": Sheet(
            [
                *("farm_id", "product_id", "destination_id", "delivery_day", "kg"),
                *("pickup_day", "purpose", "item_id"),
            ],
            [
                [
                    f.farm_id,
                    f.product_id,
                    f.destination_id,
                    f.delivery_day.isoformat(),
                    _kg(f.kg),
                    f.pickup_day.isoformat(),
                    f.purpose,
                    f.item_id,
                ]
                for f in flows
                if _kg(f.kg) > 0
            ],
        ),
        "baskets.csv": Sheet(
            ["basket_type", "product_id", "kg_per_basket", "baskets", "units_per_basket"],
            [
                [
                    b.basket_type_id,
                    b.product_id,
                    _kg(b.kg_per_basket),
                    b.baskets,
                    b.units_per_basket,
                ]
                for b in result.baskets
            ],
        ),
        "shortfalls.csv": Sheet(
            ["who", "product", "kg", "reason", "day", "baskets"],
            [
                [s.destination_id, s.item_id, _kg(s.kg), s.reason, s.day.isoformat(), s.baskets]
                for s in result.shortfalls
            ],
        ),
        "surplus.csv": Sheet(
            ["who", "product", "kg", "reason"],
            [[s.farm_id, s.product_id, _kg(s.kg), s.reason] for s in result.surplus],
        ),
    }


def write_allocation(result: AllocationResult, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, sheet in allocation_sheets(result).items():
        sheet.write(folder / name, french=False)
        written.append(folder / name)
    return written
