"""A route sheet per driver and day: where to go in which order, when, and what to take or drop.

Printed, each trip is one A4 landscape page when it fits (a longer one runs on with its header
row repeated): per stop the address (or a statement that it is not known), who to ask for,
access notes, the time window, what to load or unload in crates, pieces and kg (and how many
empty crates to take back, with ``settings.hub_work``), links that
open the place in a phone's maps app, and a box to tick or sign. A QR code per trip opens the
whole itinerary in a phone's navigation.

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
from urllib.parse import urlencode

import segno
from markupsafe import Markup

from foodchain.allocation.export import kg
from foodchain.documents.pages import Cell, Link, Page, Section, Written, file_stem, write_page
from foodchain.documents.view import Line, PlanView
from foodchain.files.writing import write_table
from foodchain.plan.record import StopRow
from foodchain.weeks import clock

CSV_COLUMNS = (
    *("trip", "seq", "action", "site", "address", "commune", "arrival", "departure", "window"),
    *("part", "stop_pickup_kg", "stop_delivery_kg", "item", "kg", "baskets", "units"),
    *("load_kg", "km"),
    *("crates", "crate_rest_kg", "pieces", "postcode", "contact", "phone_number", "access_notes"),
    "map_link",
    "empties_back",
)
PAGE_COLUMNS = ("seq", "arrival", "site", "what", "sheet_load_kg", "sheet_km", "check")

LINES_IN_TWO_COLUMNS = 4
"""A stop with more product lines than this lists them in two columns (a relay point's
baskets and a shop's crates would otherwise make the row taller than the page)."""

STYLE = """
body { font-size: 9.5pt; }
h1 { font-size: 14pt; margin: 0 0 .2em; }
h2 { font-size: 11.5pt; margin: .5em 0 .2em; break-after: avoid; page-break-after: avoid; }
p { margin: .1em 0; }
table { margin: .2em 0 .4em; table-layout: fixed; }
thead { display: table-header-group; }
tfoot { display: table-row-group; }
section + section { break-before: page; page-break-before: always; }
th, td { padding: 2px 4px; }
th.num { white-space: normal; }
th:nth-child(1) { width: 9mm; }
th:nth-child(2) { width: 20mm; }
th:nth-child(3) { width: 27%; }
th:nth-child(5) { width: 15mm; }
th:nth-child(6) { width: 11mm; }
th:nth-child(7) { width: 18mm; }
.lines { columns: 2; column-gap: 12px; }
.lines span { display: block; break-inside: avoid; }
.qr { display: inline-block; margin: 2px 8px 0 0; text-align: center; font-size: 7.5pt; }
.qr svg { display: block; margin: 0 auto; }
@media print { body { font-size: 8.5pt; line-height: 1.2; } }
"""

QR_SCALE = 1.6
"""CSS pixels per QR module: 0.42 mm printed, which phone cameras read at arm's length, and
a trip of seven stops (a version 9 code) 24 mm wide."""

ITINERARY_POINTS = 11
"""Places one itinerary link holds: an origin, a destination and 9 waypoints (the most the
maps apps take); a longer trip gets a QR code per leg."""


def _place(view: PlanView, row: StopRow, trip: list[StopRow]) -> list[str | Link]:
    """Name, address or its absence, contact or its absence, access notes, map links; at
    the departure, the QR codes of the trip's itinerary (the row is short there, and a code
    above the table would cost a band of the page)."""
    lines: list[str | Link] = [view.name(row.site_id)]
    if row.action == "depart":  # the hub: the driver starts there, with the trip's QR codes
        return lines + _qr(view, trip)
    if row.action != "pickup" and row.action != "delivery":
        return lines
    place: list[str] = view.where_and_who(row.site_id)
    access = view.access(row.site_id)
    if access:
        place.append(access)
    links = view.navigation(row.site_id)
    if links:  # at the end of the last line, a row shorter by a line
        nav = Markup(" · ").join(
            Markup('<a href="{}">{}</a>').format(a.href, a.text) for a in links
        )
        place[-1] = Markup('{} <span class="nav">· {}</span>').format(place[-1], nav)
    return lines + place


def _line_text(view: PlanView, line: Line) -> str:
    t = view.t
    if line.baskets is not None:
        return t("basket_line", name=line.label, count=line.baskets, kg=t.kg(line.kg))
    if line.amount is None:
        return line.text(t)
    return t("product_amount_line", name=line.label, amount=line.amount.text(t, brief=True))


def _what(view: PlanView, row: StopRow, trip: list[StopRow]) -> list[str]:
    t = view.t
    if row.action == "depart":  # each stop's lines are below; the hub's sheet lists them all
        delivered = sum(r.delivery_kg for r in trip if r.action == "delivery")
        if delivered <= 0:
            return []
        return [t("load_for_trip", time=clock(row.arrival), kg=t.kg(delivered))]
    if row.action == "return":  # what was collected, each line listed at its stop above
        collected = sum(r.pickup_kg for r in trip if r.action == "pickup")
        if collected <= 0:
            return [view.action(row)]
        return [t("unload_collected", kg=t.kg(collected))]
    action = t("action_words", action=t.optional("action", row.action), kg=view.stop_words(row))
    if row.empties:
        action = t("and_take_empties", action=action, n=row.empties)
    lines = [_line_text(view, line) for line in view.stop_lines(row)]
    if len(lines) > LINES_IN_TWO_COLUMNS:
        spans = Markup("").join(Markup("<span>{}</span>").format(line) for line in lines)
        return [action, *_cold_line(view, row), Markup('<div class="lines">{}</div>').format(spans)]
    return [action, *_cold_line(view, row), *lines]


def _page_row(view: PlanView, row: StopRow, trip: list[StopRow]) -> list[Cell]:
    t = view.t
    window = view.window(row)
    time = [clock(row.departure if row.action == "depart" else row.arrival)]
    if window and row.action in ("pickup", "delivery"):
        time.append(t("window_short", window=window))
    return [
        str(row.seq),
        time,
        _place(view, row, trip),
        _what(view, row, trip),
        t.kg(row.load_kg),
        t.number(row.km, 1),
        "☐",
    ]


def itinerary_links(view: PlanView, rows: list[StopRow]) -> list[str]:
    """Links that open the trip in a phone's navigation, hub to hub, a leg per 11 places."""
    points: list[str] = []
    for row in rows:
        site = view.record.sites.get(row.site_id)
        if site is None:
            continue
        point = f"{site.lat:.5f},{site.lon:.5f}"
        if not points or points[-1] != point:
            points.append(point)
    if len(points) < 2:
        return []
    links = []
    step = ITINERARY_POINTS - 1
    for start in range(0, len(points) - 1, step):
        leg = points[start : start + ITINERARY_POINTS]
        query = {"api": "1", "origin": leg[0], "destination": leg[-1], "travelmode": "driving"}
        if len(leg) > 2:
            query["waypoints"] = "|".join(leg[1:-1])
        links.append("https://www.google.com/maps/dir/?" + urlencode(query, safe=",|"))
    return links


def _pause(view: PlanView, rows: list[StopRow]) -> list[str]:
    """The driver's legal break at the hub after this trip, when there is one."""
    pause = rows[-1].pause
    if pause is None:
        return []
    minutes = round(pause[1] - pause[0])
    return [view.t("pause_after", start=clock(pause[0]), end=clock(pause[1]), minutes=minutes)]


def _cold(view: PlanView, rows: list[StopRow]) -> list[str]:
    """The trip's cold goods: which, kept closed in the cold body, and by when (each stop
    marked ❄ says its time)."""
    if not rows[0].cold:
        return []
    return [view.t("cold_trip", classes=_classes(view, rows[0]))]


def _classes(view: PlanView, row: StopRow) -> str:
    return ", ".join(view.name(c) for c in row.cold)


def _cold_line(view: PlanView, row: StopRow) -> list[str]:
    """❄ on a stop whose goods have a time on board: deliver (or unload at the hub) by then."""
    if row.on_board_until is None or row.max_minutes_on_board is None:
        return [view.t("cold_stop", classes=_classes(view, row))] if row.cold else []
    key = "cold_deliver_by" if row.action == "delivery" else "cold_unload_by"
    return [
        view.t(
            key,
            classes=_classes(view, row),
            time=clock(row.on_board_until),
            minutes=round(row.max_minutes_on_board),
        )
    ]


def _qr(view: PlanView, rows: list[StopRow]) -> list[str]:
    """A QR code per leg of the itinerary, with its caption, as inline SVG."""
    links = itinerary_links(view, rows)
    out: list[str] = []
    for number, link in enumerate(links, start=1):
        code = segno.make(link, error="l", micro=False)
        svg = Markup(code.svg_inline(scale=QR_SCALE, border=2))
        caption = view.t("qr_caption") if len(links) == 1 else view.t("qr_leg", n=number)
        out.append(
            Markup('<span class="qr">{svg}<a href="{href}">{caption}</a></span>').format(
                svg=svg, href=link, caption=caption
            )
        )
    return out


def _trip_section(view: PlanView, trip: int, rows: list[StopRow]) -> Section:
    t = view.t
    km = t.number(sum(r.km for r in rows), 1)
    picked = t.kg(sum(r.pickup_kg for r in rows))
    dropped = t.kg(sum(r.delivery_kg for r in rows))
    return Section(
        title=t(
            "trip_title",
            trip=trip,
            departure=clock(rows[0].departure),
            back=clock(rows[-1].arrival),
            km=km,
        ),
        notes=[*_cold(view, rows), *_pause(view, rows)],
        header=[t(c) for c in PAGE_COLUMNS],
        rows=[_page_row(view, r, rows) for r in rows],
        footer=["", "", t("total"), t("trip_total", picked=picked, dropped=dropped), "", km, ""],
        numeric=frozenset({0, 4, 5}),
    )


def _csv_rows(view: PlanView, row: StopRow) -> list[list[Any]]:
    site = view.record.sites.get(row.site_id)
    links = view.navigation(row.site_id)
    stop = [
        *(row.trip, row.seq, view.action(row), view.name(row.site_id)),
        *(site.address if site else "", site.commune if site else ""),
        *(clock(row.arrival), clock(row.departure), view.window(row)),
        f"{row.part}/{row.parts}" if row.parts > 1 else "",
        kg(row.pickup_kg) if row.action == "pickup" else None,
        kg(row.delivery_kg) if row.action == "delivery" else None,
    ]
    place = [
        *(site.postcode if site else "", site.contact_name if site else ""),
        *(site.phone if site else "", site.access_notes if site else ""),
        links[-1].href if links else "",
    ]
    lines: list[Line | None] = [*view.stop_lines(row)] or [None]
    out = []
    for index, line in enumerate(lines):
        cells = stop if index == 0 else [row.trip, row.seq, *[None] * (len(stop) - 2)]
        item = [line.label, line.kg, line.baskets, line.units] if line else [None] * 4
        tail = [kg(max(row.load_kg, 0.0)), kg(row.km)] if index == 0 else [None, None]
        counted = line.amount if line else None
        units: list[float | None] = [None, None, None]
        if counted:
            rest = counted.rest_kg if counted.crates is not None else None
            units = [counted.crates, rest, counted.pieces]
        empties = [row.empties if index == 0 and row.action == "delivery" else None]
        out.append([*cells, *item, *tail, *units, *(place if index == 0 else [None] * 5), *empties])
    return out


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
            lines=[*vehicle_lines, summary],
            sections=[_trip_section(view, trip, rows) for trip, rows in trips],
            footer=view.footer(),
            stamp=view.stamp,
            wide=True,
            style=STYLE,
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
