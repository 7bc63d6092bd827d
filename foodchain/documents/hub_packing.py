"""The hub's packing sheet: what to prepare for each destination, in loading order.

The farms' pick lists say what to harvest; this sheet is where each kilo goes. A section per
delivery day; its rows follow the rounds (vehicle, trip, stop) so that the crates are packed in
the order they are loaded: per destination, the baskets of each size (their contents are on
the relay point's packing list) or each product with the farm and pickup day it comes from
(the lot), in crates or pieces and kg. What a farm delivers itself from its farm is not at
the hub; other farms' produce for it is handed to its van on its day at the hub (a line of
that day, before the rounds).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from foodchain.allocation import Flow
from foodchain.allocation.export import kg
from foodchain.documents.pages import Page, Section, Written, write_page
from foodchain.documents.view import PlanView
from foodchain.files.writing import write_table
from foodchain.weeks import clock

COLUMNS = (
    *("delivery_day", "round", "destination", "item", "farm", "pickup_day", "kg"),
    *("crates", "crate_rest_kg", "pieces", "baskets"),
)
PAGE_COLUMNS = ("round", "destination", "item", "farm", "quantity", "kg", "check")

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


def write_hub_packing(view: PlanView, folder: Path) -> list[Written]:
    """``hub.html`` and ``hub.csv``: the week's packing sheet of the hub (none without goods)."""
    t, record = view.t, view.record
    if not _lines(view, view.flows):
        return []
    filled = {(f.relay_point_id, f.day, f.basket_type_id): f.filled for f in record.fills}
    rows: list[list[Any]] = []
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
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "hub.csv"
    write_table(csv, [t(c) for c in COLUMNS], rows)
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
    return [Written("index_hub_packing", view.hub_name(), [html, csv])]
