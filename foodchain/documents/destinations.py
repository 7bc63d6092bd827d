"""What each destination receives: packing lists for relay points and shops, delivery notes
for canteens (:mod:`foodchain.documents.delivery_notes`).

A relay point's list says how many baskets of each size to hand over each day and what one
basket of that size holds (the contents are the same all week); a shop's and a canteen's say
which products arrive, from which farm and with which farming status, the canteen's also the
price, for its purchase records and EGalim shares.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from foodchain.allocation import BasketFill, BasketLine, Flow
from foodchain.allocation.export import kg
from foodchain.documents.delivery_notes import write_delivery_note
from foodchain.documents.pages import Page, Section, Written, file_stem, write_page
from foodchain.documents.view import PlanView
from foodchain.files.writing import write_table

RELAY_COLUMNS: tuple[str, ...] = (
    *("delivery_day", "basket_size", "baskets_due", "baskets_filled", "product"),
    *("kg_per_basket", "units_per_basket", "total_kg"),
)
SHOP_COLUMNS = ("delivery_day", "product", "kg", "units", "farm", "organic_status")
_SUMMED = ("kg", "total_kg", "amount")
_NUMERIC = (*_SUMMED, "baskets_due", "baskets_filled", "kg_per_basket", "units_per_basket", "price")

T = TypeVar("T")


def _by_day(items: Sequence[T], day: Callable[[T], dt.date]) -> dict[dt.date, list[T]]:
    out: dict[dt.date, list[T]] = defaultdict(list)
    for item in items:
        out[day(item)].append(item)
    return dict(sorted(out.items()))


def _shown(view: PlanView, value: Any) -> str:
    """A table value as printed: numbers in the reader's format, nothing for None."""
    if value is None:
        return ""
    return view.t.number(value) if isinstance(value, float) else str(value)


def _relay_rows(
    view: PlanView, fills: list[BasketFill], contents: dict[str, list[BasketLine]]
) -> list[list[Any]]:
    t = view.t
    return [
        [
            *(t.day(fill.day), view.name(fill.basket_type_id), fill.due, fill.filled),
            *(view.name(b.product_id), kg(b.kg_per_basket), b.units_per_basket),
            kg(fill.filled * b.kg_per_basket),
        ]
        for fill in fills
        for b in contents.get(fill.basket_type_id, [])
    ]


def _shop_rows(view: PlanView, flows: list[Flow]) -> list[list[Any]]:
    t = view.t
    return [
        [
            *(t.day(f.delivery_day), view.name(f.product_id), kg(f.kg)),
            *(view.units(f.product_id, f.kg), view.name(f.farm_id)),
            t.optional("status", f.organic_status),
        ]
        for f in flows
    ]


def _day_section(
    view: PlanView,
    site_id: str,
    day: dt.date,
    columns: Sequence[str],
    rows: list[list[Any]],
    notes: Sequence[str] = (),
) -> Section:
    """The day's rows without their day column, with totals and when the delivery comes."""
    t = view.t
    footer = [t("total")] + [
        _shown(view, sum(r[i] for r in rows)) if c in _SUMMED else ""
        for i, c in enumerate(columns)
        if i > 1
    ]
    return Section(
        title=t.day(day),
        notes=[view.delivery(site_id, day), *notes],
        header=[t(c) for c in columns[1:]],
        rows=[[_shown(view, c) for c in r[1:]] for r in rows],
        footer=footer,
        numeric=frozenset(i - 1 for i, c in enumerate(columns) if c in _NUMERIC),
    )


def _shortfalls(view: PlanView, site_id: str) -> list[Section]:
    t = view.t
    lines = [
        t("shortfall_line", item=view.name(s.item_id), day=t.day(s.day), kg=t.number(s.kg))
        for s in sorted(view.record.shortfalls, key=lambda s: (s.day, s.item_id))
        if s.destination_id == site_id and kg(s.kg) > 0
    ]
    return [Section(title=t("shortfalls"), notes=lines)] if lines else []


def _relay_notes(view: PlanView, site_id: str, day: dt.date, fills: list[BasketFill]) -> list[str]:
    """The baskets to hand over that day, and the sizes not all subscribers get."""
    dropped = [line.text(view.t) for line in view.dropped(site_id, day) if line.baskets]
    return dropped + [
        view.t("baskets_short", name=view.name(f.basket_type_id), due=f.due, filled=f.filled)
        for f in fills
        if f.filled < f.due
    ]


def write_destination_documents(
    view: PlanView, packing_folder: Path, notes_folder: Path
) -> list[Written]:
    """Packing lists for relay points and shops, delivery notes for canteens, receiving goods."""
    t, record = view.t, view.record
    received: dict[tuple[str, str], list[Flow]] = defaultdict(list)
    for f in view.flows:
        received[(f.destination_id, f.purpose)].append(f)
    contents: dict[str, list[BasketLine]] = defaultdict(list)
    for b in sorted(record.baskets, key=lambda b: view.order(b.product_id)):
        contents[b.basket_type_id].append(b)
    written = []
    for (site_id, purpose), flows in sorted(received.items()):
        flows.sort(key=lambda f: (f.delivery_day, view.order(f.product_id), view.order(f.farm_id)))
        if purpose == "canteen":
            extra = _shortfalls(view, site_id)
            written.append(write_delivery_note(view, site_id, flows, notes_folder, extra))
            continue
        sections: list[Section] = []
        columns: Sequence[str]
        if purpose == "basket":
            fills = sorted(
                (f for f in record.fills if f.relay_point_id == site_id),
                key=lambda f: (f.day, view.order(f.basket_type_id)),
            )
            columns, rows = RELAY_COLUMNS, _relay_rows(view, fills, contents)
            for day, day_fills in _by_day(fills, lambda f: f.day).items():
                day_rows = _relay_rows(view, day_fills, contents)
                notes = _relay_notes(view, site_id, day, day_fills)
                sections.append(_day_section(view, site_id, day, columns, day_rows, notes))
        else:
            columns, rows = SHOP_COLUMNS, _shop_rows(view, flows)
            sections = [
                _day_section(view, site_id, day, columns, _shop_rows(view, day_flows))
                for day, day_flows in _by_day(flows, lambda f: f.delivery_day).items()
            ]
        packing_folder.mkdir(parents=True, exist_ok=True)
        stem = packing_folder / file_stem(site_id)
        csv = stem.with_suffix(".csv")
        write_table(csv, [t(c) for c in columns], rows)
        lines = [t("week", week=record.week), view.where(site_id), view.contact(site_id)]
        page = Page(
            title=t("title_packing_list", site=view.name(site_id)),
            lines=lines,
            sections=sections,
            footer=view.footer(),
            stamp=view.stamp,
        )
        html = write_page(stem.with_suffix(".html"), page, t)
        written.append(Written("index_packing_lists", view.name(site_id), [html, csv]))
    return written
