"""The machine files of a plan: CSV with the English columns of BRIEF §6 first, and kpis.json.

allocation.csv, baskets.csv, shortfalls.csv and surplus.csv have the columns of
``foodchain.allocation.export``, so scripts read a plan and an allocation alike.
"""

from __future__ import annotations

import json
from pathlib import Path

from foodchain.documents.i18n import clock
from foodchain.documents.view import PlanView, kg
from foodchain.files.writing import Sheet


def data_sheets(view: PlanView) -> dict[str, Sheet]:
    record = view.record
    flows = sorted(
        view.flows, key=lambda f: (f.delivery_day, f.destination_id, f.product_id, f.farm_id)
    )
    return {
        "allocation.csv": Sheet(
            [
                *("farm_id", "product_id", "destination_id", "delivery_day", "kg"),
                *("pickup_day", "purpose", "item_id", "organic_status", "price_eur_per_kg"),
            ],
            [
                [
                    *(f.farm_id, f.product_id, f.destination_id, f.delivery_day.isoformat()),
                    kg(f.kg),
                    *(f.pickup_day.isoformat(), f.purpose, f.item_id, f.organic_status),
                    f.price_eur_per_kg,
                ]
                for f in flows
            ],
        ),
        "baskets.csv": Sheet(
            ["basket_type", "product_id", "kg_per_basket", "baskets", "units_per_basket"],
            [
                [b.basket_type, b.product_id, kg(b.kg_per_basket), b.baskets, b.units_per_basket]
                for b in record.baskets
            ],
        ),
        "shortfalls.csv": Sheet(
            ["who", "product", "kg", "reason", "day", "baskets"],
            [
                [s.who, s.item, kg(s.kg), s.reason, s.day.isoformat(), s.baskets]
                for s in record.shortfalls
            ],
        ),
        "surplus.csv": Sheet(
            ["who", "product", "kg", "reason"],
            [[s.farm_id, s.product_id, kg(s.kg), s.reason] for s in record.surplus],
        ),
        "routes.csv": Sheet(
            [
                *("day", "vehicle_id", "trip", "seq", "site_id", "arrival", "departure"),
                *("pickup_kg", "delivery_kg", "load_kg", "km"),
                *("action", "site_name", "window", "vehicle_type", "part", "parts"),
            ],
            [
                [
                    *(r.day.isoformat(), r.vehicle_id, r.trip, r.seq, r.site_id),
                    *(clock(r.arrival), clock(r.departure)),
                    *(kg(r.pickup_kg), kg(r.delivery_kg), kg(r.load_kg), kg(r.km)),
                    *(r.action, view.name(r.site_id), view.window(r)),
                    *(view.vehicle_type(r.vehicle_id), r.part, r.parts),
                ]
                for rows in view.trips.values()
                for r in rows
            ],
        ),
    }


def write_data(view: PlanView, folder: Path) -> list[Path]:
    written = []
    for name, sheet in data_sheets(view).items():
        sheet.write(folder / name, french=False)
        written.append(folder / name)
    kpis = folder / "kpis.json"
    kpis.write_text(
        json.dumps(view.record.kpis, indent=2, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
    )
    return [*written, kpis]
