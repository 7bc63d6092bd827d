"""index.html: the coordinator's entry to the week's documents, with the week's main figures:
first the stops the rounds leave out, then what is delivered (not what is allocated)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from foodchain.documents.i18n import Language
from foodchain.documents.pages import Cell, Link, Page, Section, Written, write_page
from foodchain.documents.view import PlanView
from foodchain.plan.record import PlanRecord

SECTIONS = (
    "index_data",
    "index_map",
    "index_route_sheets",
    "index_pick_lists",
    "index_hub_packing",
    "index_packing_lists",
    "index_delivery_notes",
)


@dataclass(frozen=True)
class Delivered:
    """What the rounds deliver, from the record: produce allocated to a delivery the rounds
    leave out, or collected at a farm they leave out, does not arrive."""

    left_out: int
    """Mandatory stops the rounds leave out (collections and deliveries)."""
    left_out_kg: float
    dropped: int
    """Optional stops (partner shops) left out."""
    canteens_kg: float
    canteens_allocated_kg: float
    canteen_demand_kg: float
    baskets: int
    baskets_filled: int
    baskets_due: int
    shops_kg: float
    shops_allocated_kg: float


def delivered(record: PlanRecord) -> Delivered:
    mandatory = record.unserved_mandatory()
    missed = {(u.site_id, u.day) for u in record.unserved if u.action == "delivery"}
    not_collected = {(u.site_id, u.day) for u in record.unserved if u.action == "pickup"}
    allocated: dict[str, float] = defaultdict(float)
    arrived: dict[str, float] = defaultdict(float)
    for flow in record.flows:
        allocated[flow.purpose] += flow.kg
        lost = (flow.destination_id, flow.delivery_day) in missed or (
            (flow.farm_id, flow.pickup_day) in not_collected
        )
        arrived[flow.purpose] += 0.0 if lost else flow.kg
    return Delivered(
        left_out=len(mandatory),
        left_out_kg=sum(u.kg for u in mandatory),
        dropped=len(record.unserved) - len(mandatory),
        canteens_kg=arrived["canteen"],
        canteens_allocated_kg=allocated["canteen"],
        canteen_demand_kg=record.canteen_demand_kg,
        baskets=sum(f.filled for f in record.fills if (f.relay_point_id, f.day) not in missed),
        baskets_filled=sum(f.filled for f in record.fills),
        baskets_due=sum(f.due for f in record.fills),
        shops_kg=arrived["shop"],
        shops_allocated_kg=allocated["shop"],
    )


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole > 1e-9 else None


def _figures(t: Language, record: PlanRecord) -> list[str]:
    """The week's headline figures: the stops left out first, then what is delivered (not
    what is allocated, said beside it when the two differ), then transport."""
    d = delivered(record)
    lines = [
        t("kpi_left_out", count=d.left_out, kg=t.number(d.left_out_kg, 1))
        if d.left_out
        else t("kpi_left_out_none")
    ]
    if d.dropped:
        lines.append(t("kpi_dropped", count=d.dropped))
    canteens = t(
        "kpi_canteens",
        delivered=t.number(d.canteens_kg, 1),
        demand=t.number(d.canteen_demand_kg, 1),
        share=t.percent(_share(d.canteens_kg, d.canteen_demand_kg)),
    )
    if d.canteens_allocated_kg - d.canteens_kg > 0.05:
        canteens += t("kpi_allocated_kg", kg=t.number(d.canteens_allocated_kg, 1))
    baskets = t(
        "kpi_baskets",
        delivered=d.baskets,
        due=d.baskets_due,
        share=t.percent(_share(d.baskets, d.baskets_due)),
    )
    if d.baskets_filled != d.baskets:
        baskets += t("kpi_allocated_baskets", filled=d.baskets_filled)
    shops = t("kpi_shops", kg=t.number(d.shops_kg, 1))
    if d.shops_allocated_kg - d.shops_kg > 0.05:
        shops += t("kpi_allocated_kg", kg=t.number(d.shops_allocated_kg, 1))
    lines += [canteens, baskets, shops]
    transport = record.kpis.get("transport")
    if transport:
        lines.append(
            t(
                "kpi_transport",
                trips=transport["trips"],
                km=t.number(transport["km"], 1),
                co2=t.number(transport["co2_kg"], 1),
            )
        )
    return lines


def _unserved(view: PlanView) -> list[Section]:
    t, record = view.t, view.record
    if not record.unserved:
        return []
    return [
        Section(
            title=t("index_unserved"),
            header=[t(c) for c in ("day", "site", "action", "kg", "explanation")],
            rows=[
                [
                    t.day(u.day),
                    view.name(u.site_id),
                    t.optional("action", u.action),
                    t.number(u.kg),
                    u.explanation,
                ]
                for u in sorted(record.unserved, key=lambda u: (u.day, u.site_id))
            ],
            numeric=frozenset({3}),
        )
    ]


def write_index(view: PlanView, folder: Path, documents: Sequence[Written]) -> Path:
    """Link every document, grouped by who reads it."""
    t = view.t
    grouped: dict[str, list[Written]] = defaultdict(list)
    for document in documents:
        grouped[document.section].append(document)
    sections = []
    for key in SECTIONS:
        if not grouped[key]:
            continue
        rows: list[list[Cell]] = [
            [
                document.label,
                [
                    Link(p.suffix[1:].upper(), p.relative_to(folder).as_posix())
                    for p in document.paths
                ],
            ]
            for document in grouped[key]
        ]
        sections.append(Section(title=t(key), header=[t("document"), t("files")], rows=rows))
    page = Page(
        title=t("title_index", week=view.record.week),
        lines=_figures(t, view.record),
        sections=_unserved(view) + sections,  # what did not go to plan comes first
        footer=view.footer(),
        stamp=view.stamp,
    )
    return write_page(folder / "index.html", page, t)
