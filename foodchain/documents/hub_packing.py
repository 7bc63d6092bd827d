"""The hub's packing sheet: what to prepare for each destination, in loading order.

The farms' pick lists say what to harvest; this sheet is where each kilo goes. A section per
delivery day; its rows follow the rounds (vehicle, trip, stop) so that the crates are packed in
the order they are loaded: per destination, the baskets of each size (their contents are on
the relay point's packing list) or each product with the farm and pickup day it comes from
(the lot), in crates or pieces and kg. With ``settings.hub_work``, each day also has the
packers' schedule (who packs what, from when to when, once which goods are in, for which
departure) and the week ends with the crates count per site (delivered, empties taken back,
still out there). What a farm delivers itself from its farm is not at the hub; other farms'
produce for it is handed to its van on its day at the hub (a line of that day, before the
rounds).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from foodchain.allocation import Flow
from foodchain.allocation.export import kg
from foodchain.crates import crate_counts
from foodchain.documents.pages import Page, Section, Written, write_page
from foodchain.documents.view import PlanView
from foodchain.files.writing import write_table
from foodchain.plan.record import PackingRow
from foodchain.weeks import clock

COLUMNS = (
    *("delivery_day", "round", "destination", "item", "farm", "pickup_day", "kg"),
    *("crates", "crate_rest_kg", "pieces", "baskets"),
)
PAGE_COLUMNS = ("round", "destination", "item", "farm", "quantity", "kg", "check")
SCHEDULE_COLUMNS = ("packer", "time_slot", "destination", "to_pack", "goods_in", "loads", "check")
SCHEDULE_CSV = (
    *("delivery_day", "packer", "start", "end", "destination", "part", "farm"),
    *("baskets", "crates", "goods_in", "vehicle", "trip", "loading"),
)
CRATE_COLUMNS = ("site", "crates_out_before", "crates_delivered", "crates_returned", "crates_out")

STYLE = """
body { font-size: 9.5pt; }
h2 { break-after: avoid; page-break-after: avoid; }
thead { display: table-header-group; }
section + section { break-before: page; page-break-before: always; }
th:last-child, td:last-child { width: 14mm; }
"""

Key = tuple[str, str, str, dt.date, str]
"""destination, product or basket size, farm ('' for baskets), pickup day, and the farm whose
van takes it at the hub for its own round ('' for the hub's rounds)."""


def _round(
    view: PlanView, site_id: str, day: dt.date, carrier: str = ""
) -> tuple[tuple[Any, ...], str]:
    """Sort key and words of the first visit delivering ``site_id`` that day (or of the hand
    over to ``carrier``'s van, the farm that delivers the site itself)."""
    if carrier:
        words = view.t("handed_over_words", farm=view.name(carrier), destination=view.name(site_id))
        return (0, "", 0, 0), words
    visits = [v for v in view.visits(site_id, day) if v.action == "delivery"]
    if not visits:
        return (1, "", 0, 0), view.t("not_planned")
    v = min(visits, key=lambda r: (r.vehicle_id, r.trip, r.seq))
    words = view.t(
        "round_words", vehicle=v.vehicle_id, trip=v.trip, seq=v.seq, time=clock(v.arrival)
    )
    return (0, v.vehicle_id, v.trip, v.seq), words


def _lines(view: PlanView, flows: list[Flow]) -> dict[dt.date, list[tuple[Key, float]]]:
    """kg per delivery day and line, in loading order."""
    days: dict[dt.date, dict[Key, float]] = defaultdict(lambda: defaultdict(float))
    for f in flows:
        if f.delivered_by == f.farm_id:
            continue  # a farm's own delivery, from the farm: never at the hub
        if f.handed_over is not None:  # into the delivering farm's van, as crates of produce
            key = (f.destination_id, f.product_id, f.farm_id, f.pickup_day, f.delivered_by)
            days[f.handed_over][key] += f.kg
            continue
        if f.purpose == "basket":
            key = (f.destination_id, f.item_id, "", f.delivery_day, "")
        else:
            key = (f.destination_id, f.product_id, f.farm_id, f.pickup_day, "")
        days[f.delivery_day][key] += f.kg
    out = {}
    for day in sorted(days):
        out[day] = sorted(
            days[day].items(),
            key=lambda line: (
                _round(view, line[0][0], day, line[0][4])[0],
                view.order(line[0][0]),
                view.order(line[0][1]),
                view.order(line[0][2]),
            ),
        )
    return out


def _departure(view: PlanView, job: PackingRow) -> tuple[str, int, float] | None:
    """(vehicle, trip, loading start) of the trip delivering the packed visit."""
    for (day, vehicle, trip), rows in view.trips.items():
        if day == job.day and any(
            r.action == "delivery" and r.site_id == job.site_id and r.part == job.part for r in rows
        ):
            return vehicle, trip, rows[0].arrival
    return None


def _schedule(view: PlanView, day: dt.date) -> tuple[Section | None, list[list[Any]]]:
    """The packers' schedule of ``day``: a page section and the CSV rows."""
    t, record = view.t, view.record
    jobs = sorted((j for j in record.packing if j.day == day), key=lambda j: (j.packer, j.start))
    if not jobs:
        return None, []
    baskets: dict[str, int] = defaultdict(int)
    for fill in record.fills:
        if fill.day == day:
            baskets[fill.relay_point_id] += fill.filled
    page_rows, csv_rows = [], []
    for job in jobs:
        source = view.name(job.farm_id) if job.farm_id else t("source_at_hub")
        what = []
        if job.baskets > 1e-9:
            what.append(t("pack_baskets", n=baskets.get(job.site_id, 0), source=source))
        if job.crates > 1e-9:
            key = "pack_crate" if round(job.crates) <= 1 else "pack_crates"
            what.append(t(key, n=t.number(job.crates, 0), source=source))
        departure = _departure(view, job)
        loads = (
            t("loads_with", vehicle=departure[0], trip=departure[1], time=clock(departure[2]))
            if departure
            else t("not_planned")
        )
        site = view.name(job.site_id)
        if job.parts > 1:
            site = f"{site} ({job.part}/{job.parts})"
        page_rows.append(
            [
                t("packer_n", n=job.packer),
                f"{clock(job.start)}-{clock(job.end)}",
                site,
                what,
                clock(job.ready),
                loads,
                "☐",
            ]
        )
        trip: list[Any] = [None, None, None]
        if departure:
            trip = [departure[0], departure[1], clock(departure[2])]
        csv_rows.append(
            [
                *(t.day(day), job.packer, clock(job.start), clock(job.end)),
                *(view.name(job.site_id), job.part, view.name(job.farm_id) if job.farm_id else ""),
                *(round(job.baskets, 2), round(job.crates, 2), clock(job.ready), *trip),
            ]
        )
    section = Section(
        title=t("packing_schedule", day=t.day(day)),
        header=[t(c) for c in SCHEDULE_COLUMNS],
        rows=page_rows,
    )
    return section, csv_rows


def _crates(view: PlanView) -> tuple[Section | None, list[list[Any]]]:
    """The week's crates per site delivered: a page section and the CSV rows."""
    t = view.t
    counts = [c for c in crate_counts(view.record.stops) if c.delivered]
    if not counts or not any(r.empties for r in view.record.stops):
        return None, []
    rows: list[list[Any]] = [
        [view.name(c.site_id), c.out_before, c.delivered, c.returned, c.out_after]
        for c in sorted(counts, key=lambda c: view.order(c.site_id))
    ]
    section = Section(
        title=t("crates_title"),
        notes=[t("crates_note")],
        header=[t(c) for c in CRATE_COLUMNS],
        rows=[[str(x) for x in row] for row in rows],
        numeric=frozenset({1, 2, 3, 4}),
    )
    return section, rows


def write_hub_packing(view: PlanView, folder: Path) -> list[Written]:
    """``hub.html`` and ``hub.csv``: the week's packing sheet of the hub (none without goods)."""
    t, record = view.t, view.record
    if not _lines(view, view.flows):
        return []
    filled = {(f.relay_point_id, f.day, f.basket_type_id): f.filled for f in record.fills}
    rows: list[list[Any]] = []
    schedule_rows: list[list[Any]] = []
    sections = []
    for day, lines in _lines(view, view.flows).items():
        page_rows = []
        for (site, item, farm, picked, carrier), total in lines:
            words = _round(view, site, day, carrier)[1]
            if farm:
                counted = view.amount(item, kg(total))
                quantity = counted.text(t)
                numbers = [counted.crates, counted.rest_kg if counted.crates is not None else None]
                numbers += [counted.pieces, None]
                lot = [view.name(farm), t("lot", day=t.day(picked))]
            else:
                baskets = filled.get((site, day, item), 0)
                quantity = t("basket_count", n=baskets)
                numbers = [None, None, None, baskets]
                lot = [""]
            rows.append(
                [
                    *(t.day(day), words, view.name(site), view.name(item)),
                    *(view.name(farm) if farm else "", t.day(picked) if farm else ""),
                    kg(total),
                    *numbers,
                ]
            )
            page_rows.append(
                [words, view.name(site), view.name(item), lot, quantity, t.kg(total), "☐"]
            )
        total_kg = sum(total for _, total in lines)
        sections.append(
            Section(
                title=t.day(day),
                header=[t(c) for c in PAGE_COLUMNS],
                rows=page_rows,
                footer=[t("total"), "", "", "", "", t.kg(total_kg), ""],
                numeric=frozenset({5}),
            )
        )
        schedule, day_rows = _schedule(view, day)
        if schedule is not None:
            sections.append(schedule)
            schedule_rows += day_rows
    crates, crate_rows = _crates(view)
    if crates is not None:
        sections.append(crates)
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "hub.csv"
    write_table(csv, [t(c) for c in COLUMNS], rows)
    files = [csv]
    if schedule_rows:
        files.append(folder / "hub_schedule.csv")
        write_table(files[-1], [t(c) for c in SCHEDULE_CSV], schedule_rows)
    if crate_rows:
        files.append(folder / "crates.csv")
        write_table(files[-1], [t(c) for c in CRATE_COLUMNS], crate_rows)
    page = Page(
        title=t("title_hub_packing", hub=view.hub_name()),
        lines=[t("week", week=record.week), t("hub_packing_intro")],
        sections=sections,
        footer=view.footer(),
        stamp=view.stamp,
        wide=True,
        style=STYLE,
    )
    html = write_page(folder / "hub.html", page, t)
    return [Written("index_hub_packing", view.hub_name(), [html, *files])]
