"""index.html: the coordinator's entry to the week's documents, with the week's main figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from foodchain.documents.i18n import Language
from foodchain.documents.pages import Cell, Link, Page, Section, Written, write_page
from foodchain.documents.view import PlanView

SECTIONS = (
    "index_data",
    "index_map",
    "index_route_sheets",
    "index_pick_lists",
    "index_hub_packing",
    "index_packing_lists",
    "index_delivery_notes",
)


def _figures(t: Language, kpis: dict[str, Any]) -> list[str]:
    """The week's headline figures, when the record holds its KPIs."""
    if not kpis:
        return []
    fulfilment, transport = kpis["fulfilment"], kpis["transport"]
    canteens, baskets = fulfilment["canteens"], fulfilment["baskets"]
    return [
        t(
            "kpi_canteens",
            delivered=t.number(canteens["delivered_kg"], 1),
            demand=t.number(canteens["demand_kg"], 1),
            share=t.percent(canteens["share"]),
        ),
        t(
            "kpi_baskets",
            filled=baskets["filled"],
            due=baskets["due"],
            share=t.percent(baskets["share"]),
        ),
        t("kpi_shops", kg=t.number(fulfilment["shops"]["kg"], 1)),
        t(
            "kpi_transport",
            trips=transport["trips"],
            km=t.number(transport["km"], 1),
            co2=t.number(transport["co2_kg"], 1),
        ),
    ]


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
        lines=_figures(t, view.record.kpis),
        sections=_unserved(view) + sections,  # what did not go to plan comes first
        footer=view.footer(),
    )
    return write_page(folder / "index.html", page, t)
