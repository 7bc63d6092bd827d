"""A route sheet per driver and day: where to go in which order, when, and what to take or drop.

The CSV has a row per product line of each stop; the stop's own columns (arrival, load, km)
are filled on its first row only, so that summing a column counts each stop once. A site whose
load is split into several visits lists its whole load at each visit (the routing does not say
which crates go in which part); the visit's own kg say its share.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from foodchain.allocation.export import kg
from foodchain.documents.pages import Page, Section, Written, file_stem, write_page
from foodchain.documents.view import Line, PlanView
from foodchain.files.writing import write_table
from foodchain.plan.record import StopRow
from foodchain.weeks import clock

CSV_COLUMNS = (
    *("trip", "seq", "action", "site", "address", "commune", "arrival", "departure", "window"),
    *("part", "stop_pickup_kg", "stop_delivery_kg", "item", "kg", "baskets", "units"),
    *("load_kg", "km"),
)
PAGE_COLUMNS = ("seq", "arrival", "site", "window", "action", "what", "load_kg", "km")


def _place(view: PlanView, row: StopRow) -> list[str]:
    address = view.address(row.site_id)
    return [view.name(row.site_id), address] if address else [view.name(row.site_id)]


def _csv_rows(view: PlanView, row: StopRow) -> list[list[Any]]:
    t = view.t
    site = view.record.sites.get(row.site_id)
    stop = [
        *(row.trip, row.seq, t.optional("action", row.action), view.name(row.site_id)),
        *(site.address if site else "", site.commune if site else ""),
        *(clock(row.arrival), clock(row.departure), view.window(row)),
        f"{row.part}/{row.parts}" if row.parts > 1 else "",
        kg(row.pickup_kg) if row.action == "pickup" else None,
        kg(row.delivery_kg) if row.action == "delivery" else None,
    ]
    lines: list[Line | None] = [*view.stop_lines(row)] or [None]
    out = []
    for index, line in enumerate(lines):
        cells = stop if index == 0 else [row.trip, row.seq, *[None] * (len(stop) - 2)]
        item = [line.label, line.kg, line.baskets, line.units] if line else [None] * 4
        tail = [kg(row.load_kg), kg(row.km)] if index == 0 else [None, None]
        out.append([*cells, *item, *tail])
    return out


def _page_row(view: PlanView, row: StopRow) -> list[Any]:
    t = view.t
    action = [t.optional("action", row.action)]
    if row.action == "depart":
        action.append(t("loading_from", time=clock(row.arrival)))
    elif row.action in ("pickup", "delivery"):
        action.append(view.stop_words(row))
    return [
        str(row.seq),
        clock(row.departure if row.action == "depart" else row.arrival),
        _place(view, row),
        view.window(row),
        action,
        [line.text(t) for line in view.stop_lines(row)],
        t.number(row.load_kg),
        t.number(row.km, 1),
    ]


def _trip_section(view: PlanView, trip: int, rows: list[StopRow]) -> Section:
    t = view.t
    km = t.number(sum(r.km for r in rows), 1)
    picked = t.number(sum(r.pickup_kg for r in rows))
    dropped = t.number(sum(r.delivery_kg for r in rows))
    return Section(
        title=t(
            "trip_title",
            trip=trip,
            departure=clock(rows[0].departure),
            back=clock(rows[-1].arrival),
            km=km,
        ),
        header=[t(c) for c in PAGE_COLUMNS],
        rows=[_page_row(view, r) for r in rows],
        footer=[
            "",
            "",
            t("total"),
            "",
            "",
            t("trip_total", picked=picked, dropped=dropped),
            "",
            km,
        ],
        numeric=frozenset({0, 1, 6, 7}),
    )


def write_route_sheets(view: PlanView, folder: Path) -> list[Written]:
    """One HTML and one CSV per vehicle and day with trips."""
    t, record = view.t, view.record
    days: dict[tuple[dt.date, str], list[tuple[int, list[StopRow]]]] = defaultdict(list)
    for (day, vehicle_id, trip), rows in view.trips.items():
        days[(day, vehicle_id)].append((trip, rows))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for (day, vehicle_id), trips in sorted(days.items()):
        everything = [r for _, rows in trips for r in rows]
        stem = folder / f"{day.isoformat()}_{file_stem(vehicle_id)}"
        csv = stem.with_suffix(".csv")
        write_table(
            csv,
            [t(c) for c in CSV_COLUMNS],
            [line for r in everything for line in _csv_rows(view, r)],
        )
        vehicle = record.vehicles.get(vehicle_id)
        vehicle_lines = (
            [
                t(
                    "vehicle_line",
                    name=vehicle.name,
                    id=vehicle_id,
                    type=t.optional("type", vehicle.type),
                    capacity=t.number(vehicle.capacity_kg, 0),
                )
            ]
            if vehicle
            else []
        )
        summary = t(
            "day_summary",
            trips=len(trips),
            km=t.number(sum(r.km for r in everything), 1),
            start=clock(everything[0].arrival),
            end=clock(everything[-1].departure),
        )
        page = Page(
            title=t("title_route_sheet", vehicle=view.name(vehicle_id), day=t.day(day)),
            lines=[*vehicle_lines, t("day_line", day=t.day(day)), summary],
            sections=[_trip_section(view, trip, rows) for trip, rows in trips],
            footer=view.footer(),
            stamp=view.stamp,
            wide=True,
        )
        html = write_page(stem.with_suffix(".html"), page, t)
        written.append(
            Written(
                "index_route_sheets",
                t("sheet_label", day=t.day(day), vehicle=view.name(vehicle_id), id=vehicle_id),
                [html, csv],
            )
        )
    return written
