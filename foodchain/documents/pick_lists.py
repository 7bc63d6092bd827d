"""A pick list per farm: what to harvest and prepare each day, and for whom.

The table has a row per destination of each product and day (the allocation's flows for
different basket sizes or menu needs merged); the product's total of the day is written on the
first row of each (day, product) so the farmer reads how much to harvest, then how to split it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

from foodchain.allocation import Flow
from foodchain.allocation.export import kg
from foodchain.documents.pages import Page, Section, Written, file_stem, write_page
from foodchain.documents.view import PlanView
from foodchain.files.writing import write_table

COLUMNS = (
    *("pickup_day", "product", "day_total_kg", "kg", "units", "destination"),
    *("delivery_day", "purpose", "handover"),
)
TOTAL_COLUMNS = ("pickup_day", "product", "kg", "units", "handover")
DETAIL_COLUMNS = ("pickup_day", "product", "kg", "units", "destination", "delivery_day", "purpose")


class _Pick(NamedTuple):
    pickup_day: dt.date
    product_id: str
    destination_id: str
    delivery_day: dt.date
    purpose: str


def _picks(view: PlanView, flows: list[Flow]) -> list[tuple[_Pick, float]]:
    """kg per (day, product, destination...), in the order the farmer works."""
    kgs: dict[_Pick, float] = defaultdict(float)
    for f in flows:
        kgs[_Pick(f.pickup_day, f.product_id, f.destination_id, f.delivery_day, f.purpose)] += f.kg
    return sorted(
        kgs.items(),
        key=lambda item: (
            item[0].pickup_day,
            view.order(item[0].product_id),
            item[0].delivery_day,
            view.order(item[0].destination_id),
        ),
    )


def _day_totals(picks: list[tuple[_Pick, float]]) -> dict[tuple[dt.date, str], float]:
    totals: dict[tuple[dt.date, str], float] = defaultdict(float)
    for pick, kilograms in picks:
        totals[(pick.pickup_day, pick.product_id)] += kilograms
    return totals


def _table(view: PlanView, farm_id: str, picks: list[tuple[_Pick, float]]) -> list[list[Any]]:
    t = view.t
    totals = _day_totals(picks)
    rows, seen = [], set()
    for pick, kilograms in picks:
        key = (pick.pickup_day, pick.product_id)
        rows.append(
            [
                *(t.day(pick.pickup_day), view.name(pick.product_id)),
                None if key in seen else kg(totals[key]),
                *(kg(kilograms), view.units(pick.product_id, kilograms)),
                *(view.name(pick.destination_id), t.day(pick.delivery_day)),
                t.optional("purpose", pick.purpose),
                view.handover(farm_id, pick.pickup_day),
            ]
        )
        seen.add(key)
    return rows


def _page(view: PlanView, farm_id: str, picks: list[tuple[_Pick, float]]) -> Page:
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
                header=[t(c) for c in TOTAL_COLUMNS],
                rows=[
                    [
                        *(t.day(day), view.name(product), t.number(kilograms)),
                        view.units(product, kilograms),
                        view.handover(farm_id, day),
                    ]
                    for (day, product), kilograms in _day_totals(picks).items()
                ],
                footer=[t("total"), "", total, "", ""],
                numeric=frozenset({2}),
            ),
            Section(
                title=t("pick_detail_section"),
                header=[t(c) for c in DETAIL_COLUMNS],
                rows=[
                    [
                        *(t.day(pick.pickup_day), view.name(pick.product_id)),
                        *(t.number(kilograms), view.units(pick.product_id, kilograms)),
                        *(view.name(pick.destination_id), t.day(pick.delivery_day)),
                        t.optional("purpose", pick.purpose),
                    ]
                    for pick, kilograms in picks
                ],
                footer=[t("total"), "", total, "", "", "", ""],
                numeric=frozenset({2}),
            ),
        ],
        footer=view.footer(),
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
