"""A pick list per farm: what to harvest and prepare each day, and how it reaches the hub.

A section per pickup day, as the farmer works: each product in crates (or pieces for those
sold by the piece) and kg, and when and where it is handed over: the hub's address and hours
that day if the farm brings its produce (or is asked to: a collection under the minimum
pickup, ``foodchain.consolidation``), else the time the van comes and the farm's window.
A farm that delivers some destinations itself reads what its own round takes where, and what
its van takes at the hub for it (other farms' produce, handed over). Where each kilo goes is
the hub's business (its packing sheet, the packing lists, delivery notes and
``allocation.csv``), not the farmer's: a farm supplying 60 destinations reads a one-page list.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from foodchain.allocation import Flow
from foodchain.allocation.export import kg
from foodchain.documents.pages import Page, Section, Written, file_stem, write_page
from foodchain.documents.view import PlanView
from foodchain.files.writing import write_table
from foodchain.weeks import WEEKDAYS

COLUMNS = ("pickup_day", "product", "kg", "crates", "crate_rest_kg", "pieces", "handover")
PAGE_COLUMNS = ("product", "quantity", "kg", "check")

STYLE = """
body { font-size: 10pt; }
h2 { margin: .8em 0 .3em; break-after: avoid; page-break-after: avoid; }
thead { display: table-header-group; }
section { break-inside: avoid; page-break-inside: avoid; }
th:last-child, td:last-child { width: 18mm; }
"""

Picks = list[tuple[tuple[dt.date, str, str], float]]
"""kg per (day, product, what becomes of it: the hand-over at the hub, or the farm's own
delivery)."""


def _picks(view: PlanView, farm_id: str, flows: list[Flow]) -> Picks:
    """kg per (day, product, hand-over), in the order the farmer works: the farm's harvest by
    pickup day, handed over at the hub or delivered by the farm itself (where to), and what
    its van takes at the hub for its own deliveries, on that day."""
    t = view.t
    kgs: dict[tuple[dt.date, str, str], float] = defaultdict(float)
    for f in flows:
        day, how = f.pickup_day, ""
        if f.farm_id != farm_id and f.handed_over is not None:  # taken at the hub for its round
            day = f.handed_over
            how = t(
                "take_at_hub",
                hub=view.hub_name(),
                day=t.day(day),
                farm=view.name(f.farm_id),
                delivery=t.day(f.delivery_day),
                destination=view.name(f.destination_id),
            )
        elif f.delivered_by == farm_id:
            how = t(
                "deliver_yourself",
                day=t.day(f.delivery_day),
                destination=view.name(f.destination_id),
            )
        else:
            how = handover(view, farm_id, day)
        kgs[(day, f.product_id, how)] += f.kg
    return sorted(kgs.items(), key=lambda item: (item[0][0], item[0][2], view.order(item[0][1])))


def handover(view: PlanView, farm_id: str, day: dt.date) -> str:
    """When and where the day's harvest is handed over: at the hub (its address and hours)
    if the farm brings it, else the time the van comes (and the farm's window)."""
    t = view.t
    site = view.record.sites.get(farm_id)
    if view.record.brings(farm_id, day):
        hub = view.record.sites.get(view.record.hub_id)
        hours = hub.windows.get(WEEKDAYS[day.weekday()], "") if hub else ""
        asked = site is None or not site.brings_own_produce
        return t(
            "asked_to_bring" if asked else "bring_to_hub_at",
            hub=view.hub_name(),
            address=view.where(view.record.hub_id),
            hours=hours or t("hours_missing"),
        )
    visits = view.visits(farm_id, day)
    words = view.handover(farm_id, day)
    window = site.windows.get(WEEKDAYS[day.weekday()], "") if site else ""
    if visits and window:
        return t("collected_in_window", visits=words, window=window)
    return words


def _table(view: PlanView, farm_id: str, picks: Picks) -> list[list[Any]]:
    t = view.t
    rows = []
    for (day, product, how), kilograms in picks:
        counted = view.amount(product, kg(kilograms))
        rows.append(
            [
                *(t.day(day), view.name(product), kg(kilograms)),
                counted.crates,
                counted.rest_kg if counted.crates is not None else None,
                counted.pieces,
                how,
            ]
        )
    return rows


def _day_section(view: PlanView, day: dt.date, how: str, picks: Picks) -> Section:
    t = view.t
    total = sum(kilograms for _, kilograms in picks)
    return Section(
        title=t.day(day),
        notes=[how],
        header=[t(c) for c in PAGE_COLUMNS],
        rows=[
            [
                view.name(product),
                view.amount(product, kg(kilograms)).text(t),
                t.kg(kilograms),
                "☐",
            ]
            for (_, product, _), kilograms in picks
        ],
        footer=[t("total"), "", t.kg(total), ""],
        numeric=frozenset({2}),
    )


def _page(view: PlanView, farm_id: str, picks: Picks, harvest_kg: float) -> Page:
    t = view.t
    site = view.record.sites.get(farm_id)
    lines = [t("week", week=view.record.week), view.address(farm_id)]
    if site is not None:
        lines.append(t.optional("status", site.organic_status or ""))
        brings = site.brings_own_produce
        lines.append(t("farm_brings", hub=view.hub_name()) if brings else t("farm_collected"))
        if site.direct_destinations:
            names = ", ".join(view.name(d) for d in site.direct_destinations)
            lines.append(t("farm_delivers", destinations=names))
    sections: dict[tuple[dt.date, str], Picks] = defaultdict(list)
    for pick in picks:
        sections[(pick[0][0], pick[0][2])].append(pick)
    total = t.kg(harvest_kg)
    return Page(
        title=t("title_pick_list", farm=view.name(farm_id)),
        lines=[*(line for line in lines if line), t("pick_week_total", kg=total)],
        sections=[_day_section(view, day, how, part) for (day, how), part in sections.items()],
        footer=view.footer(),
        stamp=view.stamp,
        style=STYLE,
    )


def write_pick_lists(view: PlanView, folder: Path) -> list[Written]:
    """CSV, XLSX and HTML for every farm that supplies something this week."""
    t = view.t
    by_farm: dict[str, list[Flow]] = defaultdict(list)
    for f in view.flows:
        by_farm[f.farm_id].append(f)
        if f.delivered_by and f.delivered_by != f.farm_id:  # its van takes it at the hub
            by_farm[f.delivered_by].append(f)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for farm_id, flows in sorted(by_farm.items()):
        picks = _picks(view, farm_id, flows)
        stem = folder / file_stem(farm_id)
        header, rows = [t(c) for c in COLUMNS], _table(view, farm_id, picks)
        paths = [stem.with_suffix(".csv"), stem.with_suffix(".xlsx")]
        for path in paths:
            write_table(path, header, rows, view.xlsx)
        harvest = sum(f.kg for f in flows if f.farm_id == farm_id)
        html = write_page(stem.with_suffix(".html"), _page(view, farm_id, picks, harvest), t)
        written.append(Written("index_pick_lists", view.name(farm_id), [html, *paths]))
    return written
