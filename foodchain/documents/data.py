"""The machine files of a plan: CSV with the English columns of BRIEF §6 first, and kpis.json.

allocation.csv, baskets.csv, shortfalls.csv and surplus.csv come from
``foodchain.allocation.export``, so scripts read a plan and an allocation alike.
"""

from __future__ import annotations

import json
from pathlib import Path

from foodchain.allocation.export import allocation_sheets, kg, write_sheets
from foodchain.documents.view import PlanView
from foodchain.files.writing import Sheet
from foodchain.weeks import clock


def data_sheets(view: PlanView) -> dict[str, Sheet]:
    record = view.record
    return {
        **allocation_sheets(record.flows, record.baskets, record.shortfalls, record.surplus),
        "routes.csv": Sheet(
            [
                *("day", "vehicle_id", "trip", "seq", "site_id", "arrival", "departure"),
                *("pickup_kg", "delivery_kg", "load_kg", "km"),
                *("action", "site_name", "window", "vehicle_type", "part", "parts"),
                *("pause", "cold", "max_minutes_on_board", "on_board_until"),
            ],
            [
                [
                    *(r.day.isoformat(), r.vehicle_id, r.trip, r.seq, r.site_id),
                    *(clock(r.arrival), clock(r.departure)),
                    *(kg(r.pickup_kg), kg(r.delivery_kg), kg(r.load_kg), kg(r.km)),
                    *(r.action, view.name(r.site_id), view.window(r)),
                    *(view.vehicle_type(r.vehicle_id), r.part, r.parts),
                    f"{clock(r.pause[0])}-{clock(r.pause[1])}" if r.pause else "",
                    " ".join(r.cold),
                    "" if r.max_minutes_on_board is None else round(r.max_minutes_on_board),
                    "" if r.on_board_until is None else clock(r.on_board_until),
                ]
                for rows in view.trips.values()
                for r in rows
            ],
        ),
    }


def write_data(view: PlanView, folder: Path) -> list[Path]:
    written = write_sheets(data_sheets(view), folder)
    kpis = folder / "kpis.json"
    kpis.write_text(
        json.dumps(view.record.kpis, indent=2, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
    )
    return [*written, kpis]
