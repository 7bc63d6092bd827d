"""A pick list per farm: what to harvest and prepare each day, and how it reaches the hub.

One row per pickup day and product, as the farmer works: how much, and how it is handed over
(collected at a time, or brought to the hub). Where each kilo goes is the hub's business (the
packing lists, delivery notes and ``allocation.csv``), not the farmer's: a farm supplying 60
destinations reads a one-page list, and the region's 300 lists are written 20 times faster
than with a row per destination.
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

COLUMNS = ("pickup_day", "product", "kg", "units", "handover")

Picks = list[tuple[tuple[dt.date, str], float]]


def _picks(view: PlanView, flows: list[Flow]) -> Picks:
    """kg per (pickup day, product), in the order the farmer works."""
    kgs: dict[tuple[dt.date, str], float] = defaultdict(float)
    for f in flows:
        kgs[(f.pickup_day, f.product_id)] += f.kg
    return sorted(kgs.items(), key=lambda item: (item[0][0], view.order(item[0][1])))


def _table(view: PlanView, farm_id: str, picks: Picks) -> list[list[Any]]:
    t = view.t
    return [
        [
            *(t.day(day), view.name(product), kg(kilograms)),
            *(view.units(product, kilograms), view.handover(farm_id, day)),
        ]
        for (day, product), kilograms in picks
    ]


def _page(view: PlanView, farm_id: str, picks: Picks) -> Page:
    t = view.t
    site = view.record.sites.get(farm_id)
    lines = [t("week", week=view.record.week), view.address(farm_id)]
    if site is not None:
        lines.append(t.optional("status", site.organic_status or ""))
        brings = site.brings_own_produce
        lines.append(t("farm_brings", hub=view.hub_name()) if brings else t("farm_collected"))
    total = t.number(sum(kilograms for _, kilograms in picks))
    return Page(
        title=t("title_pick_list", farm=view.name(farm_id)),
        lines=[line for line in lines if line],
        sections=[
            Section(
                title=t("pick_total_section"),
                header=[t(c) for c in COLUMNS],
                rows=[
                    [
                        *(t.day(day), view.name(product), t.number(kilograms)),
                        view.units(product, kilograms),
                        view.handover(farm_id, day),
                    ]
                    for (day, product), kilograms in picks
                ],
                footer=[t("total"), "", total, "", ""],
                numeric=frozenset({2}),
            ),
        ],
        footer=view.footer(),
        stamp=view.stamp,
    )


def write_pick_lists(view: PlanView, folder: Path) -> list[Written]:
    """CSV, XLSX and HTML for every farm that supplies something this week."""
    t = view.t
    by_farm: dict[str, list[Flow]] = defaultdict(list)
    for f in view.flows:
        by_farm[f.farm_id].append(f)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for farm_id, flows in sorted(by_farm.items()):
        picks = _picks(view, flows)
        stem = folder / file_stem(farm_id)
        header, rows = [t(c) for c in COLUMNS], _table(view, farm_id, picks)
        paths = [stem.with_suffix(".csv"), stem.with_suffix(".xlsx")]
        for path in paths:
            write_table(path, header, rows)
        html = write_page(stem.with_suffix(".html"), _page(view, farm_id, picks), t)
        written.append(Written("index_pick_lists", view.name(farm_id), [html, *paths]))
    return written
