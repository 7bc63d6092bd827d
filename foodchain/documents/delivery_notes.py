"""A canteen's delivery note: what its receiving desk signs and files with its purchases.

Its number is unique per run and canteen (``BL-2026W49-R3-mat_basly``). It names the supplier
(the scenario's ``settings.supplier``: name, address, SIRET) and the canteen (address,
contact); per delivery day each line's product, farm and harvest day (the lot, for
traceability), farming status, quantity, price before VAT and amount, then a box for the
signature and any reserves. The totals give the amount before VAT (the sum of the lines), the
VAT at the rate of fresh fruit and vegetables and the total with VAT. The EGalim lines are this
delivery's contribution to the canteen's shares, beside the town's rule and the legal minimum
(which apply to a year of purchases, not to one delivery).

Prices: the canteen pays the farm's price × (1 + the hub's margin), rounded to the cent per kg;
a line's amount is its kg × that price, rounded to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from foodchain.allocation import Flow
from foodchain.allocation.export import kg
from foodchain.documents.pages import Cell, Page, Section, Written, file_stem, write_page
from foodchain.documents.view import PlanView
from foodchain.files.writing import write_table
from foodchain.supplier import FRESH_PRODUCE_VAT

COLUMNS = (
    *("delivery_day", "product", "kg", "units", "organic_status", "farm", "lot_day"),
    *("for_need", "price_ht", "amount_ht", "note_number"),
)
PAGE_COLUMNS = ("product", "farm_lot", "organic_status", "quantity", "kg", "price_ht", "amount_ht")

STYLE = """
body { font-size: 10pt; }
h2 { break-after: avoid; page-break-after: avoid; }
thead { display: table-header-group; }
section { break-inside: avoid; page-break-inside: avoid; }
.parties { display: flex; gap: 2em; margin: .6em 0; }
.party { display: block; flex: 1; border: 1px solid #999; padding: 4px 8px; }
.box { height: 22mm; }
"""

LEGAL_QUALITY_MIN, LEGAL_ORGANIC_MIN = 0.5, 0.2
"""EGalim (Code rural L230-5-1): in collective catering, at least 50 % of purchases (value
before VAT, over a calendar year) sustainable and quality products, 20 % of them organic."""


@dataclass(frozen=True)
class NoteLine:
    day: dt.date
    flow: Flow
    price: float
    """€/kg before VAT, the canteen's price."""
    amount: float
    """€ before VAT, to the cent."""


@dataclass(frozen=True)
class Totals:
    ht: float
    vat_rate: float
    vat: float
    ttc: float


def note_number(view: PlanView, site_id: str) -> str:
    """``BL-2026W49-R3-mat_basly``: the week, the run (when the plan is a stored run), the site."""
    run = f"-R{view.run_id}" if view.run_id is not None else ""
    return f"BL-{view.record.week.replace('-', '')}{run}-{site_id}"


def note_lines(view: PlanView, flows: Sequence[Flow]) -> list[NoteLine]:
    margin = 1.0 + view.record.hub_margin
    lines = []
    for f in flows:
        price = round(f.price_eur_per_kg * margin, 2)
        lines.append(NoteLine(f.delivery_day, f, price, round(kg(f.kg) * price, 2)))
    return lines


def totals(view: PlanView, lines: Sequence[NoteLine]) -> Totals:
    """Before VAT (the sum of the lines), the VAT on it, and the total with VAT, to the cent."""
    supplier = view.record.supplier
    rate = supplier.vat_rate if supplier else FRESH_PRODUCE_VAT
    ht = round(sum(line.amount for line in lines), 2)
    vat = round(ht * rate, 2)
    return Totals(ht, rate, vat, round(ht + vat, 2))


def _parties(view: PlanView, site_id: str) -> Markup:
    """The supplier's and the canteen's boxes, side by side."""
    t, supplier = view.t, view.record.supplier
    if supplier is None:
        seller = [t("supplier_missing")]
    else:
        town = " ".join(p for p in (supplier.postcode, supplier.commune) if p)
        seller = [supplier.name, *(p for p in (supplier.address, town) if p)]
        seller.append(t("siret", siret=supplier.siret or t("to_fill")))
        if supplier.vat_number:
            seller.append(t("vat_number", number=supplier.vat_number))
        seller += [p for p in (supplier.phone, supplier.email) if p]
    buyer = [view.name(site_id), view.where(site_id), view.contact(site_id)]
    access = view.access(site_id)
    if access:
        buyer.append(access)

    def box(title: str, lines: list[str]) -> Markup:
        inner = Markup("<br>").join(lines)
        return Markup('<span class="party"><strong>{}</strong><br>{}</span>').format(title, inner)

    return Markup('<span class="parties">{}{}</span>').format(
        box(t("supplier"), seller), box(t("delivered_to"), buyer)
    )


def _money(view: PlanView, value: float) -> str:
    return view.t.number(value, 2)


def _day_sections(
    view: PlanView, site_id: str, day: dt.date, lines: list[NoteLine]
) -> list[Section]:
    t = view.t
    rows: list[list[Cell]] = []
    for line in lines:
        f = line.flow
        rows.append(
            [
                view.name(f.product_id),
                [view.name(f.farm_id), t("lot", day=t.day(f.pickup_day))],
                t.optional("status", f.organic_status),
                view.amount(f.product_id, kg(f.kg)).text(t),
                t.number(kg(f.kg), 2),
                _money(view, line.price),
                _money(view, line.amount),
            ]
        )
    day_kg = sum(kg(line.flow.kg) for line in lines)
    day_ht = sum(line.amount for line in lines)
    box = Markup('<div class="box"></div>')
    return [
        Section(
            title=t.day(day),
            notes=[view.delivery(site_id, day)],
            header=[t(c) for c in PAGE_COLUMNS],
            rows=rows,
            footer=[t("total"), "", "", "", t.number(day_kg, 2), "", _money(view, day_ht)],
            numeric=frozenset({4, 5, 6}),
        ),
        Section(
            title=t("reception", day=t.day(day)),
            header=[t("received_by"), t("signature"), t("reserves")],
            rows=[[box, box, box]],
        ),
    ]


def _totals_section(view: PlanView, total: Totals) -> Section:
    t = view.t
    return Section(
        title=t("totals"),
        header=["", t("amount_eur")],
        rows=[
            [t("total_ht"), _money(view, total.ht)],
            [t("vat_line", rate=t.percent(total.vat_rate, 1)), _money(view, total.vat)],
            [t("total_ttc"), _money(view, total.ttc)],
        ],
        numeric=frozenset({1}),
    )


def _egalim_section(view: PlanView, site_id: str, lines: Sequence[NoteLine]) -> Section:
    """This delivery's organic and quality purchases, and the rules they count towards."""
    t = view.t
    value = sum(line.amount for line in lines)
    organic = sum(line.amount for line in lines if line.flow.organic_status.is_organic)
    quality = sum(line.amount for line in lines if line.flow.organic_status.is_quality)

    def share(part: float) -> str:
        return t.percent(part / value if value else None)

    notes = []
    rule = view.record.canteen_rules.get(site_id)
    if rule is not None:
        notes.append(t("town_rule", organic=t.percent(rule[0]), quality=t.percent(rule[1])))
    notes.append(
        t("legal_rule", quality=t.percent(LEGAL_QUALITY_MIN), organic=t.percent(LEGAL_ORGANIC_MIN))
    )
    return Section(
        title=t("egalim_contribution"),
        header=["", t("amount_ht"), t("share_of_note")],
        rows=[
            [t("egalim_organic"), _money(view, organic), share(organic)],
            [t("egalim_quality"), _money(view, quality), share(quality)],
        ],
        notes=notes,
        numeric=frozenset({1, 2}),
    )


def _table(view: PlanView, number: str, lines: list[NoteLine], total: Totals) -> list[list[Any]]:
    t = view.t
    rows: list[list[Any]] = [
        [
            *(t.day(line.day), view.name(line.flow.product_id), kg(line.flow.kg)),
            view.units(line.flow.product_id, line.flow.kg),
            t.optional("status", line.flow.organic_status),
            *(view.name(line.flow.farm_id), t.day(line.flow.pickup_day)),
            *(view.name(line.flow.item_id), line.price, line.amount, number),
        ]
        for line in lines
    ]
    blank = [None] * 7
    rate = t.percent(total.vat_rate, 1)
    for label, amount in (
        (t("total_ht"), total.ht),
        (t("vat_line", rate=rate), total.vat),
        (t("total_ttc"), total.ttc),
    ):
        rows.append(["", label, *blank, amount, number])
    return rows


def write_delivery_note(
    view: PlanView, site_id: str, flows: list[Flow], folder: Path, extra: Sequence[Section]
) -> Written:
    """HTML, CSV and XLSX of the canteen's note; ``extra``: sections after the totals."""
    t = view.t
    number = note_number(view, site_id)
    lines = note_lines(view, flows)
    total = totals(view, lines)
    by_day: dict[dt.date, list[NoteLine]] = defaultdict(list)
    for line in lines:
        by_day[line.day].append(line)
    sections = [s for day in sorted(by_day) for s in _day_sections(view, site_id, day, by_day[day])]
    sections += [_totals_section(view, total), _egalim_section(view, site_id, lines), *extra]
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / file_stem(site_id)
    paths = [stem.with_suffix(".csv"), stem.with_suffix(".xlsx")]
    rows = _table(view, number, lines, total)
    for path in paths:
        write_table(path, [t(c) for c in COLUMNS], rows, view.xlsx)
    page = Page(
        title=t("title_delivery_note_n", number=number),
        lines=[
            t("week", week=view.record.week),
            _parties(view, site_id),
        ],
        sections=sections,
        footer=view.footer(),
        stamp=view.stamp,
        style=STYLE,
    )
    html = write_page(stem.with_suffix(".html"), page, t)
    return Written("index_delivery_notes", view.name(site_id), [html, *paths])
